"""Benchmarks at scale: the floor, the full pipeline, a daily incremental run, a rebuild.

    python -m benchmarks.run [--scale 1000000 | --scale 1000000,10000000 | --scale all]
                             [--memory-limits 2GB,512MB | --memory-limits none]
                             [--gate-bench auto|yes|no] [--skip-overhead] [--keep]
                             [--stages floor,full,explore,incremental,memlimit,rebuild]

`make bench` runs it at 1M orders; `make bench SCALE=50000000` (or SCALE=all)
at larger scales. For each scale, on the same files and in the same run:

  floor        DuckDB alone: native readers into raw tables, then the project's
               compiled model SQL on one connection (benchmarks/floor.py)
  full         the pipeline as a user runs it: `python -m orchestration.cli run`
               (Dagster job: ingest, quality gate, dbt build with tests, publish)
  incremental  the same warehouse again after one more day has landed
  rebuild      a fresh warehouse on all files (base + the extra day); every
               published table is checksummed against the incremental result
  memlimit     (50M by default) full runs under FLYWHEEL_DUCKDB_MEMORY_LIMIT

--stages runs a subset: a 50M scale takes hours, so its stages can be run in turns.
The stages not asked for keep their results from the existing scale_<N>.json, marked
"carried_over" with the commit and start time of the run that measured them. The
incremental run needs the full run in the same invocation (it continues its
warehouse). `--stages memlimit --memory-limits 512MB` (make bench ... MEMORY_LIMITS=512MB)
runs one limit and keeps the other's earlier result. A stage that does not fit the free disk is recorded as "not run" with
the reason.

plus, once per invocation, the fixed overhead (a full run on 1,000 orders) and,
from 10M up, benchmarks/bench_gate.py at 10M leads. Wall time, rows/s and peak
RSS of the whole process tree are recorded per stage, and per Dagster step.

Landing data lives in bench_data/<scale>/landing (reused when its manifest
matches); warehouses in bench_data/<scale>/runs/ (removed afterwards unless
--keep); logs in bench_data/<scale>/logs/. Results: benchmarks/results/
scale_<N>.json per scale, and results.json, results.md and scaling.svg built
from every scale file present. Targets are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchmarks import checksum, report
from benchmarks.monitor import DirSampler, Measured, run_measured
from orchestration.lib.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
BENCH_DATA = Path(load_settings().bench_data or ROOT / "bench_data")
RESULTS = ROOT / "benchmarks" / "results"
DBT_DIR = ROOT / "dbt_project"
PY = sys.executable
# Fixed end date: the same data every day, and the gate's clock pinned to match.
END_DATE = date(2026, 10, 31)
SCALES_ALL = [1_000_000, 10_000_000, 50_000_000]
OVERHEAD_ORDERS = 1_000
PII_KEY = "benchmark-key-not-secret"
DEFAULT_LIMITS = ["2GB", "512MB"]


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", flush=True)


def scale_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n:,}"


# ------------------------------------------------------------------ machine


def machine() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as fh:
        mem_kb = int(fh.readline().split()[1])
    import dagster
    import dbt.version
    import duckdb

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dagster": dagster.__version__,
        "dbt": dbt.version.__version__,
        "disk_free_gb": round(shutil.disk_usage(BENCH_DATA.parent).free / 2**30, 1),
        "load_average_at_start": os.getloadavg(),
    }


def git_commit() -> str:
    """The commit measured: HEAD (+changes when the tree differs), or the one a snapshot
    folder was exported from (a `.source_commit` file beside benchmarks/)."""
    marker = ROOT / ".source_commit"
    if marker.exists():
        return marker.read_text().strip()
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "orchestration", "dbt_project"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


# ------------------------------------------------------------------ data


def ensure_landing(orders: int, root: Path) -> dict:
    landing = root / "landing"
    root.mkdir(parents=True, exist_ok=True)
    manifest = landing / "_manifest.json"
    if manifest.exists():
        m = json.loads(manifest.read_text())
        if m.get("orders") == orders and m.get("end_date") == str(END_DATE):
            log(f"reusing landing data in {landing}")
            return {"path": str(landing), "generated_s": None, **_landing_facts(landing, m)}
    log(f"generating {orders:,} orders into {landing} ...")
    t0 = time.perf_counter()
    subprocess.run(
        [
            PY,
            "-m",
            "orchestration.demo",
            "--out",
            str(landing),
            "--orders",
            str(orders),
            "--end-date",
            str(END_DATE),
            "--clean",
        ],
        check=True,
        stdout=open(root / "generate.log", "w"),
        stderr=subprocess.STDOUT,
    )
    took = time.perf_counter() - t0
    m = json.loads(manifest.read_text())
    return {"path": str(landing), "generated_s": round(took, 1), **_landing_facts(landing, m)}


def _landing_facts(landing: Path, m: dict) -> dict:
    rows: dict[str, int] = {}
    for f in m["files"]:
        rows[f["feed"]] = rows.get(f["feed"], 0) + f["data_rows"]
    size = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file())
    return {
        "rows_by_feed": rows,
        "rows_total": sum(rows.values()),
        "files": len(m["files"]),
        "gb": round(size / 2**30, 2),
    }


def warm_cache(landing: Path) -> float:
    """Read every landing file once so that the floor and the pipeline both start warm."""
    t0 = time.perf_counter()
    for p in sorted(landing.rglob("*")):
        if p.is_file():
            with open(p, "rb") as fh:
                while fh.read(1 << 24):
                    pass
    return round(time.perf_counter() - t0, 1)


def link_tree(src: Path, dst: Path) -> None:
    """dst becomes a copy of src made of hard links (landing refuses symlinks out of it)."""
    shutil.rmtree(dst, ignore_errors=True)
    for p in src.rglob("*"):
        target = dst / p.relative_to(src)
        if p.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(p, target)


# ------------------------------------------------------------------ dbt compile (for the floor)


def compile_manifest(work: Path) -> Path:
    """dbt compile against an empty warehouse: incremental models compile to their full build."""
    shutil.rmtree(work, ignore_errors=True)
    (work / "data").mkdir(parents=True)
    env = base_env() | {"FLYWHEEL_DATA_DIR": str(work / "data")}
    subprocess.run(
        [
            str(Path(PY).with_name("dbt")),
            "compile",
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
            "--quiet",
        ],
        check=True,
        env=env,
        cwd=work,
        stdout=open(work / "compile.log", "w"),
        stderr=subprocess.STDOUT,
    )
    return work / "target" / "manifest.json"


# ------------------------------------------------------------------ runs


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    for k in ("FLYWHEEL_DUCKDB_MEMORY_LIMIT", "FLYWHEEL_DUCKDB_TEMP_DIR"):
        env.pop(k, None)
    env |= {
        "FLYWHEEL_PII_KEY": PII_KEY,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DAGSTER_DISABLE_TELEMETRY": "true",
        "GX_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PYTHONUNBUFFERED": "1",
    }
    return env


def run_floor(landing: Path, manifest: Path, work: Path, logs: Path) -> dict:
    db = work / "warehouse.duckdb"
    log_path = logs / "floor.log"
    log_path.unlink(missing_ok=True)
    m = run_measured(
        [
            PY,
            "-m",
            "benchmarks.floor",
            "--landing",
            str(landing),
            "--db",
            str(db),
            "--manifest",
            str(manifest),
        ],
        base_env(),
        log_path,
        cwd=ROOT,
    )
    if m.returncode != 0:
        raise RuntimeError(f"floor failed: see {log_path}")
    out = json.loads(log_path.read_text().strip().splitlines()[-1])
    rows = sum(out["raw_rows"].values())
    size = sum(p.stat().st_size for p in work.glob("warehouse.duckdb*"))
    shutil.rmtree(work, ignore_errors=True)
    return {
        "wall_s": round(out["total_s"], 1),
        "process_wall_s": round(m.wall_s, 1),
        "load_s": out["load_s"],
        "models_s": out["models_s"],
        "rows": rows,
        "rows_per_s": round(rows / out["total_s"]),
        "peak_rss_mb": round(m.peak_rss_mb),
        "raw_rows": out["raw_rows"],
        "slowest_models": out["slowest_models"],
        "db_gb": round(size / 2**30, 2),
    }


RUN_LINE = re.compile(r"Dagster run (\S+) \((\w+)\): (SUCCESS|FAILED) in ([\d.]+) s")


def _parse_ts(s: str) -> float:
    return datetime.fromisoformat(s).replace(tzinfo=UTC).timestamp()


def dagster_steps(home: Path, run_id: str, m: Measured) -> tuple[dict, dict]:
    """Per-step duration and peak RSS from the run's event log; run start/end times."""
    db = home / "history" / "runs" / f"{run_id}.db"
    steps: dict[str, dict] = {}
    marks: dict[str, float] = {}
    if not db.exists():
        return steps, marks
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "select dagster_event_type, step_key, timestamp from event_logs"
            " where dagster_event_type in ('STEP_START','STEP_SUCCESS','STEP_FAILURE','STEP_SKIPPED',"
            " 'PIPELINE_START','PIPELINE_SUCCESS','PIPELINE_FAILURE','RUN_START','RUN_SUCCESS','RUN_FAILURE')"
            " order by id"
        ).fetchall()
    finally:
        con.close()
    for kind, step, ts in rows:
        t = _parse_ts(ts)
        if step is None:
            marks[kind.replace("PIPELINE_", "RUN_")] = t
            continue
        s = steps.setdefault(step, {})
        if kind == "STEP_START":
            s["start"] = t
        else:
            s["end"] = t
            s["outcome"] = kind.replace("STEP_", "").lower()
    out = {}
    for step, s in steps.items():
        if "start" in s and "end" in s:
            out[step] = {
                "s": round(s["end"] - s["start"], 2),
                "peak_rss_mb": round(m.sampler.peak_between(s["start"], s["end"])),
                "outcome": s.get("outcome"),
                "start": s["start"],
                "end": s["end"],
            }
    return out, marks


