"""Ingestion rules on files written by hand; every expected figure is counted in a comment."""

import dataclasses
import gzip
import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.lib.feeds import FEEDS
from orchestration.lib.ingest import count_lines, discover, ingest_feed, match_columns
from orchestration.lib.settings import load_settings
from tests.unit.conftest import write

ORDERS_HEADER = "order_id,customer_id,ordered_at,status,sales_channel,store_id,fulfilment,promised_at,delivered_at,currency"


def quarantine(con) -> dict[int, str]:
    return dict(con.execute("select line, rule from meta.quarantine order by line").fetchall())


def test_each_order_rule_quarantines_its_line(env):
    settings, con = env
    write(
        settings,
        "orders/o.csv",
        f"""
        {ORDERS_HEADER}
        o1,c1,2025-03-01 10:00:00,paid,web,,courier,,,RUB
        o2,c1,2025-03-01 10:00:00,paid,store,,in_store,,,
        o3,c1,2025-02-30 10:00:00,paid,web,,courier,,,
        o4,,2025-03-01,paid,web,,courier,,,
        o5,c2,2025-03-01,weird,web,,courier,,,
        o6,c2,2025-03-01,paid,web,,courier,,,usd
        o1,c9,2025-03-01,paid,web,,courier,,,
        o7,c2,2025-03-01,paid,web,S9,courier,,,
        o8,c2,0202-03-01,paid,web,,courier,,,
        o9,c2,2025-03-01,paid,web,S1,pickup,,,
    """,
    )
    report = ingest_feed(con, settings, "orders", "r1", log=lambda m: None)
    # Line numbers count the header as line 1.
    assert quarantine(con) == {
        3: "store_required",  # store sale without store
        4: "wrong_type",  # 30 February
        5: "missing_required",  # customer_id blank
        6: "unknown_code",  # status
        7: "foreign_currency",  # usd, reporting currency RUB
        8: "duplicate_key_in_file",  # o1 again; line 2 loads
        9: "unknown_code",  # store S9 not in seeds
        10: "out_of_range",  # year 0202
    }
    f = report.files[0]
    # 10 rows: o1 and o9 load, 8 quarantined.
    assert (f.rows_in, f.rows_loaded, f.rows_quarantined) == (10, 2, 8)
    assert con.execute("select order_id, customer_id from raw.orders order by 1").fetchall() == [
        ("o1", "c1"),
        ("o9", "c2"),
    ]


def test_order_items_ranges_and_types(env):
    settings, con = env
    write(
        settings,
        "order_items/i.csv",
        """
        order_id,line_no,sku,category,quantity,unit_price,unit_cost
        o1,1,A,x,2,10.50,4
        o1,2,B,x,0,10,4
        o1,3,C,x,1,-1,4
        o1,4,D,x,abc,10,4
        o1,5,E,x,1,"12,5O",4
        o1,x,F,x,1,1,1
    """,
    )
    ingest_feed(con, settings, "order_items", "r1", log=lambda m: None)
    assert quarantine(con) == {
        3: "out_of_range",
        4: "out_of_range",
        5: "wrong_type",
        6: "wrong_type",
        7: "wrong_type",
    }
    (price,) = con.execute("select unit_price from raw.order_items").fetchone()
    assert float(price) == 10.5


def test_survey_score_ranges_follow_the_survey(env):
    settings, con = env
    write(
        settings,
        "survey_answers/s.csv",
        """
        answer_id,answered_at,survey,question,score
        a1,2025-03-01,nps,recommend,10
        a2,2025-03-01,nps,recommend,11
        a3,2025-03-01,csi,order,0
        a4,2025-03-01,csi,order,5
        a5,2025-03-01,cx,queue,6
        a6,2025-03-01,nps,recommend,0
    """,
    )
    ingest_feed(con, settings, "survey_answers", "r1", log=lambda m: None)
    # nps is 0..10, csi and cx 1..5.
    assert quarantine(con) == {3: "out_of_range", 4: "out_of_range", 6: "out_of_range"}
    assert con.execute("select count(*) from raw.survey_answers").fetchone()[0] == 3


