"""Publishing for BI: write, audit, then swap in a read-only DuckDB file and Parquet folder.

BI never opens the working warehouse (a reader would block the pipeline's
writer). Each publish is write-audit-publish:

1. write: a complete new DuckDB file beside the old one (`.flywheel.duckdb.<run>.tmp`),
   a new Parquet folder (`.parquet.<time>.<run>`) and a new restricted file;
2. audit: the new file is opened read-only, like BI would, and checked: every
   contract table present, row counts and row checksums equal to the
   warehouse's marts, the tree invariants the dbt tests guard, and no clear
   PII (email- or phone-shaped text) in any VARCHAR column. A failed audit
   raises AuditError before anything is swapped: BI keeps the last good snapshot;
3. publish: os.replace() of the DuckDB file, then of the Parquet symlink, then of
   the restricted file. A reader that opened the old file keeps its consistent
   view, a new reader sees the new one, and a crash at any point leaves the
   old or the new file in place, never a missing or half-written one.

Temp files left by a killed publish are removed by the next one
(cleanup_stale, under the writer lock that serialises publishes). The crash test
kills a run at each step boundary below (KILL_POINTS) to prove it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib import contact_data
from orchestration.lib.feeds import FEEDS
from orchestration.lib.ingest import ORPHAN_SQL
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import lowered_memory_limit

# The output contract (docs/metrics.md, "What BI tools read"). Publish refuses
# to swap in a snapshot that misses one of them.
CONTRACT_TABLES = (
    "metric_values",
    "metric_tree",
    "metric_drivers",
    "metric_contributions",
    "metric_change_explanations",
    "channel_economics",
    "cohort_retention",
    "store_rating",
    "fct_orders",
    "fct_order_items",
    "fct_leads",
    "fct_survey_answers",
    "fct_marketing_spend",
    "dim_customers",
    "dim_channels",
    "dim_stores",
    "metricflow_time_spine",  # the semantic layer's (docs/bi.md)
)
# Written by publish itself (not dbt): when, which run, each feed's state, the gate's
# verdicts and the quarantine counts (docs/bi.md, "Data status").
PUBLISH_STATUS_TABLES = ("publish_info", "publish_checks", "publish_quarantine")
# Tables that are never legitimately empty (seeds, or the heart of the contract):
# an empty one means a broken build, and publishing it would blank every dashboard.
NON_EMPTY_TABLES = (
    "metric_values", "metric_tree", "dim_channels", "dim_stores", "metricflow_time_spine",
)  # fmt: skip
# The restricted file: PII allowed, never published, owner-only permissions.
RESTRICTED_TABLES = {"quarantine": "meta.quarantine", "files": "meta.files"}
# Older DuckDB readers (BI drivers lag behind) can open files written with this.
STORAGE_VERSION = "v1.2.0"
# The warehouse instance's memory limit while another instance (the audit) works.
IDLE_MEMORY_MB = 64
# Session settings for every BI connection (docs/bi.md): no files outside the
# snapshot, no COPY TO, no extensions, and the settings cannot be undone.
BI_SESSION_SQL = ("SET enable_external_access = false", "SET lock_configuration = true")

# Clear PII, as the audit recognises it: contact data anywhere inside a text value,
# by the one detector (orchestration.lib.contact_data); *_hash columns hold hashes.
HASH_RE = r"[0-9a-f]{64}"


class PublishError(Exception):
    pass


class AuditError(PublishError):
    """The new snapshot failed its audit; nothing was swapped."""


@dataclass
class AuditReport:
    tables: dict[str, int]
    varchar_columns_scanned: int = 0
    pii_values_found: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class PublishResult:
    path: Path
    parquet_dir: Path
    tables: dict[str, int]
    audit: AuditReport | None = None
    restricted_path: Path | None = None
    cleaned: list[str] = field(default_factory=list)


# --- helpers -------------------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _marts_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables"
        " where table_schema = 'marts' and table_catalog = current_database() order by 1"
    ).fetchall()
    return [r[0] for r in rows]


def _attach_new(con: duckdb.DuckDBPyConnection, path: Path, alias: str) -> None:
    path.unlink(missing_ok=True)
    Path(str(path) + ".wal").unlink(missing_ok=True)
    con.execute(f"attach $p as {alias} (storage_version '{STORAGE_VERSION}')", {"p": str(path)})


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (a kill -9 does not need it; a power cut does)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def table_fingerprint(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, int]:
    """(row count, order-independent checksum of the rows) of a table."""
    n, s = con.execute(f"select count(*), coalesce(sum(hash(t)), 0) from {relation} t").fetchone()
    return int(n), int(s)


def connect_bi(
    path: Path | str, config: dict[str, str] | None = None, alias: str = "flywheel"
) -> duckdb.DuckDBPyConnection:
    """Open a snapshot the way BI must (docs/bi.md): read-only, external access off, locked.

    The file is ATTACHed to a fresh in-memory database rather than opened with
    duckdb.connect(path): within one process DuckDB reuses the database instance
    of a path that is still open, so connect(path) would hand out the *old*
    snapshot for as long as any old connection lives. ATTACH reads the current file.
    `config` (memory_limit, temp_directory, threads) bounds the new instance; `alias`
    names the attached database (the semantic layer's SQL names it "warehouse").
    """
    con = duckdb.connect(":memory:", config=config or {})
    try:
        con.execute(f"attach $p as {_q(alias)} (read_only)", {"p": str(path)})
        con.execute(f"use {_q(alias)}")
        for sql in BI_SESSION_SQL:
            con.execute(sql)
    except Exception:
        con.close()
        raise
    return con


def _publish_info_sql(has_gate_results: bool) -> str:
    """Build time, run id and, per feed: delivered or not, its data as of when, whether
    the gate found it stale (the freshness rule's message of its latest run), and its
    loaded rows that refer to a missing row (ingest.ORPHAN_SQL: order items of unknown
    orders), which are not in the marts, and its rows held in quarantine (counts only:
    the rows themselves stay in the restricted file)."""
    newest = " union all ".join(
        f"select '{feed}' as feed, "
        + (
            # rows dated in the future (a wrong clock at the source) say nothing about freshness
            f"max({col}) filter (where {col} <= $built::timestamp + interval 14 hours)::timestamp"
            if (col := FEEDS[feed].timestamp_column)
            else "null::timestamp"
        )
        + f" as data_newest_at, count(*) as raw_rows from raw.{feed}"
        for feed in FEEDS
    )
    stale = (
        """
        select feed, string_agg(message, '; ' order by message) as stale_message
        from quality.gate_results g
        where rule = 'freshness' and not passed and run_id = (
            select max_by(run_id, checked_at) from quality.gate_results r where r.feed = g.feed)
        group by feed
        """
        if has_gate_results
        else "select null::varchar as feed, null::varchar as stale_message where false"
    )
    orphans = " union all ".join(
        f"select '{feed}' as feed, ({sql}) as orphan_rows" for feed, sql in ORPHAN_SQL.items()
    )
    return (
        "create or replace temp table publish_info as"
        " select $built as built_at, $run as run_id, n.feed,"
        " case when n.raw_rows > 0 then 'delivered' else 'not delivered' end as delivery,"
        " n.data_newest_at, cast(n.data_newest_at as date) as data_as_of,"
        " s.stale_message is not null as is_stale, s.stale_message,"
        f" coalesce(o.orphan_rows, 0) as orphan_rows,"
        " f.last_file_registered_at, coalesce(f.files_loaded, 0) as files_loaded, n.raw_rows,"
        " coalesce(q.quarantined_rows, 0) as quarantined_rows"
        f" from ({newest}) n left join ("
        "   select feed, max(registered_at) as last_file_registered_at,"
        "   count(*) filter (where outcome = 'loaded') as files_loaded from meta.files group by feed"
        f" ) f using (feed) left join ({stale}) s using (feed)"
        f" left join ({orphans}) o using (feed)"
        " left join (select feed, count(*) as quarantined_rows from meta.quarantine group by feed) q"
        " using (feed) order by n.feed"
    )


def _publish_checks_sql(has_gate_results: bool) -> list[str]:
    """The data-status tables beside publish_info (docs/bi.md), counts and verdicts only:
    publish_checks, each feed's latest gate run per checkpoint, rule and severity (checks,
    failed, one failed check's message, the first in sort order); publish_quarantine, rows held per feed and
    rule (the rows themselves stay in the restricted file)."""
    checks = (
        """
        create or replace temp table publish_checks as
        select g.run_id, g.feed, g.checkpoint, g.rule, g.severity,
            count(*) as checks,
            count(*) filter (where not g.passed) as failed,
            sum(g.rows)::bigint as rows_checked,
            min(g.message) filter (where not g.passed) as first_failed_message,
            max(g.checked_at) as checked_at
        from quality.gate_results g
        where g.run_id = (
            select max_by(r.run_id, r.checked_at) from quality.gate_results r where r.feed = g.feed)
        group by all
        order by g.feed, g.checkpoint, g.rule, g.severity
        """
        if has_gate_results
        else """
        create or replace temp table publish_checks as
        select null::varchar as run_id, null::varchar as feed, null::varchar as checkpoint,
            null::varchar as rule, null::varchar as severity, 0::bigint as checks,
            0::bigint as failed, 0::bigint as rows_checked,
            null::varchar as first_failed_message, null::timestamp as checked_at
        where false
        """
    )
    quarantine = """
        create or replace temp table publish_quarantine as
        select feed, rule, count(*) as quarantined_rows, count(distinct file_id) as files
        from meta.quarantine
        group by all
        order by feed, rule
    """
    return [checks, quarantine]


# --- stale temp files ------------------------------------------------------------


def cleanup_stale(settings: Settings) -> list[str]:
    """Remove what a killed publish left behind. Call only under the writer lock.

    Temp DuckDB files (and their WAL), half-made Parquet symlinks, Parquet
    folders that no symlink points to and that are not the newest previous
    version, and the restricted temp file. The published file itself is never
    touched: it is always a complete snapshot.
    """
    removed: list[str] = []
    pub = settings.published_path.parent
    if pub.exists():
        for p in pub.glob(f".{settings.published_path.name}.*.tmp*"):
            p.unlink(missing_ok=True)
            removed.append(p.name)
        for p in pub.glob(".parquet.link.*"):
            p.unlink(missing_ok=True)
            removed.append(p.name)
        stray_wal = Path(str(settings.published_path) + ".wal")
        if stray_wal.exists():  # the published file is always checkpointed: a WAL beside it is junk
            stray_wal.unlink()
            removed.append(stray_wal.name)
    rst = settings.restricted_path
    if rst.parent.exists():
        for p in rst.parent.glob(f".{rst.name}.tmp*"):
            p.unlink(missing_ok=True)
            removed.append(p.name)
    return removed


def _current_parquet_version(root: Path) -> str | None:
    if root.is_symlink():
        return os.readlink(root)
    return None


def _prune_parquet_versions(folder: Path, keep: set[str]) -> list[str]:
    """Delete Parquet version folders other than the current and the previous one.

    The previous one stays so that a BI reader who resolved the old symlink a
    moment ago can finish reading; a folder from a killed publish goes.
    """
    removed = []
    for p in folder.glob(".parquet.*"):
        if p.is_dir() and not p.is_symlink() and p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
    return removed


# --- audit ----------------------------------------------------------------------


def _pii_scan(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int, list[str]]:
    """(VARCHAR columns scanned, distinct values that look like clear PII, problems) of one table.

    Email/phone-shaped values in any VARCHAR column count; *_hash columns must hold
    hashes. Each column's distinct values are tested (fast on long fact tables).
    """
    cols = [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns"
            " where table_schema = 'marts' and table_name = ? and data_type = 'VARCHAR' order by ordinal_position",
            [table],
        ).fetchall()
    ]
    found, total = [], 0
    for c in cols:
        if c.endswith("_hash"):
            bad = f"not regexp_full_match(v, '{HASH_RE}')"
        else:
            bad = contact_data.sql_contains("v")
        (n,) = con.execute(
            f"select count(*) from (select distinct {_q(c)} as v from marts.{_q(table)}) where v is not null and ({bad})"
        ).fetchone()
        if n:
            found.append(f"{table}.{c}: {n} distinct value(s) look like clear contact data")
            total += n
    return len(cols), total, found


def audit_snapshot(
    path: Path,
    expected: dict[str, tuple[int, int]],
    run_id: str,
    config: dict[str, str] | None = None,
) -> AuditReport:
    """Check a written, not yet published snapshot; raise AuditError listing every problem.

    `expected` maps each table to (row count, checksum) as computed on the
    warehouse's marts: the copy must match exactly. `config` bounds the audit's
    DuckDB instance (publish passes the run's memory limit).
    """
    con = connect_bi(path, config)  # opened the way BI opens it: read-only, external access off
    problems: list[str] = []
    report = AuditReport(tables={})
    try:
        present = set(_marts_tables(con))
        for t in CONTRACT_TABLES + PUBLISH_STATUS_TABLES:
            if t not in present:
                problems.append(f"table marts.{t} missing from the new file")
        for t, (n_exp, sum_exp) in expected.items():
            if t not in present:
                continue
            n, s = table_fingerprint(con, f"marts.{_q(t)}")
            report.tables[t] = n
            if n != n_exp:
                problems.append(f"marts.{t}: {n} rows in the new file, {n_exp} in the warehouse")
            elif s != sum_exp:
                problems.append(f"marts.{t}: row checksum differs from the warehouse")
        for t in NON_EMPTY_TABLES:
            if t in present and report.tables.get(t, 0) == 0:
                problems.append(f"marts.{t} is empty")
        if present >= {"metric_tree", "metric_values", "metric_drivers"}:
            invariants = {
                "metric_tree: metric not unique": "select count(*) - count(distinct metric) from marts.metric_tree",
                "metric_tree: not exactly one root": "select abs(count(*) filter (where parent is null) - 1) from marts.metric_tree",
                "metric_tree: parent not in the tree": "select count(*) from marts.metric_tree"
                " where parent is not null and parent not in (select metric from marts.metric_tree)",
                "metric_values: duplicate (metric, grain, period_start, dimension, dimension_value)": "select count(*) from (select 1 from marts.metric_values"
                " group by metric, grain, period_start, dimension, dimension_value having count(*) > 1)",
                "metric_values: grain not day/week/month": "select count(*) from marts.metric_values where grain not in ('day', 'week', 'month')",
                "metric_drivers: child metric not in the tree": "select count(*) from marts.metric_drivers"
                " where child_metric not in (select metric from marts.metric_tree)",
            }
            for label, sql in invariants.items():
                (bad,) = con.execute(sql).fetchone()
                if bad:
                    problems.append(f"{label} ({bad})")
        if "publish_info" in present:
            runs = [
                r[0]
                for r in con.execute("select distinct run_id from marts.publish_info").fetchall()
            ]
            if runs != [run_id]:
                problems.append(f"publish_info names run(s) {runs}, expected {run_id}")
        for t in sorted(present):
            n_cols, n_found, found = _pii_scan(con, t)
            report.varchar_columns_scanned += n_cols
            report.pii_values_found += n_found
            problems.extend(found)
    finally:
        con.close()
    report.problems = problems
    if problems:
        raise AuditError(
            "not publishing: the new snapshot failed its audit; the last good snapshot stays in place:\n- "
            + "\n- ".join(problems)
        )
    return report


# --- publish --------------------------------------------------------------------


def _audit_config(settings: Settings, safe_run: str) -> tuple[dict[str, str], Path]:
    """The run's DuckDB limits for the audit's own instance, with a spill folder of its
    own (two DuckDB instances in one process must not share one temp directory)."""
    base = Path(settings.temp_dir) if settings.temp_dir else settings.data_dir
    spill = base / f"publish_audit.{safe_run}.tmp"
    config = {k: v for k, v in settings.duckdb_config().items() if k != "TimeZone"}
    config["temp_directory"] = str(spill)
    return config, spill


# The boundaries between the steps of publish where a crash leaves the most behind
# (tests/integration/test_crash_recovery.py kills a run at each of them).
KILL_POINTS = (
    "snapshot_written",  # the new file is complete, not audited
    "exports_written",  # audited; Parquet version and restricted file written, nothing swapped
    "duckdb_swapped",  # the new DuckDB file is in place, the Parquet link still the old one
    "parquet_swapped",  # both swapped, the restricted file still the old one
)


def _kill_point(name: str, settings: Settings) -> None:
    """Fault injection for the crash test: with FLYWHEEL_TEST_KILL_AT=<name> the run's
    whole process group dies here by SIGKILL, as under an OOM kill or a container stop."""
    if settings.test_kill_at == name:
        os.killpg(os.getpgrp(), signal.SIGKILL)


def publish(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str) -> PublishResult:
    """Write, audit, then swap in the DuckDB file, the Parquet folder and the restricted file.

    Call under the writer lock (WarehouseResource.session): publishes are serialised,
    which is what lets cleanup_stale remove any other run's temp files.
    """
    cleaned = cleanup_stale(settings)
    tables = _marts_tables(con)
    missing = [t for t in CONTRACT_TABLES if t not in tables]
    if missing:
        raise PublishError(
            f"not publishing: contract table(s) {', '.join(missing)} missing from schema marts; "
            "the last good snapshot stays in place. Run dbt build and check its errors."
        )
    target = settings.published_path
    target.parent.mkdir(parents=True, exist_ok=True)
    safe_run = "".join(ch for ch in run_id if ch.isalnum() or ch in "-_") or "run"
    tmp = target.with_name(f".{target.name}.{safe_run}.tmp")
    built_at = datetime.now(UTC).replace(tzinfo=None)
    # Build time, run id and each feed's freshness travel with the data.
    has_gate_results = bool(
        con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'quality' and table_name = 'gate_results'"
        ).fetchone()[0]
    )
    con.execute(_publish_info_sql(has_gate_results), {"built": built_at, "run": run_id})
    for sql in _publish_checks_sql(has_gate_results):
        con.execute(sql)
    sources = {t: f"marts.{_q(t)}" for t in tables} | {
        t: f"temp.main.{t}" for t in PUBLISH_STATUS_TABLES
    }
    expected = {t: table_fingerprint(con, src) for t, src in sources.items()}

    # 1. write: the DuckDB file, complete and checkpointed (no WAL) before anyone can see it.
    _attach_new(con, tmp, "pub")
    try:
        con.execute("create schema pub.marts")
        for t, src in sources.items():
            con.execute(f"create table pub.marts.{_q(t)} as select * from {src}")
        con.execute("checkpoint pub")
    finally:
        con.execute("detach pub")
    os.chmod(tmp, 0o644)
    _kill_point("snapshot_written", settings)

    # 2. audit the file as written, before the swap: a failure leaves the old snapshot.
    # The audit reads the whole file in a DuckDB instance of its own: without the run's
    # memory limit its buffer pool grew to 2.5 GB at 10M orders (492 MB under 400MB).
    # Meanwhile the idle warehouse instance hands back the blocks it cached while
    # writing (each instance has the whole limit: both full made 3.9 GB under 2GB).
    audit_config, audit_spill = _audit_config(settings, safe_run)
    try:
        with lowered_memory_limit(con, IDLE_MEMORY_MB, settings.duckdb_memory_limit):
            report = audit_snapshot(tmp, expected, run_id, audit_config)
    except Exception:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(audit_spill, ignore_errors=True)

    # The Parquet export of the same tables, into a folder nobody reads yet.
    parquet_root = target.parent / "parquet"
    previous_version = _current_parquet_version(parquet_root)
    version_dir = target.parent / f".parquet.{built_at:%Y%m%dT%H%M%S%f}.{safe_run[:8]}"
    version_dir.mkdir(parents=True, exist_ok=True)
    for t, src in sources.items():
        out = version_dir / f"{t}.parquet"
        con.execute(f"copy (select * from {src}) to $p (format parquet)", {"p": str(out)})
        (n,) = con.execute("select count(*) from read_parquet($p)", {"p": str(out)}).fetchone()
        if n != expected[t][0]:
            tmp.unlink(missing_ok=True)
            shutil.rmtree(version_dir, ignore_errors=True)
            raise AuditError(
                f"not publishing: {out.name} holds {n} rows, the warehouse {expected[t][0]}"
            )
    restricted_tmp = write_restricted(con, settings)
    _kill_point("exports_written", settings)

    # 3. publish: each swap is one atomic rename.
    os.replace(tmp, target)
    _fsync_dir(target.parent)
    _kill_point("duckdb_swapped", settings)
    link_tmp = target.parent / f".parquet.link.{safe_run}"
    link_tmp.unlink(missing_ok=True)
    link_tmp.symlink_to(version_dir.name)
    if parquet_root.exists() and not parquet_root.is_symlink():
        shutil.rmtree(parquet_root)  # an old plain folder from a manual copy
    os.replace(link_tmp, parquet_root)
    _fsync_dir(target.parent)
    _kill_point("parquet_swapped", settings)
    restricted = swap_restricted(restricted_tmp, settings)
    keep = {version_dir.name} | ({previous_version} if previous_version else set())
    cleaned += _prune_parquet_versions(target.parent, keep)
    return PublishResult(target, parquet_root, report.tables, report, restricted, cleaned)


# --- the restricted file ------------------------------------------------------------


def write_restricted(con: duckdb.DuckDBPyConnection, settings: Settings) -> Path:
    """Quarantine (raw values may hold PII) and every table of the warehouse's schema
    `restricted` (the callback list) into a new owner-only file; returns the temp path."""
    target = settings.restricted_path
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(target.parent, 0o700)
    tmp = target.with_name(f".{target.name}.tmp")
    # The alias must not be "restricted": the warehouse has a schema of that name.
    _attach_new(con, tmp, "restricted_out")
    try:
        con.execute("create schema restricted_out.restricted")
        for name, source in RESTRICTED_TABLES.items():
            con.execute(
                f"create table restricted_out.restricted.{_q(name)} as select * from {source}"
            )
        (db,) = con.execute("select current_database()").fetchone()
        for (name,) in con.execute(
            "select table_name from information_schema.tables"
            " where table_schema = 'restricted' and table_catalog = current_database()"
        ).fetchall():
            con.execute(
                f"create table restricted_out.restricted.{_q(name)} as select * from {_q(db)}.restricted.{_q(name)}"
            )
        con.execute("checkpoint restricted_out")
    finally:
        con.execute("detach restricted_out")
    os.chmod(tmp, 0o600)
    return tmp


def swap_restricted(tmp: Path, settings: Settings) -> Path:
    target = settings.restricted_path
    os.replace(tmp, target)
    _fsync_dir(target.parent)
    return target


def publish_restricted(con: duckdb.DuckDBPyConnection, settings: Settings) -> Path:
    """Write and swap in the restricted file alone."""
    return swap_restricted(write_restricted(con, settings), settings)
