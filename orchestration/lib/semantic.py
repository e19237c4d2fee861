"""The semantic layer on the published snapshot: MetricFlow queries by metric name.

The semantic models and metrics are dbt YAML (dbt_project/models/marts/semantic/,
docs/bi.md "Asking the semantic layer"). MetricFlow's own CLI (`mf`, from
dbt-metricflow) runs them on the warehouse through dbt's profile, which needs the
writer's file and so waits for a pipeline run to end. This module runs the same
MetricFlow engine on the file BI opens: the published snapshot, read-only, with
the BI session settings, so a query never blocks or sees a half-built mart.

How: `dbt parse` writes the semantic manifest (into <data>/semantic, not dbt's own
target folder); a small DuckDB client attaches the snapshot read-only under the
database name the manifest's relations carry ("warehouse", the warehouse file's
stem), so MetricFlow's SQL reads the published tables unchanged.
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib import metric_registry
from orchestration.lib.callbacks import spreadsheet_safe
from orchestration.lib.dbt_project import newest_source_mtime
from orchestration.lib.publish import connect_bi
from orchestration.lib.settings import Settings, load_settings

MANIFEST_NAME = "semantic_manifest.json"
# The reader's own DuckDB instance is bounded like the explorer's (explorer/snapshot.py),
# so a large question never starves a pipeline run on the same machine.
READER_CONFIG = {"memory_limit": "1GB", "threads": "2"}


STALE_SNAPSHOT = (
    "{snapshot} lacks what the semantic models read ({what}): it was published by an older"
    " version of the project. Run the pipeline once (make run, or make demo) to publish a"
    " new snapshot, then ask again."
)


class SemanticLayerError(Exception):
    """A query the semantic layer cannot answer, with what to do about it."""


def _manifest_dir(settings: Settings) -> Path:
    """<data>/semantic, or a folder of this user's when the data folder is not writable
    (a BI user with read access to the published snapshot only)."""
    target = settings.data_dir / "semantic"
    try:
        target.mkdir(parents=True, exist_ok=True)
        probe = target / ".writable"
        probe.touch()
        probe.unlink()
        return target
    except OSError:
        own = Path(tempfile.gettempdir()) / f"flywheel-semantic-{os.getuid()}"
        own.mkdir(mode=0o700, exist_ok=True)
        return own


def manifest_path(settings: Settings) -> Path:
    """The semantic manifest of the project as it is now: `dbt parse` when it is older
    than any model, macro or project file (a few seconds; nothing is built or read).
    One parse at a time per folder (a lock), so a second caller never reads a
    manifest being written."""
    target = _manifest_dir(settings)
    path = target / MANIFEST_NAME
    project = settings.dbt_project_dir
    with (target / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists() and path.stat().st_mtime >= newest_source_mtime(project):
            return path
        dbt = Path(sys.executable).with_name("dbt")
        cmd = [str(dbt) if dbt.exists() else "dbt", "parse", "--quiet",
               "--project-dir", str(project), "--profiles-dir", str(project),
               "--target-path", str(target)]  # fmt: skip
        env = {**os.environ, "FLYWHEEL_DATA_DIR": str(settings.data_dir)}
        done = subprocess.run(cmd, env=env, cwd=project, capture_output=True, text=True)
    if done.returncode or not path.exists():
        raise SemanticLayerError(
            "dbt parse failed, so there is no semantic manifest to query with:\n"
            + (done.stdout + done.stderr).strip()
        )
    return path


def load_manifest(path: Path):
    from metricflow_semantics.model.dbt_manifest_parser import (
        parse_manifest_from_dbt_generated_manifest,
    )

    return parse_manifest_from_dbt_generated_manifest(manifest_json_string=path.read_text())


def _semantic_yaml(project: Path, key: str) -> dict[str, dict]:
    """{name: definition} of every `metrics` or `semantic_models` entry in the models' YAML."""
    import yaml

    found: dict[str, dict] = {}
    for path in sorted((project / "models").rglob("*.yml")):
        for item in (yaml.safe_load(path.read_text()) or {}).get(key) or []:
            found[item["name"]] = item
    return found


def _semantic_metrics(project: Path) -> dict[str, dict]:
    return _semantic_yaml(project, "metrics")


def _ref(value) -> str | None:
    """A metric or measure reference: a name, or {name: ..., filter: ...}."""
    return value.get("name") if isinstance(value, dict) else value