def test_unterminated_quote_loses_only_its_own_line(env):
    settings, con = env
    write(
        settings,
        "leads/l.csv",
        """
        lead_id,created_at,channel
        L1,2025-01-01,paid_search
        L2,"2025-01-01,paid_search
        L3,2025-01-01,paid_search
        L4,2025-01-01,paid_search,extra
        L5,2025-01-01,paid_search
    """,
    )
    report = ingest_feed(con, settings, "leads", "r1", log=lambda m: None)
    f = report.files[0]
    assert f.physical_lines == 6
    assert f.parser == "python-fallback"
    assert quarantine(con) == {3: "malformed_line", 5: "malformed_line"}
    assert [r[0] for r in con.execute("select lead_id from raw.leads order by 1").fetchall()] == [
        "L1",
        "L3",
        "L5",
    ]
    assert f.rows_in == f.rows_loaded + f.rows_quarantined == 5


def test_missing_required_column_rejects_file_and_names_it(env):
    settings, con = env
    write(
        settings,
        "orders/bad.csv",
        "order_id,customer_id,ordered_at,sales_channel\no1,c1,2025-01-01,web\n",
    )
    write(settings, "orders/good.csv", f"{ORDERS_HEADER}\no2,c1,2025-01-01,paid,web,,courier,,,\n")
    report = ingest_feed(con, settings, "orders", "r1", log=lambda m: None)
    rejected = report.rejected_files
    assert len(rejected) == 1
    assert "orders/bad.csv" in rejected[0].reason and "status" in rejected[0].reason
    assert con.execute("select order_id from raw.orders").fetchall() == [("o2",)]


def test_header_case_extra_columns_and_bom(env):
    settings, con = env
    path = settings.landing_dir / "leads" / "l.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        "\ufeffLEAD_ID,Created_At,Channel,utm_source\nL1,2025-01-01,paid_search,g\n".encode()
    )
    report = ingest_feed(con, settings, "leads", "r1", log=lambda m: None)
    assert report.files[0].extra_columns == ["utm_source"]
    assert con.execute("select lead_id, channel from raw.leads").fetchall() == [
        ("L1", "paid_search")
    ]


def test_same_content_is_noop_and_later_file_replaces(env):
    settings, con = env
    write(
        settings,
        "orders/a.csv",
        f"{ORDERS_HEADER}\no1,c1,2025-01-01,paid,web,,courier,,,\no2,c1,2025-01-01,paid,web,,courier,,,\n",
    )
    ingest_feed(con, settings, "orders", "r1", log=lambda m: None)
    # Re-run: nothing new.
    again = ingest_feed(con, settings, "orders", "r2", log=lambda m: None)
    assert [f.outcome for f in again.files] == ["skipped"]
    # The same bytes under another name: registered as a duplicate, nothing loaded.
    (settings.landing_dir / "orders" / "a_copy.csv").write_bytes(
        (settings.landing_dir / "orders" / "a.csv").read_bytes()
    )
    # A correction: o2 becomes returned, o3 is new.
    write(
        settings,
        "orders/b_corrected.csv",
        f"{ORDERS_HEADER}\no2,c1,2025-01-01,returned,web,,courier,,,\no3,c1,2025-01-02,paid,web,,courier,,,\n",
    )
    rep = ingest_feed(con, settings, "orders", "r3", log=lambda m: None)
    outcomes = {f.path: (f.outcome, f.rows_loaded, f.rows_replaced) for f in rep.files}
    assert outcomes == {
        "orders/a.csv": ("skipped", 0, 0),
        "orders/a_copy.csv": ("duplicate_content", 0, 0),
        "orders/b_corrected.csv": ("loaded", 2, 1),
    }
    assert con.execute("select order_id, status from raw.orders order by 1").fetchall() == [
        ("o1", "paid"),
        ("o2", "returned"),
        ("o3", "paid"),
    ]


