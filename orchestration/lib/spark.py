"""The Spark engine (FLYWHEEL_ENGINE=spark): lake export, dbt on Spark, publish.

DuckDB keeps doing what is per file and per machine: ingestion, quarantine,
file registry, the quality gate. After the gate, the validated raw feeds and
the gate's verdicts are exported to the lake as Parquet,

    $FLYWHEEL_DATA_DIR/lake/<feed>/load_date=YYYY-MM-DD/part_0.parquet

(load_date = the day a row was ingested; lead_verdicts: the day it was checked),
and dbt builds the same project with target `spark` of profiles.yml. The dbt
sources (schemas raw and quality) are registered over the lake by the
on-run-start macro register_lake_sources (macros/cross_db/). Spark writes its
tables as Parquet under $FLYWHEEL_DATA_DIR/spark/warehouse/<schema>.db/<table>;
the built marts (and the restricted schema) are mirrored back into the working
DuckDB file when they are small, so publish, the CX exports and the summary
work unchanged; large outputs are published as Parquet straight from Spark's
files. docs/scale-out.md has the settings for a real cluster.

PII hashing: HMAC-SHA256 with the key blocks precomputed here (as on DuckDB).
They reach Spark as the session confs spark.flywheel.pii.ipad / .opad, set from
the environment variables DBT_ENV_SECRET_FLYWHEEL_PII_IPAD / _OPAD that
profiles.yml reads (dbt scrubs DBT_ENV_SECRET_* from its logs); they are never
dbt vars, so never in target/ artifacts.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.feeds import FEEDS
from orchestration.lib.pii import key_blocks
from orchestration.lib.settings import Settings, pii_key

# lake folder name -> (DuckDB table, column whose day is the partition)
LAKE_TABLES: dict[str, tuple[str, str]] = {name: (f"raw.{name}", "_ingested_at") for name in FEEDS}
LAKE_TABLES["lead_verdicts"] = ("quality.lead_verdicts", "checked_at")
LAKE_TABLES["row_verdicts"] = ("quality.row_verdicts", "checked_at")
# A feed with no rows still gets a (0-row) file so that Spark knows its schema.
EMPTY_PARTITION = "1970-01-01"
# Spark schemas mirrored back into DuckDB after a build (what publish and the CX exports read).
MIRRORED_SCHEMAS = ("marts", "restricted")
PII_ENV = ("DBT_ENV_SECRET_FLYWHEEL_PII_IPAD", "DBT_ENV_SECRET_FLYWHEEL_PII_OPAD")
PII_CONFS = ("spark.flywheel.pii.ipad", "spark.flywheel.pii.opad")


def lake_dir(settings: Settings) -> Path:
    return settings.data_dir / "lake"


def spark_dir(settings: Settings) -> Path:
    """Spark's warehouse (managed tables) and metastore for the local session."""
    return settings.data_dir / "spark"


def spark_warehouse_dir(settings: Settings) -> Path:
    return spark_dir(settings) / "warehouse"


def table_dir(settings: Settings, schema: str, table: str) -> Path:
    """Where a managed Spark table's Parquet files live (spark.sql.warehouse.dir layout)."""
    return spark_warehouse_dir(settings) / f"{schema}.db" / table


def mirror_max_rows(settings: Settings) -> int:
    """Outputs up to this many rows in total are mirrored into DuckDB (and the BI DuckDB file)."""
    return settings.spark_mirror_max_rows


# ---------------------------------------------------------------- lake export


