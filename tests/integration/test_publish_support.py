"""Helpers shared by the publish / crash / concurrency / PII tests (no tests in here).

The checksums here are the tests' own: an md5 per row over its text form,
summed, so they do not reuse the publish code's hash() fingerprints.
"""

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
RUN_RE = re.compile(r"Dagster run ([0-9a-f-]{36}) \(pipeline_job\): (SUCCESS|FAILED)")
ANY_RUN_RE = re.compile(
    r"pipeline_job - ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) - "
)


def open_snapshot(path: Path) -> duckdb.DuckDBPyConnection:
    """A fresh read-only view of the file as it is now (ATTACH: no instance cache)."""
    con = duckdb.connect(":memory:")
    con.execute("attach ? as snap (read_only)", [str(path)])
    con.execute("use snap")
    return con


def table_checksums(
    con: duckdb.DuckDBPyConnection, schema: str = "marts", skip=("publish_info", "publish_checks")
) -> dict:
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1",
            [schema],
        ).fetchall()
        if r[0] not in skip
    ]
    out = {}
    for t in tables:
        out[t] = con.execute(
            f'select count(*), coalesce(sum(md5_number_lower(r::varchar)), 0) from {schema}."{t}" r'
        ).fetchone()
    return out


def published_checksums(path: Path) -> tuple[set[str], dict]:
    con = open_snapshot(path)
    try:
        runs = {
            r[0] for r in con.execute("select distinct run_id from marts.publish_info").fetchall()
        }
        return runs, table_checksums(con)
    finally:
        con.close()


def parquet_checksums(folder: Path, skip=("publish_info", "publish_checks")) -> dict:
    con = duckdb.connect()
    out = {}
    for p in sorted(folder.glob("*.parquet")):
        if p.stem in skip:
            continue
        out[p.stem] = con.execute(
            "select count(*), coalesce(sum(md5_number_lower(r::varchar)), 0) from read_parquet(?) r",
            [str(p)],
        ).fetchone()
    con.close()
    return out


def cli_env(tmp_path: Path, landing: Path, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        FLYWHEEL_DATA_DIR=str(tmp_path / "data"),
        FLYWHEEL_LANDING_DIR=str(landing),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        FLYWHEEL_PII_KEY="test-key-not-secret",
        FLYWHEEL_GATE_NOW="2026-11-01T06:00:00",
        PYTHONUNBUFFERED="1",
        DAGSTER_DISABLE_TELEMETRY="true",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        GX_ANALYTICS_ENABLED="false",
    )
    env.update(extra)
    (tmp_path / "dagster_home").mkdir(exist_ok=True)
    return env


@dataclass
class CliRun:
    proc: subprocess.Popen
    log: Path
    started: float

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def run_ids(self) -> set[str]:
        return set(ANY_RUN_RE.findall(self.output())) | {
            m[0] for m in RUN_RE.findall(self.output())
        }

    def final(self) -> tuple[str | None, str | None]:
        m = RUN_RE.search(self.output())
        return (m.group(1), m.group(2)) if m else (None, None)


def start_cli(env: dict, log: Path) -> CliRun:
    fh = open(log, "w")  # the child owns it
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "run"],
        cwd=ROOT,
        env=env,
        stdout=fh,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: dbt subprocesses included
    )
    fh.close()
    return CliRun(proc, log, time.monotonic())
