"""The customer-experience branch in Dagster: callback export, the live store
file, and one job + schedule per audience over the same assets.

| audience         | job                | cadence                               | work                                   |
|------------------|--------------------|---------------------------------------|----------------------------------------|
| store directors  | cx_store_job       | every 15 min in opening hours         | survey ingest (+ its GX check), dbt tag:cx_store (incremental), live file |
| regional managers| cx_region_job      | daily, after the 06:00 pipeline       | region/store cuts + callback list from the refreshed chain, export, BI snapshot |
| top management   | cx_management_job  | monthly, the 1st                      | cx_management_monthly, BI snapshot     |

Ingestion and the metric chain (metric_values) are refreshed by pipeline_job
(landing sensor, daily 06:00); the region and management jobs only rebuild
their cuts on top of it. The store job is the one that reads new answers
itself, because store directors want minutes-fresh numbers.

This module's `defs` (assets, jobs, schedules) is merged in definitions.py.
"""

import dagster as dg
from dagster_dbt import build_dbt_asset_selection, get_asset_key_for_model

from orchestration.defs.ingest import raw_key
from orchestration.defs.resources import DUCKDB_POOL, WarehouseResource
from orchestration.defs.transform import bi_snapshot, flywheel_dbt
from orchestration.lib.callbacks import export_callbacks, live_path, publish_live
from orchestration.lib.publish import publish_restricted
from orchestration.lib.settings import load_settings

CALLBACK_EXPORT = dg.AssetKey(["restricted", "callback_export"])
STORE_LIVE = dg.AssetKey(["published", "cx_store_live"])
# Schedules need these when the definitions are built, so they are read at import.
_SETTINGS = load_settings()
TIMEZONE = _SETTINGS.timezone
# Opening hours by default: every 15 minutes from 08:00 to 21:45 in FLYWHEEL_TIMEZONE.
STORE_CRON = _SETTINGS.cx_store_cron


@dg.asset(
    key=CALLBACK_EXPORT,
    group_name="cx",
    deps=[get_asset_key_for_model([flywheel_dbt], "restricted_callback_list")],
    pool=DUCKDB_POOL,
    kinds={"csv"},
    description=(
        "The contact centre's callback file restricted/callbacks_<day>.csv (mode 600) from "
        "restricted.callback_list, and the restricted file refreshed. Each answer is exported "
        "once (ledger restricted.callback_exports). Logs and metadata carry counts only."
    ),
)
def callback_export(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    settings = warehouse.settings()
    with warehouse.session(log=context.log.info) as con:
        result = export_callbacks(con, settings)
        publish_restricted(con, settings)
    # Never log rows: they hold contact data. The file name holds only the day.
    context.log.info(f"callback export: {result.rows} answer(s) for {result.callback_day}")
    return dg.MaterializeResult(
        metadata={
            "callback_day": str(result.callback_day),
            "rows": result.rows,
            "already_exported_earlier": result.already_exported_earlier,
            "without_contact": result.without_contact,
            "file": result.path.name if result.path else "none",
        }
    )


@dg.asset(
    key=STORE_LIVE,
    group_name="cx",
    deps=[get_asset_key_for_model([flywheel_dbt], "mart_cx_store_live")],
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    description=(
        "published/cx_store_live.duckdb: the store directors' live cut (marts.cx_store_live) in "
        "its own small read-only file, swapped in atomically every 15 minutes."
    ),
)
def cx_store_live_file(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    settings = warehouse.settings()
    with warehouse.session(log=context.log.info) as con:
        counts = publish_live(con, settings, context.run_id)
    return dg.MaterializeResult(
        metadata={"path": str(live_path(settings)), "tables": dg.MetadataValue.json(counts)}
    )


def _dbt(select: str) -> dg.AssetSelection:
    return build_dbt_asset_selection([flywheel_dbt], dbt_select=select)


cx_store_job = dg.define_asset_job(
    "cx_store_job",
    selection=dg.AssetSelection.assets(raw_key("survey_answers"))
    # The staging view is selected (rebuilt in milliseconds) so that Dagster orders the dbt step
    # after the ingest: with only tag:cx_store the two would have no edge in the job.
    | _dbt("tag:cx_store stg_survey__survey_answers")
    | dg.AssetSelection.assets(STORE_LIVE),
    description="Store directors: new survey answers -> incremental store-day aggregate -> cx_store_live file.",
)

cx_region_job = dg.define_asset_job(
    "cx_region_job",
    selection=_dbt(
        "mart_cx_region_scorecard mart_store_rating mart_store_top_problems restricted_callback_list"
    )
    | dg.AssetSelection.assets(CALLBACK_EXPORT, bi_snapshot.key),
    description="Regional managers and the contact centre: region and store cuts, the callback "
    "list and its CSV, then the BI snapshot (the chain itself comes from pipeline_job).",
)

cx_management_job = dg.define_asset_job(
    "cx_management_job",
    selection=_dbt("mart_cx_management_monthly") | dg.AssetSelection.assets(bi_snapshot.key),
    description="Top management: the monthly CX-next-to-business cut, then the BI snapshot.",
)

cx_store_schedule = dg.ScheduleDefinition(
    name="cx_store_every_15_minutes",
    job=cx_store_job,
    cron_schedule=STORE_CRON,
    execution_timezone=TIMEZONE,
    description="Store directors' NPS every 15 minutes during opening hours (FLYWHEEL_CX_STORE_CRON).",
)

cx_region_schedule = dg.ScheduleDefinition(
    name="cx_region_daily",
    job=cx_region_job,
    cron_schedule="30 6 * * *",
    execution_timezone=TIMEZONE,
    description="Regional managers' cut and the callback CSV, after the 06:00 pipeline.",
)

cx_management_schedule = dg.ScheduleDefinition(
    name="cx_management_monthly",
    job=cx_management_job,
    cron_schedule="0 7 1 * *",
    execution_timezone=TIMEZONE,
    description="Top management's monthly cut on the 1st, after the daily pipeline.",
)

assets = [callback_export, cx_store_live_file]
jobs = [cx_store_job, cx_region_job, cx_management_job]
schedules = [cx_store_schedule, cx_region_schedule, cx_management_schedule]
defs = dg.Definitions(assets=assets, jobs=jobs, schedules=schedules)
