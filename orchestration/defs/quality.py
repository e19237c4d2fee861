"""The quality gate in Dagster: asset checks between raw and the models.

- quality/lead_verdicts (group "quality", downstream of raw/leads) runs the lead
  gate and carries two checks: `lead_gate_blocking` (blocking: a failure stops
  the lead-dependent dbt models, which read the dbt source quality.lead_verdicts
  mapped to this key, and the publish step) and `lead_gate_warnings` (WARN, the
  run goes on). Both show their figures in the UI.
- orders and survey answers get the lighter suites as blocking checks on their
  raw assets, built by the same factory from the same library function.
The sensors in defs/alerts.py turn failed checks into alerts.
"""

import dagster as dg

from orchestration.defs.resources import DUCKDB_POOL as POOL
from orchestration.defs.resources import WarehouseResource
from orchestration.lib import quality
from orchestration.lib.settings import Settings

RAW_LEADS = dg.AssetKey(["raw", "leads"])
LEAD_VERDICTS = dg.AssetKey(["quality", "lead_verdicts"])
LEAD_GATE_BLOCKING = "lead_gate_blocking"
LEAD_GATE_WARNINGS = "lead_gate_warnings"


def _failures_md(outcomes: list[quality.RuleOutcome]) -> str:
    if not outcomes:
        return "none"
    lines = [
        "| rule | group | month | observed | threshold | message |",
        "|---|---|---|---|---|---|",
    ]
    for o in outcomes[:50]:
        obs = "" if o.observed is None else f"{o.observed:.4g}"
        thr = "" if o.threshold is None else f"{o.threshold:.4g}"
        msg = o.message.replace("|", "/")
        lines.append(f"| {o.rule} | {o.channel} | {o.month or ''} | {obs} | {thr} | {msg} |")
    return "\n".join(lines)


def data_docs_url(settings: Settings) -> str:
    """Where `make gx-docs` serves the Data Docs site (FLYWHEEL_DATA_DOCS_URL overrides)."""
    return settings.data_docs_url.rstrip("/") + "/index.html"


def gate_metadata(
    result: quality.GateResult, severity: str, settings: Settings
) -> dict[str, dg.MetadataValue]:
    """Figures shown on the check in the UI; the alert sensor reads alert_title/alert_text."""
    items = result.blocking_failures if severity == quality.BLOCKING else result.warnings
    meta: dict[str, dg.MetadataValue] = {
        "batch": dg.MetadataValue.text(result.batch),
        "rows_checked": dg.MetadataValue.int(result.rows_checked),
        "rows_flagged": dg.MetadataValue.int(result.rows_flagged),
        "flagged_by_expectation": dg.MetadataValue.json(result.flagged_by_expectation),
        "failed_rules": dg.MetadataValue.int(len(items)),
        "failures": dg.MetadataValue.md(_failures_md(items)),
        "thresholds_file": dg.MetadataValue.path(str(quality.expectations_dir(settings))),
    }
    rules = {o.rule for o in result.outcomes if o.severity == severity}
    for rule in sorted(rules):
        figures = result.figures(rule)
        if figures and len(figures) <= 200:
            meta[f"{rule}_by_group"] = dg.MetadataValue.json(figures)
    if result.data_docs_index:
        # A browser does not follow a file:// link from the UI: the site over http
        # (make gx-docs serves it), and the file for those on the machine.
        meta["data_docs"] = dg.MetadataValue.url(data_docs_url(settings))
        meta["data_docs_file"] = dg.MetadataValue.path(
            result.data_docs_index.removeprefix("file://")
        )
    alert = result.to_alert(severity)
    if alert is not None:
        meta["alert_title"] = dg.MetadataValue.text(alert.title)
        meta["alert_text"] = dg.MetadataValue.text(alert.text)
    return meta


def gate_check_result(
    result: quality.GateResult,
    check_name: str,
    severity: str,
    settings: Settings,
    asset_key: dg.AssetKey | None = None,
) -> dg.AssetCheckResult:
    """One check result per severity: blocking rules -> ERROR, warnings -> WARN."""
    items = result.blocking_failures if severity == quality.BLOCKING else result.warnings
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=not items,
        severity=dg.AssetCheckSeverity.ERROR
        if severity == quality.BLOCKING
        else dg.AssetCheckSeverity.WARN,
        description=result.summary(severity)[:4000],
        metadata=gate_metadata(result, severity, settings),
    )