def catalog_mismatches(project: Path, metrics: dict[str, dict] | None = None) -> list[str]:
    """Where a semantic metric's formula differs from the metric catalog's.

    The catalog is the registry: a semantic metric named like a catalog metric must
    have its formula. A sum is the simple metric of the component it sums; a ratio
    divides the catalog's numerator by its denominator; an expression is a derived
    metric with the same text. Every other semantic metric must be a catalog
    component, or a derived metric that spells a catalog numerator (nps_points).
    A ratio whose parts come from different semantic models must be one the catalog
    marks strict: elsewhere the catalog counts a missing part as 0, and MetricFlow
    would give no value. This compares formulas, not the SQL of each measure: that a
    component means what the catalog's does is what tests/integration/
    test_semantic_layer.py shows on data."""
    catalog, components = metric_registry.catalog(project)
    metrics = _semantic_metrics(project) if metrics is None else metrics
    measure_model = {
        measure["name"]: model_name
        for model_name, model in _semantic_yaml(project, "semantic_models").items()
        for measure in model.get("measures") or []
    }
    numerators = {e["numerator"] for e in catalog.values()}

    def formula(name: str | None) -> str | None:
        m = metrics.get(name)
        if m is None:
            return None
        params = m.get("type_params") or {}
        if m["type"] == "simple":
            return _ref(params.get("measure"))
        if m["type"] == "derived":
            return " ".join(str(params.get("expr", "")).split())
        return None

    def models(name: str | None, seen: frozenset = frozenset()) -> set[str]:
        m = metrics.get(name)
        if m is None or name in seen:
            return set()
        params = m.get("type_params") or {}
        if m["type"] == "simple":
            return {measure_model.get(_ref(params.get("measure")), "?")}
        parts = [_ref(x) for x in params.get("metrics") or []]
        parts += [_ref(params.get("numerator")), _ref(params.get("denominator"))]
        return set().union(*(models(p, seen | {name}) for p in parts if p))

    problems = []
    for name, m in sorted(metrics.items()):
        params = m.get("type_params") or {}
        entry = catalog.get(name)
        if entry is None:
            if not (name in components or (m["type"] == "derived" and formula(name) in numerators)):
                problems.append(f"{name}: neither a catalog metric nor a component of one")
            continue
        if entry.get("scale", 1) != 1 or entry.get("is_median"):
            problems.append(f"{name}: the catalog scales it or takes a median; MetricFlow cannot")
            continue
        want_n = " ".join(entry["numerator"].split())
        if "denominator" in entry:
            numerator, denominator = _ref(params.get("numerator")), _ref(params.get("denominator"))
            got = (m["type"], formula(numerator), formula(denominator))
            want = ("ratio", want_n, entry["denominator"])
            if not entry.get("strict") and models(numerator) != models(denominator):
                problems.append(
                    f"{name}: its parts come from {sorted(models(numerator))} and"
                    f" {sorted(models(denominator))}, and the catalog does not mark it strict"
                )
        else:
            got, want = (formula(name),), (want_n,)
        if got != want:
            problems.append(f"{name}: semantic layer {got} but the catalog {want}")
    return problems


def validate(manifest) -> list[str]:
    """MetricFlow's semantic validations (what `mf validate-configs --skip-dw` runs):
    the blocking issues, as text; empty when the manifest is valid."""
    from metricflow_semantic_interfaces.validations.semantic_manifest_validator import (
        SemanticManifestValidator,
    )

    results = SemanticManifestValidator().validate_semantic_manifest(manifest)
    return (
        [str(issue.as_readable_str()) for issue in results.errors]
        if results.has_blocking_issues
        else []
    )


class SnapshotSqlClient:
    """MetricFlow's SqlClient on a read-only DuckDB snapshot (the DuckDB dialect)."""

    def __init__(self, snapshot: Path, database: str) -> None:
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        # read-only, external access off, configuration locked (docs/bi.md)
        self._con = connect_bi(snapshot, READER_CONFIG, alias=database)
        self._renderer = DuckDbSqlPlanRenderer()

    @property
    def sql_engine_type(self):
        from metricflow.protocols.sql_client import SqlEngine

        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self):
        return self._renderer

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self._con

    def _run(self, stmt: str, bind) -> duckdb.DuckDBPyConnection:
        params = dict(bind.param_dict) if bind is not None else {}
        return self._con.execute(stmt, params or None)

    def query(self, stmt: str, sql_bind_parameter_set=None):
        from metricflow.data_table.mf_table import MetricFlowDataTable

        cursor = self._run(stmt, sql_bind_parameter_set)
        names = [d[0] for d in cursor.description]
        return MetricFlowDataTable.create_from_rows(column_names=names, rows=cursor.fetchall())

    def execute(self, stmt: str, sql_bind_parameter_set=None) -> None:
        self._run(stmt, sql_bind_parameter_set)

    def dry_run(self, stmt: str, sql_bind_parameter_set=None) -> None:
        self._run(f"EXPLAIN {stmt}", sql_bind_parameter_set)

    def close(self) -> None:
        self._con.close()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


@dataclass
class Answer:
    columns: list[str]
    rows: list[tuple]
    sql: str