def test_registered_file_is_not_read_again_unless_it_changed(env, monkeypatch):
    """A daily run does not re-hash the landing history: a file registered under the same
    path, size and modification time is skipped unread. A rewrite changes the time (or
    the size) and is read; FLYWHEEL_INGEST_REHASH=1 reads every file."""
    from orchestration.lib.ingest import load  # ingest_file looks content_hash up here

    settings, con = env
    hashed: list[str] = []
    real_hash = load.content_hash

    def recording_hash(path):
        hashed.append(path.name)
        return real_hash(path)

    monkeypatch.setattr(load, "content_hash", recording_hash)
    row = "o1,c1,2025-01-01,paid,web,,courier,,,"
    path = write(settings, "orders/a.csv", f"{ORDERS_HEADER}\n{row}\n")
    ingest_feed(con, settings, "orders", "r1", log=lambda m: None)
    assert hashed == ["a.csv"]
    again = ingest_feed(con, settings, "orders", "r2", log=lambda m: None)
    assert [(f.outcome, f.reason) for f in again.files] == [
        ("skipped", "already registered (same size and time)")
    ]
    assert hashed == ["a.csv"]  # not read again
    # Rewritten in place, same size, a later time: read, and c2 replaces c1.
    stat = path.stat()
    path.write_text(f"{ORDERS_HEADER}\n{row.replace('c1', 'c2')}\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert path.stat().st_size == stat.st_size
    rewritten = ingest_feed(con, settings, "orders", "r3", log=lambda m: None)
    assert [(f.outcome, f.rows_replaced) for f in rewritten.files] == [("loaded", 1)]
    assert con.execute("select customer_id from raw.orders").fetchall() == [("c2",)]
    # Rewritten keeping size and time (as a copy with preserved times would): only a rehash sees it.
    stat = path.stat()
    path.write_text(f"{ORDERS_HEADER}\n{row.replace('c1', 'c3')}\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert [
        f.outcome for f in ingest_feed(con, settings, "orders", "r4", log=lambda m: None).files
    ] == ["skipped"]
    monkeypatch.setenv("FLYWHEEL_INGEST_REHASH", "1")
    # the setting as a run started now reads it
    settings = dataclasses.replace(settings, ingest_rehash=load_settings().ingest_rehash)
    assert settings.ingest_rehash
    rehashed = ingest_feed(con, settings, "orders", "r5", log=lambda m: None)
    assert [f.outcome for f in rehashed.files] == ["loaded"]
    assert con.execute("select customer_id from raw.orders").fetchall() == [("c3",)]
    assert hashed == ["a.csv"] * 3


def test_parquet_jsonl_and_gzip(env):
    settings, con = env
    (settings.landing_dir / "leads").mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "Lead_Id": ["P1", "P2"],
                "created_at": ["2025-01-01 00:00:00", None],
                "channel": ["paid_search"] * 2,
            }
        ),
        settings.landing_dir / "leads" / "a.parquet",
    )
    lines = [
        json.dumps(
            {"lead_id": "J1", "created_at": "2025-01-01T00:00:00Z", "channel": "paid_search"}
        ),
        "{not json",
        json.dumps({"LEAD_ID": "J2", "created_at": "2025-01-01", "channel": "paid_search"}),
    ]
    (settings.landing_dir / "leads" / "b.jsonl").write_text("\n".join(lines) + "\n")
    with gzip.open(settings.landing_dir / "leads" / "c.csv.gz", "wt") as fh:
        fh.write("lead_id,created_at,channel\nG1,2025-01-01,paid_search\nG2,2025-01-01,unknown\n")
    report = ingest_feed(con, settings, "leads", "r1", log=lambda m: None)
    got = {f.path: (f.rows_in, f.rows_loaded, f.rows_quarantined) for f in report.files}
    # parquet: P2 misses created_at; jsonl: line 2 is not JSON; gzip: G2 has an unknown channel.
    assert got == {
        "leads/a.parquet": (2, 1, 1),
        "leads/b.jsonl": (3, 2, 1),
        "leads/c.csv.gz": (2, 1, 1),
    }
    rules = con.execute("select path, line, rule from meta.quarantine order by path").fetchall()
    assert rules == [
        ("leads/a.parquet", 2, "missing_required"),
        ("leads/b.jsonl", 2, "malformed_line"),
        ("leads/c.csv.gz", 3, "unknown_code"),
    ]


def test_unsafe_paths_are_refused_and_names_never_reach_sql(env, tmp_path):
    settings, con = env
    outside = tmp_path / "secret.csv"
    outside.write_text("lead_id,created_at,channel\nX,2025-01-01,paid_search\n")
    (settings.landing_dir / "leads").mkdir(parents=True)
    (settings.landing_dir / "leads" / "link.csv").symlink_to(outside)
    (settings.landing_dir / "leads" / "notes.txt").write_text("hello")
    evil = "x'); drop table raw.leads; --.csv"
    write(settings, f"leads/{evil}", "lead_id,created_at,channel\nE1,2025-01-01,paid_search\n")
    files, refused = discover(settings.landing_dir, "leads")
    assert [p.name for p in files] == [evil]
    assert any("link.csv" in r and "outside" in r for r in refused)
    assert any("notes.txt" in r for r in refused)
    ingest_feed(con, settings, "leads", "r1", log=lambda m: None)
    assert con.execute("select lead_id from raw.leads").fetchall() == [("E1",)]