# dbt nodes of "Explaining a change": the segment tables, the two marts, their tests.
EXPLAIN_NODES = (
    "int_metric_segments_",
    "mart_metric_contributions",
    "mart_metric_change_explanations",
    "int_metric_change_candidates",
    "assert_contributions_add_up",
)


def dbt_results(run_id: str) -> dict:
    """Timings from the run_results.json dagster-dbt left in dbt_project/target/<run dir>."""
    found = sorted(DBT_DIR.glob(f"target/flywheel_dbt-{run_id[:7]}-*/run_results.json"))
    if not found:
        return {}
    data = json.loads(found[-1].read_text())
    by_type: dict[str, dict] = {}
    slow = []
    for r in data.get("results", []):
        kind = r["unique_id"].split(".", 1)[0]
        t = by_type.setdefault(kind, {"count": 0, "exec_s": 0.0})
        t["count"] += 1
        t["exec_s"] = round(t["exec_s"] + (r.get("execution_time") or 0), 2)
        slow.append((r.get("execution_time") or 0, r["unique_id"]))
    slow.sort(reverse=True)
    # Explaining a change (docs/metrics.md): its models and their tests, against the
    # whole dbt build; the target is at most 10% of the full run.
    explain = [
        r for r in data.get("results", []) if any(name in r["unique_id"] for name in EXPLAIN_NODES)
    ]
    # What failed, and why: dbt's message without its "Runtime Error in model ..." line
    # (e.g. "Out of Memory Error: ...").
    errors = {}
    for r in data.get("results", []):
        if r.get("status") in ("error", "fail", "runtime error"):
            lines = [x.strip() for x in (r.get("message") or r["status"]).splitlines() if x.strip()]
            if len(lines) > 1 and " Error in " in lines[0]:
                lines = lines[1:]
            errors[r["unique_id"].split(".", 2)[-1]] = lines[0][:200]
    for d in found:
        shutil.rmtree(d.parent, ignore_errors=True)  # this run's dbt target folder
    return {
        "elapsed_s": round(data.get("elapsed_time", 0), 1),
        "by_type": by_type,
        "slowest": {uid.split(".", 2)[-1]: round(t, 2) for t, uid in slow[:10]},
        "explain": {
            "nodes": len(explain),
            "exec_s": round(sum(r.get("execution_time") or 0 for r in explain), 2),
        },
        **({"errors": errors} if errors else {}),
    }


