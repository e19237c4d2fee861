"""Ingestion assets: one per landing feed, in the `ingest` group."""

import hashlib
import json

import dagster as dg

from orchestration.defs.resources import DUCKDB_POOL, WarehouseResource
from orchestration.lib.feeds import FEEDS
from orchestration.lib.ingest import discover, ingest_feed


def raw_key(feed: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", feed])


def _make_ingest_asset(feed_name: str) -> dg.AssetsDefinition:
    feed = FEEDS[feed_name]
    key = raw_key(feed_name)

    @dg.asset(
        key=key,
        group_name="ingest",
        pool=DUCKDB_POOL,
        kinds={"duckdb"},
        description=(
            f"raw.{feed_name}: contract-valid rows of landing/{feed_name}/ "
            f"(primary key {', '.join(feed.primary_key)}; latest file wins). "
            "Bad rows go to meta.quarantine, every file to meta.files."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                "files_reconciled",
                asset=key,
                blocking=True,
                description="For every file: rows in = loaded + quarantined.",
            ),
            dg.AssetCheckSpec(
                "no_rejected_files",
                asset=key,
                description="No file rejected whole (missing required column, empty) and no path refused.",
            ),
        ],
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        with warehouse.session(log=context.log.info) as con:
            report = ingest_feed(
                con,
                warehouse.settings(),
                feed_name,
                context.run_id,
                log=context.log.info,
                detail=context.log.debug,
            )
            ts = feed.timestamp_column
            total_rows, newest = con.execute(
                f"select count(*), {f'max({ts})' if ts else 'null'} from raw.{feed_name}"
            ).fetchone()
        new = [f for f in report.files if f.outcome != "skipped"]
        unreconciled = [f.path for f in new if not f.reconciled]
        problems = [f"{f.path}: {f.reason}" for f in report.rejected_files] + report.refused
        for p in problems:
            context.log.warning(p)
        by_rule: dict[str, int] = {}
        for f in new:
            for rule, n in f.quarantined_by_rule.items():
                by_rule[rule] = by_rule.get(rule, 0) + n
        yield dg.MaterializeResult(
            metadata={
                "files_new": len(new),
                "files_loaded": sum(f.outcome == "loaded" for f in new),
                "files_duplicate_content": sum(f.outcome == "duplicate_content" for f in new),
                "files_rejected": len(report.rejected_files),
                "paths_refused": len(report.refused),
                "rows_in": sum(f.rows_in for f in new),
                "rows_loaded": sum(f.rows_loaded for f in new),
                "rows_replaced": sum(f.rows_replaced for f in new),
                "rows_quarantined": sum(f.rows_quarantined for f in new),
                "quarantined_by_rule": dg.MetadataValue.json(by_rule),
                "rows_in_table": total_rows,
                "dagster/row_count": dg.MetadataValue.int(total_rows),
                **(
                    {"newest_data_at": dg.MetadataValue.text(f"{newest:%Y-%m-%d %H:%M}")}
                    if newest is not None
                    else {}
                ),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="files_reconciled",
                    passed=not unreconciled,
                    metadata={"unreconciled_files": json.dumps(unreconciled)},
                ),
                dg.AssetCheckResult(
                    check_name="no_rejected_files",
                    passed=not problems,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={
                        "problems": dg.MetadataValue.md(
                            "\n".join(f"- {p}" for p in problems) or "none"
                        )
                    },
                ),
            ],
        )

    _ingest.__name__ = f"ingest_{feed_name}"
    return _ingest


ingest_assets = [_make_ingest_asset(name) for name in FEEDS]

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingest"),
    description="Load new landing files into raw.* (no models).",
)

defs = dg.Definitions(assets=ingest_assets, jobs=[ingest_job])


def landing_fingerprint(landing_dir) -> str:
    """Cheap change detector over the landing folder (paths, sizes, mtimes); never opens DuckDB."""
    parts = []
    for feed in FEEDS:
        files, _ = discover(landing_dir, feed)
        for p in files:
            st = p.stat()
            parts.append(f"{p.relative_to(landing_dir).as_posix()}:{st.st_size}:{int(st.st_mtime)}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
