"""Publishing for BI: a new read-only DuckDB file and Parquet folder, swapped in atomically.

BI never opens the working warehouse (a reader would block the pipeline's
writer). Each publish writes a complete new file beside the old one and
os.replace()s it in: a reader that opened the old file keeps its consistent
view, a new reader sees the new one, and a crash at any point leaves the old
file in place. The Parquet export is a folder per publish behind a symlink
that is swapped the same way.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.settings import Settings

# The output contract (docs/metrics.md, "What BI tools read"). Publish refuses
# to swap in a snapshot that misses one of them.
CONTRACT_TABLES = (
    "metric_values",
    "metric_tree",
    "metric_drivers",
    "channel_economics",
    "cohort_retention",
    "store_rating",
    "fct_orders",
    "fct_order_items",
    "fct_leads",
    "fct_survey_answers",
    "dim_customers",
    "dim_channels",
    "dim_stores",
)
# The restricted file: PII allowed, never published, owner-only permissions.
RESTRICTED_TABLES = {"quarantine": "meta.quarantine", "files": "meta.files"}
# Older DuckDB readers (BI drivers lag behind) can open files written with this.
STORAGE_VERSION = "v1.2.0"
KEEP_PARQUET_VERSIONS = 2


class PublishError(Exception):
    pass


@dataclass
class PublishResult:
    path: Path
    parquet_dir: Path
    tables: dict[str, int]


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


def publish(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str) -> PublishResult:
    """Copy schema marts into a new file + Parquet folder, then swap both in."""
    tables = _marts_tables(con)
    missing = [t for t in CONTRACT_TABLES if t not in tables]
    if missing:
        raise PublishError(
            f"not publishing: contract table(s) {', '.join(missing)} missing from schema marts; "
            "the last good snapshot stays in place. Run dbt build and check its errors."
        )
    target = settings.published_path
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{run_id}.tmp")
    built_at = datetime.now(UTC).replace(tzinfo=None)
    counts: dict[str, int] = {}
    # Build time, run id and each feed's freshness travel with the data.
    con.execute(
        "create or replace temp table publish_info as select $built as built_at, $run as run_id,"
        " feed, max(registered_at) as last_file_registered_at,"
        " count(*) filter (where outcome = 'loaded') as files_loaded"
        " from meta.files group by feed",
        {"built": built_at, "run": run_id},
    )
    sources = {t: f"marts.{t}" for t in tables} | {"publish_info": "temp.main.publish_info"}
    _attach_new(con, tmp, "pub")
    try:
        con.execute("create schema pub.marts")
        for t, src in sources.items():
            con.execute(f"create table pub.marts.{t} as select * from {src}")
            counts[t] = con.execute(f"select count(*) from pub.marts.{t}").fetchone()[0]
    finally:
        con.execute("detach pub")
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)

    parquet_root = target.parent / "parquet"
    version_dir = target.parent / f".parquet.{built_at:%Y%m%dT%H%M%S}.{run_id[:8]}"
    version_dir.mkdir(parents=True, exist_ok=True)
    for t, src in sources.items():
        con.execute(f"copy (select * from {src}) to $p (format parquet)", {"p": str(version_dir / f"{t}.parquet")})
    link_tmp = target.parent / f".parquet.link.{run_id}"
    link_tmp.unlink(missing_ok=True)
    link_tmp.symlink_to(version_dir.name)
    if parquet_root.exists() and not parquet_root.is_symlink():
        shutil.rmtree(parquet_root)  # an old plain folder from a manual copy
    os.replace(link_tmp, parquet_root)
    _prune_parquet_versions(target.parent, keep=version_dir.name)

    publish_restricted(con, settings)
    return PublishResult(target, parquet_root, counts)


def _prune_parquet_versions(folder: Path, keep: str) -> None:
    versions = sorted(p for p in folder.glob(".parquet.*") if p.is_dir() and not p.is_symlink())
    old = [p for p in versions if p.name != keep][: max(0, len(versions) - KEEP_PARQUET_VERSIONS)]
    for p in old:
        shutil.rmtree(p, ignore_errors=True)


def publish_restricted(con: duckdb.DuckDBPyConnection, settings: Settings) -> Path:
    """Quarantine (raw values may hold PII) into the owner-only restricted file."""
    target = settings.restricted_path
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(target.parent, 0o700)
    tmp = target.with_name(f".{target.name}.tmp")
    _attach_new(con, tmp, "restricted")
    try:
        con.execute("create schema restricted.restricted")
        for name, source in RESTRICTED_TABLES.items():
            con.execute(f"create table restricted.restricted.{name} as select * from {source}")
        for (name,) in con.execute(
            "select table_name from information_schema.tables"
            " where table_schema = 'restricted' and table_catalog = current_database()"
        ).fetchall():
            con.execute(f"create table restricted.restricted.{name} as select * from restricted.{name}")
    finally:
        con.execute("detach restricted")
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return target
