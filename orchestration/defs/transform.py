"""dbt models as Dagster assets (staging, intermediate, marts), and the publish step."""

import contextlib
import fcntl
import io
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.asset_utils import default_description_fn
from packaging.version import Version

from orchestration.defs.resources import DUCKDB_POOL, WarehouseResource
from orchestration.lib.dbt_project import newest_source_mtime, prune_run_targets
from orchestration.lib.publish import publish
from orchestration.lib.settings import PROJECT_ROOT
from orchestration.lib.warehouse import bootstrap, connect

DBT_DIR = PROJECT_ROOT / "dbt_project"
dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def ensure_manifest(project_dir: Path = DBT_DIR) -> Path:
    """Parse the dbt project when its manifest is missing or older than any source file.

    `dagster dev` would do this via prepare_if_dev(); `make run`, tests and
    schedules load definitions without it, so do it here (a few seconds, offline).
    One process parses at a time (a lock beside the manifest): two processes loading
    definitions at once (the test workers, a run beside the UI) would otherwise read
    a manifest.json the other is still writing.
    """
    target = project_dir / "target"
    manifest = target / "manifest.json"

    target.mkdir(parents=True, exist_ok=True)
    with (target / ".parse.lock").open("w") as lock:
        # checked under the lock too: a manifest being written already has a new mtime
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.exists() and manifest.stat().st_mtime >= newest_source_mtime(project_dir):
            return manifest
        from dbt.cli.main import dbtRunner

        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        res = dbtRunner().invoke(
            [
                "parse",
                "--project-dir",
                str(project_dir),
                "--profiles-dir",
                str(project_dir),
                "--quiet",
            ]
        )
    if not res.success:
        raise RuntimeError(f"dbt parse failed: {res.exception}")
    return manifest


class DbtOutput(io.TextIOBase):
    """What a person reads of a dbt build: a progress line per quarter of the nodes,
    every warning and failure with its details, and dbt's summary. dagster-dbt echoes
    each of dbt's node lines to stdout (750 lines a run); those are kept and reach the
    run's debug log as one event at the end (`debug_text`), not 750: each Dagster event
    is a SQLite write of its own (about 10 ms of CPU on DAGSTER_HOME's storage)."""

    NODE = re.compile(r"^\s*(\d+) of (\d+) (START|OK|PASS|SKIP|NO-OP|WARN|ERROR|FAIL)\b")
    CHATTER = re.compile(
        r"^\s*$|^\s*(Running with dbt|Registered adapter|Found \d|Concurrency:|"
        r"Unable to do partial parsing|Finished running|Completed successfully|"
        r"Update your versions|Encountered an error loading local configuration)"
    )

    def __init__(self, out) -> None:
        super().__init__()
        self.out = out
        self.buffer = ""
        self.shown_quarter = 0
        self.quiet: list[str] = []

    def debug(self, line: str) -> None:
        self.quiet.append(line)

    def debug_text(self) -> str:
        """dbt's lines that were not shown, in order (with a line still unterminated)."""
        return "\n".join([*self.quiet, self.buffer] if self.buffer else self.quiet)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.buffer += text
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            self._line(line)
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def _line(self, line: str) -> None:
        node = self.NODE.match(line)
        if node:
            done, total, status = int(node[1]), int(node[2]), node[3]
            if status in ("WARN", "ERROR", "FAIL"):
                self.out.write(line + "\n")
            else:
                self.debug(line)
            if total < 8 or status == "START":
                return  # the on-run-start hooks count 1 of 1; only nodes show progress
            quarter = 4 * done // total
            if quarter > self.shown_quarter:
                self.shown_quarter = quarter
                self.out.write(f"dbt build: {done} of {total} nodes done\n")
            return
        if self.CHATTER.match(line):
            self.debug(line)
            return
        self.out.write(line + "\n")


