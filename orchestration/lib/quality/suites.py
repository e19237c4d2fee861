"""Suites and thresholds: the checkpoint files in expectations/ and what they resolve to.

A suite file names its feed, key and group column, its row and batch
expectations and its thresholds; environment variables may override a
threshold, and the suite's {"$PARAMETER": ...} placeholders are resolved here.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from orchestration.lib.feeds import FEEDS
from orchestration.lib.settings import Settings

# Feed -> checkpoint (the suite file is expectations/<checkpoint>.json).
SUITES = {"leads": "leads_gate", "orders": "orders_suite", "survey_answers": "survey_answers_suite"}
# Feed -> the timestamp that dates a row (freshness, months, "not in the future").
TIMESTAMP_COLUMNS = {"leads": "created_at", "orders": "ordered_at", "survey_answers": "answered_at"}
META_COLUMNS = ["_file_id", "_line", "_ingested_at"]

BLOCKING = "blocking"
WARNING = "warning"


@dataclass(frozen=True)
class SuiteSpec:
    """A checkpoint's suite file: row and batch expectations plus thresholds."""

    checkpoint: str
    feed: str
    description: str
    key: str
    group_column: str
    thresholds: dict[str, float]
    row_expectations: list[dict]
    batch_expectations: list[dict]
    path: Path

    def threshold(self, name: str) -> float:
        return self.thresholds[name]


def expectations_dir(settings: Settings) -> Path:
    return settings.expectations_dir


def load_suite(checkpoint: str, settings: Settings, env: dict[str, str] | None = None) -> SuiteSpec:
    """Read expectations/<checkpoint>.json; FLYWHEEL_GATE_[<FEED>_]<THRESHOLD> overrides a value."""
    env = dict(settings.gate_overrides if env is None else env)
    path = expectations_dir(settings) / f"{checkpoint}.json"
    raw = json.loads(path.read_text())
    feed = raw["feed"]
    thresholds: dict[str, float] = {}
    for name, entry in raw.get("thresholds", {}).items():
        value = entry["value"] if isinstance(entry, dict) else entry
        for var in (
            f"FLYWHEEL_GATE_{feed.upper()}_{name.upper()}",
            f"FLYWHEEL_GATE_{name.upper()}",
        ):
            if env.get(var, "").strip():
                try:
                    value = float(env[var])
                except ValueError as exc:
                    raise ValueError(f"{var}={env[var]!r} is not a number ({path})") from exc
                break
        thresholds[name] = float(value)
    names = [e["name"] for e in raw["row_expectations"] + raw["batch_expectations"]]
    batch_expectations = [_stale_severity(e, settings) for e in raw["batch_expectations"]]
    if len(names) != len(set(names)):
        raise ValueError(f"{path}: expectation names must be unique")
    return SuiteSpec(
        checkpoint=raw.get("checkpoint", checkpoint),
        feed=feed,
        description=raw.get("description", ""),
        key=raw["key"],
        group_column=raw["group_column"],
        thresholds=thresholds,
        row_expectations=raw["row_expectations"],
        batch_expectations=batch_expectations,
        path=path,
    )


FRESHNESS_FRAMES = ("freshness_all", "freshness_by_group")


def _stale_severity(expectation: dict, settings: Settings) -> dict:
    """A blocking freshness rule warns unless FLYWHEEL_ON_STALE=block.

    A shop's first load is history whose newest row is months old; blocking on it
    would publish nothing. The suite file keeps saying what blocks when asked to.
    """
    if (
        expectation["frame"] in FRESHNESS_FRAMES
        and expectation["severity"] == BLOCKING
        and settings.on_stale != "block"
    ):
        return {**expectation, "severity": WARNING}
    return expectation


def known_channels(settings: Settings) -> list[str]:
    """Channel codes from seeds/channels.csv (column channel, channel_code or code; else the first)."""
    path = settings.seeds_dir / "channels.csv"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the lead gate needs the channel codes (landing contract, seeds)"
        )
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        col = next((c for c in ("channel", "channel_code", "code") if c in fields), fields[0])
        return sorted({row[col].strip() for row in reader if row.get(col, "").strip()})


def warehouse_now(settings: Settings) -> dt.datetime:
    """Now as naive warehouse time, the way timestamps are stored in raw tables.

    FLYWHEEL_GATE_NOW (ISO 8601, warehouse time) pins it: for replaying a past
    batch or a demo whose data ends on a fixed date (freshness, "in the future").
    """
    pinned = settings.gate_now.strip()
    if pinned:
        return dt.datetime.fromisoformat(pinned).replace(tzinfo=None)
    return dt.datetime.now(ZoneInfo(settings.timezone)).replace(tzinfo=None, microsecond=0)


def _parameters(spec: SuiteSpec, settings: Settings, now: dt.datetime) -> dict[str, Any]:
    """Values the suite's {"$PARAMETER": ...} placeholders resolve to."""
    t = spec.thresholds
    params: dict[str, Any] = dict(t)
    latest = now + dt.timedelta(minutes=t.get("future_skew_minutes", 0))
    params["latest_allowed_ts"] = latest
    params["latest_allowed_created_at"] = latest
    params["contract_columns"] = FEEDS[spec.feed].column_names + META_COLUMNS
    for rule, tol in (
        ("qualification", "qualification_rate_tolerance"),
        ("volume", "volume_tolerance"),
    ):
        if tol in t:
            params[f"{rule}_ratio_min"] = 1.0 / (1.0 + t[tol])
            params[f"{rule}_ratio_max"] = 1.0 + t[tol]
    if spec.feed == "leads":
        params["known_channels"] = known_channels(settings)
    return params
