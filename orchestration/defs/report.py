"""The monthly management report (explorer.report): one HTML file per month, written into
the published folder from the published snapshot, on the 2nd after the daily run."""

import dagster as dg

from orchestration.defs.resources import WarehouseResource

REPORT_JOB = "monthly_report_job"


@dg.op(
    description="Writes published/reports/flywheel-report-YYYY-MM.html for the last complete "
    "month from the published snapshot (tree, why the main metrics moved, channels, CX)."
)
def write_monthly_report(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> str:
    from explorer import report  # Streamlit-free; imported when the job runs

    s = warehouse.settings()
    path = report.write(s.published_path, s.currency)
    context.log.info(f"Monthly report written: {path}")
    context.add_output_metadata({"path": dg.MetadataValue.path(str(path))})
    return str(path)


@dg.job(
    name=REPORT_JOB,
    description="The monthly management report (one offline HTML file) from the published snapshot.",
)
def monthly_report_job():
    write_monthly_report()


monthly_report_schedule = dg.ScheduleDefinition(
    name="monthly_report",
    job=monthly_report_job,
    # The 2nd: a month counts as complete once the data reach past its last day, which
    # the daily run of the 2nd (06:00, loading the 1st) brings; on the 1st the report
    # would be of the month before.
    cron_schedule="0 7 2 * *",
    execution_timezone="UTC",
    description="The management report of the month just ended, at 07:00 UTC on the 2nd, "
    "after the daily run has loaded the month's last day (off by default: switch it on here).",
)

jobs = [monthly_report_job]
schedules = [monthly_report_schedule]
defs = dg.Definitions(jobs=jobs, schedules=schedules)
