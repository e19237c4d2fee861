"""A tiny hand-written warehouse for the dbt project, and a way to build it.

Every row below is chosen so that a figure can be computed by hand; the
expected values live in test_dbt_build.py next to their calculation. The
project is copied to a temporary folder with its own seeds folder, so the
test never writes into dbt_project/ (target/, logs/) and uses the fixture's
channels and stores whatever the demo seeds say.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb

from orchestration.lib.feeds import FEEDS
from orchestration.lib.warehouse import bootstrap

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "dbt_project"
SEEDS = REPO / "seeds"
FIXTURE_SEEDS = Path(__file__).resolve().parent / "fixture_seeds"
PII_KEY = "fixture-key-not-secret"

T = datetime.fromisoformat
D = date.fromisoformat

# fmt: off
# customer_id, registered_at, lead_id, email, phone, loyalty_card_id, region
CUSTOMERS = [
    ("C1", T("2024-01-05 09:00"), "L1", " Anna@Example.COM ", "8 (912) 345-67-89", "ab-123", "North"),
    ("C2", T("2024-01-10 12:00"), None, "bob@example.com", "+7 912 000 11 22", None, "South"),
    ("C3", T("2024-01-20 18:00"), None, None, "9123334455", None, "South"),
    ("C4", T("2024-02-01 10:00"), "L4", "dana@example.com", None, None, "North"),
    ("C5", T("2024-02-01 11:00"), "L5", "eve@example.com", None, None, "North"),
    ("C6", T("2023-01-15 10:00"), None, "fred@example.com", None, None, "North"),
]

# lead_id, created_at, channel, campaign, email, phone, qualified_at, disqualified_reason, customer_id
LEADS = [
    ("L1", T("2024-01-03 10:00"), "search", "brand", "anna@example.com", None, T("2024-01-04 10:00"), None, None),
    ("L2", T("2024-01-08 10:00"), "social", "promo", "bob@example.com", None, T("2024-01-09 10:00"), None, "C2"),
    ("L3", T("2024-01-09 10:00"), "search", "brand", "carl@example.com", None, None, "no budget", None),
    ("L4", T("2024-01-25 10:00"), "search", "brand", "dana@example.com", None, T("2024-01-26 10:00"), None, None),
    ("L5", T("2024-01-28 10:00"), "referral", None, "eve@example.com", None, None, None, None),
    # quarantined by the quality gate: never enters staging
    ("L6", T("2024-01-12 10:00"), "social", "promo", "junk@example.com", None, None, None, None),
    # duplicate of L3: kept in fct_leads, not counted
    ("L7", T("2024-01-13 10:00"), "search", "brand", "carl@example.com", None, None, None, None),
]

# lead_id, expectation, is_duplicate, duplicate_of, details, checked_at
LEAD_VERDICTS = [
    ("L6", "contact_format", False, None, "email looks generated", T("2024-03-04 00:00")),
    ("L7", "no_duplicates", True, "L3", "same email as L3", T("2024-03-04 00:00")),
]

# order_id, customer_id, ordered_at, status, sales_channel, store_id, fulfilment,
# promised_at, delivered_at, currency
ORDERS = [
    ("O1", "C1", T("2024-01-06 10:00"), "delivered", "web", None, "courier",
     T("2024-01-08 12:00"), T("2024-01-08 10:00"), "RUB"),
    # " rub ": the landing contract takes the currency code in any case and padding
    ("O2", "C1", T("2024-01-20 15:00"), "paid", "store", "S1", "in_store", None, None, " rub "),
    ("O3", "C2", T("2024-01-15 11:00"), "cancelled", "web", None, "courier", None, None, None),
    ("O4", "C2", T("2024-01-16 11:00"), "delivered", "app", "S2", "pickup",
     T("2024-01-17 10:00"), T("2024-01-18 10:00"), None),
    ("O5", "C3", T("2024-01-25 11:00"), "returned", "store", "S1", "in_store", None, None, None),
    ("O6", "C3", T("2024-01-31 11:00"), "placed", "web", "S2", "pickup_point",
     T("2024-02-02 10:00"), None, None),
    ("O7", "C3", T("2024-01-28 11:00"), "delivered", "web", None, "courier",
     None, T("2024-01-30 10:00"), None),
    ("O8", "C4", T("2024-03-02 11:00"), "paid", "store", "S1", "in_store", None, None, None),
    ("O9", "C5", T("2024-03-03 11:00"), "paid", "store", "S2", "in_store", None, None, None),
    ("O10", "C6", T("2023-01-20 11:00"), "delivered", "store", "S1", "in_store", None, None, None),
    ("O11", "C1", T("2024-02-10 11:00"), "delivered", "web", None, "courier",
     T("2024-02-12 10:00"), T("2024-02-11 10:00"), None),
]

# order_id, line_no, sku, category, quantity, unit_price, unit_cost
ORDER_ITEMS = [
    ("O1", 1, "A", "shoes", 2, 100, 60),
    ("O1", 2, "B", "bags", 1, 50, 20),
    ("O2", 1, "A", "shoes", 1, 300, 200),
    ("O3", 1, "C", "coats", 1, 1000, 500),
    ("O4", 1, "B", "bags", 3, 40, 25),
    ("O5", 1, "A", "shoes", 1, 80, 50),
    ("O6", 1, "B", "bags", 1, 60, 30),
    ("O7", 1, "A", "shoes", 1, 100, 70),
    ("O8", 1, "A", "shoes", 1, 200, 120),
    ("O9", 1, "B", "bags", 1, 150, 100),
    ("O10", 1, "A", "shoes", 2, 250, 150),
    ("O11", 1, "A", "shoes", 1, 100, 40),
]

# spend_date, channel, campaign, spend, impressions, clicks, currency
MARKETING_SPEND = [
    (D("2024-01-01"), "search", "brand", 300, 10000, 200, None),
    (D("2024-01-02"), "search", "brand", 300, 10000, 100, None),
    (D("2024-01-01"), "social", "promo", 200, 5000, 50, None),
    (D("2024-01-01"), "seo", None, 50, None, None, None),
    (D("2024-02-01"), "search", "brand", 100, 2000, 20, None),
]

# answer_id, answered_at, survey, question, score, order_id, store_id, customer_id,
# email, phone, loyalty_card_id, comment
SURVEY_ANSWERS = [
    # store S1, January 2024, nps: 10, 9, 9 promoters; 8, 7 passives; 6 detractor
    ("A1", T("2024-01-21 10:00"), "nps", "recommend", 10, "O2", "S1", None,
     " ANNA@example.com", None, None, "call me back at anna@example.com"),
    ("A2", T("2024-01-21 11:00"), "nps", "recommend", 9, None, "S1", "C2", None, None, None, None),
    ("A3", T("2024-01-22 11:00"), "nps", "recommend", 9, None, "S1", None,
     None, "+7 (912) 333-44-55", None, None),
    ("A4", T("2024-01-22 12:00"), "nps", "recommend", 8, None, "S1", None, None, None, "AB 123", None),
    ("A5", T("2024-01-23 12:00"), "nps", "recommend", 7, None, "S1", None, None, None, None, None),
    ("A6", T("2024-01-23 13:00"), "nps", "recommend", 6, None, "S1", None, None, None, None,
     "rude staff, my phone is 89123456789"),
    # store S2, January 2024: 5 and 10
    ("A7", T("2024-01-17 10:00"), "nps", "recommend", 5, "O4", "S2", "C2", None, None, None, None),
    ("A8", T("2024-01-18 10:00"), "nps", "recommend", 10, None, "S2", None, None, None, None, None),
    # csi at S1 in January: 5, 4, 2 (Monday 2024-01-22 twice, Tuesday once)
    ("A9", T("2024-01-22 10:00"), "csi", "store_visit", 5, None, "S1", "C1", None, None, None, None),
    ("A10", T("2024-01-22 10:05"), "csi", "store_visit", 4, None, "S1", None, None, None, None, None),
    ("A11", T("2024-01-23 10:00"), "csi", "store_visit", 2, None, "S1", None, None, None, None, None),
    # cx questions at S1 in January: queue 1 (low), prices 4
    ("A12", T("2024-01-23 10:01"), "cx", "queue", 1, None, "S1", None, None, None, None, None),
    ("A13", T("2024-01-23 10:02"), "cx", "prices", 4, None, "S1", None, None, None, None, None),
]

# contact_id, contacted_at, channel, reason, order_id, customer_id
SUPPORT_CONTACTS = [
    ("K1", T("2024-01-16 15:00"), "phone", "late pickup", "O4", "C2"),
    ("K2", T("2024-01-20 09:00"), "chat", "question", None, None),
]

# fmt: on

ROWS = {
    "customers": CUSTOMERS,
    "leads": LEADS,
    "orders": ORDERS,
    "order_items": ORDER_ITEMS,
    "marketing_spend": MARKETING_SPEND,
    "survey_answers": SURVEY_ANSWERS,
    "support_contacts": SUPPORT_CONTACTS,
}

# Contact data that must never appear in clear in schema marts (normalised and raw spellings).
CLEAR_PII = [
    "anna@example.com",
    "bob@example.com",
    "dana@example.com",
    "79123456789",
    "89123456789",
    "9123456789",
    "79120001122",
    "79123334455",
    "AB123",
    "ab-123",
    "call me back",
    "rude staff",
]


def write_warehouse(path: Path) -> None:
    """Create the raw tables with the ingestion DDL and insert the fixture rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    try:
        bootstrap(con)
        loaded = T("2024-03-04 01:00")
        for feed, rows in ROWS.items():
            cols = FEEDS[feed].column_names
            placeholders = ", ".join(["?"] * (len(cols) + 3))
            sql = (
                f"insert into raw.{feed} ({', '.join(cols)}, _file_id, _line, _ingested_at) "
                f"values ({placeholders})"
            )
            for line, row in enumerate(rows, start=2):
                con.execute(sql, [*row, 1, line, loaded])
        for verdict in LEAD_VERDICTS:
            con.execute(
                "insert into quality.lead_verdicts values (?, ?, ?, ?, ?, ?)", list(verdict)
            )
    finally:
        con.close()