def ingest_stats(data_dir: Path, run_id: str, steps: dict) -> dict:
    import duckdb

    wh = data_dir / "warehouse.duckdb"
    if not wh.exists():
        return {}
    con = duckdb.connect(str(wh), read_only=True)
    try:
        rows = con.execute(
            "select feed, list(distinct format order by format), sum(rows_in), count(*),"
            " count(*) filter (where parser = 'python-fallback'),"
            " sum(rows_in) filter (where parser = 'python-fallback')"
            " from meta.files where run_id = $r group by feed order by feed",
            {"r": run_id},
        ).fetchall()
    finally:
        con.close()
    feeds = {}
    csv_rows = csv_s = 0.0
    for feed, fmts, n, files, fb_files, fb_rows in rows:
        s = steps.get(f"raw__{feed}", {}).get("s")
        feeds[feed] = {
            "formats": fmts,
            "rows_in": int(n or 0),
            "files": files,
            "s": s,
            "rows_per_s": round((n or 0) / s) if s else None,
            "python_fallback_files": fb_files,
            "python_fallback_rows": int(fb_rows or 0),
        }
        if s and set(fmts) <= {"csv", "csv.gz"}:
            csv_rows += n or 0
            csv_s += s
    total_rows = sum(f["rows_in"] for f in feeds.values())
    total_s = sum(f["s"] or 0 for f in feeds.values())
    return {
        "feeds": feeds,
        "rows_in": total_rows,
        "s": round(total_s, 1),
        "rows_per_s": round(total_rows / total_s) if total_s else None,
        "csv_rows": int(csv_rows),
        "csv_s": round(csv_s, 1),
        "csv_rows_per_s": round(csv_rows / csv_s) if csv_s else None,
    }


