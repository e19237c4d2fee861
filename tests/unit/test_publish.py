"""Write-audit-publish on a small hand-built warehouse: the swap, the audit, the BI session.

Every expected number is counted by hand from the rows inserted here.
"""

import os
import re
import stat
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.publish import CONTRACT_TABLES, AuditError, connect_bi, publish
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import bootstrap, connect, lowered_memory_limit

ROOT = Path(__file__).resolve().parents[2]
HASH = "ab" * 32  # a 64-hex "hash"


def _build(con, email: str | None = None, tree_rows: bool = True) -> None:
    """Marts with every contract table; 3 tree rows, 4 metric values, 2 orders."""
    con.execute("create schema if not exists marts")
    for t in CONTRACT_TABLES:
        con.execute(f"create or replace table marts.{t} (id integer, note varchar)")
    con.execute(
        "create or replace table marts.metric_tree (metric varchar, parent varchar, description varchar)"
    )
    if tree_rows:
        con.execute(
            "insert into marts.metric_tree values ('revenue', null, 'top'), ('aov', 'revenue', 'x'),"
            " ('orders', 'revenue', 'y')"
        )
    con.execute(
        "create or replace table marts.metric_values (metric varchar, grain varchar, period_start date,"
        " dimension varchar, dimension_value varchar, value double)"
    )
    con.execute(
        "insert into marts.metric_values values"
        " ('revenue', 'month', '2026-01-01', 'all', 'all', 10.5), ('revenue', 'month', '2026-02-01', 'all', 'all', 11),"
        " ('aov', 'month', '2026-01-01', 'all', 'all', 2), ('orders', 'day', '2026-01-02', 'channel', 'paid_search', 3)"
    )
    con.execute(
        "create or replace table marts.metric_drivers (parent_metric varchar, child_metric varchar, share double)"
    )
    con.execute(
        "insert into marts.metric_drivers values ('revenue', 'aov', 0.5), ('revenue', 'orders', 0.5)"
    )
    con.execute("insert into marts.dim_channels values (1, 'paid_search')")
    con.execute("insert into marts.dim_stores values (1, 'S01'), (2, 'S02')")
    con.execute("insert into marts.metricflow_time_spine values (1, '2026-01-01')")
    con.execute(
        "create or replace table marts.fct_orders (order_id varchar, customer_id varchar, email_hash varchar)"
    )
    con.execute("insert into marts.fct_orders values ('O1', 'C1', ?), ('O2', 'C2', null)", [HASH])
    if email:
        con.execute("insert into marts.fct_orders values ('O3', ?, null)", [email])


@pytest.fixture
def wh(tmp_path):
    settings = Settings(landing_dir=tmp_path / "landing", data_dir=tmp_path / "data")
    con = connect(settings)
    bootstrap(con)
    con.execute(
        "insert into meta.files (file_id, feed, path, content_sha256, size_bytes, format, outcome, registered_at)"
        " values (1, 'orders', 'orders/a.csv', 'x', 1, 'csv', 'loaded', '2026-01-03 10:00:00'),"
        " (2, 'orders', 'orders/b.csv', 'y', 1, 'csv', 'rejected', '2026-01-04 10:00:00')"
    )
    con.execute(
        "insert into raw.orders (order_id, customer_id, ordered_at, status, sales_channel, _file_id, _ingested_at)"
        " values ('O1', 'C1', '2026-01-02 09:00:00', 'paid', 'web', 1, now()::timestamp),"
        " ('O2', 'C2', '2026-01-03 08:30:00', 'paid', 'web', 1, now()::timestamp)"
    )
    con.execute(
        "insert into meta.quarantine (feed, file_id, path, line, rule, raw_values, quarantined_at)"
        " values ('orders', 1, 'orders/a.csv', 4, 'wrong_type', '{\"email\": \"secret@shop.test\"}', now()::timestamp)"
    )
    _build(con)
    yield settings, con
    con.close()