@dataclass
class LakeExport:
    root: Path
    rows: dict[str, int]
    partitions: dict[str, int]


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def export_lake(
    con: duckdb.DuckDBPyConnection, settings: Settings, log: Callable[[str], None] = print
) -> LakeExport:
    """Write every raw feed and the gate verdicts to the lake, partitioned by load date.

    Each feed folder is written beside the old one and renamed into place, so a
    reader (Spark) sees either the previous export or the new one. raw.* holds
    the current version of every row (latest file wins), so the export is the
    whole table each time: a replaced row leaves its old partition.
    """
    root = lake_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)  # raw feeds, contact data included: owner-only like the warehouse
    rows: dict[str, int] = {}
    partitions: dict[str, int] = {}
    for name, (table, load_column) in LAKE_TABLES.items():
        final = root / name
        tmp = root / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
        n = con.execute(f"select count(*) from {table}").fetchone()[0]
        if n == 0:
            part = tmp / f"load_date={EMPTY_PARTITION}"
            part.mkdir(parents=True)
            con.execute(
                f"copy (select * from {table} limit 0) to {_sql_str(str(part / 'part_0.parquet'))} (format parquet)"
            )
            partitions[name] = 0
        else:
            tmp.mkdir(parents=True)
            con.execute(
                f"copy (select *, cast({load_column} as date) as load_date from {table}) "
                f"to {_sql_str(str(tmp))} (format parquet, partition_by (load_date), "
                "filename_pattern 'part_{i}', overwrite_or_ignore true)"
            )
            partitions[name] = sum(1 for p in tmp.iterdir() if p.is_dir())
        rows[name] = n
        old = root / f".{name}.{uuid.uuid4().hex[:8]}.old"
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    log(
        f"lake export to {root}: "
        + ", ".join(f"{k} {v:,} rows/{partitions[k]} days" for k, v in rows.items())
    )
    return LakeExport(root, rows, partitions)


# ---------------------------------------------------------------- dbt on Spark


def pii_env(settings: Settings) -> dict[str, str]:
    """The HMAC key blocks for the Spark session (read by profiles.yml as secret env vars)."""
    ipad, opad = key_blocks(pii_key(settings))
    return dict(zip(PII_ENV, (ipad, opad), strict=True))


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment for `dbt ... --target spark` (absolute paths: dbt runs in its project folder)."""
    return {
        "FLYWHEEL_DATA_DIR": str(settings.data_dir),
        "FLYWHEEL_TIMEZONE": settings.timezone,
        "FLYWHEEL_CURRENCY": settings.currency,
        "FLYWHEEL_LAKE_DIR": str(lake_dir(settings)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **pii_env(settings),
    }


@contextmanager
def dbt_environment(settings: Settings) -> Iterator[dict[str, str]]:
    """Set dbt_env() in os.environ for a dbt subprocess / in-process run; the key blocks are removed after."""
    env = dbt_env(settings)
    saved = {k: os.environ.get(k) for k in PII_ENV}
    os.environ.update(env)
    try:
        yield env
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_dbt(settings: Settings, args: list[str], project_dir: Path | None = None):
    """`dbt <args> --target spark` in-process (tests, the CLI); returns dbt's result."""
    from dbt.cli.main import dbtRunner

    project = project_dir or settings.dbt_project_dir
    with dbt_environment(settings):
        return dbtRunner().invoke(
            [
                *args,
                "--target",
                "spark",
                "--project-dir",
                str(project),
                "--profiles-dir",
                str(project),
            ]
        )


# ---------------------------------------------------------------- outputs back to DuckDB


def spark_tables(settings: Settings, schema: str) -> dict[str, Path]:
    """The tables Spark built in one schema: name -> folder of Parquet files."""
    folder = spark_warehouse_dir(settings) / f"{schema}.db"
    if not folder.exists():
        return {}
    return {
        p.name: p
        for p in sorted(folder.iterdir())
        if p.is_dir() and not p.name.startswith((".", "_")) and any(p.glob("*.parquet"))
    }


def _parquet_glob(folder: Path) -> str:
    return _sql_str(str(folder / "*.parquet"))


def count_rows(con: duckdb.DuckDBPyConnection, folder: Path) -> int:
    return con.execute(f"select count(*) from read_parquet({_parquet_glob(folder)})").fetchone()[0]


@dataclass
class MirrorResult:
    tables: dict[str, int]
    mirrored: bool
    reason: str = ""


