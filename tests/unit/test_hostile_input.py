"""Hostile input: each file is rejected or quarantined, nothing is lost and nothing is executed.

Every case states how many rows must load and how many must be quarantined,
counted by hand from the file as written here. The module prints the tally when it ends.
"""

import gzip
import os

import pytest

from orchestration.lib.ingest import discover, ingest_feed
from tests.unit.conftest import write

LEADS = "lead_id,created_at,channel"
TRIED: list[str] = []


def ingest(settings, con, feed="leads"):
    report = ingest_feed(con, settings, feed, "r", log=lambda m: None)
    TRIED.extend(f.path for f in report.files)
    return report


def tables_intact(con) -> bool:
    names = {
        r[0]
        for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
    }
    return {"raw.leads", "raw.orders", "meta.files", "meta.quarantine"} <= names


INJECTIONS = [
    "'; drop table raw.leads; --",
    'x"); delete from meta.files; --',
    "1 or 1=1",
    "$(rm -rf /)",
    "{{ env_var('FLYWHEEL_PII_KEY') }}",
]


def test_sql_injection_in_values_is_stored_as_text(env):
    settings, con = env
    rows = "\n".join(
        f'L{i},2025-01-01,paid_search,"{v.replace(chr(34), chr(34) * 2)}"'
        for i, v in enumerate(INJECTIONS)
    )
    write(settings, "leads/inj.csv", f"{LEADS},campaign\n{rows}\n")
    report = ingest(settings, con)
    assert report.files[0].rows_loaded == len(INJECTIONS)
    assert tables_intact(con)
    assert sorted(r[0] for r in con.execute("select campaign from raw.leads").fetchall()) == sorted(
        INJECTIONS
    )


@pytest.mark.parametrize(
    "name", ["'; drop table raw.leads; --.csv", 'a"b.csv', "$(touch pwned).csv", "x%27.csv"]
)
def test_sql_injection_in_file_names(env, name):
    settings, con = env
    write(settings, f"leads/{name}", f"{LEADS}\nL1,2025-01-01,paid_search\n")
    report = ingest(settings, con)
    assert report.files[0].rows_loaded == 1
    assert tables_intact(con)
    assert con.execute("select path from meta.files").fetchone()[0] == f"leads/{name}"
    assert not os.path.exists("pwned")


def test_symlinked_feed_folder_and_file_out_of_landing(env, tmp_path):
    settings, con = env
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.csv").write_text(f"{LEADS}\nL1,2025-01-01,paid_search\n")
    settings.landing_dir.mkdir(parents=True)
    (settings.landing_dir / "leads").symlink_to(outside)
    files, refused = discover(settings.landing_dir, "leads")
    assert files == [] and "symlink" in refused[0]
    (settings.landing_dir / "orders").mkdir()
    (settings.landing_dir / "orders" / "passwd.csv").symlink_to("/etc/passwd")
    files, refused = discover(settings.landing_dir, "orders")
    assert files == [] and "outside the landing folder" in refused[0]
    TRIED.extend(["leads -> outside", "orders/passwd.csv -> /etc/passwd"])


def test_huge_field_is_quarantined_not_loaded(env):
    settings, con = env
    big = "x" * (12 * 1024 * 1024)  # above the 10 MB line limit
    write(
        settings,
        "leads/huge.csv",
        f"{LEADS},campaign\nL1,2025-01-01,paid_search,{big}\nL2,2025-01-01,paid_search,ok\n",
    )
    f = ingest(settings, con).files[0]
    # 2 records: L2 loads, the huge line is quarantined.
    assert (f.rows_in, f.rows_loaded, f.rows_quarantined) == (2, 1, 1)
    assert con.execute(
        "select rule, length(raw_values) < 5000 from meta.quarantine"
    ).fetchall() == [("malformed_line", True)]


