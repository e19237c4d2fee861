"""The pipeline job and when it runs: on new landing files, and daily as a safety net."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ingest import landing_fingerprint
from orchestration.lib.settings import load_settings

PIPELINE_JOB = "pipeline_job"

pipeline_job = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.all(),
    description="ingest -> quality gate -> dbt build (with tests) -> publish",
)


@dg.sensor(
    job=pipeline_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Runs the pipeline when files in FLYWHEEL_LANDING_DIR appear or change "
    "(checked every minute; off by default: switch it on here).",
)
def landing_sensor(context: dg.SensorEvaluationContext):
    """Start the pipeline when files in the landing folder appear or change.

    The cursor is a fingerprint of paths, sizes and mtimes, so the sensor never
    opens DuckDB (a reader would block the writer). Ingestion itself decides
    per file, by content hash, what is new.
    """
    fingerprint = landing_fingerprint(load_settings().landing_dir)
    if fingerprint == context.cursor:
        return dg.SkipReason("no new or changed landing files")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=f"landing-{fingerprint[:16]}")


daily_schedule = dg.ScheduleDefinition(
    name="daily_pipeline",
    job=pipeline_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    description="The whole pipeline at 06:00 UTC, even when no sensor fired "
    "(off by default: switch it on here).",
)

defs = dg.Definitions(jobs=[pipeline_job], schedules=[daily_schedule], sensors=[landing_sensor])