def run_pipeline(
    name: str,
    landing: Path,
    data: Path,
    home: Path,
    now: datetime,
    logs: Path,
    extra_env: dict[str, str] | None = None,
) -> dict:
    home.mkdir(parents=True, exist_ok=True)
    env = (
        base_env()
        | {
            "FLYWHEEL_LANDING_DIR": str(landing),
            "FLYWHEEL_DATA_DIR": str(data),
            "DAGSTER_HOME": str(home),
            "FLYWHEEL_GATE_NOW": now.isoformat(timespec="seconds"),
        }
        | (extra_env or {})
    )
    log_path = logs / f"{name}.log"
    log_path.unlink(missing_ok=True)
    log(f"  {name}: pipeline on {landing.name} -> {data} (log {log_path})")
    m = run_measured([PY, "-m", "orchestration.cli", "run"], env, log_path, cwd=data.parent)
    text = log_path.read_text(errors="replace")
    found = RUN_LINE.findall(text)
    run_id, status = (found[-1][0], found[-1][2]) if found else (None, "FAILED")
    steps, marks = dagster_steps(home, run_id, m) if run_id else ({}, {})
    dbt = dbt_results(run_id) if run_id else {}
    ingest = ingest_stats(data, run_id, steps) if run_id else {}
    first = min((s["start"] for s in steps.values()), default=None)
    last = max((s["end"] for s in steps.values()), default=None)
    phases = {}
    if first is not None:
        phases["startup_s"] = round(first - m.started_at, 1)
        phases["teardown_s"] = round(m.ended_at - last, 1)
        groups = {
            "ingest": "raw__",
            "quality": ("quality__", "raw__orders_", "raw__survey_answers_"),
            "dbt": "flywheel_dbt",
            "publish": "published__",
        }
        for g, pre in groups.items():
            pre = pre if isinstance(pre, tuple) else (pre,)
            picked = [s for k, s in steps.items() if k.startswith(pre)]
            if g == "ingest":
                picked = [
                    s
                    for k, s in steps.items()
                    if k.startswith("raw__") and not k.endswith("_suite")
                ]
            if picked:
                phases[f"{g}_s"] = round(sum(s["s"] for s in picked), 1)
                phases[f"{g}_peak_rss_mb"] = max(s["peak_rss_mb"] for s in picked)
    rows = ingest.get("rows_in", 0)
    result = {
        "status": "success" if (m.returncode == 0 and status == "SUCCESS") else "failed",
        "returncode": m.returncode,
        "run_id": run_id,
        "wall_s": round(m.wall_s, 1),
        "rows_in": rows,
        "rows_per_s": round(rows / m.wall_s) if rows else None,
        "peak_rss_mb": round(m.peak_rss_mb),
        "phases": phases,
        "steps": {
            k: {kk: v for kk, v in s.items() if kk not in ("start", "end")}
            for k, s in steps.items()
        },
        "dbt": dbt,
        "ingest": ingest,
        "log": str(log_path),
    }
    if extra_env:
        result["env"] = extra_env
    log(
        f"  {name}: {result['status']} in {result['wall_s']} s, peak {result['peak_rss_mb']} MB, "
        f"{rows:,} rows in ({phases})"
    )
    return result


def data_size(data: Path) -> dict:
    def gb(p: Path) -> float:
        if p.is_file():
            return round(p.stat().st_size / 2**30, 2)
        return round(sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 2**30, 2)

    return {n: gb(data / n) for n in ("warehouse.duckdb", "published") if (data / n).exists()}


def _set_aside(data: Path, kept: Path, keep: bool) -> None:
    """Free the data folder for the next run: renamed when --keep, else removed."""
    if keep and data.exists():
        shutil.rmtree(kept, ignore_errors=True)
        data.rename(kept)
    else:
        shutil.rmtree(data, ignore_errors=True)


def prepare_dbt(data: Path) -> float:
    """dbt parse before the runs, so that each run's dbt build parses partially, as a
    user's runs do. (The profile no longer names the data folder, so any earlier parse
    of the same code would do; the data folder is passed for the record.)"""
    t0 = time.perf_counter()
    env = base_env() | {"FLYWHEEL_DATA_DIR": str(data)}
    subprocess.run(
        [
            str(Path(PY).with_name("dbt")),
            "parse",
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--quiet",
        ],
        check=True,
        env=env,
        cwd=DBT_DIR,
        capture_output=True,
    )
    return round(time.perf_counter() - t0, 1)