def with_row_counts(events: list, manifest: Mapping[str, Any], settings) -> Iterator:
    """The build's events, each table model's output with its row count (dagster/row_count,
    shown on the asset page). Counted once dbt has finished and let go of the file; views
    are not counted (that would run them)."""
    relations = {}
    for event in events:
        if isinstance(event, dg.Output):
            uid = event.metadata.get("unique_id")
            node = manifest["nodes"].get(getattr(uid, "value", uid)) if uid else None
            if node and node["config"].get("materialized") in ("table", "incremental"):
                relations[event.output_name] = f"{node['schema']}.{node['alias']}"
    counts: dict[str, int] = {}
    if relations:
        with contextlib.closing(connect(settings, read_only=True)) as con:
            for output, relation in relations.items():
                counts[output] = con.execute(f"select count(*) from {relation}").fetchone()[0]
    for event in events:
        if isinstance(event, dg.Output) and event.output_name in counts:
            event = event.with_metadata(
                {
                    **event.metadata,
                    "dagster/row_count": dg.MetadataValue.int(counts[event.output_name]),
                }
            )
        yield event


def full_refresh_requests(settings) -> list[tuple]:
    """(requested_at, reason) of the retractions the models have not been rebuilt for."""
    with contextlib.closing(connect(settings)) as con:
        bootstrap(con)
        return con.execute(
            "select requested_at, reason from meta.full_refresh_requests order by requested_at"
        ).fetchall()


def clear_full_refresh_requests(settings, until) -> None:
    with contextlib.closing(connect(settings)) as con:
        con.execute("delete from meta.full_refresh_requests where requested_at <= $t", {"t": until})


def describe_dbt_test(test: Mapping[str, Any]) -> str:
    """What a dbt test asserts, in a sentence: generic tests from their name and arguments,
    singular tests from the comment their SQL starts with."""
    meta = test.get("test_metadata") or {}
    kwargs = meta.get("kwargs") or {}
    column = kwargs.get("column_name") or test.get("column_name")
    name = meta.get("name")
    if name == "not_null":
        return f"{column} is never null."
    if name == "unique":
        return f"{column} is unique: no value occurs twice."
    if name == "accepted_values":
        values = ", ".join(str(v) for v in kwargs.get("values", []))
        return f"{column} takes only the values {values}."
    if name == "relationships":
        to = re.sub(r"^ref\('([^']+)'\)$", r"\1", str(kwargs.get("to", "")))
        severity = test.get("config", {}).get("severity", "error").lower()
        note = " (a warning, not a failure)" if severity == "warn" else ""
        return f"Every {column} is a {kwargs.get('field')} of {to}{note}."
    if name == "unique_combination_of_columns":
        cols = ", ".join(kwargs.get("combination_of_columns", []))
        return f"No two rows share ({cols})."
    if name:
        args = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "model")
        return f"dbt test {name}({args})."
    # A singular test: its leading SQL comment says what it checks.
    comment = [
        line.strip().lstrip("-").strip()
        for line in (test.get("raw_code") or "").splitlines()
        if line.strip().startswith("--")
    ]
    head = []
    for line in comment:
        head.append(line)
        if line.endswith("."):
            break
    return " ".join(head) or f"dbt test {test.get('name')}: returns no rows when it holds."