def test_invalid_utf8_and_bom(env):
    settings, con = env
    path = settings.landing_dir / "leads" / "enc.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        b"\xef\xbb\xbf"
        + f"{LEADS}\nL1,2025-01-01,paid_search\nL2\xff\xfe,2025-01-01,paid_search\nL3,2025-01-01,paid_search\n".encode(
            "latin-1"
        )
    )
    f = ingest(settings, con).files[0]
    # 3 records; line 3 is not UTF-8.
    assert (f.rows_in, f.rows_loaded, f.rows_quarantined) == (3, 2, 1)
    assert con.execute("select line, rule from meta.quarantine").fetchall() == [
        (3, "malformed_line")
    ]


def test_wrong_delimiter_rejects_the_file_naming_the_columns(env):
    settings, con = env
    write(settings, "leads/semi.csv", "lead_id;created_at;channel\nL1;2025-01-01;paid_search\n")
    f = ingest(settings, con).files[0]
    assert f.outcome == "rejected"
    assert "created_at" in f.reason and "leads/semi.csv" in f.reason


@pytest.mark.parametrize(
    "header,row,expect",
    [
        # renamed required column: the file is rejected
        ("lead_id,created,channel", "L1,2025-01-01,paid_search", ("rejected", 0, 0)),
        # missing optional columns are fine
        ("lead_id,created_at,channel", "L1,2025-01-01,paid_search", ("loaded", 1, 0)),
        # an extra column is reported, the row loads
        ("lead_id,created_at,channel,score", "L1,2025-01-01,paid_search,7", ("loaded", 1, 0)),
        # re-typed: created_at now holds epoch seconds -> wrong_type
        ("lead_id,created_at,channel", "L1,1735689600,paid_search", ("loaded", 0, 1)),
    ],
)
def test_schema_drift(env, header, row, expect):
    settings, con = env
    write(settings, "leads/drift.csv", f"{header}\n{row}\n")
    f = ingest(settings, con).files[0]
    assert (f.outcome, f.rows_loaded, f.rows_quarantined) == expect


def test_empty_and_header_only_files(env):
    settings, con = env
    write(settings, "leads/a_empty.csv", "")
    write(settings, "leads/b_header.csv", f"{LEADS}\n")
    report = ingest(settings, con)
    got = {f.path: (f.outcome, f.rows_in) for f in report.files}
    assert got == {"leads/a_empty.csv": ("rejected", 0), "leads/b_header.csv": ("loaded", 0)}


def test_gzip_bomb_is_refused(env):
    settings, con = env
    path = settings.landing_dir / "leads" / "bomb.csv.gz"
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(f"{LEADS}\n".encode())
        zeros = b"0" * (1 << 20)
        for _ in range(200):  # 200 MB of one character: ~1000x ratio
            fh.write(zeros)
    f = ingest(settings, con).files[0]
    assert f.outcome == "rejected" and "zip bomb" in f.reason
    assert con.execute("select count(*) from raw.leads").fetchone()[0] == 0


def test_corrupt_gzip_and_parquet_are_rejected_not_fatal(env):
    settings, con = env
    (settings.landing_dir / "leads").mkdir(parents=True)
    (settings.landing_dir / "leads" / "a.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (settings.landing_dir / "leads" / "b.parquet").write_bytes(b"PAR1 not really")
    write(settings, "leads/c.csv", f"{LEADS}\nL1,2025-01-01,paid_search\n")
    report = ingest(settings, con)
    assert [f.outcome for f in report.files] == ["rejected", "rejected", "loaded"]


def test_far_timestamps_and_duplicate_keys_in_one_file(env):
    settings, con = env
    write(
        settings,
        "leads/t.csv",
        f"""{LEADS}
L1,1899-12-31,paid_search
L2,2525-01-01,paid_search
L3,2025-01-01,paid_search
L3,2025-01-02,paid_search
""",
    )
    f = ingest(settings, con).files[0]
    assert dict(con.execute("select line, rule from meta.quarantine").fetchall()) == {
        2: "out_of_range",
        3: "out_of_range",
        5: "duplicate_key_in_file",
    }
    assert (f.rows_loaded, f.rows_quarantined) == (1, 3)


@pytest.fixture(scope="module", autouse=True)
def tally():
    """Prints how many hostile files the tests of this module tried (any subset may run)."""
    yield
    print(f"\nhostile files tried: {len(TRIED)}")
