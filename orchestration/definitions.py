"""The single Definitions object: each module of orchestration/defs exports its own
Definitions (its assets, checks, jobs, schedules and sensors, a job beside its
schedules); this merges them and adds the resources."""

import dagster as dg

from orchestration.defs import alerts, cx, ingest, quality, report, schedules, spark
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.transform import dbt_resource

defs = dg.Definitions.merge(
    ingest.defs,
    quality.defs,
    spark.engine_defs(),
    cx.defs,
    report.defs,
    schedules.defs,
    alerts.defs,
    dg.Definitions(resources={"warehouse": WarehouseResource(), "dbt": dbt_resource}),
)