def mirror_outputs(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    schemas: tuple[str, ...] = MIRRORED_SCHEMAS,
    tables: set[str] | None = None,
    log: Callable[[str], None] = print,
) -> MirrorResult:
    """Copy Spark's marts / restricted tables into the same schemas of the working DuckDB file.

    Only when they are small enough (FLYWHEEL_SPARK_MIRROR_MAX_ROWS in total):
    then publish, the CX exports and the CLI summary read them as if DuckDB had
    built them. `tables` limits the copy to those names (the models of a run).
    """
    found: dict[str, Path] = {}
    for schema in schemas:
        for name, folder in spark_tables(settings, schema).items():
            if tables is None or name in tables:
                found[f"{schema}.{name}"] = folder
    counts = {qualified: count_rows(con, folder) for qualified, folder in found.items()}
    total = sum(counts.values())
    if total > mirror_max_rows(settings):
        msg = f"{total:,} rows > FLYWHEEL_SPARK_MIRROR_MAX_ROWS={mirror_max_rows(settings):,}: not mirrored into DuckDB"
        log(msg)
        return MirrorResult(counts, False, msg)
    for schema in {q.split(".")[0] for q in found}:
        con.execute(f"create schema if not exists {schema}")
    for qualified, folder in found.items():
        con.execute(
            f"create or replace table {qualified} as select * from read_parquet({_parquet_glob(folder)})"
        )
    log(f"mirrored {len(found)} Spark table(s), {total:,} rows, into {settings.warehouse_path}")
    return MirrorResult(counts, True)


def publish_parquet_only(settings: Settings, run_id: str) -> Path:
    """Large outputs: publish Spark's marts Parquet folders (hard links) behind the parquet symlink.

    Same swap as publish.publish(): a new version folder, then os.replace of the
    symlink published/parquet. Each table is a folder <table>/part-*.parquet.
    """
    from datetime import UTC, datetime

    from orchestration.lib.publish import CONTRACT_TABLES, PublishError, _prune_parquet_versions

    tables = spark_tables(settings, "marts")
    missing = [t for t in CONTRACT_TABLES if t not in tables]
    if missing:
        raise PublishError(
            f"not publishing: contract table(s) {', '.join(missing)} missing from Spark schema marts"
        )
    target = settings.published_path
    target.parent.mkdir(parents=True, exist_ok=True)
    built_at = datetime.now(UTC)
    version_dir = target.parent / f".parquet.{built_at:%Y%m%dT%H%M%S}.{run_id[:8]}"
    for name, folder in tables.items():
        dest = version_dir / name
        dest.mkdir(parents=True, exist_ok=True)
        for f in folder.glob("*.parquet"):
            try:
                os.link(f, dest / f.name)
            except OSError:
                shutil.copy2(f, dest / f.name)
    link_tmp = target.parent / f".parquet.link.{run_id}"
    link_tmp.unlink(missing_ok=True)
    link_tmp.symlink_to(version_dir.name)
    parquet_root = target.parent / "parquet"
    if parquet_root.exists() and not parquet_root.is_symlink():
        shutil.rmtree(parquet_root)
    os.replace(link_tmp, parquet_root)
    _prune_parquet_versions(target.parent, keep=version_dir.name)
    return parquet_root


def pii_conf_lines(settings: Settings) -> list[str]:
    """The two Spark confs a cluster needs for pii_hash (keep them in a secret store)."""
    env = pii_env(settings)
    return [f"{conf} {env[var]}" for conf, var in zip(PII_CONFS, PII_ENV, strict=True)]


def main(argv: list[str] | None = None) -> int:
    """python -m orchestration.lib.spark export | dbt <args...> | mirror | pii-conf"""
    import sys

    from orchestration.lib.settings import load_settings
    from orchestration.lib.warehouse import bootstrap, connect, writer_lock

    args = list(sys.argv[1:] if argv is None else argv)
    settings = load_settings()
    if not args or args[0] not in ("export", "dbt", "mirror", "pii-conf"):
        print(main.__doc__)
        return 2
    if args[0] == "pii-conf":
        print("\n".join(pii_conf_lines(settings)))
        return 0
    if args[0] == "dbt":
        res = run_dbt(settings, args[1:] or ["build"])
        return 0 if res.success else 1
    with writer_lock(settings):
        con = connect(settings)
        try:
            bootstrap(con)
            if args[0] == "export":
                export_lake(con, settings)
            else:
                mirror_outputs(con, settings)
        finally:
            con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
