"""Benchmark: the lead quality gate on N synthetic leads (default 10M).

    python -m benchmarks.bench_gate [--rows 10000000] [--files 10] [--dir /tmp/bench_gate]

Generates the leads with SQL straight into a DuckDB file (registered as loaded
files, with ~1% invalid rows and ~2% duplicates planted), then runs the gate in
a fresh child process and reports its wall time and peak RSS. The floor is a
plain DuckDB scan of the same rows in the same run; the ratio to it is what to
compare between machines. It reports; it never asserts a time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")

CHANNELS = ["paid_search", "paid_social", "display", "email", "referral", "organic", "offline"]


def _settings(root: Path):
    from orchestration.lib.settings import load_settings

    seeds = root / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    (seeds / "channels.csv").write_text(
        "channel,name,group,is_paid\n" + "".join(f"{c},{c},paid,true\n" for c in CHANNELS)
    )
    return dataclasses.replace(
        load_settings(), data_dir=root / "data", landing_dir=root / "landing", seeds_dir=seeds
    )


def generate(root: Path, rows: int, files: int) -> dict:
    from orchestration.lib.warehouse import bootstrap, connect

    settings = _settings(root)
    if settings.warehouse_path.exists():
        settings.warehouse_path.unlink()
    con = connect(settings)
    bootstrap(con)
    t0 = time.perf_counter()
    per_file = -(-rows // files)
    con.execute(
        """insert into meta.files (file_id, feed, path, content_sha256, size_bytes, format,
               outcome, rows_in, rows_loaded, run_id, registered_at)
           select i, 'leads', 'leads/bench_' || i || '.csv', 'sha' || i, 0, 'csv', 'loaded',
                  $per_file, $per_file, 'bench', now()::timestamp
           from range(1, $files + 1) t(i)""",
        {"per_file": per_file, "files": files},
    )
    channels = "[" + ", ".join(f"'{c}'" for c in CHANNELS) + "]"
    # Created over the 24 months before now; 1 in 50 leads reuses an earlier
    # lead's email within minutes (duplicate); 1 in 100 has neither a valid
    # email nor a phone; 1 in 1000 is qualified before it was created.
    con.execute(
        f"""insert into raw.leads
        select
            'L' || i as lead_id,
            now()::timestamp - interval 1 hour - to_seconds(((($rows - i) * 63072000) // $rows)::bigint)
                as created_at,
            {channels}[1 + (hash(i) % 7)::integer] as channel,
            'c' || (i % 40) as campaign,
            case when i % 100 = 7 then 'broken-at-example'
                 when i % 50 = 3 then 'user' || (i - 1) || '@example.com'
                 else 'user' || i || '@example.com' end as email,
            case when i % 100 = 7 then '12'
                 when i % 3 = 0 then '+7 9' || lpad((i % 1000000000)::varchar, 9, '0')
                 else null end as phone,
            case when i % 1000 = 11 then now()::timestamp - interval 800 day
                 when hash(i * 7) % 10 < 3 then now()::timestamp - interval 30 minute
                 else null end as qualified_at,
            case when hash(i * 7) % 10 = 5 then 'no budget' else null end as disqualified_reason,
            null as customer_id,
            1 + i // $per_file as _file_id,
            2 + i % $per_file as _line,
            now()::timestamp as _ingested_at
        from range($rows) t(i)""",
        {"rows": rows, "per_file": per_file},
    )
    con.execute("checkpoint")
    took = time.perf_counter() - t0
    con.close()
    return {"generate_s": round(took, 1)}


def run_floor(root: Path) -> dict:
    """Floor: DuckDB alone computing the same prepared frame (no GX, nothing written)."""
    from orchestration.lib.quality import _leads_frame_sql, load_suite
    from orchestration.lib.warehouse import connect

    settings = _settings(root)
    con = connect(settings)
    spec = load_suite("leads_gate", settings)
    con.execute(f"set memory_limit = '{int(spec.thresholds['duckdb_memory_limit_mb'])}MB'")
    t0 = time.perf_counter()
    reader = con.sql(
        _leads_frame_sql(),
        params={"wm": 0, "window_days": int(spec.thresholds["duplicate_window_days"])},
    ).to_arrow_reader(1_000_000)
    n = sum(b.num_rows for b in reader)
    took = time.perf_counter() - t0
    con.close()
    return {
        "frame_rows": n,
        "floor_sql_frame_s": round(took, 1),
        "floor_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def run_gate(root: Path) -> dict:
    """Runs in its own process so that its peak RSS is the gate's alone."""
    from orchestration.lib.quality import run_lead_gate
    from orchestration.lib.warehouse import connect

    settings = _settings(root)
    con = connect(settings)
    t0 = time.perf_counter()
    result = run_lead_gate(con, settings, "bench")
    took = time.perf_counter() - t0
    con.close()
    return {
        "rows": result.rows_checked,
        "rows_flagged": result.rows_flagged,
        "flagged_by_expectation": result.flagged_by_expectation,
        "blocking_failures": [(o.rule, o.channel) for o in result.blocking_failures],
        "gate_s": round(took, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--phase", choices=["all", "generate", "floor", "gate"], default="all")
    args = ap.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="bench_gate_"))
    root.mkdir(parents=True, exist_ok=True)
    if args.phase == "generate":
        print(json.dumps(generate(root, args.rows, args.files)))
        return
    if args.phase in ("floor", "gate"):
        print(json.dumps(run_floor(root) if args.phase == "floor" else run_gate(root)))
        return
    report: dict = {"rows_requested": args.rows, "dir": str(root)}
    report.update(generate(root, args.rows, args.files))
    for phase in ("floor", "gate"):
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_gate", "--phase", phase, "--dir", str(root)],
            check=True,
            capture_output=True,
            text=True,
        )
        report.update(json.loads(out.stdout.strip().splitlines()[-1]))
    report["ratio_to_floor"] = round(report["gate_s"] / report["floor_sql_frame_s"], 1)
    report["limits"] = "target: <= 120 s and <= 2048 MB at 10M leads"
    print(json.dumps(report, indent=2))
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
