"""Alert sensors: OSS Dagster has no built-in alert on failed checks, so these
read the event log and send through orchestration.lib.alerts.

- `quality_check_alerts`: failed ASSET_CHECK_EVALUATION events (blocking ERROR
  and WARN) since its cursor -> one alert each, with the figures the check put
  in its metadata (alert_title / alert_text) or its description.
- `run_failure_alerts`: any failed run in any code location. A run that failed
  only because a blocking check failed is skipped: that check was alerted
  already.
- `metric_alerts`: when a new snapshot is published, the metric moves its
  rules catch (marts.metric_alerts, docs/alerts.md) go to their owners' routes;
  feeds the snapshot cannot vouch for go to the data route instead.

Every alert goes through the outbox (lib/metric_alerts.Outbox): queued once per
key, route and target, delivered at least once (a failed delivery is retried
with backoff on later ticks of any of these sensors). Quality and run alerts take
the data route. All tick every 30 s (an alert goes out within a minute) and
start RUNNING. Targets come from FLYWHEEL_ALERT_* env vars (lib/alerts and
lib/metric_alerts.route_targets).
"""

import json
import time
from datetime import UTC, datetime, timedelta

import dagster as dg

from orchestration.lib.alerts import Alert
from orchestration.lib.metric_alerts import DATA_ROUTE, Outbox, evaluate_snapshot, outbox_path
from orchestration.lib.settings import load_settings

INTERVAL_S = 30


def _lookback_s() -> int:
    """Without a cursor (first tick ever) only this recent history is alerted."""
    return load_settings().alert_lookback_minutes * 60


def _ui_link(run_id: str) -> str:
    base = load_settings().dagster_url.rstrip("/")
    return f"{base}/runs/{run_id}"


def _outbox() -> Outbox:
    return Outbox(outbox_path(load_settings()))


def _deliver(context, box: Outbox) -> str:
    """Send what is due in the outbox; say what happened, and log what failed."""
    status = box.deliver_due()
    if status.failed_attempts:
        for row in box.rows():
            if row["status"] == "pending" and row["last_error"]:
                context.log.warning(
                    f"alert {row['alert_key']} to {row['target']} not delivered yet "
                    f"(attempt {row['attempts']}): {row['last_error']}"
                )
    return (
        f"outbox: {status.sent} delivered, {status.pending} pending"
        f" ({status.failed_attempts} failed attempt(s) this tick; retried with backoff)"
    )


def _min_severity() -> str:
    return load_settings().alert_min_severity


def check_alert(evaluation, run_id: str) -> Alert:
    """An Alert from a failed asset check evaluation."""
    meta = {k: getattr(v, "value", v) for k, v in (evaluation.metadata or {}).items()}
    is_error = evaluation.severity == dg.AssetCheckSeverity.ERROR
    asset = evaluation.asset_key.to_user_string()
    blocking = " (blocking: downstream stopped)" if is_error and evaluation.blocking else ""
    title = str(meta.get("alert_title") or f"Check {evaluation.check_name} failed on {asset}")
    text = str(
        meta.get("alert_text")
        or evaluation.description
        or f"Asset check {evaluation.check_name} on {asset} failed."
    )
    text += f"\nCheck {asset} / {evaluation.check_name}{blocking}. Run: {_ui_link(run_id)}"
    fields = {"asset": asset, "check": evaluation.check_name, "run": run_id}
    for key in ("batch", "rows_checked", "rows_flagged"):
        if key in meta:
            fields[key] = str(meta[key])
    return Alert(title=title, text=text, severity="error" if is_error else "warning", fields=fields)