# ------------------------------------------------------------------ one scale


STAGES = ("floor", "full", "explore", "incremental", "memlimit", "rebuild")


DISK_GUARD = True  # --no-disk-guard: run a stage even when the estimate says the disk is short


def _disk_short(path: Path, need_gb: float) -> str | None:
    """Why a stage cannot run for want of disk, or None when it fits (or the guard is off)."""
    free = shutil.disk_usage(path).free / 2**30
    if free < need_gb:
        why = f"{free:.1f} GB free, the stage needs about {need_gb:.1f} GB"
        if DISK_GUARD:
            return why
        log(f"WARNING: {why}; running it anyway (--no-disk-guard)")
    return None


def _not_run(reason: str) -> dict:
    return {"status": "not run", "reason": reason}


NOT_ASKED = "not asked (--stages)"


def carried_over(orders: int, stages: tuple[str, ...], limits: Iterable[str] = ()) -> dict:
    """With --stages, the stages not asked for keep their results from the earlier file,
    each marked with the commit and start of the invocation that measured it. Results
    that belong to a full run (incremental, rebuild, checksums) are dropped when the full
    run is measured again. Memory-limited runs stay unless they are run again: each is a
    whole pipeline run of its own, and bench_scale compares it with the new full run
    (vs_unlimited), the report naming both commits. A memlimit stage keeps the earlier
    results of the limits it does not run, so `--memory-limits 512MB` adds to an earlier
    2GB result."""
    path = RESULTS / f"scale_{orders}.json"
    if set(stages) == set(STAGES) or not path.exists():
        return {}
    old = json.loads(path.read_text())
    before = old.get("carried_over", {}).get("stages", {})
    candidates = (
        ["floor"] if "full" in stages else ["floor", "full", "explore", "incremental", "rebuild"]
    )
    keep = [
        st
        for st in candidates
        if st not in stages and old.get(st) and old[st].get("status") != "not run"
    ]
    out: dict = {st: old[st] for st in keep}
    if "rebuild" in keep:
        out["checksums"] = old.get("checksums", {})
    if "incremental" in keep and "extra_day" in old:
        out["extra_day"] = old["extra_day"]
    provenance = {
        st: before.get(st) or {"commit": old.get("commit"), "started_at": old.get("started_at")}
        for st in keep
    }
    run_now = set(limits) if "memlimit" in stages else set()
    for key in ("memlimit", "memlimit_skipped"):
        kept = {lim: r for lim, r in old.get(key, {}).items() if lim not in run_now}
        if kept:
            out[key] = kept
    for lim in out.get("memlimit", {}):
        tag = f"memlimit {lim}"
        provenance[tag] = (
            before.get(tag)
            or before.get("memlimit")
            or {"commit": old.get("commit"), "started_at": old.get("started_at")}
        )
    if provenance:
        out["carried_over"] = {"stages": provenance}
    return out


