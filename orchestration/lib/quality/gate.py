"""The gate: watermarks, one transaction per batch, and the entry points
run_suite and run_lead_gate."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging

import duckdb

from orchestration.lib.quality.batch_rules import _validate_batch
from orchestration.lib.quality.gx_runner import _Gx
from orchestration.lib.quality.results import GATE_DDL, GateResult
from orchestration.lib.quality.suites import (
    BLOCKING,
    SUITES,
    WARNING,
    SuiteSpec,
    _parameters,
    load_suite,
    warehouse_now,
)
from orchestration.lib.quality.verdicts import _validate_rows, _write_verdicts
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import bootstrap, lowered_memory_limit

# Named for the package: log filters and records keep the name they had as one module.
log = logging.getLogger(__package__)


def _watermark(con: duckdb.DuckDBPyConnection, feed: str) -> int:
    row = con.execute(
        "select coalesce(max(to_file_id), 0) from quality.gate_runs where feed = ?", [feed]
    ).fetchall()[0]
    return int(row[0])


def _new_watermark(con: duckdb.DuckDBPyConnection, feed: str, wm: int) -> int:
    row = con.execute(
        f"""select greatest(
                (select coalesce(max(file_id), 0) from meta.files where feed = ? and outcome = 'loaded'),
                (select coalesce(max(_file_id), 0) from raw.{feed}),
                ?)""",
        [feed, wm],
    ).fetchall()[0]
    return int(row[0])


def _gate_batch(
    con,
    gxr: _Gx,
    spec: SuiteSpec,
    params: dict,
    wm: int,
    new_wm: int,
    now: dt.datetime,
    batch: str,
    run_id: str,
):
    """Row validation, verdicts, batch rules and the new watermark (one transaction)."""
    feed = spec.feed
    flags, row_result, rows_checked = _validate_rows(con, gxr, spec, params, wm)
    flagged = flags.groupby("expectation")["_k"].count().to_dict() if len(flags) else {}
    rows_flagged = int(flags["_k"].nunique()) if len(flags) else 0

    con.register("_gate_flags", flags)
    try:
        con.execute("begin transaction")
        _write_verdicts(con, spec, run_id, now, wm)
        outcomes = _validate_batch(
            con, gxr, spec, params, wm, now, batch, flagged, run_id, rows_checked
        )
        if outcomes:
            con.executemany(
                """insert into quality.gate_results values
                   (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    [
                        run_id,
                        feed,
                        spec.checkpoint,
                        o.rule,
                        o.severity,
                        o.channel,
                        o.month,
                        o.batch,
                        o.observed,
                        o.threshold,
                        o.reference,
                        o.rows,
                        o.passed,
                        o.message,
                        now,
                    ]
                    for o in outcomes
                ],
            )
        blocking = sum(1 for o in outcomes if not o.passed and o.severity == BLOCKING)
        warns = sum(1 for o in outcomes if not o.passed and o.severity == WARNING)
        con.execute(
            "insert into quality.gate_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                feed,
                spec.checkpoint,
                run_id,
                wm,
                new_wm,
                rows_checked,
                rows_flagged,
                blocking,
                warns,
                blocking == 0,
                now,
            ],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_gate_flags")

    return flags, row_result, rows_checked, outcomes


def run_suite(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    feed: str,
    run_id: str,
    now: dt.datetime | None = None,
    spec: SuiteSpec | None = None,
    build_docs: bool = True,
) -> GateResult:
    """Validate the new batch of a feed with its suite; record verdicts and rule results.

    The watermark advances whether or not the batch passes: a blocked batch's
    bad rows stay quarantined (verdicts), and the next batch is judged on its
    own. Re-checking everything: delete the feed's rows in quality.gate_runs.
    """
    spec = spec or load_suite(SUITES[feed], settings)
    bootstrap(con)
    con.execute(GATE_DDL)
    now = now or warehouse_now(settings)
    params = _parameters(spec, settings, now)
    wm = _watermark(con, feed)
    new_wm = _new_watermark(con, feed, wm)
    batch = f"files {wm + 1}..{new_wm}" if new_wm > wm else f"no new files (after file {wm})"
    docs_dir = settings.data_dir / "gx_data_docs" if build_docs else None
    gxr = _Gx(spec, docs_dir)

    limit_mb = int(spec.thresholds.get("duckdb_memory_limit_mb", 0))
    # The duplicate windows sort the whole batch: bound DuckDB (it spills to disk) so that
    # DuckDB plus the pandas chunks stay within the gate's memory budget, and never above
    # the limit set for the whole warehouse (FLYWHEEL_DUCKDB_MEMORY_LIMIT).
    bounded = (
        lowered_memory_limit(con, limit_mb, settings.duckdb_memory_limit, log=log.warning)
        if limit_mb
        else contextlib.nullcontext()
    )
    with bounded:
        flags, row_result, rows_checked, outcomes = _gate_batch(
            con, gxr, spec, params, wm, new_wm, now, batch, run_id
        )
    flagged = flags.groupby("expectation")["_k"].count().to_dict() if len(flags) else {}
    rows_flagged = int(flags["_k"].nunique()) if len(flags) else 0
    if row_result is not None:
        gxr.store(row_result, run_id, batch, now)
    docs = None
    try:
        docs = gxr.build_docs()
    except Exception as exc:  # docs are for the engineer; the gate's verdict stands
        log.warning("Data Docs build failed: %s", exc)
    verdict_table = "quality.lead_verdicts" if feed == "leads" else "quality.row_verdicts"
    where = (
        f"Where to look: quality.gate_results (run_id '{run_id}'), {verdict_table}"
        + (f", Data Docs {docs}" if docs else "")
        + f"; thresholds in {spec.path.name}."
    )
    return GateResult(
        feed=feed,
        checkpoint=spec.checkpoint,
        run_id=run_id,
        batch=batch,
        from_file_id=wm,
        to_file_id=new_wm,
        rows_checked=rows_checked,
        rows_flagged=rows_flagged,
        flagged_by_expectation={k: int(v) for k, v in flagged.items()},
        outcomes=outcomes,
        checked_at=now,
        data_docs_index=docs,
        where_to_look=where,
    )


def run_lead_gate(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    now: dt.datetime | None = None,
    build_docs: bool = True,
) -> GateResult:
    """The lead quality gate: quarantine bad leads, flag duplicates, judge the batch."""
    return run_suite(con, settings, "leads", run_id, now=now, build_docs=build_docs)
