"""The manifest: what ingestion must find in the landing folder the generator wrote."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from orchestration.demo.world import (
    BAD_STORES,
    CHANNELS,
    COLLAPSE_CHANNEL,
    COLLAPSE_QUAL_RATE,
    COLLAPSE_SPEND,
    COLLAPSE_VOLUME,
    CX_DIP_RESPONSE,
    CX_DIP_SHIFT,
    LATE_FULFILMENT,
)
from orchestration.lib.feeds import FEEDS

if TYPE_CHECKING:
    from orchestration.demo.build import _Generator

MANIFEST_NAME = "_manifest.json"


def _manifest(gen: _Generator) -> dict:
    out, p = gen.out, gen.plan
    excluded = {d["path"] for d in out.duplicates} | {r["path"] for r in out.rejected}
    bad = Counter(b["path"] for b in out.bad_rows)
    good: Counter[str] = Counter({feed: 0 for feed in FEEDS})
    for f in out.files:
        if f["path"] not in excluded:
            good[f["feed"]] += f["data_rows"] - bad[f["path"]]
    files = sorted(out.files, key=lambda f: (f["feed"], f["path"]))
    return {
        "seed": p.seed,
        "orders": p.orders,
        "end_date": p.end.isoformat(),
        "start_date": p.start.isoformat(),
        "months": p.months,
        "files": files,
        "bad_rows": out.bad_rows,
        "rejected_files": out.rejected,
        "duplicate_files": out.duplicates,
        "corrections": out.corrections,
        "expected": {
            feed: {"distinct_good_keys": good[feed] - out.replacements[feed]} for feed in FEEDS
        },
        "expected_replacements": {feed: out.replacements[feed] for feed in FEEDS},
        "lead_quality": gen.captured.get("lead_quality", []),
        "story": {
            "collapse": {
                "channel": COLLAPSE_CHANNEL,
                "month": p.labels[p.collapse_month],
                "lead_volume_factor": COLLAPSE_VOLUME,
                "spend_factor": COLLAPSE_SPEND,
                "qualification_rate": COLLAPSE_QUAL_RATE,
                "usual_qualification_rate": next(
                    c.qual_rate for c in CHANNELS if c.code == COLLAPSE_CHANNEL
                ),
            },
            "cheap_channel": "display",
            "premium_channel": "influencer",
            "late_fulfilment": LATE_FULFILMENT,
            "bad_stores": list(BAD_STORES),
            "cx_dip": {
                "stores": list(BAD_STORES),
                "month": p.labels[p.cx_dip_month],
                "shift": CX_DIP_SHIFT,
                "response_factor": CX_DIP_RESPONSE,
            },
            "store_survey_response": gen.store_response,
            "peak_month": 12,
            "callback_day": p.end.isoformat(),
            "callback_answers": gen.captured.get("callbacks", []),
        },
        "tz_examples": gen.tz_examples,
        "generated_rows": dict(gen.counts),
    }
