"""The dbt project built on a hand-written warehouse (tests/dbt/dbt_fixture.py).

Expected figures are computed by hand from the fixture rows, in the comment
next to each assertion. `dbt build` itself runs every data test and unit test
of the project; a failing one fails test_build_succeeds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dbt_fixture as fixture
import duckdb
import pytest

from orchestration.lib.pii import hmac_hex, key_blocks, macro_sql


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("dbt")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in fixture.dbt_env(workdir / "data").items():
            mp.setenv(key, value)
        result, project, warehouse = fixture.build(workdir)
        yield result, project, warehouse


@pytest.fixture(scope="module")
def con(built):
    _, _, warehouse = built
    c = duckdb.connect(str(warehouse))
    yield c
    c.close()


def metric(con, name, grain="month", period="2024-01-01", dimension="all", value="all"):
    row = con.execute(
        "select value from marts.metric_values where metric = ? and grain = ? "
        "and period_start = cast(? as date) and dimension = ? and dimension_value = ?",
        [name, grain, period, dimension, value],
    ).fetchone()
    return None if row is None else row[0]


def test_build_succeeds(built):
    result, _, _ = built
    assert result.success, result.exception
    assert fixture.unexpected_outcomes(result) == []
    # and the values test does warn here (fixture.EXPECTED_WARNINGS says why)
    warned = [r.node.name for r in result.result if r.status == "warn"]
    assert warned == ["assert_tree_metrics_have_values"]


def test_revenue_and_margin(con):
    # January 2024 revenue orders: O1 2x100 + 1x50 = 250, O2 300, O4 3x40 = 120, O7 100
    # (O3 cancelled, O5 returned, O6 placed are out) -> 770
    assert metric(con, "revenue") == pytest.approx(770)
    # cogs: O1 2x60 + 20 = 140, O2 200, O4 3x25 = 75, O7 70 -> 485; margin 770 - 485 = 285
    assert metric(con, "gross_margin") == pytest.approx(285)
    # spend: search 300 + 300, social 200, seo 50 = 850 -> contribution 285 - 850
    assert metric(con, "contribution_margin") == pytest.approx(-565)
    # paying customers C1, C2, C3; 4 revenue orders; aov 770 / 4
    assert metric(con, "paying_customers") == 3
    assert metric(con, "aov") == pytest.approx(192.5)
    # year earlier: January 2023 = O10 2x250 = 500 -> 770 / 500 - 1
    assert metric(con, "revenue_yoy") == pytest.approx(0.54)
    # category shoes: O1 200 + O2 300 + O7 100 = 600
    assert metric(con, "revenue", dimension="category", value="shoes") == pytest.approx(600)
    # ISO week of Monday 2024-01-01 holds O1 (Sat 6 Jan): 250
    assert metric(con, "revenue", grain="week", period="2024-01-01") == pytest.approx(250)


def test_currency_is_the_upper_case_code(con):
    # O1 "RUB", O2 " rub " (trimmed, upper-cased), the other orders blank (the reporting
    # currency, RUB): every order reads RUB
    assert con.execute("select distinct currency from marts.fct_orders").fetchall() == [("RUB",)]


def test_cx_figures(con):
    # S1 January nps answers 10, 9, 9 | 8, 7 | 6 -> 100 x (3 - 1) / 6
    assert metric(con, "nps", dimension="store", value="S1") == pytest.approx(100 * 2 / 6)
    row = con.execute(
        "select nps, nps_respondents, csi, nps_rank from marts.store_rating "
        "where store_id = 'S1' and month = date '2024-01-01'"
    ).fetchone()
    # csi 5, 4, 2 -> 11 / 3; 6 nps answers are below cx_min_respondents (30): shown, not ranked
    # (ranking with a lower threshold: tests/dbt/test_cx_metrics.py)
    assert row == (pytest.approx(100 * 2 / 6), 6, pytest.approx(11 / 3), None)
    # delivered with promise: O1 on time, O4 late (O7 has no promise) -> 1 / 2
    assert metric(con, "on_time_rate") == pytest.approx(0.5)
    # 7 January orders, deviations O3 cancelled, O4 late, O5 returned -> 3 / 7
    assert metric(con, "order_deviation_rate") == pytest.approx(3 / 7)
    # contacts K1, K2 / 4 revenue orders
    assert metric(con, "contact_rate") == pytest.approx(0.5)


def test_channel_economics(con):
    row = con.execute(
        "select spend, leads, cpl, qualified_leads, acquired_customers, cac, roas, channel_roi "
        "from marts.channel_economics "
        "where channel = 'search' and campaign = 'brand' and month = date '2024-01-01'"
    ).fetchone()
    # search/brand January: spend 600; leads L1, L3, L4 (L7 is a duplicate) -> cpl 200;
    # qualified L1, L4; acquired C1 -> cac 600; C1 within 90 days: revenue 250 + 300 + 100 = 650,
    # margin 110 + 100 + 60 = 270 -> roas 650 / 600, roi (270 - 600) / 600
    assert row == (
        pytest.approx(600),
        3,
        pytest.approx(200),
        2,
        1,
        pytest.approx(600),
        pytest.approx(650 / 600),
        pytest.approx(-0.55),
    )
    assert metric(con, "cac", dimension="channel", value="search") == pytest.approx(600)
    # no spend data for referral: no cost per lead rather than a cost of 0
    assert metric(con, "cpl", dimension="channel", value="referral") is None


def test_quality_gate_verdicts(con):
    leads = dict(con.execute("select lead_id, is_duplicate from marts.fct_leads").fetchall())
    assert "L6" not in leads  # quarantined
    assert leads["L7"] is True  # duplicate: kept, flagged
    # 5 January leads counted: L1, L2, L3, L4, L5
    assert metric(con, "leads") == 5


def test_hmac_matches_python(con):
    key = fixture.PII_KEY.encode()
    mem = duckdb.connect()
    for sql in macro_sql(key):
        mem.execute(sql)
    for value in ["anna@example.com", "79123456789", "", "ünïcode ✓"]:
        got = mem.execute("select pii_hash(?)", [value]).fetchone()[0]
        assert got == hmac_hex(key, value)
    assert mem.execute("select pii_hash(null)").fetchone()[0] is None
    long_key = b"k" * 100  # longer than a block: hashed first (RFC 2104)
    mem.execute(macro_sql(long_key)[0])
    assert mem.execute("select pii_hash('x')").fetchone()[0] == hmac_hex(long_key, "x")
    # the marts hold the same hash of the normalised email
    email_hash = con.execute(
        "select email_hash from marts.dim_customers where customer_id = 'C1'"
    ).fetchone()[0]
    assert email_hash == hmac_hex(key, "anna@example.com")


def test_no_clear_pii_in_marts(con):
    tables = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' and data_type = 'VARCHAR'"
    ).fetchall()
    assert tables
    leaks = []
    for table, column in tables:
        for needle in fixture.CLEAR_PII:
            hit = con.execute(
                f'select count(*) from marts."{table}" where strpos(lower("{column}"), ?) > 0',
                [needle.lower()],
            ).fetchone()[0]
            if hit:
                leaks.append((table, column, needle))
    assert leaks == []


def test_key_not_in_warehouse_or_artifacts(built):
    _, project, warehouse = built
    key = fixture.PII_KEY
    ipad, opad = key_blocks(key.encode())
    for path in [warehouse, *Path(project, "target").rglob("*"), *Path(project, "logs").rglob("*")]:
        if path.is_file():
            data = path.read_bytes()
            for secret in (key, ipad, opad):
                assert secret.encode() not in data, path


@pytest.mark.slow  # more dbt runs of the fixture: make test, not make test-fast
def test_incremental_run_matches_full_refresh(built, tmp_path):
    """A status change (O2 paid -> returned) reloaded later reaches the incremental
    facts, and the incremental result equals a full refresh."""
    result, project, warehouse = built
    assert result.success
    work = tmp_path / "copy"
    shutil.copytree(Path(project).parent, work, ignore=shutil.ignore_patterns("*.key"))
    wh = work / "data" / "warehouse.duckdb"
    c = duckdb.connect(str(wh))
    c.execute(
        "update raw.orders set status = 'returned', _ingested_at = timestamp '2024-03-05 01:00' "
        "where order_id = 'O2'"
    )
    c.close()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in fixture.dbt_env(work / "data").items():
            mp.setenv(key, value)
        proj = work / "dbt_project"
        # the three tables and what they are built from (the seeds are already loaded; the
        # data tests and the marts downstream ran in the fixture's build)
        chain = ["-s", "+fct_orders", "+fct_order_items", "+mart_metric_values"]
        assert fixture.run_dbt(proj, ["run", *chain]).success
        c = duckdb.connect(str(wh))
        incremental = {
            t: c.execute(f"select * from marts.{t} order by all").fetchall()
            for t in ("fct_orders", "fct_order_items", "metric_values")
        }
        revenue = c.execute(
            "select value from marts.metric_values where metric = 'revenue' and grain = 'month' "
            "and period_start = date '2024-01-01' and dimension = 'all'"
        ).fetchone()[0]
        c.close()
        # 770 - O2's 300
        assert revenue == pytest.approx(470)
        assert fixture.run_dbt(proj, ["run", "--full-refresh", *chain]).success
        c = duckdb.connect(str(wh))
        for table, rows in incremental.items():
            full = c.execute(f"select * from marts.{table} order by all").fetchall()
            assert full == rows, table
        c.close()


def test_uniqueness_tests_find_each_duplicated_key_once(built, tmp_path):
    """The uniqueness tests (on DuckDB: grouped by a hash of the key, then by the key)
    report every key that occurs twice, once, and no key that merely looks alike.
    dbt's own group by gives the same counts; that the DuckDB path runs was shown by
    a mutation (the hash stage's `having count(*) > 1` as `> 2`: no failures found).
    A hash collision cannot be planted."""
    result, project, _ = built
    assert result.success
    work = tmp_path / "copy"
    shutil.copytree(Path(project).parent, work, ignore=shutil.ignore_patterns("*.key"))
    c = duckdb.connect(str(work / "data" / "warehouse.duckdb"))
    # O1 twice, plus 'o1' (another key: ids are case-sensitive); O1 line 1 twice,
    # plus O1 line 3 (a new pair).
    c.execute("insert into raw.orders select * from raw.orders where order_id = 'O1'")
    c.execute(
        "insert into raw.orders select * replace ('o1' as order_id) from raw.orders "
        "where order_id = 'O1' limit 1"
    )
    c.execute(
        "insert into raw.order_items select * from raw.order_items "
        "where order_id = 'O1' and line_no = 1"
    )
    c.execute(
        "insert into raw.order_items select * replace (3 as line_no) from raw.order_items "
        "where order_id = 'O1' and line_no = 2"
    )
    c.close()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in fixture.dbt_env(work / "data").items():
            mp.setenv(key, value)
        res = fixture.run_dbt(
            work / "dbt_project", ["test", "--select", "stg_shop__orders stg_shop__order_items"]
        )
    failures = {r.node.name: r.failures for r in res.result if r.status == "fail"}
    # one duplicated order id (O1), one duplicated (order_id, line_no) pair (O1, 1)
    assert failures == {
        "unique_stg_shop__orders_order_id": 1,
        "unique_combination_of_columns_stg_shop__order_items_order_id__line_no": 1,
    }


@pytest.mark.slow  # more dbt runs of the fixture: make test, not make test-fast
def test_docs_generate_offline(built, tmp_path):
    _, project, _ = built
    # On a copy: the module's open connection to the built warehouse would clash with dbt's.
    work = tmp_path / "copy"
    shutil.copytree(Path(project).parent, work, ignore=shutil.ignore_patterns("*.key"))
    project = work / "dbt_project"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in fixture.dbt_env(work / "data").items():
            mp.setenv(key, value)
        res = fixture.run_dbt(project, ["docs", "generate"])
    assert res.success
    catalog = json.loads((Path(project) / "target" / "catalog.json").read_text())
    assert any(k.endswith("mart_metric_values") for k in catalog["nodes"])
    manifest = json.loads((Path(project) / "target" / "manifest.json").read_text())
    undocumented = [
        f"{node['name']}.{col}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["schema"] == "marts"
        for col, spec in node["columns"].items()
        if not spec.get("description")
    ]
    assert undocumented == []


# Columns that differ between an incremental run and a full refresh by design: the
# period-incremental state (macros/period_incremental.sql) and build times.
STATE_COLUMNS = {
    "_source_loaded_until",
    "_period_marker",
    "_customers_loaded_until",
    "_stores_fingerprint",
    "_as_of_date",
    "_orders_loaded_until",
}


def _table_rows(c, schema, table, **where):
    """Rows of a table without state columns and build times, filtered by column = value."""
    cols = [
        name
        for name, data_type in c.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
        if name not in STATE_COLUMNS and data_type != "TIMESTAMP WITH TIME ZONE"
    ]
    cond = " and ".join(f"{k} = ?" for k in where) or "true"
    return c.execute(
        f"select {', '.join(cols)} from {schema}.{table} where {cond} order by all",
        list(where.values()),
    ).fetchall()


def _warehouse_rows(warehouse, models):
    """Every table of schema marts and the given intermediate models, as compared rows."""
    c = duckdb.connect(str(warehouse))
    try:
        marts = [
            r[0]
            for r in c.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        assert len(marts) >= 13
        rows = {t: _table_rows(c, "marts", t) for t in marts}
        return rows | {m: _table_rows(c, "main", m) for m in models}
    finally:
        c.close()


def _chain(models) -> list[str]:
    """dbt arguments selecting the models and everything upstream of them, with their data
    tests: the part of the project an incremental step can change for them. The unit
    tests and the marts downstream (test_build_succeeds builds those) are left out."""
    return ["-s", *(f"+{m}" for m in models), "--exclude-resource-type", "unit_test"]


def _full_refresh_rows(workdir, copy_to, models):
    """The same rows after a full refresh of a copy of the work folder (the original
    keeps its incremental state for the next step)."""
    shutil.copytree(workdir, copy_to)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in fixture.dbt_env(copy_to / "data").items():
            mp.setenv(key, value)
        build = ["build", "--full-refresh", *_chain(models)]
        assert fixture.run_dbt(copy_to / "dbt_project", build).success
    return _warehouse_rows(copy_to / "data" / "warehouse.duckdb", models)


def _component(c, model, column, grain, period, dimension="all", value="all"):
    row = c.execute(
        f"select {column} from main.{model} where grain = ? and period_start = cast(? as date) "
        "and dimension = ? and dimension_value = ?",
        [grain, period, dimension, value],
    ).fetchone()
    return None if row is None else row[0]


@pytest.mark.slow  # more dbt runs of the fixture: make test, not make test-fast
def test_period_incremental_aggregates_match_full_refresh(built, tmp_path):
    """The period-incremental metric aggregates (macros/period_incremental.sql) recompute
    only the periods a run touches, and end equal to a full refresh after: an order
    moved to another month, a return that empties a day, a customer's new region, an
    order's new channel (its survey answers follow), a survey answer moved to another
    day, the as-of date moved back and forward again, and a store's new region (seed)."""
    result, project, _ = built
    assert result.success
    work = tmp_path / "copy"
    shutil.copytree(Path(project).parent, work, ignore=shutil.ignore_patterns("*.key"))
    wh = work / "data" / "warehouse.duckdb"
    proj = work / "dbt_project"
    orders, categories = "int_metric_orders_aggregated", "int_metric_categories_aggregated"
    survey, paying = "int_metric_survey_aggregated", "int_metric_orders_paying"
    aggregates = (orders, paying, categories, survey)
    chain = _chain(aggregates)
    c = duckdb.connect(str(wh))
    # (table, key column, key, new values), each reloaded after the first build
    changes = [
        ("orders", "order_id", "O7", "ordered_at = timestamp '2024-02-05 11:00'"),
        ("orders", "order_id", "O11", "status = 'returned'"),
        ("orders", "order_id", "O4", "sales_channel = 'web'"),
        ("customers", "customer_id", "C2", "region = 'West'"),
        ("survey_answers", "answer_id", "A2", "answered_at = timestamp '2024-02-21 11:00'"),
    ]
    for table, key, value, assignment in changes:
        c.execute(
            f"update raw.{table} set {assignment}, _ingested_at = timestamp '2024-03-05 01:00' "
            f"where {key} = ?",
            [value],
        )
    c.close()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in fixture.dbt_env(work / "data").items():
            mp.setenv(key, value)

        # a. the changes above, with the as-of date moved back to 2024-02-05
        assert fixture.run_dbt(
            proj, ["build", "--vars", "{as_of_date: '2024-02-05'}", *chain]
        ).success
        c = duckdb.connect(str(wh))
        # January: O1..O7 less O7 (moved to 2024-02-05) -> 6 orders
        assert _component(c, orders, "orders_placed", "month", "2024-01-01") == 6
        # February: O11 (returned, still placed) + O7 -> 2
        assert _component(c, orders, "orders_placed", "month", "2024-02-01") == 2
        # O6 (pickup_point, placed, promised 02-02) misses its 7-day grace only on 02-09,
        # after the as-of date 02-05: no January order is "not collected" any more
        assert _component(c, orders, "not_collected_orders", "month", "2024-01-01") == 0
        # region of a non-store order is the customer's: O3 (C2, web) moves to West;
        # South keeps O4 and O6 (store S2), O7 left January
        assert _component(c, orders, "orders_placed", "month", "2024-01-01", "region", "West") == 1
        assert _component(c, orders, "orders_placed", "month", "2024-01-01", "region", "South") == 2
        # paying customers (revenue statuses paid, shipped, delivered), January: O1, O2 (C1)
        # and O4 (C2); O7 (C3) left, O3 is cancelled, O5 returned, O6 placed -> 2 (3 before)
        assert _component(c, paying, "paying_customers", "month", "2024-01-01") == 2
        assert _component(c, orders, "paying_customers", "month", "2024-01-01") == 2
        # O4 is now a web order: web pays C1 (O1) and C2 (O4); app has no payer left
        assert (
            _component(c, paying, "paying_customers", "month", "2024-01-01", "sales_channel", "web")
            == 2
        )
        assert (
            _component(c, paying, "paying_customers", "month", "2024-01-01", "sales_channel", "app")
            is None
        )
        # C2's new region West: C2 paid only for O4 (store S2, South), so West has no payer
        assert (
            _component(c, orders, "paying_customers", "month", "2024-01-01", "region", "West") == 0
        )
        # categories: 01-28 (O7's old day) and 02-10 (O11, now returned) have no revenue rows left
        assert (
            _table_rows(c, "main", categories, grain="day", period_start=fixture.D("2024-01-28"))
            == []
        )
        assert (
            _table_rows(c, "main", categories, grain="day", period_start=fixture.D("2024-02-10"))
            == []
        )
        # O7's shoes line (1 x 100) is revenue on its new day
        assert _component(c, categories, "revenue", "day", "2024-02-05", "category", "shoes") == 100
        # surveys: A2 (nps, S1) moved from 2024-01-21 to 2024-02-21: S1 keeps A1, A3..A6 in
        # January, and 01-21 keeps A1 only
        assert _component(c, survey, "nps_answers", "month", "2024-01-01", "store", "S1") == 5
        assert _component(c, survey, "nps_answers", "month", "2024-02-01", "store", "S1") == 1
        assert _component(c, survey, "nps_answers", "day", "2024-01-21") == 1
        # A7 is about O4, now a web order: January's answers by order channel are
        # A1 (O2, store) and A7 (web); no 'app' row is left
        assert (
            _component(c, survey, "nps_answers", "month", "2024-01-01", "sales_channel", "web") == 1
        )
        assert (
            _component(c, survey, "nps_answers", "month", "2024-01-01", "sales_channel", "app")
            is None
        )
        # ... also on A7's own day, which no other change reopened
        assert (
            _component(c, survey, "nps_answers", "day", "2024-01-17", "sales_channel", "web") == 1
        )
        # untouched periods kept their rows: 2023-01 still has the first build's watermark
        (kept,) = c.execute(
            f"select max(_source_loaded_until) from main.{categories} where period_start < date '2024-01-01'"
        ).fetchone()
        assert str(kept) == "2024-03-04 01:00:00"
        c.close()

        # b. the as-of date forward again (the newest event, 2024-03-03): O6's deadline (02-09)
        # lies between the date its day was computed with and today's, so its periods reopen
        assert fixture.run_dbt(proj, ["build", *chain]).success
        c = duckdb.connect(str(wh))
        assert _component(c, orders, "not_collected_orders", "month", "2024-01-01") == 1
        # ... and only those: 2023-01 keeps the as-of date of step a
        assert str(_component(c, orders, "_as_of_date", "month", "2023-01-01")) == "2024-02-05"
        assert str(_component(c, orders, "_as_of_date", "month", "2024-01-01")) == "2024-03-03"
        c.close()
        # every table equals a full refresh at this point too (before step c recomputes all)
        after_b = _warehouse_rows(wh, aggregates)
        assert after_b == _full_refresh_rows(work, tmp_path / "full_b", aggregates)

        # b2. O4 (C2's only January revenue order) is cancelled and reloaded, and the order
        # chain runs without int_metric_orders_paying (as when one asset is materialized
        # alone): the aggregate takes the paying model's old count. January payers: C1 (O1,
        # O2) and, before the cancellation, C2 (O4) -> 2 stale, 1 once the paying model ran
        c = duckdb.connect(str(wh))
        c.execute(
            "update raw.orders set status = 'cancelled', _ingested_at = timestamp '2024-03-06 01:00' "
            "where order_id = 'O4'"
        )
        c.close()
        assert fixture.run_dbt(proj, ["run", "-s", f"+{orders}", "--exclude", paying]).success
        c = duckdb.connect(str(wh))
        assert _component(c, orders, "paying_customers", "month", "2024-01-01") == 2
        c.close()
        assert fixture.run_dbt(proj, ["build", *chain]).success
        c = duckdb.connect(str(wh))
        assert _component(c, paying, "paying_customers", "month", "2024-01-01") == 1
        assert _component(c, orders, "paying_customers", "month", "2024-01-01") == 1
        c.close()

        # c. store S1 moves from North to East (seed): every period is recomputed
        stores = work / "seeds" / "stores.csv"
        stores.write_text(stores.read_text().replace("S1,Store One,North", "S1,Store One,East"))
        assert fixture.run_dbt(proj, ["build", *chain]).success
        c = duckdb.connect(str(wh))
        # January store orders at S1: O2 and O5; North keeps O1 (C1, web)
        assert _component(c, orders, "orders_placed", "month", "2024-01-01", "region", "East") == 2
        assert _component(c, orders, "orders_placed", "month", "2024-01-01", "region", "North") == 1
        c.close()
        after_c = _warehouse_rows(wh, aggregates)

        # d. a full refresh gives the same rows everywhere
        assert fixture.run_dbt(proj, ["build", "--full-refresh", *chain]).success
        full = _warehouse_rows(wh, aggregates)
    for table, rows in full.items():
        assert after_c[table] == rows, table
