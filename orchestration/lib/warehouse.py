"""Opening the working DuckDB file, and the tables every stage relies on."""

from __future__ import annotations

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
    registered_at timestamp not null
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
    con = duckdb.connect(str(settings.warehouse_path), read_only=read_only)
    configure(con, settings)
    return con


def configure(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Session settings. TimeZone needs ICU loaded first, so it cannot go in connect(config=)."""
    con.execute("load icu")
    for key, value in settings.duckdb_config().items():
        con.execute(f"set {key} = $v", {"v": value})


def bootstrap(con: duckdb.DuckDBPyConnection) -> None:
    """Create schemas and empty tables so every later stage finds what it reads."""
    con.execute(BOOTSTRAP_SQL)
    for name in FEEDS:
        con.execute(raw_table_ddl(name))
