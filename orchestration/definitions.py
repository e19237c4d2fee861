"""The single Definitions object: assets, checks, jobs, schedules, sensors, resources."""

import dagster as dg

from orchestration.defs import alerts as alert_defs
from orchestration.defs import cx
from orchestration.defs import quality as quality_defs
from orchestration.defs import report as report_defs
from orchestration.defs.ingest import ingest_assets, ingest_job
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.schedules import PIPELINE_JOB, daily_schedule, landing_sensor
from orchestration.defs.spark import engine_assets
from orchestration.defs.transform import dbt_resource

pipeline_job = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.all(),
    description="ingest -> quality gate -> dbt build (with tests) -> publish",
)

defs = dg.Definitions(
    assets=[*ingest_assets, *quality_defs.assets, *engine_assets(), *cx.assets],
    asset_checks=[*quality_defs.asset_checks],
    jobs=[ingest_job, pipeline_job, *cx.jobs, *report_defs.jobs],
    schedules=[daily_schedule, *cx.schedules, *report_defs.schedules],
    sensors=[landing_sensor, *alert_defs.sensors],
    resources={"warehouse": WarehouseResource(), "dbt": dbt_resource},
)