def bench_scale(
    orders: int,
    limits: list[str],
    keep: bool,
    save=lambda res: None,
    stages: tuple[str, ...] = STAGES,
) -> dict:
    root = BENCH_DATA / str(orders)
    logs = root / "logs"
    runs = root / "runs"
    logs.mkdir(parents=True, exist_ok=True)
    res: dict = {
        "orders": orders,
        "label": scale_label(orders),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    res |= carried_over(orders, stages, limits)
    landing_info = ensure_landing(orders, root)
    res["landing"] = landing_info
    landing = Path(landing_info["path"])
    now_full = datetime.combine(END_DATE + timedelta(days=1), datetime.min.time()).replace(hour=6)
    now_next = now_full + timedelta(days=1)

    res["stages_asked"] = list(stages)
    res["warm_cache_s"] = warm_cache(landing)
    if "floor" in stages:
        log(f"[{res['label']}] floor ...")
        try:
            manifest = compile_manifest(runs / "dbt_compile")
            res["floor"] = run_floor(landing, manifest, runs / "floor", logs)
            log(
                f"  floor: {res['floor']['wall_s']} s (load {res['floor']['load_s']} s, models {res['floor']['models_s']} s), "
                f"peak {res['floor']['peak_rss_mb']} MB"
            )
        except (RuntimeError, subprocess.CalledProcessError, ValueError) as exc:
            res["floor"] = {"status": "failed", "error": str(exc)}
            log(f"  floor FAILED: {exc}; the pipeline stages go on")
        save(res)
    if not set(stages) & {"full", "incremental", "memlimit", "rebuild"}:
        res["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        return res

    # The landing folder a user's pipeline reads: the base files, then one more day.
    run_landing = runs / "landing"
    link_tree(landing, run_landing)
    # Every run uses the same FLYWHEEL_DATA_DIR, as a user's runs do: dbt's partial
    # parse stays valid (a changed profile path would make each dbt build re-parse).
    data = runs / "data"
    home_a, home_b = runs / "dagster_home_a", runs / "dagster_home_b"
    for d in (data, home_a, home_b):
        shutil.rmtree(d, ignore_errors=True)
    res["dbt_parse_s"] = prepare_dbt(data)
    if "full" in stages:
        log(f"[{res['label']}] full pipeline ...")
        res["full"] = run_pipeline("full", run_landing, data, home_a, now_full, logs)
        res["full"]["sizes_gb"] = data_size(data)
        res["full"]["disk_free_gb"] = round(shutil.disk_usage(runs).free / 2**30, 1)
        for r in res.get("memlimit", {}).values():  # carried over: compared with this run
            if r.get("status") == "success" and res["full"].get("status") == "success":
                r["vs_unlimited"] = round(r["wall_s"] / res["full"]["wall_s"], 2)
        save(res)
    else:
        res.setdefault("full", _not_run(NOT_ASKED))
    if "explore" not in stages:
        res.setdefault("explore", _not_run(NOT_ASKED))
    elif res["full"].get("status") == "success" and "full" in stages:
        from benchmarks.bench_explorer import first_render

        log(f"[{res['label']}] explorer: time to first render of the tree page ...")
        res["explore"] = first_render(data / "published" / "flywheel.duckdb", logs)
        log(f"  explorer: {res['explore']}")
        save(res)
    else:
        res["explore"] = _not_run("needs a successful full run in the same invocation")

    from benchmarks.extra_day import make_extra_day

    # A daily run writes a new published snapshot beside the old one: it needs about the
    # published size free again, plus room for the warehouse to grow.
    sizes = res["full"].get("sizes_gb", {})
    need = sizes.get("published", 0) * 1.1 + sizes.get("warehouse.duckdb", 0) * 0.1 + 1
    room_note = None
    published = data / "published"
    if shutil.disk_usage(runs).free / 2**30 < need and published.exists() and DISK_GUARD:
        # At 50M the two snapshots do not fit beside the landing data and the warehouse.
        # The daily run rewrites the snapshot whole (publish reads nothing of the old
        # one), so the full run's snapshot goes: only what BI could read meanwhile
        # changes, not what the daily run does.
        shutil.rmtree(published)
        room_note = (
            f"the full run's published snapshot ({sizes.get('published')} GB) was removed "
            "before this run to leave disk for the new one"
        )
        log(f"[{res['label']}] {room_note}")
    short = _disk_short(runs, need)
    ran_full = "full" in stages and res["full"].get("status") == "success"
    ran_incremental = False
    if "incremental" not in stages:
        res.setdefault("incremental", _not_run(NOT_ASKED))
    elif not ran_full or short:
        res["incremental"] = _not_run(short or "needs a successful full run in the same invocation")
        log(f"[{res['label']}] incremental not run: {res['incremental']['reason']}")
    else:
        ran_incremental = True
        extra = make_extra_day(landing, run_landing)
        res["extra_day"] = {**extra, "rows": sum(f["rows"] for f in extra["files"].values())}
        log(
            f"[{res['label']}] incremental after one more day ({res['extra_day']['rows']:,} rows) ..."
        )
        res["incremental"] = run_pipeline("incremental", run_landing, data, home_a, now_next, logs)
        if room_note:
            res["incremental"]["disk_note"] = room_note
    save(res)

    published_a = runs / "published_incremental.duckdb"
    sums_a = {}
    if ran_incremental and res["incremental"]["status"] == "success":
        pub = data / "published" / "flywheel.duckdb"
        sums_a = checksum.table_checksums(pub)
        # Kept for a row-level diff when the checksums differ, unless it is big (disk at 50M).
        if pub.stat().st_size < 5 * 2**30:
            shutil.copyfile(pub, published_a)
    _set_aside(data, runs / "kept_incremental", keep)

    # Memory-limited runs before the rebuild: at 50M they matter more than the rebuild
    # if the whole scale does not fit in the time at hand (results are saved after each run).
    res.setdefault("memlimit", {})
    for limit in limits if "memlimit" in stages else []:
        # The warehouse, plus the larger of the snapshot (written after dbt) and DuckDB's
        # spill during dbt build (gone before publish). Under 2GB at 50M the spill reached
        # 46 GiB beside a 27 GiB warehouse (1.7x): that ratio, or a spill measured here.
        sizes = res["full"].get("sizes_gb", {})
        spilled = [m.get("spill_peak_gb") or 0 for m in res["memlimit"].values()]
        spill_guess = max([1.7 * sizes.get("warehouse.duckdb", 0), *spilled])
        need = sizes.get("warehouse.duckdb", 0) + max(sizes.get("published", 0), spill_guess) + 2
        short = _disk_short(runs, need) if sizes else None
        if short:
            res.setdefault("memlimit_skipped", {})[limit] = short
            log(f"[{res['label']}] memory_limit {limit} not run: {short}")
            save(res)
            continue
        tag = f"memlimit_{limit}"
        home = runs / f"dagster_home_{tag}"
        spill = runs / f"spill_{tag}"
        for d in (home, spill):
            shutil.rmtree(d, ignore_errors=True)
        spill.mkdir(parents=True)
        log(f"[{res['label']}] full pipeline under memory_limit {limit} ...")
        with DirSampler(spill) as spilled:
            r = run_pipeline(
                tag,
                landing,
                data,
                home,
                now_full,
                logs,
                {"FLYWHEEL_DUCKDB_MEMORY_LIMIT": limit, "FLYWHEEL_DUCKDB_TEMP_DIR": str(spill)},
            )
        # DuckDB's spill files at their largest, and the least disk free during the run.
        r["spill_peak_gb"] = round(spilled.peak_mb / 1024, 1)
        r["disk_free_min_gb"] = round((spilled.min_free or 0) / 2**30, 1)
        if res["full"].get("wall_s"):  # possibly carried over from an earlier invocation
            r["vs_unlimited"] = round(r["wall_s"] / res["full"]["wall_s"], 2)
        res["memlimit"][limit] = r
        _set_aside(data, runs / f"kept_{tag}", keep)
        shutil.rmtree(spill, ignore_errors=True)
        save(res)
    if "rebuild" not in stages:  # an earlier rebuild and its checksums stay, if carried
        res.setdefault("rebuild", _not_run(NOT_ASKED))
        res.setdefault("checksums", {"equal": None, "problems": ["not compared: no rebuild"]})
    elif not sums_a:
        res["rebuild"] = _not_run("needs a successful incremental run in the same invocation")
        res["checksums"] = {"equal": None, "problems": ["not compared: no incremental result"]}
    else:
        log(f"[{res['label']}] full rebuild on base + extra day ...")
        res["rebuild"] = run_pipeline("rebuild", run_landing, data, home_b, now_next, logs)
        if res["rebuild"]["status"] == "success":
            published_b = data / "published" / "flywheel.duckdb"
            sums_b = checksum.table_checksums(published_b)
            problems = checksum.compare(sums_a, sums_b)
            res["checksums"] = {
                "equal": not problems,
                "tables": len(sums_a),
                "rows_compared": sum(t["rows"] for t in sums_a.values()),
                "problems": problems,
                "excluded_columns": sorted(
                    {c for t in sums_a.values() for c in t["excluded_columns"]}
                ),
            }
            if problems and published_a.exists():
                res["checksums"]["diffs"] = {
                    p.split(":")[0]: checksum.diff_rows(published_a, published_b, p.split(":")[0])
                    for p in problems
                    if "only in" not in p
                }
            log(f"  checksums: {'EQUAL' if not problems else 'DIFFERENT: ' + '; '.join(problems)}")
        else:
            res["checksums"] = {"equal": None, "problems": ["a run failed; nothing compared"]}
    published_a.unlink(missing_ok=True)
    _set_aside(data, runs / "kept_rebuild", keep)
    shutil.rmtree(run_landing, ignore_errors=True)

    res["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    res["load_average_at_end"] = os.getloadavg()
    return res


def bench_overhead() -> dict:
    """The fixed cost of a run: the full pipeline on 1,000 orders."""
    root = BENCH_DATA / "overhead"
    landing = ensure_landing(OVERHEAD_ORDERS, root)
    shutil.rmtree(root / "runs", ignore_errors=True)
    now = datetime.combine(END_DATE + timedelta(days=1), datetime.min.time()).replace(hour=6)
    parse_s = prepare_dbt(root / "runs" / "data")
    log(f"fixed overhead: full pipeline on {OVERHEAD_ORDERS:,} orders ...")
    r = run_pipeline(
        "overhead",
        Path(landing["path"]),
        root / "runs" / "data",
        root / "runs" / "dagster_home",
        now,
        root / "logs",
    )
    shutil.rmtree(root / "runs", ignore_errors=True)
    r["dbt_parse_s_before"] = parse_s
    return r


def bench_gate(rows: int = 10_000_000) -> dict:
    log(f"lead gate alone at {rows:,} leads (benchmarks/bench_gate.py) ...")
    work = BENCH_DATA / "gate"
    shutil.rmtree(work, ignore_errors=True)
    out = subprocess.run(
        [PY, "-m", "benchmarks.bench_gate", "--rows", str(rows), "--dir", str(work)],
        capture_output=True,
        text=True,
        env=base_env(),
        cwd=ROOT,
    )
    (BENCH_DATA / "gate.log").write_text(out.stdout + out.stderr)
    shutil.rmtree(work, ignore_errors=True)
    if out.returncode != 0:
        return {"status": "failed", "log": str(BENCH_DATA / "gate.log")}
    text = out.stdout
    return {"status": "success", **json.loads(text[text.index("{") :])}


# ------------------------------------------------------------------ main


def parse_scales(text: str) -> list[int]:
    if text.strip().lower() == "all":
        return SCALES_ALL
    if text.strip().lower() == "none":
        return []  # only the fixed-overhead run
    return [int(float(x)) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--scale",
        default="1000000",
        help="orders: N, N1,N2,... 'all' (1M,10M,50M) or 'none' (overhead run only)",
    )
    ap.add_argument(
        "--memory-limits",
        default="auto",
        help="comma list (e.g. 2GB,512MB), 'none', or 'auto' = 2GB,512MB at 50M orders and above",
    )
    ap.add_argument(
        "--gate-bench",
        choices=["auto", "yes", "no"],
        default="auto",
        help="bench_gate.py at 10M leads: auto = when a scale >= 10M is run",
    )
    ap.add_argument(
        "--skip-overhead", action="store_true", help="skip the 1,000-order fixed-overhead run"
    )
    ap.add_argument(
        "--stages",
        default=",".join(STAGES),
        help=f"comma list of {', '.join(STAGES)} (default all): incremental needs full, rebuild "
        "needs incremental in the same invocation; a subset skips the overhead and gate runs",
    )
    ap.add_argument(
        "--keep", action="store_true", help="keep the warehouses in bench_data/<scale>/runs"
    )
    ap.add_argument(
        "--no-disk-guard",
        action="store_true",
        help="run a stage even when its disk estimate exceeds the free space (it may fail with "
        "the disk full; each memory-limited run records the least free disk it saw)",
    )
    ap.add_argument(
        "--render-only", action="store_true", help="rebuild results.{json,md,svg} from scale files"
    )
    args = ap.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.render_only:
        print(report.render(RESULTS))
        return 0
    global DISK_GUARD
    DISK_GUARD = not args.no_disk_guard
    scales = parse_scales(args.scale)
    stages = tuple(x.strip() for x in args.stages.split(",") if x.strip())
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        ap.error(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    BENCH_DATA.mkdir(parents=True, exist_ok=True)
    mach = machine()
    commit = git_commit()
    log(
        f"machine: {mach['cpu']}, {mach['cores']} cores, {mach['memory_gb']} GB; load {mach['load_average_at_start']}"
    )
    subset = set(stages) != set(STAGES)  # a partial run measures only what it was asked for
    if not args.skip_overhead and not subset:
        ov = bench_overhead()
        (RESULTS / "overhead.json").write_text(
            json.dumps({"machine": mach, "commit": commit, "overhead": ov}, indent=1)
        )
    for orders in scales:
        if args.memory_limits == "auto":
            limits = DEFAULT_LIMITS if orders >= 50_000_000 else []
        elif args.memory_limits == "none":
            limits = []
        else:
            limits = [x.strip() for x in args.memory_limits.split(",") if x.strip()]
        need_gb = {1_000_000: 3, 10_000_000: 30, 50_000_000: 70}.get(orders, orders / 700_000)
        free = shutil.disk_usage(BENCH_DATA).free / 2**30
        if free < need_gb * 0.6:
            log(
                f"WARNING: {free:.0f} GB free under {BENCH_DATA}; {scale_label(orders)} wants about {need_gb} GB"
            )

        def save(partial: dict, orders: int = orders) -> None:
            """Write what is measured so far (a long scale can be stopped and still report)."""
            out = {
                **partial,
                "machine": mach,
                "commit": commit,
                "partial": "finished_at" not in partial,
            }
            (RESULTS / f"scale_{orders}.json").write_text(json.dumps(out, indent=1))
            report.render(RESULTS)

        res = bench_scale(orders, limits, args.keep, save, stages)
        save(res)
        print(report.render(RESULTS))
    if args.gate_bench == "yes" or (
        args.gate_bench == "auto" and not subset and max(scales, default=0) >= 10_000_000
    ):
        g = bench_gate()
        (RESULTS / "gate.json").write_text(
            json.dumps({"machine": mach, "commit": commit, "gate": g}, indent=1)
        )
    print(report.render(RESULTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