@dg.sensor(
    name="quality_check_alerts",
    minimum_interval_seconds=INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts (webhook, email) on every failed asset check: blocking and warnings.",
)
def quality_check_alerts(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    """Per finished run, its failed check evaluations.

    Reading run by run (get_records_for_run) works on every event-log storage,
    including the default run-sharded SQLite one, where a global event query
    with a cursor is refused.
    """
    from dagster._core.events import DagsterEventType

    state = (
        json.loads(context.cursor)
        if context.cursor
        else {"after": time.time() - _lookback_s(), "seen": []}
    )
    seen = list(state["seen"])
    records = context.instance.get_run_records(
        dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.SUCCESS,
                dg.DagsterRunStatus.FAILURE,
                dg.DagsterRunStatus.CANCELED,
            ],
            updated_after=datetime.fromtimestamp(state["after"], tz=UTC) - timedelta(seconds=1),
        ),
        limit=200,
        order_by="update_timestamp",
        ascending=True,
    )
    box = _outbox()
    sent = evaluated = 0
    want_warn = _min_severity() != "error"
    after = state["after"]
    for record in records:
        run_id = record.dagster_run.run_id
        after = max(after, record.update_timestamp.timestamp())
        if run_id in seen:
            continue
        seen.append(run_id)
        events = context.instance.get_records_for_run(
            run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION, limit=10_000
        ).records
        for event in events:
            evaluated += 1
            evaluation = event.event_log_entry.dagster_event.asset_check_evaluation_data
            if evaluation.passed:
                continue
            if evaluation.severity != dg.AssetCheckSeverity.ERROR and not want_warn:
                continue
            key = f"check:{run_id}:{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            box.enqueue(key, DATA_ROUTE, check_alert(evaluation, run_id))
            sent += 1
    context.update_cursor(json.dumps({"after": after, "seen": seen[-500:]}))
    return dg.SkipReason(
        f"{sent} check alert(s) queued from {evaluated} evaluation(s); {_deliver(context, box)}"
    )


def _root_cause(error) -> str:
    """The innermost error message: Dagster wraps user errors in 'Error occurred while...'."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return f"{error.cls_name}: {error.message.strip()}"


def _only_blocking_checks_failed(context: dg.RunFailureSensorContext) -> bool:
    failures = context.get_step_failure_events()
    return bool(failures) and all(
        (f.step_failure_data.error is not None)
        and f.step_failure_data.error.cls_name == "DagsterAssetCheckFailedError"
        for f in failures
    )


@dg.run_failure_sensor(
    name="run_failure_alerts",
    monitor_all_code_locations=True,
    minimum_interval_seconds=INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts (webhook, email) when any run fails.",
)
def run_failure_alerts(context: dg.RunFailureSensorContext):
    if _only_blocking_checks_failed(context):
        return dg.SkipReason(
            "failed on blocking checks only: already alerted by quality_check_alerts"
        )
    run = context.dagster_run
    steps = [f.step_key for f in context.get_step_failure_events() if f.step_key]
    errors = [
        f"{f.step_key}: {_root_cause(f.step_failure_data.error)[:500]}"
        for f in context.get_step_failure_events()
        if f.step_failure_data.error is not None
    ]
    text = (
        f"Run {run.run_id} of job {run.job_name} failed"
        + (f" in step(s) {', '.join(steps)}" if steps else "")
        + ".\n"
        + ("\n".join(errors) if errors else (context.failure_event.message or ""))
        + f"\nLogs: {_ui_link(run.run_id)}"
    )
    alert = Alert(
        title=f"Flywheel run failed: {run.job_name}",
        text=text,
        severity="error",
        fields={"job": run.job_name, "run": run.run_id},
    )
    box = _outbox()
    box.enqueue(f"run:{run.run_id}", DATA_ROUTE, alert)
    context.log.info(_deliver(context, box))


@dg.sensor(
    name="metric_alerts",
    minimum_interval_seconds=INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When a snapshot is published: the metric moves of its alert rules to their "
    "owners' routes (docs/alerts.md); every tick also delivers what the outbox still holds.",
)
def metric_alerts(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    """The cursor is the run id of the last snapshot evaluated: a snapshot is evaluated
    once, and its alerts stay in the outbox until delivered."""
    from orchestration.lib.publish import connect_bi

    settings = load_settings()
    box = _outbox()
    queued = 0
    if settings.published_path.exists():
        con = connect_bi(settings.published_path)
        try:
            (run_id,) = con.execute("select max(run_id) from marts.publish_info").fetchone()
            if run_id and run_id != context.cursor:
                for item in evaluate_snapshot(con, settings.currency):
                    queued += box.enqueue(item.key, item.routes, item.alert)
                context.update_cursor(run_id)
        finally:
            con.close()
    return dg.SkipReason(f"{queued} metric alert deliveries queued; {_deliver(context, box)}")


sensors = [quality_check_alerts, run_failure_alerts, metric_alerts]
defs = dg.Definitions(sensors=sensors)
