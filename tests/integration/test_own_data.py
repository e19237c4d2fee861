"""A shop's own data, the first time: hand-written landing folders, not the generator's.

Each test lands a few rows written here, runs the whole pipeline through Dagster and
reads the published snapshot the way BI does. Every expected figure is worked out by
hand in the comments from the rows below.

The little world (all times UTC unless a test sets FLYWHEEL_TIMEZONE):
  customers  C1 registered 2026-04-02 (from lead L1), C2 2026-04-20, C3 2026-05-01
  orders     O1 C1 2026-04-03 delivered courier, promised 04-05 18:00, delivered 04-05 12:00
             O2 C2 2026-04-20 paid, store S01
             O3 C1 2026-05-10 cancelled
             O4 C3 2026-05-15 15:00 delivered, promised 05-17 18:00, delivered 05-18 (late)
  items      O1: 2 x 100 (cost 60) + 1 x 50 (cost 20) -> revenue 250, cogs 140
             O2: 1 x 100 (cost 60)                     -> revenue 100, cogs 60
             O3: 3 x 10 (cost 5)                        -> cancelled: no revenue
             O4: 4 x 50 (cost 20)                       -> revenue 200, cogs 80
  leads      L1 paid_search 04-01 qualified, became C1; L2 paid_search 04-05 disqualified;
             L3 paid_social 05-03 qualified
  spend      paid_search 04-01 100 (1000 impressions, 50 clicks), 04-02 50 (500, 25);
             paid_social 05-03 30 (300, 10)
  survey     April: nps 10, 10, 3, 8; csi store_visit 4 and 2 (store S01)
Revenue statuses are paid, shipped, delivered (dbt var revenue_statuses).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.cli import next_steps
from orchestration.lib.settings import PROJECT_ROOT, load_settings
from tests.integration.pipeline_helpers import published, run_pipeline

WORLD = {
    "customers": (
        ["customer_id", "registered_at", "lead_id", "email", "phone", "loyalty_card_id", "region"],
        [
            ["C1", "2026-04-02T12:00:00", "L1", "a@example.com", "", "", "Central"],
            ["C2", "2026-04-20T10:00:00", "", "c2@example.com", "", "", "Central"],
            ["C3", "2026-05-01T09:00:00", "", "", "+7 912 000 00 03", "", "Volga"],
        ],
    ),
    "leads": (
        [
            "lead_id",
            "created_at",
            "channel",
            "campaign",
            "email",
            "phone",
            "qualified_at",
            "disqualified_reason",
            "customer_id",
        ],
        [
            [
                "L1",
                "2026-04-01T09:00:00",
                "paid_search",
                "spring",
                "a@example.com",
                "",
                "2026-04-01T15:00:00",
                "",
                "C1",
            ],
            [
                "L2",
                "2026-04-05T09:00:00",
                "paid_search",
                "spring",
                "b@example.com",
                "",
                "",
                "no budget",
                "",
            ],
            [
                "L3",
                "2026-05-03T09:00:00",
                "paid_social",
                "may",
                "",
                "+7 912 000 00 03",
                "2026-05-04T09:00:00",
                "",
                "",
            ],
        ],
    ),
    # Rows out of date order on purpose: nothing may depend on the file's order.
    "orders": (
        [
            "order_id",
            "customer_id",
            "ordered_at",
            "status",
            "sales_channel",
            "store_id",
            "fulfilment",
            "promised_at",
            "delivered_at",
            "currency",
        ],
        [
            [
                "O4",
                "C3",
                "2026-05-15T15:00:00",
                "delivered",
                "app",
                "",
                "pickup_point",
                "2026-05-17T18:00:00",
                "2026-05-18T12:00:00",
                "",
            ],
            [
                "O1",
                "C1",
                "2026-04-03T10:00:00",
                "delivered",
                "web",
                "",
                "courier",
                "2026-04-05T18:00:00",
                "2026-04-05T12:00:00",
                "rub",
            ],
            ["O3", "C1", "2026-05-10T09:00:00", "cancelled", "web", "", "courier", "", "", ""],
            ["O2", "C2", "2026-04-20T11:00:00", "paid", "store", "S01", "in_store", "", "", "RUB"],
        ],
    ),
    "order_items": (
        ["order_id", "line_no", "sku", "category", "quantity", "unit_price", "unit_cost"],
        [
            ["O1", "1", "A", "shoes", "2", "100", "60"],
            ["O1", "2", "B", "bags", "1", "50", "20"],
            ["O2", "1", "A", "shoes", "1", "100", "60"],
            ["O3", "1", "C", "hats", "3", "10", "5"],
            ["O4", "1", "B", "bags", "4", "50", "20"],
        ],
    ),
    "marketing_spend": (
        ["spend_date", "channel", "campaign", "spend", "impressions", "clicks"],
        [
            ["2026-04-01", "paid_search", "spring", "100", "1000", "50"],
            ["2026-04-02", "paid_search", "spring", "50", "500", "25"],
            ["2026-05-03", "paid_social", "may", "30", "300", "10"],
        ],
    ),
    "survey_answers": (
        [
            "answer_id",
            "answered_at",
            "survey",
            "question",
            "score",
            "order_id",
            "store_id",
            "customer_id",
            "email",
            "phone",
            "loyalty_card_id",
            "comment",
        ],
        [
            ["A1", "2026-04-21T10:00:00", "nps", "recommend", "10", "", "", "", "", "", "", ""],
            ["A2", "2026-04-22T10:00:00", "nps", "recommend", "10", "", "", "", "", "", "", ""],
            ["A3", "2026-04-23T10:00:00", "nps", "recommend", "3", "", "", "", "", "", "", ""],
            ["A4", "2026-04-24T10:00:00", "nps", "recommend", "8", "", "", "", "", "", "", ""],
            ["A5", "2026-04-21T11:00:00", "csi", "store_visit", "4", "", "S01", "", "", "", "", ""],
            ["A6", "2026-04-22T11:00:00", "csi", "store_visit", "2", "", "S01", "", "", "", "", ""],
        ],
    ),
}
APR, MAY = dt.date(2026, 4, 1), dt.date(2026, 5, 1)
# The newest row of the world is order O4 (2026-05-15 15:00); the survey's is 04-24.
NEWEST = dt.datetime(2026, 5, 15, 15, 0)


def write_feed(landing: Path, feed: str, name: str, header: list[str], rows: list[list[str]]):
    folder = landing / feed
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def land(tmp_path: Path, feeds: list[str]) -> Path:
    landing = tmp_path / "landing"
    for feed in feeds:
        header, rows = WORLD[feed]
        write_feed(landing, feed, f"{feed}_2026.csv", header, rows)
    return landing


def month_values(con) -> dict[tuple[str, dt.date], float | None]:
    """(metric, month) -> value, dimension all."""
    return {
        (m, p): v
        for m, p, v in con.execute(
            "select metric, period_start, value from marts.metric_values"
            " where grain = 'month' and dimension = 'all'"
        ).fetchall()
    }


def availability(con) -> dict[str, str]:
    return dict(con.execute("select metric, availability from marts.metric_tree").fetchall())


# Feed set -> (expected month values, dimension all; metrics that must be absent with
# the feed the tree names for them).
ORDERS_ONLY = {
    # April: O1 250 + O2 100 = 350, cogs 140 + 60 = 200; May: O4 200, cogs 80 (O3 cancelled).
    ("revenue", APR): 350,
    ("revenue", MAY): 200,
    ("cogs", APR): 200,
    ("cogs", MAY): 80,
    ("gross_margin", APR): 150,
    ("gross_margin", MAY): 120,
    ("revenue_orders", APR): 2,
    ("revenue_orders", MAY): 1,
    ("paying_customers", APR): 2,
    ("paying_customers", MAY): 1,
    ("aov", APR): 175,
    ("aov", MAY): 200,
    # on time: O1 delivered 04-05 12:00 <= promised 18:00; O4 delivered after its promise
    ("on_time_rate", APR): 1.0,
    ("on_time_rate", MAY): 0.0,
    # deviations / orders placed: April none of 2; May O3 cancelled + O4 late = 2 of 2
    ("order_deviation_rate", APR): 0.0,
    ("order_deviation_rate", MAY): 1.0,
}
WITH_CUSTOMERS = {
    # new: April C1, C2; May C3. Base: running total 2, then 3.
    ("new_customers", APR): 2,
    ("new_customers", MAY): 1,
    ("customer_base", APR): 2,
    ("customer_base", MAY): 3,
    # activated (first revenue order <= 30 days after registration): C1 after 1 day,
    # C2 same day, C3 after 14 days.
    ("activated_customers", APR): 2,
    ("activation_rate", APR): 1.0,
    ("activation_rate", MAY): 1.0,
    # arpu = revenue / customer base: 350 / 2, 200 / 3
    ("arpu", APR): 175,
    ("arpu", MAY): 200 / 3,
    # churn May: paying in April C1, C2; neither has a revenue order in May: 2 / 2
    ("churn_rate", MAY): 1.0,
}
LEADS = {
    ("leads", APR): 2,
    ("leads", MAY): 1,
    ("qualified_leads", APR): 1,
    ("qualified_leads", MAY): 1,
    ("qualification_rate", APR): 0.5,
    ("qualification_rate", MAY): 1.0,
    # L1 became C1 (leads.customer_id): 1 of April's 2 leads
    ("lead_conversion_rate", APR): 0.5,
    ("lead_conversion_rate", MAY): 0.0,
}
SPEND = {
    ("marketing_spend", APR): 150,
    ("marketing_spend", MAY): 30,
    ("impressions", APR): 1500,
    ("clicks", APR): 75,
    ("ctr", APR): 75 / 1500,
    ("cpc", APR): 150 / 75,
    ("cpm", APR): 1000 * 150 / 1500,
}
LEADS_AND_SPEND = {
    ("cpl", APR): 150 / 2,
    ("cpl", MAY): 30 / 1,
    ("cpql", APR): 150 / 1,
    ("cpql", MAY): 30 / 1,
}
SURVEY = {
    # nps April: promoters 10, 10; passive 8; detractor 3: 100 x (2 - 1) / 4
    ("nps", APR): 25.0,
    ("promoter_share", APR): 0.5,
    ("detractor_share", APR): 0.25,
    ("passive_share", APR): 0.25,
    # csi: mean of 4 and 2
    ("csi", APR): 3.0,
}
CUSTOMERS_AND_LEADS = {
    # C1 came from L1 (paid_search): acquired in its registration month, April
    ("acquired_customers", APR): 1,
}

CASES = {
    "orders_items_only": (
        ["orders", "order_items"],
        ORDERS_ONLY,
        {
            "contribution_margin": "marketing_spend",
            "customer_base": "customers",
            "nps": "survey_answers",
            "cpl": "leads, marketing_spend",
            "contact_rate": "support_contacts",
        },
    ),
    "orders_items_customers": (
        ["orders", "order_items", "customers"],
        ORDERS_ONLY | WITH_CUSTOMERS,
        {"contribution_margin": "marketing_spend", "acquired_customers": "leads"},
    ),
    "all_but_spend_and_contacts": (
        ["customers", "leads", "orders", "order_items", "survey_answers"],
        ORDERS_ONLY | WITH_CUSTOMERS | LEADS | SURVEY | CUSTOMERS_AND_LEADS,
        {
            "contribution_margin": "marketing_spend",
            "cac": "marketing_spend",
            "cpl": "marketing_spend",
            "contact_rate": "support_contacts",
        },
    ),
    "leads_and_spend_only": (
        ["leads", "marketing_spend"],
        LEADS | SPEND | LEADS_AND_SPEND,
        {
            "revenue": "order_items, orders",
            "cac": "customers",
            "roas": "customers, order_items, orders",
        },
    ),
    "survey_only": (
        ["survey_answers"],
        SURVEY,
        {
            "revenue": "order_items, orders",
            "leads": "leads",
            "contact_rate": "orders, support_contacts",
        },
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_partial_feeds_publish_what_they_can(case, tmp_path, flywheel_env, monkeypatch):
    feeds, expected, absent = CASES[case]
    flywheel_env(land(tmp_path, feeds))
    # The morning after the newest row: no staleness in these cases.
    monkeypatch.setenv("FLYWHEEL_GATE_NOW", "2026-05-16T06:00:00")
    run_pipeline()
    con = published()
    values = month_values(con)
    for (metric, period), want in expected.items():
        assert (metric, period) in values, f"{case}: {metric} {period} missing"
        assert values[(metric, period)] == pytest.approx(want), (case, metric, period)
    tree = availability(con)
    for metric, missing in absent.items():
        (rows,) = con.execute(
            "select count(*) from marts.metric_values where metric = $m", {"m": metric}
        ).fetchone()
        assert rows == 0, f"{case}: {metric} should be absent"
        assert tree[metric] == f"not delivered: {missing}", (case, metric)
    for metric, _ in expected:
        assert tree.get(metric, "available") == "available", (case, metric)
    # The snapshot says which feeds came and which never did.
    delivery = dict(con.execute("select feed, delivery from marts.publish_info").fetchall())
    assert {f for f, d in delivery.items() if d == "delivered"} == set(feeds)
    con.close()


def test_history_ending_200_days_ago_publishes_and_warns(tmp_path, flywheel_env, monkeypatch):
    flywheel_env(land(tmp_path, ["orders", "order_items", "customers"]))
    # 2026-05-15 15:00 + 200 days = 2026-12-01 15:00 (16 days left in May, 183 in
    # June..November, 1 more): the newest order is 4,800 h old; orders allow 72 h.
    now = NEWEST + dt.timedelta(days=200)
    assert now == dt.datetime(2026, 12, 1, 15, 0)
    monkeypatch.setenv("FLYWHEEL_GATE_NOW", now.isoformat())
    monkeypatch.delenv("FLYWHEEL_ON_STALE", raising=False)
    result = run_pipeline()  # succeeds: stale is a warning by default
    evals = {e.check_name: e for e in result.get_asset_check_evaluations()}
    stale = evals["orders_suite_warnings"]
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN
    assert evals["orders_suite"].passed
    alert_text = stale.metadata["alert_text"].value
    assert "newest orders row is 4,800.0 h old" in alert_text
    assert "data as of 2026-05-15 15:00" in alert_text

    con = published()
    info = {
        r[0]: r[1:]
        for r in con.execute(
            "select feed, delivery, data_as_of, is_stale, stale_message from marts.publish_info"
        ).fetchall()
    }
    assert info["orders"][:3] == ("delivered", dt.date(2026, 5, 15), True)
    assert "4,800.0 h" in info["orders"][3]
    # customers were registered up to 05-01; their feed has no freshness rule
    assert info["customers"][:3] == ("delivered", dt.date(2026, 5, 1), False)
    assert info["leads"][0] == "not delivered"
    assert month_values(con)[("revenue", APR)] == pytest.approx(350)
    con.close()


def test_stale_blocks_when_asked(tmp_path, flywheel_env, monkeypatch):
    flywheel_env(land(tmp_path, ["orders", "order_items"]))
    monkeypatch.setenv("FLYWHEEL_GATE_NOW", (NEWEST + dt.timedelta(days=200)).isoformat())
    monkeypatch.setenv("FLYWHEEL_ON_STALE", "block")
    result = run_pipeline(expect_success=False)
    evals = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not evals["orders_suite"].passed
    assert evals["orders_suite_warnings"].passed
    s = load_settings()
    assert not s.published_path.exists()
    # What the CLI prints at the end of the failed run: the setting and the doc section.
    with duckdb.connect(str(s.warehouse_path), read_only=True) as wh:
        steps = next_steps(wh)
    stale_steps = [line for line in steps if line.startswith("orders: freshness")]
    assert len(stale_steps) == 1
    assert "FLYWHEEL_ON_STALE=warn" in stale_steps[0]
    assert "docs/quality-gate.md#stale-sources" in stale_steps[0]
    assert "expectations/orders_suite.json" in stale_steps[0]


# --- settings beyond the defaults: currency and time zone ---------------------------

# America/New_York: EST (UTC-5) until 2026-03-08 07:00 UTC, EDT (UTC-4) until
# 2026-11-01 06:00 UTC, then EST again. 2026-03-08 and 2026-11-01 are Sundays.
# (order, UTC time or naive local time, revenue, currency as written, local day)
NY_ORDERS = [
    ("T1", "2026-03-08T04:30:00Z", 10, "usd", "2026-03-07"),  # 23:30 EST Saturday
    ("T2", "2026-03-08T07:30:00Z", 20, "Usd", "2026-03-08"),  # 03:30 EDT, after the jump
    ("T3", "2026-03-09T03:59:00Z", 40, " USD ", "2026-03-08"),  # 23:59 EDT Sunday
    ("T4", "2026-03-09T04:00:00Z", 80, "USD", "2026-03-09"),  # 00:00 EDT Monday
    ("T5", "2026-04-01T03:30:00Z", 160, "", "2026-03-31"),  # 23:30 EDT Tuesday: March
    ("T6", "2026-04-01T00:15:00", 320, "usD", "2026-04-01"),  # naive: New York time
    ("T7", "2026-11-01T05:30:00Z", 640, "usd", "2026-11-01"),  # 01:30 EDT, first pass
    ("T8", "2026-11-02T04:30:00Z", 1280, "usd", "2026-11-01"),  # 23:30 EST Sunday
]
# One more order in euros: quarantined (foreign_currency), never summed.
EUR_ORDER = ("T9", "2026-03-10T12:00:00Z", 5000, "eur", None)


def test_usd_in_any_case_and_new_york_time_across_dst(tmp_path, flywheel_env, monkeypatch):
    landing = tmp_path / "landing"
    orders = [
        [oid, "C1", at, "paid", "web", "", "courier", "", "", cur]
        for oid, at, _, cur, _ in NY_ORDERS + [EUR_ORDER]
    ]
    items = [[oid, "1", "A", "shoes", "1", str(rev), "0"] for oid, _, rev, _, _ in NY_ORDERS]
    write_feed(landing, "orders", "orders.csv", WORLD["orders"][0], orders)
    write_feed(landing, "order_items", "items.csv", WORLD["order_items"][0], items)
    flywheel_env(landing)
    monkeypatch.setenv("FLYWHEEL_TIMEZONE", "America/New_York")
    monkeypatch.setenv("FLYWHEEL_CURRENCY", "usd")
    monkeypatch.setenv("FLYWHEEL_GATE_NOW", "2026-11-02T06:00:00")
    run_pipeline()

    con = published()
    revenue = {
        (g, p): v
        for g, p, v in con.execute(
            "select grain, period_start, value from marts.metric_values"
            " where metric = 'revenue' and dimension = 'all'"
        ).fetchall()
    }
    # Days, by the local day in the table above.
    day = {
        dt.date(2026, 3, 7): 10,
        dt.date(2026, 3, 8): 20 + 40,
        dt.date(2026, 3, 9): 80,
        dt.date(2026, 3, 31): 160,
        dt.date(2026, 4, 1): 320,
        dt.date(2026, 11, 1): 640 + 1280,
    }
    # ISO weeks from Monday: 03-02 (Sat 7, Sun 8), 03-09, 03-30 (Tue 31, Wed 1), 10-26 (Sun 1)
    week = {
        dt.date(2026, 3, 2): 10 + 20 + 40,
        dt.date(2026, 3, 9): 80,
        dt.date(2026, 3, 30): 160 + 320,
        dt.date(2026, 10, 26): 640 + 1280,
    }
    month = {
        dt.date(2026, 3, 1): 10 + 20 + 40 + 80 + 160,
        dt.date(2026, 4, 1): 320,
        dt.date(2026, 11, 1): 1920,
    }
    for grain, want in (("day", day), ("week", week), ("month", month)):
        got = {p: v for (g, p), v in revenue.items() if g == grain and v}
        assert got == pytest.approx(want), grain
    con.close()
    s = load_settings()
    with duckdb.connect(str(s.warehouse_path), read_only=True) as wh:
        rules = wh.execute(
            "select rule, count(*) from meta.quarantine where feed = 'orders' group by all"
        ).fetchall()
    assert rules == [("foreign_currency", 1)]


# --- history shapes ------------------------------------------------------------------


def test_ten_years_single_months_and_a_late_file(tmp_path, flywheel_env, monkeypatch):
    """Orders in 2016-01 and 2026-04 only: ten years apart, no year-earlier month for
    either (year-earlier NULL, not an error); then a late file for 2016-01."""
    landing = tmp_path / "landing"
    header_o, header_i = WORLD["orders"][0], WORLD["order_items"][0]
    write_feed(
        landing,
        "orders",
        "orders_2026.csv",
        header_o,
        [
            ["N1", "C1", "2026-04-03T10:00:00", "paid", "web", "", "courier", "", "", ""],
            ["H1", "C1", "2016-01-05T10:00:00", "paid", "web", "", "courier", "", "", ""],
        ],
    )
    write_feed(
        landing,
        "order_items",
        "items_2026.csv",
        header_i,
        [
            ["N1", "1", "A", "shoes", "1", "100", "60"],
            ["H1", "1", "A", "shoes", "2", "30", "10"],
        ],
    )
    flywheel_env(landing)
    monkeypatch.setenv("FLYWHEEL_GATE_NOW", "2026-04-04T06:00:00")
    run_pipeline()
    with published() as con:
        rows = {
            p: (v, ye)
            for p, v, ye in con.execute(
                "select period_start, value, year_earlier_value from marts.metric_values"
                " where metric = 'revenue' and grain = 'month' and dimension = 'all'"
            ).fetchall()
        }
    # H1: 2 x 30 = 60 in 2016-01; N1: 100 in 2026-04; no month a year before either.
    assert rows[dt.date(2016, 1, 1)] == (pytest.approx(60), None)
    assert rows[dt.date(2026, 4, 1)] == (pytest.approx(100), None)

    # A late file for January 2016: one more order, 1 x 40.
    write_feed(
        landing,
        "orders",
        "orders_2016-01_late.csv",
        header_o,
        [
            ["H2", "C2", "2016-01-20T10:00:00", "delivered", "web", "", "courier", "", "", ""],
        ],
    )
    write_feed(
        landing,
        "order_items",
        "items_2016-01_late.csv",
        header_i,
        [
            ["H2", "1", "B", "bags", "1", "40", "15"],
        ],
    )
    run_pipeline()
    with published() as con:
        jan = con.execute(
            "select value from marts.metric_values where metric = 'revenue' and grain = 'month'"
            " and dimension = 'all' and period_start = date '2016-01-01'"
        ).fetchone()[0]
        paying = con.execute(
            "select value from marts.metric_values where metric = 'paying_customers'"
            " and grain = 'month' and dimension = 'all' and period_start = date '2016-01-01'"
        ).fetchone()[0]
    assert jan == pytest.approx(60 + 40)
    assert paying == 2  # C1 and C2


# --- a wrong landing folder ----------------------------------------------------------


@pytest.mark.parametrize("shape", ["missing", "empty", "a_file", "no_feed_folders"])
def test_wrong_landing_folder_fails_before_any_dagster_run(shape, tmp_path):
    landing = tmp_path / "landing"
    if shape == "empty":
        landing.mkdir()
    elif shape == "a_file":
        landing.write_text("orders.csv is not a folder\n")
    elif shape == "no_feed_folders":
        landing.mkdir()
        (landing / "Orders_export.csv").write_text("order_id\nO1\n")
    home = tmp_path / "dagster_home"
    env = {
        **os.environ,
        "FLYWHEEL_LANDING_DIR": str(landing),
        "FLYWHEEL_DATA_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(home),
    }
    # The timeout only stops a hang; the point is that no Dagster run is started.
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert str(landing) in proc.stderr
    assert "expected layout" in proc.stderr or shape == "a_file"
    assert "orders/" in proc.stderr and "FLYWHEEL_LANDING_DIR" in proc.stderr
    assert "Traceback" not in proc.stderr
    # Nothing of Dagster or the warehouse was created.
    assert not home.exists()
    assert not (tmp_path / "data").exists()
