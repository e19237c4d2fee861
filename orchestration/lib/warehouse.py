"""Opening the working DuckDB file, and the tables every stage relies on."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time

import duckdb

from orchestration.lib.feeds import FEEDS, SQL_TYPES
from orchestration.lib.settings import Settings

# meta: what was read (file registry) and what was refused (quarantine).
# quality: the verdicts of the lead quality gate, read by dbt staging.
BOOTSTRAP_SQL = """
create schema if not exists raw;
create schema if not exists meta;
create schema if not exists quality;
create sequence if not exists meta.file_id_seq start 1;
create table if not exists meta.files (
    file_id bigint primary key,
    feed varchar not null,
    path varchar not null,
    content_sha256 varchar not null,
    size_bytes bigint not null,
    format varchar not null,
    outcome varchar not null,          -- loaded | duplicate_content | rejected
    reason varchar,
    physical_lines bigint,             -- CSV only: lines in the file incl. header
    rows_in bigint not null default 0, -- records found in the file
    rows_loaded bigint not null default 0,
    rows_replaced bigint not null default 0,
    rows_quarantined bigint not null default 0,
    parser varchar,                    -- duckdb | python-fallback
    extra_columns varchar,             -- unknown columns, kept out of the models
    run_id varchar,
    registered_at timestamp not null,
    mtime_ns bigint                    -- the file's modification time when registered
);
-- warehouses made before mtime_ns existed get the column (NULL: such files are hashed again)
alter table meta.files add column if not exists mtime_ns bigint;
-- rows a retraction file removed (docs/landing-contract.md, "Retracting rows")
alter table meta.files add column if not exists rows_retracted bigint default 0;
-- Retractions remove rows the incremental models cannot see go: the next dbt build is
-- a full refresh while a request is here (defs/transform.py), then the request goes.
create table if not exists meta.full_refresh_requests (
    requested_at timestamp not null,
    reason varchar not null
);
create table if not exists meta.quarantine (
    feed varchar not null,
    file_id bigint not null,
    path varchar not null,
    line bigint,                       -- CSV: physical line; parquet/jsonl: row index
    rule varchar not null,
    details varchar,
    raw_values varchar,                -- the row as JSON text (restricted: may hold PII)
    run_id varchar,
    quarantined_at timestamp not null
);
create table if not exists quality.lead_verdicts (
    lead_id varchar not null,
    expectation varchar not null,      -- the expectation the lead failed
    is_duplicate boolean not null,     -- duplicates stay in fct_leads, counted once
    duplicate_of varchar,
    details varchar,
    checked_at timestamp not null
);
create table if not exists quality.row_verdicts (
    feed varchar not null,             -- orders, survey_answers (leads: quality.lead_verdicts)
    record_key varchar,
    expectation varchar not null,
    details varchar,
    run_id varchar,
    checked_at timestamp not null
);
"""


def raw_table_ddl(feed_name: str) -> str:
    feed = FEEDS[feed_name]
    cols = ",\n    ".join(f"{c.name} {SQL_TYPES[c.type]}" for c in feed.columns)
    return (
        f"create table if not exists raw.{feed.name} (\n    {cols},\n"
        "    _file_id bigint not null,\n    _line bigint,\n    _ingested_at timestamp not null\n)"
    )


def connect(settings: Settings, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Connect to the working warehouse with the fixed time zone and resource limits."""
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    # DuckDB's own file lock can outlive our writer lock: a dbt subprocess orphaned by a
    # killed run keeps the file until it finishes. Wait for it (same timeout) instead of failing.
    deadline = time.monotonic() + settings.lock_timeout_s
    announced = False
    while True:
        try:
            con = duckdb.connect(str(settings.warehouse_path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            if not announced:
                print(
                    f"waiting for the warehouse: DuckDB lock held by another process ({exc})",
                    flush=True,
                )
                announced = True
            time.sleep(0.5)
    configure(con, settings)
    if not read_only:
        restrict_warehouse_files(settings)
    return con


def restrict_warehouse_files(settings: Settings) -> None:
    """The working warehouse holds raw contact data: owner-only (600), like the
    restricted file. DuckDB creates the file and its WAL with the process umask
    (usually 644), so every writer session narrows them again."""
    for path in (
        settings.warehouse_path,
        settings.warehouse_path.with_name(settings.warehouse_path.name + ".wal"),
    ):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)


def configure(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Session settings. TimeZone needs ICU loaded first, so it cannot go in connect(config=)."""
    con.execute("load icu")
    for key, value in settings.duckdb_config().items():
        con.execute(f"set {key} = $v", {"v": value})


def _limit_mb(text: str) -> float | None:
    """A memory_limit as DuckDB shows it ('244.1 MiB', '2.0 GiB') in MB of 10^6 bytes,
    as SET takes it; None if unreadable."""
    try:
        number, unit = text.split()
    except ValueError:
        return None
    power = {"KiB": 1, "MiB": 2, "GiB": 3, "TiB": 4}.get(unit)
    return float(number) * 1024**power / 1e6 if power else None


@contextlib.contextmanager
def lowered_memory_limit(
    con: duckdb.DuckDBPyConnection, mb: int, restore: str | None = None, log=print
):
    """Within the block the instance's memory_limit is at most `mb` MB; `restore` after it.

    Lowering the limit makes DuckDB evict its buffer pool down to it at once. That is how
    an idle connection hands back the blocks it caches before another DuckDB instance of
    the same process does the work (each instance has a limit of its own). If DuckDB cannot
    free enough (blocks in use), the block runs under the old limit, and the log says so.
    `restore` is the limit the connection was configured with; without it the old limit
    comes back as DuckDB shows it, rounded to 0.1 MiB.
    """
    previous = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    restore = restore or previous
    current = _limit_mb(previous)
    lowered = False
    if current is None or mb < current:
        try:
            con.execute(f"set memory_limit = '{mb}MB'")
            lowered = True
        except duckdb.Error as exc:
            log(f"memory_limit stays {previous} (could not lower it to {mb}MB: {exc})")
    try:
        yield
    finally:
        if lowered:
            con.execute("set memory_limit = $v", {"v": restore})


def bootstrap(con: duckdb.DuckDBPyConnection) -> None:
    """Create schemas and empty tables so every later stage finds what it reads."""
    con.execute(BOOTSTRAP_SQL)
    for name in FEEDS:
        con.execute(raw_table_ddl(name))


class WarehouseBusy(Exception):
    """Another process holds the warehouse for too long."""


@contextlib.contextmanager
def writer_lock(settings: Settings, timeout_s: float | None = None, log=print):
    """One writer at a time across processes, waiting politely instead of failing.

    DuckDB refuses a second writer with a bare lock error; this lock turns that
    into a queue with a message naming who holds the file. Timeout from
    FLYWHEEL_LOCK_TIMEOUT_S (default 900 s).
    """
    if timeout_s is None:
        timeout_s = settings.lock_timeout_s
    path = settings.data_dir / ".warehouse.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+")
    deadline = time.monotonic() + timeout_s
    announced = False
    try:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not announced:
                    fh.seek(0)
                    holder = fh.read().strip() or "another process"
                    log(f"waiting for the warehouse: held by {holder} (timeout {timeout_s:.0f} s)")
                    announced = True
                if time.monotonic() > deadline:
                    fh.seek(0)
                    raise WarehouseBusy(
                        f"{settings.warehouse_path} is still held by {fh.read().strip() or 'another process'} "
                        f"after {timeout_s:.0f} s; let that run finish or stop it, then run again"
                    ) from None
                time.sleep(0.5)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}")
        fh.flush()
        yield
    finally:
        # dbt (another process) may have written a new WAL under the lock
        restrict_warehouse_files(settings)
        with contextlib.suppress(OSError):
            fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()
