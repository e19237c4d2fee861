"""The hand-over to Spark without Spark: engine setting, lake layout, mirror back into DuckDB."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import spark as spark_engine
from orchestration.lib.engine import EngineError, dbt_target, engine
from orchestration.lib.settings import load_settings
from orchestration.lib.warehouse import bootstrap, connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dbt"))
import dbt_fixture as fixture


def test_engine_setting(monkeypatch):
    monkeypatch.delenv("FLYWHEEL_ENGINE", raising=False)
    monkeypatch.delenv("FLYWHEEL_DBT_TARGET", raising=False)
    assert engine() == "duckdb" and dbt_target() == "dev"
    monkeypatch.setenv("FLYWHEEL_ENGINE", " Spark ")
    assert engine() == "spark" and dbt_target() == "spark"
    monkeypatch.setenv("FLYWHEEL_ENGINE", "snowflake")
    with pytest.raises(EngineError):
        engine()


def test_lake_export_and_mirror(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("FLYWHEEL_DATA_DIR", str(data))
    monkeypatch.setenv("FLYWHEEL_PII_KEY", fixture.PII_KEY)
    fixture.write_warehouse(data / "warehouse.duckdb")
    settings = load_settings()
    con = connect(settings)
    try:
        bootstrap(con)
        result = spark_engine.export_lake(con, settings, log=lambda _m: None)
        # one folder per feed + the verdicts, partitioned by load date, same rows
        assert set(result.rows) == set(spark_engine.LAKE_TABLES)
        orders = sorted(p.name for p in (result.root / "orders").iterdir())
        assert orders == ["load_date=2024-03-04"]
        assert (result.root / "orders" / "load_date=2024-03-04" / "part_0.parquet").exists()
        assert result.rows["orders"] == len(fixture.ORDERS)
        lake_orders = con.execute(
            f"select count(*) from read_parquet('{result.root}/orders/*/*.parquet', hive_partitioning = true)"
        ).fetchone()[0]
        assert lake_orders == len(fixture.ORDERS)
        # an empty feed still has a file that carries the schema
        con.execute("delete from raw.support_contacts")
        again = spark_engine.export_lake(con, settings, log=lambda _m: None)
        empty = (
            again.root
            / "support_contacts"
            / f"load_date={spark_engine.EMPTY_PARTITION}"
            / "part_0.parquet"
        )
        cols = [
            r[0] for r in con.execute(f"describe select * from read_parquet('{empty}')").fetchall()
        ]
        assert "contact_id" in cols and "_ingested_at" in cols
        assert not list(again.root.glob(".*"))  # no temporary folders left behind

        # mirror: a Spark-built table (Parquet folder) lands in the same DuckDB schema
        folder = spark_engine.table_dir(settings, "marts", "dim_stores")
        folder.mkdir(parents=True)
        con.execute(
            f"copy (select 'S1' as store_id, 'North' as region) to '{folder}/part-00000.parquet'"
        )
        mirrored = spark_engine.mirror_outputs(con, settings, log=lambda _m: None)
        assert mirrored.mirrored and mirrored.tables == {"marts.dim_stores": 1}
        assert con.execute("select region from marts.dim_stores").fetchall() == [("North",)]
        monkeypatch.setenv("FLYWHEEL_SPARK_MIRROR_MAX_ROWS", "0")
        at_most_0 = load_settings()
        assert not spark_engine.mirror_outputs(con, at_most_0, log=lambda _m: None).mirrored
    finally:
        con.close()


def test_pii_blocks_are_the_duckdb_ones(tmp_path, monkeypatch):
    from orchestration.lib.pii import key_blocks

    monkeypatch.setenv("FLYWHEEL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FLYWHEEL_PII_KEY", "k")
    env = spark_engine.pii_env(load_settings())
    assert tuple(env.values()) == key_blocks(b"k")
    assert all(name.startswith("DBT_ENV_SECRET_") for name in env)  # scrubbed from dbt logs


def test_duckdb_reads_spark_style_partitions(tmp_path):
    """Spark discovers load_date from the folder names; DuckDB agrees on the same layout."""
    con = duckdb.connect()
    part = tmp_path / "orders" / "load_date=2026-10-31"
    part.mkdir(parents=True)
    con.execute(f"copy (select 1 as x) to '{part}/part_0.parquet'")
    row = con.execute(
        f"select x, load_date from read_parquet('{tmp_path}/orders/*/*.parquet', hive_partitioning = true)"
    ).fetchone()
    assert row[0] == 1 and str(row[1]) == "2026-10-31"