def prepare_project(workdir: Path) -> Path:
    """Copy the dbt project beside a seeds folder: repo seeds + the fixture's channels/stores."""
    project = workdir / "dbt_project"
    shutil.copytree(
        PROJECT,
        project,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"),
    )
    seeds = workdir / "seeds"
    seeds.mkdir()
    for name in ("metric_tree.csv", "metric_feeds.csv", "metric_alert_rules.csv", "_seeds.yml"):
        shutil.copy(SEEDS / name, seeds / name)
    for name in ("channels.csv", "stores.csv"):
        shutil.copy(FIXTURE_SEEDS / name, seeds / name)
    return project


def dbt_env(data_dir: Path) -> dict[str, str]:
    return {
        "FLYWHEEL_DATA_DIR": str(data_dir),
        "FLYWHEEL_TIMEZONE": "UTC",
        "FLYWHEEL_CURRENCY": "RUB",
        "FLYWHEEL_PII_KEY": PII_KEY,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def run_dbt(project: Path, args: list[str]):
    """Invoke dbt in-process on the copied project (profiles.yml lives in the project)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    cli = [*args, "--project-dir", str(project), "--profiles-dir", str(project)]
    try:
        return dbtRunner().invoke(cli)
    finally:
        # dbt-duckdb keeps its database open in this process, configured with the
        # profile's memory_limit / temp_directory; close it so the test's own plain
        # connection to the same file is not refused as "a different configuration".
        DuckDBConnectionManager.close_all_connections()


# The hand-written warehouses are a few rows, so some tree metrics have no values at
# some grain: the registry's values test warns on them, as it does for a young shop.
EXPECTED_WARNINGS = {"assert_tree_metrics_have_values"}


def unexpected_outcomes(result) -> list[str]:
    """The nodes of a dbt run that neither passed nor gave an expected warning."""
    return [
        r.node.name
        for r in result.result
        if r.status not in ("success", "pass")
        and not (r.status == "warn" and r.node.name in EXPECTED_WARNINGS)
    ]


def build(workdir: Path, extra_args: list[str] | None = None):
    """Write the fixture warehouse and run `dbt build`; returns (result, project, warehouse)."""
    data_dir = workdir / "data"
    warehouse = data_dir / "warehouse.duckdb"
    write_warehouse(warehouse)
    project = prepare_project(workdir)
    os.environ.update(dbt_env(data_dir))
    result = run_dbt(project, ["build", *(extra_args or [])])
    return result, project, warehouse


if __name__ == "__main__":
    import sys
    import tempfile

    target = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="flywheel-dbt-"))
    )
    target.mkdir(parents=True, exist_ok=True)
    res, proj, wh = build(target, sys.argv[2:])
    print(f"success={res.success} project={proj} warehouse={wh}")
    raise SystemExit(0 if res.success else 1)
