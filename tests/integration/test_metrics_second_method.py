"""Key figures of the marts, computed a second way: plain Python over the generated landing files.

The second method reads the landing files itself (csv / gzip / parquet / json
modules, not DuckDB), drops exactly the rows the generator's manifest says it
planted as bad, applies "latest file wins" in lexical path order, applies the
lead gate's verdicts as the manifest lists them, and computes each metric from
its definition in docs/metrics.md. Nothing here reads the warehouse.
"""

import csv
import gzip
import io
import json
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml

from orchestration.lib.feeds import FEEDS
from tests.integration import second_method

MONTH = "2026-08"  # a full month, away from the planted lead-quality rows of the last month


def _bad_lines(manifest, path):
    return {b["line"] for b in manifest["bad_rows"] if b["path"] == path}


def _records(landing: Path, entry: dict, manifest: dict) -> list[dict]:
    path, fmt = entry["path"], entry["format"]
    bad = _bad_lines(manifest, path)
    full = landing / path
    if fmt in ("csv", "csv.gz"):
        raw = gzip.decompress(full.read_bytes()) if fmt == "csv.gz" else full.read_bytes()
        lines = raw.splitlines(keepends=True)
        kept = b"".join(line for i, line in enumerate(lines, start=1) if i not in bad)
        reader = csv.DictReader(io.StringIO(kept.decode("utf-8-sig"), newline=""))
        return [{k.strip().lower(): v for k, v in row.items()} for row in reader]
    if fmt == "parquet":
        rows = pq.read_table(full).to_pylist()
    else:
        rows = []
        for line in full.read_text(encoding="utf-8").splitlines():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                obj = None
            rows.append(obj)
    return [
        {k.strip().lower(): (None if v is None else str(v)) for k, v in row.items()}
        for i, row in enumerate(rows, start=1)
        if i not in bad
    ]


def load_feed(landing: Path, manifest: dict, feed: str) -> dict[tuple, dict]:
    skip = {f["path"] for f in manifest["rejected_files"]} | {
        f["path"] for f in manifest["duplicate_files"]
    }
    rows: dict[tuple, dict] = {}
    for entry in sorted(
        (f for f in manifest["files"] if f["feed"] == feed), key=lambda f: f["path"]
    ):
        if entry["path"] in skip:
            continue
        for rec in _records(landing, entry, manifest):
            key = tuple((rec.get(k) or "").strip() for k in FEEDS[feed].primary_key)
            rows[key] = rec
    return rows


def ts(value: str | None) -> datetime | None:
    if value is None or not value.strip():
        return None
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def in_month(value: str | None) -> bool:
    t = ts(value)
    return t is not None and t.strftime("%Y-%m") == MONTH


@pytest.fixture(scope="module")
def built(published_world):
    con = duckdb.connect(str(published_world.settings.published_path), read_only=True)
    yield published_world.landing, published_world.manifest, con
    con.close()


def metric(con, name, dimension="all", value="all"):
    row = con.execute(
        "select value, numerator, denominator from marts.metric_values where metric = ? and grain = 'month'"
        " and period_start = ? and dimension = ? and dimension_value = ?",
        [name, date.fromisoformat(MONTH + "-01"), dimension, value],
    ).fetchone()
    assert row is not None, (name, dimension, value)
    return row


def close(a, b):
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))


def test_revenue_and_gross_margin(built):
    landing, manifest, con = built
    orders = load_feed(landing, manifest, "orders")
    items = load_feed(landing, manifest, "order_items")
    revenue_orders = {
        o["order_id"].strip()
        for o in orders.values()
        if o["status"].strip().lower() in second_method.REVENUE_STATUSES
        and in_month(o["ordered_at"])
    }
    revenue = cogs = Decimal(0)
    for it in items.values():
        if it["order_id"].strip() in revenue_orders:
            revenue += Decimal(it["quantity"]) * Decimal(it["unit_price"])
            cogs += Decimal(it["quantity"]) * Decimal(it["unit_cost"])
    assert revenue > 0
    assert close(metric(con, "revenue")[0], revenue)
    assert close(metric(con, "gross_margin")[0], revenue - cogs)


def _gate_sets(manifest):
    invalid = {
        q["lead_id"] for q in manifest["lead_quality"] if q["expectation"] != "duplicate_lead"
    }
    dups = {q["lead_id"] for q in manifest["lead_quality"] if q["expectation"] == "duplicate_lead"}
    return invalid, dups


def test_leads_and_qualified_leads(built):
    landing, manifest, con = built
    invalid, dups = _gate_sets(manifest)
    leads = [
        lead
        for lead in load_feed(landing, manifest, "leads").values()
        if lead["lead_id"].strip() not in invalid | dups and in_month(lead["created_at"])
    ]
    qualified = [lead for lead in leads if (lead.get("qualified_at") or "").strip()]
    assert len(leads) > 50
    assert metric(con, "leads")[0] == len(leads)
    assert metric(con, "qualified_leads")[0] == len(qualified)
    by_channel = defaultdict(int)
    for lead in leads:
        by_channel[lead["channel"].strip()] += 1
    assert metric(con, "leads", "channel", "paid_social")[0] == by_channel["paid_social"]