def _run_gate(warehouse: WarehouseResource, feed: str, run_id: str, log) -> quality.GateResult:
    with warehouse.session(log=log) as con:
        return quality.run_suite(con, warehouse.settings(), feed, run_id)


def _progress(result: quality.GateResult) -> str:
    """The gate's one line in a run's output."""
    verdict = (
        f"BLOCKED by {len(result.blocking_failures)} rule(s)"
        if result.blocking_failures
        else "passed"
    ) + (f", {len(result.warnings)} warning(s)" if result.warnings else "")
    return (
        f"[gate] {result.checkpoint}: {result.rows_checked:,} new rows checked, "
        f"{result.rows_flagged:,} flagged; {verdict}"
    )


@dg.asset(
    key=LEAD_VERDICTS,
    group_name="quality",
    deps=[RAW_LEADS],
    pool=POOL,
    description=(
        "Lead quality gate (Great Expectations, expectations/leads_gate.json): one row per "
        "flagged lead of the new batch with the expectation it failed. Leads with a "
        "non-duplicate verdict are quarantined from staging; duplicates stay, counted once."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            LEAD_GATE_BLOCKING,
            asset=LEAD_VERDICTS,
            blocking=True,
            description="Blocking rules: invalid-row share per channel, schema drift "
            "(and freshness with FLYWHEEL_ON_STALE=block).",
        ),
        dg.AssetCheckSpec(
            LEAD_GATE_WARNINGS,
            asset=LEAD_VERDICTS,
            description="Warnings: duplicate share, qualification rate and volume vs trailing "
            "months per channel and month, freshness (a stale source) unless FLYWHEEL_ON_STALE=block.",
        ),
    ],
)
def lead_verdicts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    settings = warehouse.settings()
    result = _run_gate(warehouse, "leads", context.run_id, context.log.info)
    context.log.info(_progress(result))
    for o in result.blocking_failures:
        context.log.error(o.message)
    for o in result.warnings:
        context.log.warning(o.message)
    return dg.MaterializeResult(
        metadata={
            "batch": dg.MetadataValue.text(result.batch),
            "rows_checked": dg.MetadataValue.int(result.rows_checked),
            "rows_flagged": dg.MetadataValue.int(result.rows_flagged),
            "invalid_share_by_channel": dg.MetadataValue.json(result.figures("invalid_share")),
        },
        check_results=[
            gate_check_result(result, LEAD_GATE_BLOCKING, quality.BLOCKING, settings),
            gate_check_result(result, LEAD_GATE_WARNINGS, quality.WARNING, settings),
        ],
    )


def suite_check(feed: str) -> dg.AssetChecksDefinition:
    """The lighter suite of a feed as checks on its raw asset (same gate code): the
    blocking rules as a blocking check, the warnings (a stale source by default) as a
    WARN check beside it, so that both reach the alert sensor."""
    checkpoint = quality.SUITES[feed]
    asset_key = dg.AssetKey(["raw", feed])
    warnings_name = f"{checkpoint}_warnings"

    @dg.multi_asset_check(
        name=f"{checkpoint}_checks",
        specs=[
            dg.AssetCheckSpec(
                checkpoint,
                asset=asset_key,
                blocking=True,
                description=f"Great Expectations suite expectations/{checkpoint}.json on the new "
                f"batch of raw.{feed}: keys, codes, ranges; invalid share and schema drift block "
                "(freshness too with FLYWHEEL_ON_STALE=block).",
            ),
            dg.AssetCheckSpec(
                warnings_name,
                asset=asset_key,
                description=f"Warnings of expectations/{checkpoint}.json: a stale source "
                "(newest row older than freshness_max_hours) unless FLYWHEEL_ON_STALE=block.",
            ),
        ],
        pool=POOL,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        settings = warehouse.settings()
        result = _run_gate(warehouse, feed, context.run.run_id, context.log.info)
        context.log.info(_progress(result))
        for o in result.blocking_failures:
            context.log.error(o.message)
        for o in result.warnings:
            context.log.warning(o.message)
        yield gate_check_result(result, checkpoint, quality.BLOCKING, settings, asset_key)
        yield gate_check_result(result, warnings_name, quality.WARNING, settings, asset_key)

    return _check


assets = [lead_verdicts]
asset_checks = [suite_check("orders"), suite_check("survey_answers")]
defs = dg.Definitions(assets=assets, asset_checks=asset_checks)