def _open(path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def test_publish_swaps_in_an_audited_snapshot(wh):
    settings, con = wh
    result = publish(con, settings, "run-1")
    pub = _open(settings.published_path)
    assert pub.execute("select count(*) from marts.metric_values").fetchone()[0] == 4
    assert pub.execute("select count(*) from marts.metric_tree").fetchone()[0] == 3
    assert pub.execute("select count(*) from marts.fct_orders").fetchone()[0] == 2
    # publish_info: one row per feed (7 feeds in the contract), all naming this run.
    info = {
        r[0]: r[1:]
        for r in pub.execute(
            "select feed, run_id, data_newest_at, last_file_registered_at, files_loaded, raw_rows from marts.publish_info"
        ).fetchall()
    }
    assert len(info) == 7
    run, newest, last_file, files_loaded, raw_rows = info["orders"]
    assert run == "run-1"
    assert str(newest) == "2026-01-03 08:30:00"  # the later of the two ordered_at values
    assert str(last_file) == "2026-01-04 10:00:00"
    assert (files_loaded, raw_rows) == (1, 2)  # a.csv loaded, b.csv rejected; O1 and O2
    assert info["leads"][3:] == (0, 0)
    # nothing restricted in the published file
    names = {
        r[0] for r in pub.execute("select table_name from information_schema.tables").fetchall()
    }
    assert "quarantine" not in names and "files" not in names
    pub.close()
    # the audit scanned the text columns and found no PII
    assert result.audit.pii_values_found == 0 and result.audit.varchar_columns_scanned > 0
    # Parquet: same rows, behind the symlink
    assert result.parquet_dir.is_symlink()
    n = (
        duckdb.connect()
        .execute(
            "select count(*) from read_parquet(?)",
            [str(result.parquet_dir / "metric_values.parquet")],
        )
        .fetchone()[0]
    )
    assert n == 4
    # restricted: owner-only, holds the quarantine
    r = settings.restricted_path
    assert (
        stat.S_IMODE(r.stat().st_mode) == 0o600 and stat.S_IMODE(r.parent.stat().st_mode) == 0o700
    )
    rc = _open(r)
    assert rc.execute("select count(*) from restricted.restricted.quarantine").fetchone()[0] == 1
    rc.close()
    assert stat.S_IMODE(settings.published_path.stat().st_mode) == 0o644


def test_failed_audit_keeps_the_old_snapshot(wh):
    settings, con = wh
    publish(con, settings, "run-good")
    before = settings.published_path.read_bytes()
    link_before = os.readlink(settings.published_path.parent / "parquet")

    _build(con, email="anna.k@example.com")  # a clear email slipped into a mart
    with pytest.raises(AuditError, match=r"fct_orders\.customer_id: 1 distinct value"):
        publish(con, settings, "run-pii")
    _build(con, tree_rows=False)  # an empty metric tree, and drivers pointing nowhere
    with pytest.raises(AuditError) as err:
        publish(con, settings, "run-empty")
    assert "metric_tree is empty" in str(err.value)
    assert "metric_drivers: child metric not in the tree (2)" in str(err.value)

    assert settings.published_path.read_bytes() == before
    assert os.readlink(settings.published_path.parent / "parquet") == link_before
    pub = _open(settings.published_path)
    assert pub.execute("select distinct run_id from marts.publish_info").fetchall() == [
        ("run-good",)
    ]
    pub.close()
    # no temp file of the refused runs stays behind
    assert [p.name for p in settings.published_path.parent.glob(".flywheel.duckdb.*")] == []


def test_phone_shaped_text_fails_the_audit_but_ids_do_not(wh):
    settings, con = wh
    # ids, dates and digit runs are not phones; '+7 (912) 555-01-02' is
    con.execute(
        "insert into marts.dim_stores values (3, '2026-01-02 10:11:12'), (4, '12345678901'), (5, 'S-0001')"
    )
    publish(con, settings, "run-ok")
    con.execute("insert into marts.dim_stores values (6, '+7 (912) 555-01-02'), (7, 'bad hash')")
    con.execute("update marts.fct_orders set email_hash = 'not-a-hash' where order_id = 'O2'")
    with pytest.raises(AuditError) as err:
        publish(con, settings, "run-phone")
    assert "dim_stores.note: 1 distinct value" in str(err.value)
    assert "fct_orders.email_hash: 1 distinct value" in str(err.value)


def test_missing_contract_table_is_refused(wh):
    settings, con = wh
    con.execute("drop table marts.store_rating")
    with pytest.raises(Exception, match="store_rating"):
        publish(con, settings, "run-x")
    assert not settings.published_path.exists()


def test_leftovers_of_a_killed_publish_are_removed(wh):
    settings, con = wh
    publish(con, settings, "run-1")
    folder = settings.published_path.parent
    junk = [
        folder / ".flywheel.duckdb.dead-run.tmp",
        folder / ".flywheel.duckdb.dead-run.tmp.wal",
        settings.restricted_path.parent / ".restricted.duckdb.tmp",
    ]
    for p in junk:
        p.write_bytes(b"half written")
    (folder / ".parquet.link.dead-run").symlink_to("nowhere")
    (folder / ".parquet.19990101T000000000000.dead-run").mkdir()
    result = publish(con, settings, "run-2")
    assert {p.name for p in junk} | {
        ".parquet.link.dead-run",
        ".parquet.19990101T000000000000.dead-run",
    } <= set(result.cleaned)
    leftovers = sorted(p.name for p in folder.iterdir())
    # the file, the symlink, the current and the previous Parquet folder
    assert len(leftovers) == 4 and "flywheel.duckdb" in leftovers and "parquet" in leftovers


def test_reader_of_the_old_file_keeps_its_view(wh):
    settings, con = wh
    publish(con, settings, "run-1")
    old = connect_bi(settings.published_path)
    con.execute(
        "insert into marts.metric_values values ('revenue', 'month', '2026-03-01', 'all', 'all', 12)"
    )
    publish(con, settings, "run-2")
    assert old.execute("select count(*) from marts.metric_values").fetchone()[0] == 4
    assert old.execute("select any_value(run_id) from marts.publish_info").fetchone()[0] == "run-1"
    new = connect_bi(settings.published_path)
    assert new.execute("select count(*) from marts.metric_values").fetchone()[0] == 5
    old.close()
    new.close()


def _doc_snippet(lang: str) -> str:
    text = (ROOT / "docs" / "bi.md").read_text()
    return re.search(rf"```{lang}\n(.*?)```", text, re.S).group(1)


def test_docs_python_snippet_is_read_only_and_locked(wh, tmp_path):
    settings, con = wh
    publish(con, settings, "run-1")
    secret = tmp_path / "outside.csv"
    secret.write_text("a,b\n1,2\n")
    code = _doc_snippet("python").replace(
        '"data/published/flywheel.duckdb"', repr(str(settings.published_path))
    )
    scope: dict = {}
    exec(compile(code, "docs/bi.md", "exec"), scope)  # the documented snippet itself
    bi = scope["con"]
    assert scope["revenue"] == [
        (__import__("datetime").date(2026, 1, 1), 10.5),
        (__import__("datetime").date(2026, 2, 1), 11.0),
    ]
    attempts = [
        f"select * from read_csv('{secret}')",
        f"copy (select 1) to '{tmp_path / 'out.csv'}'",
        f"attach '{tmp_path / 'other.duckdb'}' as other",
        "set enable_external_access = true",
        "set lock_configuration = false",
        "create table marts.x (a int)",
    ]
    refused = 0
    for sql in attempts:
        with pytest.raises(duckdb.Error):
            bi.execute(sql)
        refused += 1
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "other.duckdb").exists()
    bi.close()
    print(f"\nBI session: {refused} of {len(attempts)} escape attempts refused")


