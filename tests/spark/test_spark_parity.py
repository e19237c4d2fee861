"""The same dbt project on Spark and on DuckDB gives the same published tables.

A small generated landing folder is ingested and gated on DuckDB (as the
Dagster ingest assets do), then built twice from the same raw data:
`dbt build` on DuckDB (target dev) and, after the lake export, the models on a
local Spark (target spark, local[2]). Every published table (publish.CONTRACT_TABLES)
must have the same columns and the same rows, numbers equal within 1e-9
relative. The data tests run on DuckDB here; FLYWHEEL_SPARK_DATA_TESTS=1 runs
them on Spark too (they pass there; about three times the runtime).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.demo import generate
from orchestration.lib import spark as spark_engine
from orchestration.lib.feeds import FEEDS
from orchestration.lib.ingest import ingest_feed
from orchestration.lib.publish import CONTRACT_TABLES
from orchestration.lib.quality import run_lead_gate
from orchestration.lib.settings import PROJECT_ROOT, load_settings
from orchestration.lib.warehouse import bootstrap, connect

END_DATE = date(2026, 10, 31)
ORDERS = int(os.environ.get("FLYWHEEL_SPARK_PARITY_ORDERS", "1500"))
DBT = Path(sys.executable).with_name("dbt")
REL_TOL = 1e-9


def _copy_project(workdir: Path) -> Path:
    """The dbt project beside the repo seeds, so target/ and logs/ stay out of the tree."""
    project = workdir / "dbt_project"
    shutil.copytree(
        PROJECT_ROOT / "dbt_project",
        project,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"),
    )
    shutil.copytree(PROJECT_ROOT / "seeds", workdir / "seeds")
    return project


def _dbt(project: Path, args: list[str], env: dict[str, str] | None = None) -> tuple[bool, str]:
    """dbt in its own process (as Dagster runs it): no DuckDB handle or JVM stays in the test."""
    proc = subprocess.run(
        [str(DBT), *args, "--project-dir", str(project), "--profiles-dir", str(project)],
        env={**os.environ, **(env or {})},
        cwd=project,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    lines = [ln for ln in proc.stdout.splitlines() if not ln.startswith('{"ts"')]
    summary = "\n".join(ln for ln in lines if "ERROR" in ln or "FAIL" in ln or "Done." in ln)
    return proc.returncode == 0, summary or "\n".join(lines[-40:])


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    work = tmp_path_factory.mktemp("spark_parity")
    landing = work / "landing"
    generate(landing, orders=ORDERS, seed=7, end_date=END_DATE)
    timings: dict[str, float] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FLYWHEEL_DATA_DIR", str(work / "data"))
        mp.setenv("FLYWHEEL_LANDING_DIR", str(landing))
        mp.setenv("FLYWHEEL_PII_KEY", "parity-key-not-secret")
        mp.setenv("FLYWHEEL_TIMEZONE", "UTC")
        mp.setenv("FLYWHEEL_CURRENCY", "RUB")
        mp.setenv("FLYWHEEL_GATE_NOW", f"{END_DATE + dt.timedelta(days=1)}T06:00:00")
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        settings = load_settings()
        project = _copy_project(work)

        # DuckDB: ingestion + quality gate (what the ingest and quality assets do), then the lake.
        started = time.monotonic()
        con = connect(settings)
        try:
            bootstrap(con)
            for feed in FEEDS:
                ingest_feed(con, settings, feed, "parity", log=lambda _m: None)
            gate = run_lead_gate(con, settings, "parity", build_docs=False)
            assert not gate.blocking_failures, gate.summary("blocking")
            spark_engine.export_lake(con, settings, log=lambda _m: None)
        finally:
            con.close()
        timings["ingest_gate_export"] = time.monotonic() - started

        started = time.monotonic()
        ok, out = _dbt(project, ["build", "--target", "dev"])
        timings["dbt_duckdb"] = time.monotonic() - started
        assert ok, out

        # Spark: seeds and models (the data tests ran on DuckDB above; on Spark they
        # triple the runtime: FLYWHEEL_SPARK_DATA_TESTS=1 runs them too).
        started = time.monotonic()
        args = ["build", "--target", "spark", "--exclude-resource-type", "unit_test"]
        if os.environ.get("FLYWHEEL_SPARK_DATA_TESTS", "") != "1":
            args += ["--exclude-resource-type", "test"]
        ok, out = _dbt(
            project,
            args,
            env={
                **spark_engine.dbt_env(settings),
                "FLYWHEEL_SPARK_SHUFFLE_PARTITIONS": "2",
            },
        )
        timings["dbt_spark"] = time.monotonic() - started
        assert ok, out
        print("\nparity timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
        yield settings


def _normalise(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return (
            value.replace(tzinfo=None)
            if value.tzinfo is None
            else value.astimezone(dt.UTC).replace(tzinfo=None)
        )
    return value


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _key(row: tuple) -> tuple:
    """Sort key: everything but floats (rounded so that last-bit differences sort alike)."""
    out = []
    for v in row:
        if v is None:
            out.append((0, ""))
        elif isinstance(v, float):
            out.append((1, "" if math.isnan(v) else f"{v:.6g}"))
        else:
            out.append((1, str(v)))
    return tuple(out)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple]]:
    cur = con.execute(sql)
    columns = [d[0] for d in cur.description]
    rows = [tuple(_normalise(v) for v in row) for row in cur.fetchall()]
    return columns, sorted(rows, key=_key)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if _is_number(a) and _is_number(b):
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=1e-12)
    return a == b


@pytest.mark.parametrize("table", CONTRACT_TABLES)
def test_published_table_is_identical_on_spark(builds, table):
    settings = builds
    folder = spark_engine.table_dir(settings, "marts", table)
    assert folder.exists(), f"Spark did not build marts.{table}"
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        d_cols, d_rows = _rows(con, f"select * from marts.{table}")
        s_cols, s_rows = _rows(con, f"select * from read_parquet('{folder}/*.parquet')")
    finally:
        con.close()
    assert s_cols == d_cols
    assert len(s_rows) == len(d_rows), (
        f"{table}: {len(s_rows)} rows on Spark, {len(d_rows)} on DuckDB"
    )
    assert d_rows, f"{table} is empty: the comparison would prove nothing"
    mismatches = []
    for d_row, s_row in zip(d_rows, s_rows, strict=True):
        diff = [
            (c, dv, sv) for c, dv, sv in zip(d_cols, d_row, s_row, strict=True) if not _same(dv, sv)
        ]
        if diff:
            mismatches.append(diff)
    assert not mismatches, f"{table}: {len(mismatches)} row(s) differ, first: {mismatches[:3]}"


def test_pii_hash_matches_duckdb_and_python(builds):
    """The Spark HMAC equals DuckDB's (the plugin) and Python's hmac, for the same key."""
    from orchestration.lib.pii import hmac_hex

    settings = builds
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        folder = spark_engine.table_dir(settings, "marts", "dim_customers")
        joined = con.execute(
            f"select d.email_hash, s.email_hash, c.email from marts.dim_customers d "
            f"join read_parquet('{folder}/*.parquet') s using (customer_id) "
            "join main.stg_shop__customers c using (customer_id) where c.email is not null limit 20"
        ).fetchall()
    finally:
        con.close()
    assert joined
    for duck_hash, spark_hash, email in joined:
        assert spark_hash == duck_hash == hmac_hex(b"parity-key-not-secret", email)


def test_key_not_in_spark_artifacts(builds):
    """Neither the key nor its HMAC blocks reach dbt's artifacts or logs of the Spark run."""
    settings = builds
    ipad, opad = spark_engine.pii_env(settings).values()
    project = settings.data_dir.parent / "dbt_project"
    for path in [*(project / "target").rglob("*.json"), *(project / "logs").rglob("*.log")]:
        text = path.read_text(errors="ignore")
        assert "parity-key-not-secret" not in text, path
        assert ipad not in text and opad not in text, path