def test_cac_of_one_channel(built):
    landing, manifest, con = built
    invalid, dups = _gate_sets(manifest)
    leads = {
        k[0]: v for k, v in load_feed(landing, manifest, "leads").items() if k[0] not in invalid
    }
    customers = load_feed(landing, manifest, "customers")
    spend = sum(
        Decimal(s["spend"])
        for s in load_feed(landing, manifest, "marketing_spend").values()
        if s["channel"].strip() == "paid_search" and s["spend_date"].startswith(MONTH)
    )
    pointing = defaultdict(list)  # customer -> leads whose customer_id points at it
    for lead in leads.values():
        if (lead.get("customer_id") or "").strip():
            pointing[lead["customer_id"].strip()].append(lead)

    def channel_of(cust):
        named = (cust.get("lead_id") or "").strip()
        if named in leads:
            return leads[named]["channel"].strip()
        cands = sorted(
            pointing.get(cust["customer_id"].strip(), []),
            key=lambda lead: (lead["lead_id"] in dups, ts(lead["created_at"]), lead["lead_id"]),
        )
        return cands[0]["channel"].strip() if cands else "direct"

    acquired = sum(
        1
        for c in customers.values()
        if in_month(c["registered_at"]) and channel_of(c) == "paid_search"
    )
    assert acquired > 0
    value, numerator, denominator = metric(con, "cac", "channel", "paid_search")
    assert close(numerator, spend) and denominator == acquired
    assert close(value, spend / acquired)


def test_nps_of_one_store(built):
    landing, manifest, con = built
    orders = load_feed(landing, manifest, "orders")
    answers = [
        a
        for a in load_feed(landing, manifest, "survey_answers").values()
        if a["survey"].strip().lower() == "nps" and in_month(a["answered_at"])
    ]

    def store(a):
        if (a.get("store_id") or "").strip():
            return a["store_id"].strip()
        order = orders.get(((a.get("order_id") or "").strip(),))
        return (order.get("store_id") or "").strip() if order else ""

    by_store = defaultdict(list)
    for a in answers:
        by_store[store(a)].append(int(a["score"]))
    store_id, scores = max(((s, v) for s, v in by_store.items() if s), key=lambda kv: len(kv[1]))
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    expected = 100 * (promoters - detractors) / len(scores)
    value, _, denominator = metric(con, "nps", "store", store_id)
    assert denominator == len(scores)
    assert close(value, expected)


# The periods compared: every day, week and month that starts in August to October 2026.
# October holds the leads the gate quarantines in the generated world (checked below).
FIRST, LAST = date(2026, 8, 1), date(2026, 10, 31)


def test_every_metric_at_every_grain(built):
    landing, manifest, con = built
    invalid, dups = _gate_sets(manifest)
    feeds = {
        f: load_feed(landing, manifest, f)
        for f in ("orders", "order_items", "customers", "leads", "marketing_spend")
        + ("survey_answers", "support_contacts")
    }
    quarantined_in = {
        ts(feeds["leads"][(q["lead_id"],)]["created_at"]).strftime("%Y-%m")
        for q in manifest["lead_quality"]
        if q["expectation"] != "duplicate_lead" and (q["lead_id"],) in feeds["leads"]
    }
    assert "2026-10" in quarantined_in, quarantined_in
    seeds = Path(__file__).resolve().parents[2] / "seeds"
    expected = {
        k: v
        for k, v in second_method.compute(feeds, invalid, dups, seeds, ts).items()
        if FIRST <= k[2] <= LAST
    }
    got = {
        (m, g, p): (n, d, v)
        for m, g, p, n, d, v in con.execute(
            "select metric, grain, period_start, numerator, denominator, value"
            " from marts.metric_values where dimension = 'all' and value is not null"
            " and period_start between ? and ? and metric in (select metric from marts.metric_tree)",
            [FIRST, LAST],
        ).fetchall()
    }
    tree = {r[0] for r in con.execute("select metric from marts.metric_tree").fetchall()}
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    wrong = []
    for key in sorted(set(expected) & set(got)):
        en, ed, ev = expected[key]
        gn, gd, gv = got[key]
        same_denominator = (ed is None) == (gd is None) and (ed is None or close(gd, ed))
        if not (close(gv, ev) and close(gn, en) and same_denominator):
            wrong.append((key, "expected", expected[key], "got", got[key]))
    covered = {k[0] for k in expected}
    by_grain = {g: len({k for k in expected if k[1] == g}) for g in second_method.GRAINS}
    print(
        f"\nsecond method: {len(expected)} values of {len(covered)} tree metrics "
        f"(by grain {by_grain}); not in the tree's landing-determined set: {sorted(tree - covered)}"
    )
    assert not wrong, wrong[:10]
    assert not missing, (sorted({k[0] for k in missing}), missing[:10])
    assert not extra, (sorted({k[0] for k in extra}), extra[:10])
    assert covered <= tree
    assert len(covered) >= 50


def test_every_tree_metric_has_values_at_its_registered_grains(built):
    """The grains each metric declares in the registry (macros/metric_catalog.sql;
    default var metric_grains), read in Python, against the published values: the
    same promise the dbt test assert_tree_metrics_have_values warns about."""
    from orchestration.lib import metric_registry

    _, _, con = built
    entries, _ = metric_registry.read()
    project = yaml.safe_load((metric_registry.PROJECT / "dbt_project.yml").read_text())
    all_grains = project["vars"]["metric_grains"]  # a metric's grains unless it names its own

    def grains(metric: str) -> list[str]:
        (entry,) = [
            e
            for e in entries
            if e.get("metric") == metric or metric.startswith(e.get("metric_prefix") or "\0")
        ]
        return entry.get("grains", all_grains)

    tree = [r[0] for r in con.execute("select metric from marts.metric_tree").fetchall()]
    assert len(tree) == 57  # seeds/metric_tree.csv: 57 rows below its header
    have = set(
        con.execute(
            "select distinct metric, grain from marts.metric_values where dimension = 'all'"
        ).fetchall()
    )
    missing = [(m, g) for m in tree for g in grains(m) if (m, g) not in have]
    assert missing == []
    # churn_rate, ltv_cac and payback_months are month-only: no week values either
    assert not {("churn_rate", "week"), ("ltv_cac", "day"), ("payback_months", "week")} & have