def test_match_columns_and_count_lines(tmp_path):
    positions, missing, extra = match_columns(FEEDS["leads"], ["Channel", "LEAD_ID", "foo"])
    assert positions == {"channel": 0, "lead_id": 1}
    assert missing == ["created_at"]
    assert extra == ["foo"]
    p = tmp_path / "x.csv"
    p.write_bytes(b"a\n1\n2")  # last line without newline still counts
    assert count_lines(p, "csv", gzip_max_ratio=100) == 3


TZ_SCRIPT = """
import dataclasses, duckdb, sys
from pathlib import Path
from orchestration.lib.ingest import ingest_feed
from orchestration.lib.settings import load_settings
from orchestration.lib.warehouse import bootstrap, configure
from tests.unit.conftest import write
s = dataclasses.replace(load_settings(), landing_dir=Path(sys.argv[1]), seeds_dir=Path(sys.argv[2]))
con = duckdb.connect(); configure(con, s); bootstrap(con)
ingest_feed(con, s, "leads", "r", log=lambda m: None)
for row in con.execute("select lead_id, strftime(created_at, '%Y-%m-%d %H:%M:%S') from raw.leads order by 1").fetchall():
    print(*row)
"""


@pytest.mark.parametrize(
    "warehouse_tz,expected",
    [
        # +03:00 10:00 is 07:00 UTC; naive values are read as warehouse time; Z is UTC.
        ("UTC", ["A 2025-03-01 07:00:00", "B 2025-03-01 10:00:00", "C 2025-03-01 10:00:00"]),
        # In Moscow (UTC+3): A stays 10:00, B is as written, C 10:00Z is 13:00 local.
        (
            "Europe/Moscow",
            ["A 2025-03-01 10:00:00", "B 2025-03-01 10:00:00", "C 2025-03-01 13:00:00"],
        ),
    ],
)
def test_timestamps_do_not_depend_on_host_time_zone(tmp_path, warehouse_tz, expected):
    landing = tmp_path / "landing" / "leads"
    landing.mkdir(parents=True)
    (landing / "l.csv").write_text(
        "lead_id,created_at,channel\nA,2025-03-01T10:00:00+03:00,paid_search\n"
        "B,2025-03-01 10:00:00,paid_search\nC,2025-03-01T10:00:00Z,paid_search\n"
    )
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "channels.csv").write_text(
        "channel,name,channel_group,is_paid\npaid_search,PS,paid,true\n"
    )
    outputs = []
    for host_tz in ("America/New_York", "Asia/Tokyo"):
        env = {**os.environ, "TZ": host_tz, "FLYWHEEL_TIMEZONE": warehouse_tz}
        out = subprocess.run(
            [sys.executable, "-c", TZ_SCRIPT, str(tmp_path / "landing"), str(seeds)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
        outputs.append([line for line in out if line])
    assert outputs[0] == outputs[1] == expected


def test_quoted_line_break_is_one_record_but_a_broken_quote_is_not(env):
    settings, con = env
    write(
        settings,
        "leads/q.csv",
        """
        lead_id,created_at,channel,campaign
        L1,2025-01-01,paid_search,"two
        lines, ""quoted"" inside"
        L2,"2025-01-01,paid_search,x
        L3,2025-01-01,paid_search,y
    """,
    )
    report = ingest_feed(con, settings, "leads", "r1", log=lambda m: None)
    # L1 spans lines 2-3 and loads with its line break; L2 (line 4) has a quote that
    # never closes before L3, a complete record on its own: only line 4 is malformed.
    assert quarantine(con) == {4: "malformed_line"}
    assert con.execute("select lead_id, campaign from raw.leads order by 1").fetchall() == [
        ("L1", 'two\nlines, "quoted" inside'),
        ("L3", "y"),
    ]
    f = report.files[0]
    assert (f.physical_lines, f.rows_in, f.rows_loaded, f.rows_quarantined) == (5, 3, 2, 1)