class SemanticLayer:
    """MetricFlow over the published snapshot; use as a context manager."""

    def __init__(self, settings: Settings | None = None, snapshot: Path | None = None) -> None:
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        settings = settings or load_settings()
        snapshot = snapshot or settings.published_path
        if not snapshot.exists():
            raise SemanticLayerError(
                f"No published snapshot at {snapshot}: run `make demo` or `make run` first."
            )
        self.manifest = load_manifest(manifest_path(settings))
        databases = {m.node_relation.database for m in self.manifest.semantic_models}
        if len(databases) != 1:
            raise SemanticLayerError(f"Semantic models span databases {sorted(databases)}.")
        self._client = SnapshotSqlClient(snapshot, databases.pop() or "warehouse")
        self._check_tables(snapshot)
        self._engine = MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(self.manifest),
            sql_client=self._client,
        )

    def _check_tables(self, snapshot: Path) -> None:
        """Every table a semantic model reads is in the snapshot (one published before
        the semantic layer changed may lack one): say so, and what to run."""
        have = {r[0] for r in self._client.con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()}  # fmt: skip
        missing = sorted({m.node_relation.alias for m in self.manifest.semantic_models} - have)
        if missing:
            self._client.close()
            raise SemanticLayerError(
                STALE_SNAPSHOT.format(snapshot=snapshot, what=", ".join(missing))
            )

    def __enter__(self) -> SemanticLayer:
        return self

    def __exit__(self, *exc) -> None:
        self._client.close()

    def metric_names(self) -> list[str]:
        return sorted(m.name for m in self.manifest.metrics)

    def query(
        self,
        metrics: Sequence[str],
        group_by: Sequence[str] = (),
        where: Sequence[str] = (),
        order_by: Sequence[str] = (),
        limit: int | None = None,
    ) -> Answer:
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        request = MetricFlowQueryRequest.create(
            metric_names=list(metrics),
            group_by_names=list(group_by) or None,
            where_constraints=list(where) or None,
            order_by_names=list(order_by) or None,
            limit=limit,
        )
        try:
            result = self._engine.query(mf_request=request)
        except duckdb.Error as e:  # a column the semantic models name and the snapshot lacks
            raise SemanticLayerError(
                f"{e}\n" + STALE_SNAPSHOT.format(snapshot="the snapshot", what="it")
            ) from e
        table = result.result_df
        return Answer(list(table.column_names), [tuple(r) for r in table.rows], result.sql)


def _split(values: list[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _print_table(answer: Answer) -> None:
    def cell(v: object) -> str:
        if v is None:
            return ""
        if hasattr(v, "strftime"):
            return v.strftime("%Y-%m-%d")
        if isinstance(v, float):
            return f"{v:,.2f}" if abs(v) >= 100 else f"{v:.4g}"
        return str(v)

    table = [answer.columns] + [[cell(v) for v in row] for row in answer.rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(answer.columns))]
    for n, row in enumerate(table):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def write_csv(answer: Answer, path: Path) -> None:
    """The answer as CSV for a spreadsheet: a cell that would start a formula is
    written as text (callbacks.spreadsheet_safe); dimension values come from
    customer-written data (campaign names, regions)."""
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([spreadsheet_safe(c) for c in answer.columns])
        w.writerows([spreadsheet_safe(v) for v in row] for row in answer.rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.lib.semantic (make metrics-query)",
        description="Ask the semantic layer (MetricFlow) for metrics by name, grain and "
        "dimension, on the published snapshot. Example: --metrics revenue,nps "
        "--group-by metric_time__month,store",
    )
    parser.add_argument(
        "--metrics", action="append", default=[], help="metric names, comma-separated"
    )
    parser.add_argument("--group-by", action="append", default=[],
                        help="metric_time__day|week|month, an entity (store, channel) or entity__dimension")  # fmt: skip
    parser.add_argument("--where", action="append", default=[],
                        help="a filter, e.g. \"{{ Dimension('store__region') }} = 'North'\"")  # fmt: skip
    parser.add_argument(
        "--order",
        action="append",
        default=[],
        help="order by, e.g. --order=-metric_time__month (- = descending)",
    )
    parser.add_argument("--limit", type=int)
    parser.add_argument("--csv", type=Path, help="write the answer to this CSV file too")
    parser.add_argument("--explain", action="store_true", help="print the SQL as well")
    parser.add_argument("--list", action="store_true", help="list the metrics and stop")
    parser.add_argument("--validate", action="store_true",
                        help="parse and validate the semantic models and metrics, then stop")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        if args.validate:
            settings = load_settings()
            issues = validate(load_manifest(manifest_path(settings)))
            issues += catalog_mismatches(settings.dbt_project_dir)
            print(
                "\n".join(issues)
                or "The semantic manifest is valid (MetricFlow's validations) and every"
                " formula is the metric catalog's."
            )
            return 1 if issues else 0
        with SemanticLayer() as layer:
            if args.list or not args.metrics:
                print("Metrics:", ", ".join(layer.metric_names()))
                return 0 if args.list else 2
            answer = layer.query(
                _split(args.metrics),
                _split(args.group_by),
                args.where,
                _split(args.order),
                args.limit,
            )
    except SemanticLayerError as e:
        print(e, file=sys.stderr)
        return 1
    except Exception as e:  # MetricFlow's own messages name the metric or dimension
        print(f"The semantic layer could not answer: {e}", file=sys.stderr)
        return 1
    if args.explain:
        print(answer.sql, end="\n\n")
    _print_table(answer)
    if args.csv:
        write_csv(answer, args.csv)
        print(f"Written: {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