def test_docs_cli_snippet_settings_match(wh):
    # The CLI line and the Python snippet set the same two things.
    cli = _doc_snippet("sh")
    assert (
        "-readonly" in cli
        and "enable_external_access = false" in cli
        and "lock_configuration = true" in cli
    )


def test_audit_runs_under_the_run_memory_limit(tmp_path, monkeypatch):
    """The audit opens the new file in a DuckDB instance of its own: it gets the run's
    memory limit and a spill folder of its own, removed after the audit. Meanwhile the
    warehouse instance is held to IDLE_MEMORY_MB, and gets its limit back afterwards."""
    from orchestration.lib import publish as publish_module

    spill = tmp_path / "spill"
    settings = Settings(
        landing_dir=tmp_path / "landing",
        data_dir=tmp_path / "data",
        memory_limit="300MB",
        temp_dir=str(spill),
    )
    con = connect(settings)
    bootstrap(con)
    _build(con)
    seen = []
    real = publish_module.connect_bi

    def spy(path, config=None):
        c = real(path, config)
        seen.append(
            c.execute(
                "select current_setting('memory_limit'), current_setting('temp_directory')"
            ).fetchone()
            + con.execute("select current_setting('memory_limit')").fetchone()
        )
        return c

    monkeypatch.setattr(publish_module, "connect_bi", spy)
    publish(con, settings, "run-1")
    after = con.execute("select current_setting('memory_limit')").fetchone()[0]
    con.close()
    # 300 MB = 300,000,000 bytes = 286.1 MiB, as DuckDB shows it;
    # 64 MB = 64,000,000 bytes = 61.0 MiB
    assert seen == [("286.1 MiB", str(spill / "publish_audit.run-1.tmp"), "61.0 MiB")]
    assert after == "286.1 MiB"
    assert not (spill / "publish_audit.run-1.tmp").exists()


def _pool_mb(con) -> float:
    return con.execute("select sum(memory_usage_bytes) / 1e6 from duckdb_memory()").fetchone()[0]


def test_lowered_memory_limit_evicts_the_pool_and_restores_the_limit(tmp_path):
    """A persistent table's blocks stay cached after a scan; lowering the limit drops them.

    10 M hashes of 8 bytes = 80 MB of column data that does not compress, cached by
    the scan (the limit of 1 GB leaves them in memory). Under a 64 MB limit at most
    64 MB may stay in the pool.
    """
    con = duckdb.connect(str(tmp_path / "w.duckdb"), config={"memory_limit": "1GB"})
    con.execute("create table t as select hash(range) as h from range(10000000)")
    con.execute("checkpoint")
    con.execute("select max(h) from t").fetchone()
    assert _pool_mb(con) > 64
    with lowered_memory_limit(con, 64, restore="1GB"):
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "61.0 MiB"
        assert _pool_mb(con) <= 64
    # 1 GB = 1,000,000,000 bytes = 953.6 MiB
    assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"
    # Never raised: a block asking for more than the limit runs under the limit.
    with lowered_memory_limit(con, 4000, restore="1GB"):
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"


def test_lowered_memory_limit_keeps_the_limit_when_nothing_can_be_freed():
    """In-memory data without a spill folder cannot be evicted: the limit stays, and says so."""
    con = duckdb.connect(":memory:", config={"memory_limit": "1GB", "temp_directory": ""})
    con.execute("create table t as select range::bigint as i from range(20000000)")  # 160 MB
    said = []
    with lowered_memory_limit(con, 16, log=said.append):
        assert con.execute("select count(*) from t").fetchone()[0] == 20_000_000
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"
    assert len(said) == 1 and "could not lower it to 16MB" in said[0]
