"""The single Definitions object: assets, checks, jobs, schedules, sensors, resources."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ingest import ingest_assets, ingest_job
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.schedules import PIPELINE_JOB, daily_schedule, landing_sensor

pipeline_job = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.all(),
    description="ingest -> quality gate -> dbt build -> publish",
)

defs = dg.Definitions(
    assets=[*ingest_assets],
    jobs=[ingest_job, pipeline_job],
    schedules=[daily_schedule],
    sensors=[landing_sensor],
    resources={"warehouse": WarehouseResource()},
)