class FlywheelDbtTranslator(DagsterDbtTranslator):
    """Sources keep the key of the asset that writes them: raw/<feed>, quality/lead_verdicts."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """The model's description from its yml; the SQL is a click away in dbt docs."""
        return default_description_fn(dbt_resource_props, display_raw_sql=False)

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        """dbt tests as checks, each described by what it asserts."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=describe_dbt_test(manifest["nodes"][unique_id]))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        return fqn[1] if len(fqn) > 2 else "dbt"


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=FlywheelDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
    pool=DUCKDB_POOL,
)
def flywheel_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    """dbt build: seeds, models and their data tests, in dependency order.

    dbt unit tests check SQL logic on fixed inputs, not the data: they do not
    change from run to run, so `make test` runs them (tests/dbt) and the
    production build leaves them out (about 10 s of every run).
    """
    settings = warehouse.settings()
    # dbt runs in its project folder: hand it absolute settings, not cwd-relative defaults.
    os.environ["FLYWHEEL_DATA_DIR"] = str(settings.data_dir)
    os.environ["FLYWHEEL_TIMEZONE"] = settings.timezone
    os.environ["FLYWHEEL_CURRENCY"] = settings.currency
    with warehouse.lock(log=context.log.info):
        requested = full_refresh_requests(settings)
        args = ["build", "--exclude-resource-type", "unit_test"]
        if requested:
            context.log.info(
                "full refresh (rows were retracted; incremental models cannot see a removed row): "
                + "; ".join(reason for _, reason in requested)
            )
            args.append("--full-refresh")
        if not sys.stdout.isatty():
            os.environ["DBT_USE_COLORS"] = "false"  # no ANSI codes in a piped log
        events: list = []
        output = DbtOutput(sys.stdout)
        invocation = None
        try:
            with contextlib.redirect_stdout(output):
                invocation = dbt.cli(args, context=context)
                events.extend(invocation.stream())
        except Exception:
            # A failed build: what dbt reported before it stopped (the failed tests as
            # check results, for the alert sensor) still reaches Dagster, uncounted.
            yield from events
            raise
        finally:
            context.log.debug(f"dbt's node lines:\n{output.debug_text()}")
            if invocation is not None:  # this build's folder is one of the newest: kept
                prune_run_targets(
                    invocation.target_path.parent, prefix=context.op_execution_context.op.name
                )
        yield from with_row_counts(events, invocation.manifest, settings)
        if requested:
            clear_full_refresh_requests(settings, max(at for at, _ in requested))


@dg.asset(
    key=dg.AssetKey(["published", "bi_snapshot"]),
    group_name="publish",
    deps=list(flywheel_dbt.keys),
    pool=DUCKDB_POOL,
    kinds={"duckdb", "parquet"},
    description=(
        "The read-only DuckDB file and Parquet folder BI tools open, swapped in atomically. "
        "Runs only when ingestion, the quality gate and dbt build (with tests) succeeded; "
        "the new file is audited (contract tables, row counts and checksums, tree invariants, "
        "no clear PII) before the swap."
    ),
)
def bi_snapshot(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Write-audit-publish (orchestration/lib/publish.py): a failed audit raises before the swap."""
    context.log.info("publishing: write a new snapshot, audit it, then swap it in")
    with warehouse.session(log=context.log.info) as con:
        result = publish(con, warehouse.settings(), context.run_id)
    if result.cleaned:
        context.log.info(
            f"removed leftovers of an interrupted publish: {', '.join(result.cleaned)}"
        )
    audit = result.audit
    context.log.info(
        f"audit passed: {len(result.tables)} tables equal to the warehouse, "
        f"{audit.varchar_columns_scanned} text columns scanned, {audit.pii_values_found} clear PII values"
    )
    context.log.info(f"published {result.path} and {result.parquet_dir}")
    return dg.MaterializeResult(
        metadata={
            "path": str(result.path),
            "parquet_dir": str(result.parquet_dir),
            "tables": dg.MetadataValue.json(result.tables),
            "audit_varchar_columns_scanned": audit.varchar_columns_scanned,
            "audit_pii_values_found": audit.pii_values_found,
            "stale_files_removed": len(result.cleaned),
        }
    )


# The dbt next to this interpreter: `.venv/bin/python -m ...` works without an activated venv.
_DBT_EXE = Path(sys.executable).with_name("dbt")


class FlywheelDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two start-up costs that every run paid for nothing.

    Before each `dbt build`, dagster-dbt 0.29 runs `dbt --version` in a subprocess
    to learn the CLI's version (1.8 to 2.5 s here: a whole dbt import), and loads
    dbt's profile, project, adapter and macros in this process (0.5 to 1.2 s) for
    the row-count and column metadata that `.fetch_row_counts()` and
    `.fetch_column_metadata()` add. This project calls neither, and the dbt it
    runs is the one installed beside this interpreter, whose version the package
    metadata gives. tests/unit/test_dbt_resource.py checks both against
    the real thing, and that the names overridden here still exist upstream.
    """

    @cached_property
    def _cli_version(self) -> Version:
        if Path(self.dbt_executable) == _DBT_EXE:
            return Version(installed_version("dbt-core"))
        return super()._cli_version  # another dbt on PATH: ask it

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None  # only the metadata fetchers use it (see the class docstring)


dbt_resource = FlywheelDbtCliResource(
    project_dir=dbt_project,
    profiles_dir=str(DBT_DIR),
    dbt_executable=str(_DBT_EXE) if _DBT_EXE.exists() else "dbt",
)
