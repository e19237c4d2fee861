"""The floor: DuckDB alone on the same landing files and the project's own compiled SQL.

    python -m benchmarks.floor --landing DIR --db DIR/warehouse.duckdb --manifest manifest.json

1. load: each feed's files read with DuckDB's native readers (read_csv,
   read_json, read_parquet; typed columns, bad lines skipped) into raw.<feed>
   with the contract's column types. Files the generator's manifest lists as
   rejected (missing a required column) or as duplicate copies are left out
   (the floor knows them; the pipeline has to find them by header and hash);
   nothing else is checked: no quarantine, no hashing, no primary-key upsert.
2. models: every dbt model's compiled SQL (manifest.json compiled with an empty
   warehouse, so incremental models compile to their full-build form) run in
   dependency order on one connection; views stay views, everything else is
   created as a table. Seeds are read with read_csv and dbt's column types.
   No tests, no unit tests, no Dagster, no dbt.

The database file is named warehouse.duckdb because the compiled SQL names its
catalog "warehouse". Prints one JSON line with the timings.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb

from orchestration.lib.feeds import FEEDS, SQL_TYPES
from orchestration.lib.ingest import discover, file_format, read_header
from orchestration.lib.settings import load_settings
from orchestration.lib.warehouse import BOOTSTRAP_SQL, raw_table_ddl

# The same temporary macro the dbt plugin defines (orchestration/lib/pii.py), any key.
PII_KEY = b"floor-key"


def _pii_macro() -> list[str]:
    from orchestration.lib.pii import macro_sql

    return macro_sql(PII_KEY)


def _excluded(landing: Path) -> set[str]:
    manifest = landing / "_manifest.json"
    if not manifest.exists():
        return set()
    m = json.loads(manifest.read_text())
    return {f["path"] for f in m.get("rejected_files", [])} | {
        f["path"] for f in m.get("duplicate_files", [])
    }


def load_raw(con: duckdb.DuckDBPyConnection, landing: Path) -> dict[str, int]:
    """Native readers into raw.<feed>; returns rows per feed.

    CSV files are grouped by their header line and each group is read in one
    read_csv call with the header's columns and the contract's types given
    (no dialect sniffing: it cost 10x the read itself on many small files).
    """
    skip = _excluded(landing)
    rows: dict[str, int] = {}
    for name, feed in FEEDS.items():
        con.execute(raw_table_ddl(name))
        files, _ = discover(landing, name)
        types = {c.name: SQL_TYPES[c.type] for c in feed.columns}
        cols = ", ".join(feed.column_names)
        groups: dict[tuple, list[str]] = {}
        for p in files:
            if p.relative_to(landing).as_posix() in skip:
                continue
            fmt = file_format(p)
            key: tuple = (fmt,)
            if fmt in ("csv", "csv.gz"):
                key = (fmt, *read_header(p, fmt, con))
            groups.setdefault(key, []).append(str(p))
        for key, paths in sorted(groups.items()):
            fmt, header = key[0], [h.strip().lower() for h in key[1:]]
            select = ", ".join(c if c in header else f"null::{t} as {c}" for c, t in types.items())
            params: dict[str, object] = {"files": paths}
            if fmt in ("csv", "csv.gz"):
                params["cols"] = {h: types.get(h, "VARCHAR") for h in header}
                source = (
                    "read_csv($files, header=true, auto_detect=false, columns=$cols, delim=',',"
                    " quote='\"', escape='\"', ignore_errors=true,"
                    f" compression='{'gzip' if fmt == 'csv.gz' else 'none'}')"
                )
            elif fmt == "jsonl":
                params["cols"] = types
                select = cols
                source = "read_json($files, format='newline_delimited', columns=$cols, ignore_errors=true)"
            else:
                select = ", ".join(f"try_cast({c} as {t}) as {c}" for c, t in types.items())
                source = "read_parquet($files, union_by_name=true)"
            con.execute(
                f"insert into raw.{name} ({cols}, _file_id, _line, _ingested_at)"
                f" select {select}, 0, null, now()::timestamp from {source}",
                params,
            )
        rows[name] = con.execute(f"select count(*) from raw.{name}").fetchone()[0]
    return rows


def _topological(manifest: dict) -> list[dict]:
    nodes = {k: n for k, n in manifest["nodes"].items() if n["resource_type"] in ("model", "seed")}
    done: set[str] = set()
    order: list[dict] = []

    def visit(key: str) -> None:
        if key in done or key not in nodes:
            return
        done.add(key)
        for dep in nodes[key]["depends_on"].get("nodes", []):
            visit(dep)
        order.append(nodes[key])

    for key in sorted(nodes):
        visit(key)
    return order


def run_models(
    con: duckdb.DuckDBPyConnection, manifest: dict, project_dir: Path
) -> dict[str, float]:
    timings: dict[str, float] = {}
    nodes = _topological(manifest)
    for schema in sorted({n["schema"] for n in nodes}):
        con.execute(f'create schema if not exists "{schema}"')
    for node in nodes:
        t0 = time.perf_counter()
        rel = node["relation_name"]
        if node["resource_type"] == "seed":
            path = (project_dir / node["original_file_path"]).resolve()
            con.execute(
                f"create or replace table {rel} as select * from read_csv($p, header=true, types=$t)",
                {"p": str(path), "t": node["config"].get("column_types") or {}},
            )
        else:
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            con.execute(f"create or replace {kind} {rel} as\n{node['compiled_code']}")
        timings[node["name"]] = round(time.perf_counter() - t0, 3)
    return timings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--landing", type=Path, required=True)
    ap.add_argument("--db", type=Path, required=True, help="…/warehouse.duckdb (recreated)")
    ap.add_argument("--manifest", type=Path, required=True, help="compiled manifest.json")
    ap.add_argument(
        "--project-dir", type=Path, default=Path(__file__).resolve().parents[1] / "dbt_project"
    )
    args = ap.parse_args()
    assert args.db.name == "warehouse.duckdb", "compiled SQL names the catalog 'warehouse'"
    manifest = json.loads(args.manifest.read_text())
    args.db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".wal"):
        Path(str(args.db) + suffix).unlink(missing_ok=True)
    macros = _pii_macro()

    t0 = time.perf_counter()
    con = duckdb.connect(str(args.db))
    con.execute("load icu")
    con.execute("set TimeZone = 'UTC'")
    settings = load_settings()  # the pipeline's own DuckDB limits, so the floor is comparable
    if settings.memory_limit:
        con.execute("set memory_limit = $v", {"v": settings.memory_limit})
    if settings.temp_dir:
        con.execute("set temp_directory = $v", {"v": settings.temp_dir})
    for sql in macros:
        con.execute(sql)
    con.execute(BOOTSTRAP_SQL)
    con.execute("create schema if not exists main; create schema if not exists marts")
    rows = load_raw(con, args.landing)
    con.execute("checkpoint")
    t1 = time.perf_counter()
    timings = run_models(con, manifest, args.project_dir)
    con.execute("checkpoint")
    t2 = time.perf_counter()
    con.close()
    slowest = sorted(timings.items(), key=lambda kv: -kv[1])[:8]
    print(
        json.dumps(
            {
                "load_s": round(t1 - t0, 2),
                "models_s": round(t2 - t1, 2),
                "total_s": round(t2 - t0, 2),
                "raw_rows": rows,
                "models": len(timings),
                "slowest_models": dict(slowest),
            }
        )
    )


if __name__ == "__main__":
    main()
