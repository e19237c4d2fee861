"""The engine switch in Dagster: FLYWHEEL_ENGINE=duckdb (default) or spark.

duckdb: the assets of defs/transform.py, unchanged (dbt-duckdb, publish from DuckDB).
spark:  the same asset keys, built differently:
  - lake/<feed>          after ingestion and the quality gate: raw.* and
                         quality.lead_verdicts exported as Parquet to the lake,
                         partitioned by load date (orchestration.lib.spark.export_lake)
  - the dbt models       `dbt build --target spark` (dbt-spark; the sources are views
                         over the lake), then the marts / restricted tables mirrored
                         into the working DuckDB file when small enough
  - published/bi_snapshot the same read-only DuckDB file + Parquet folder BI opens
                         (from the mirror), or Parquet only, straight from Spark's
                         files, for outputs above FLYWHEEL_SPARK_MIRROR_MAX_ROWS

definitions.py merges engine_defs(), whose assets engine_assets() picks from
FLYWHEEL_ENGINE when definitions load. The asset keys are the same on both
engines, so jobs, the CX selections, schedules and sensors are unchanged.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.defs.quality import LEAD_VERDICTS
from orchestration.defs.resources import DUCKDB_POOL, WarehouseResource
from orchestration.defs.transform import (
    FlywheelDbtTranslator,
    bi_snapshot,
    dbt_project,
    ensure_manifest,
    flywheel_dbt,
)
from orchestration.lib import spark as spark_engine
from orchestration.lib.engine import engine
from orchestration.lib.feeds import FEEDS
from orchestration.lib.publish import publish


def lake_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["lake", name])


# What each lake folder is exported from: the raw feed, or the gate's verdicts.
_LAKE_UPSTREAM = {name: dg.AssetKey(["raw", name]) for name in FEEDS} | {
    "lead_verdicts": LEAD_VERDICTS,
    # written by the orders and survey suites' checks (on raw/orders, raw/survey_answers)
    "row_verdicts": dg.AssetKey(["raw", "orders"]),
}


class SparkDbtTranslator(FlywheelDbtTranslator):
    """On Spark the dbt sources are the lake folders: source raw.orders is lake/orders,
    quality.lead_verdicts is lake/lead_verdicts, so dbt runs after the export."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return lake_key(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)


@dg.multi_asset(
    name="lake_export",
    specs=[
        dg.AssetSpec(
            lake_key(name),
            # Every folder waits for the lead gate too: one consistent export per run.
            deps=sorted({upstream, LEAD_VERDICTS}, key=lambda k: k.to_user_string()),
            group_name="lake",
            kinds={"parquet"},
            description=(
                f"{spark_engine.LAKE_TABLES[name][0]} as Parquet, "
                f"$FLYWHEEL_DATA_DIR/lake/{name}/load_date=YYYY-MM-DD/part_0.parquet: what Spark reads."
            ),
        )
        for name, upstream in _LAKE_UPSTREAM.items()
    ],
    pool=DUCKDB_POOL,
)
def lake_export(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """After ingestion and the (blocking) gate checks: the validated feeds and verdicts to the lake."""
    settings = warehouse.settings()
    with warehouse.session(log=context.log.info) as con:
        result = spark_engine.export_lake(con, settings, log=context.log.info)
    for name in _LAKE_UPSTREAM:
        yield dg.MaterializeResult(
            asset_key=lake_key(name),
            metadata={
                "path": dg.MetadataValue.path(str(result.root / name)),
                "rows": result.rows[name],
                "load_dates": result.partitions[name],
            },
        )


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    name="flywheel_dbt_spark",
    dagster_dbt_translator=SparkDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
    pool=DUCKDB_POOL,
)
def flywheel_dbt_spark(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    """dbt build on Spark (target spark), then the outputs mirrored into the working DuckDB file."""
    settings = warehouse.settings()
    args = ["build", "--target", "spark"]
    if settings.spark_skip_unit_tests:
        # dbt unit tests are engine-independent logic checks, run on DuckDB (make test).
        args += ["--exclude-resource-type", "unit_test"]
    with warehouse.lock(log=context.log.info), spark_engine.dbt_environment(settings):
        invocation = dbt.cli(args, context=context)
        yield from invocation.stream()
        built = {
            r["unique_id"].split(".")[-1]
            for r in invocation.get_artifact("run_results.json").get("results", [])
            if r.get("status") == "success" and r["unique_id"].startswith("model.")
        }
    if built:
        manifest = invocation.get_artifact("manifest.json")
        names = {
            node["alias"]
            for uid, node in manifest["nodes"].items()
            if uid.startswith("model.") and uid.split(".")[-1] in built
        }
        with warehouse.session(log=context.log.info) as con:
            spark_engine.mirror_outputs(con, settings, tables=names, log=context.log.info)


@dg.asset(
    key=bi_snapshot.key,
    group_name="publish",
    deps=list(flywheel_dbt_spark.keys),
    pool=DUCKDB_POOL,
    kinds={"duckdb", "parquet", "spark"},
    description=(
        "Spark engine: the read-only DuckDB file and Parquet folder BI tools open (from the "
        "marts mirrored into DuckDB), or, above FLYWHEEL_SPARK_MIRROR_MAX_ROWS, the Parquet "
        "folder only, linked from Spark's tables. Swapped in atomically."
    ),
)
def bi_snapshot_spark(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    settings = warehouse.settings()
    with warehouse.session(log=context.log.info) as con:
        mirror = spark_engine.mirror_outputs(
            con, settings, schemas=("marts",), log=context.log.info
        )
        if mirror.mirrored:
            result = publish(con, settings, context.run_id)
            meta = {
                "path": str(result.path),
                "parquet_dir": str(result.parquet_dir),
                "tables": result.tables,
            }
        else:
            parquet_dir = spark_engine.publish_parquet_only(settings, context.run_id)
            meta = {
                "path": "not written (large outputs)",
                "parquet_dir": str(parquet_dir),
                "tables": mirror.tables,
            }
    context.log.info(f"published {meta['path']} and {meta['parquet_dir']}")
    return dg.MaterializeResult(
        metadata={
            "path": meta["path"],
            "parquet_dir": meta["parquet_dir"],
            "tables": dg.MetadataValue.json(meta["tables"]),
        }
    )


def spark_assets() -> list[dg.AssetsDefinition]:
    return [lake_export, flywheel_dbt_spark, bi_snapshot_spark]


def duckdb_assets() -> list[dg.AssetsDefinition]:
    return [flywheel_dbt, bi_snapshot]


def engine_assets() -> list[dg.AssetsDefinition]:
    """The transform + publish assets for FLYWHEEL_ENGINE (duckdb by default)."""
    return spark_assets() if engine() == "spark" else duckdb_assets()


def engine_defs() -> dg.Definitions:
    """This module's Definitions: the engine's assets (chosen when definitions load)."""
    return dg.Definitions(assets=engine_assets())
