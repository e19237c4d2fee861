"""The commands behind `make demo`, `make run`, `make ui` and `make docs`.

python -m orchestration.cli demo [--orders N] [--fresh]
python -m orchestration.cli run
python -m orchestration.cli prepare-home
python -m orchestration.cli docs
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from orchestration.lib.settings import SettingError, load_settings

DAGSTER_YAML = """\
# Written by `python -m orchestration.cli prepare-home`; safe to edit.
telemetry:
  enabled: false
nux:
  enabled: false
concurrency:
  pools:
    # Every asset that writes the working DuckDB file is in pool "duckdb_writer":
    # one at a time across all runs, so a schedule and a manual run never fight.
    default_limit: 1
  runs:
    max_concurrent_runs: 2
"""


def _quiet_env() -> None:
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def prepare_home() -> Path:
    """A DAGSTER_HOME with telemetry off and the DuckDB writer pool limited to 1."""
    settings = load_settings()
    home = Path(os.environ.get("DAGSTER_HOME") or settings.data_dir / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


# Tags on every CLI run: which process runs it, so that the next CLI run can tell
# a run whose process was killed (kill -9, OOM, reboot) from one still going.
HOST_TAG = "flywheel/host"
PROCESS_TAG = "flywheel/process"
# The code location `make ui` serves (dagster dev -m orchestration.definitions). The UI
# lists a job's runs, and the Overview timeline, by this tag; a run launched from the UI
# carries it, a run executed in process does not unless it is given here.
CODE_LOCATION = "orchestration.definitions"
REPOSITORY_LABEL = f"__repository__@{CODE_LOCATION}"


def _process_token(pid: int) -> str | None:
    """pid plus its start time (so a reused pid is not taken for the old process)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            start = fh.read().rsplit(")", 1)[1].split()[19]
        return f"{pid}:{start}"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return f"{pid}:?"


def recover_interrupted_runs(instance, log=print) -> list[str]:
    """Mark CLI runs whose process died as failed and free their concurrency slots.

    An in-process run killed mid-step keeps its slot in pool duckdb_writer
    (limit 1), and every later run would wait for it forever. Only runs started
    by this CLI on this host are judged (they carry the process tags); runs of
    the daemon are the daemon's run monitoring's business.
    """
    import socket

    import dagster as dg

    host = socket.gethostname()
    records = instance.get_run_records(
        dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.STARTED,
                dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.NOT_STARTED,
            ],
            tags={HOST_TAG: host},
        )
    )
    recovered = []
    for record in records:
        run = record.dagster_run
        token = run.tags.get(PROCESS_TAG, "")
        pid = token.split(":")[0]
        alive = pid.isdigit() and _process_token(int(pid)) in (token, f"{pid}:?")
        if alive:
            continue
        instance.report_run_failed(
            run, message=f"process {token} of this run is gone (killed?); marked failed"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovered.append(run.run_id)
        log(f"run {run.run_id}: its process {token} is gone; marked failed and freed its slots")
    return recovered


def run_pipeline(job_name: str = "pipeline_job") -> bool:
    """Run a job through Dagster, recorded in DAGSTER_HOME so the UI shows it."""
    import socket

    import dagster as dg
    from dagster._core.storage.tags import REPOSITORY_LABEL_TAG

    from orchestration.definitions import defs

    prepare_home()
    instance = dg.DagsterInstance.get()
    recover_interrupted_runs(instance)
    job = defs.resolve_job_def(job_name)
    started = time.monotonic()
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        tags={
            HOST_TAG: socket.gethostname(),
            PROCESS_TAG: _process_token(os.getpid()) or str(os.getpid()),
            REPOSITORY_LABEL_TAG: REPOSITORY_LABEL,
        },
    )
    print(
        f"\nDagster run {result.run_id} ({job_name}): "
        f"{'SUCCESS' if result.success else 'FAILED'} in {time.monotonic() - started:.1f} s"
    )
    return result.success


# The demo's stores hand out receipt surveys: 80% of their orders answer (other orders
# 19%), so most stores reach the 30 answers a month a store ranking needs (var
# cx_min_respondents) and the explorer's CX page shows ranks; small stores stay unranked.
DEMO_STORE_RESPONSE = 0.8
EXPLORE_LINE = (
    "See the tree and why it moved: make explore   (then http://127.0.0.1:8501; docs/explorer.md)"
)
HEADLINE_METRICS = (
    ("revenue", "revenue"),
    ("gross_margin", "gross margin"),
    ("contribution_margin", "contribution margin"),
)


def headline(con, currency: str) -> str | None:
    """The last complete month's revenue, gross and contribution margin with their change
    against the month before, from a published snapshot (None before any complete month)."""
    (month,) = con.execute(
        "select max(period_start) from marts.metric_values"
        " where metric = 'revenue' and grain = 'month' and dimension = 'all' and is_complete"
    ).fetchone()
    if month is None:
        return None
    rows = dict(
        (m, (v, c))
        for m, v, c in con.execute(
            "select metric, value, change_pct from marts.metric_values"
            " where grain = 'month' and dimension = 'all' and period_start = $m",
            {"m": month},
        ).fetchall()
    )
    parts = []
    for metric, label in HEADLINE_METRICS:
        if metric not in rows or rows[metric][0] is None:
            continue
        value, change = rows[metric]
        vs = "no month before" if change is None else f"{100 * change:+.1f}% on the month before"
        parts.append(f"{label} {value:,.0f} {currency} ({vs})")
    return f"{month:%B %Y}, the last complete month: " + "; ".join(parts) + "."


def story_lines(landing_dir: Path) -> list[str]:
    """The demo's planted stories, one sentence each, from the generator's manifest:
    (metric, month label) pairs say where metric_change_explanations should find them."""
    import json

    path = landing_dir / "_manifest.json"
    if not path.exists():
        return []
    story = json.loads(path.read_text()).get("story", {})
    lines = []
    collapse = story.get("collapse")
    if collapse:
        lines.append(
            (
                f"Planted in the demo: in {collapse['month']} {collapse['channel']} delivered "
                f"{collapse['lead_volume_factor']:g}x its usual leads for {collapse['spend_factor']:g}x "
                f"the spend, qualifying {100 * collapse['qualification_rate']:.0f}% instead of "
                f"{100 * collapse['usual_qualification_rate']:.0f}%: cheap leads that sales calls junk.",
                "qualified_leads",
                collapse["month"],
            )
        )
    dip = story.get("cx_dip")
    if dip:
        lines.append(
            (
                f"Planted in the demo: in {dip['month']} the weak stores {' and '.join(dip['stores'])} "
                "served worse still, and their unhappy customers answered the survey more often.",
                "csi",
                dip["month"],
            )
        )
    return lines


def explanation(con, metric: str, month_label: str) -> str | None:
    """The top segment behind a metric's change in a month against the month before, as the
    published metric_change_explanations words it (None when nothing stood out)."""
    row = con.execute(
        "select sentence from marts.metric_change_explanations"
        " where metric = $m and grain = 'month' and comparison = 'previous_period'"
        " and period_start = cast($p as date) and segment_rank = 1",
        {"m": metric, "p": f"{month_label}-01"},
    ).fetchone()
    return row[0] if row else None


def check_landing(landing_dir: Path) -> bool:
    """Fail in seconds, before any Dagster run, on a landing folder that cannot be right."""
    from orchestration.lib.ingest import LandingDirError, check_landing_dir

    try:
        counts = check_landing_dir(landing_dir)
    except LandingDirError as exc:
        print(f"Not running: {exc}", file=sys.stderr)
        return False
    found = ", ".join(
        f"{feed} ({n} file{'s' if n != 1 else ''})" for feed, n in counts.items() if n
    )
    missing = ", ".join(feed for feed, n in counts.items() if not n)
    print(
        f"Landing folder {landing_dir}: {found}"
        + (f"; not delivered: {missing}" if missing else "")
    )
    return True


# What to do about a blocking rule, by rule name: (the fix, the doc section).
NEXT_STEPS = {
    "freshness": (
        "the newest rows are older than freshness_max_hours: land newer files, or set "
        "FLYWHEEL_ON_STALE=warn to publish anyway",
        "docs/quality-gate.md#stale-sources",
    ),
    "invalid_share": (
        "too many rows failed a row expectation: fix the rows named in quality.lead_verdicts / "
        "quality.row_verdicts at the source and land the corrected file, or raise the threshold "
        "(FLYWHEEL_GATE_{FEED}_INVALID_SHARE_MAX or the suite file)",
        "docs/quality-gate.md#thresholds-where-and-how-to-change-them",
    ),
    "schema_drift": (
        "raw columns differ from the landing contract: bring the export in line with the contract",
        "docs/landing-contract.md",
    ),
}


def next_steps(con) -> list[str]:
    """Lines saying what to change after a failed run: per failed blocking rule of each
    feed's latest gate run, then rejected files; always the runbook."""
    steps: list[str] = []
    has_results = con.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'quality' and table_name = 'gate_results'"
    ).fetchone()[0]
    if has_results:
        failed = con.execute(
            """
            select distinct feed, checkpoint, rule from quality.gate_results g
            where not passed and severity = 'blocking' and run_id = (
                select max_by(run_id, checked_at) from quality.gate_results r where r.feed = g.feed)
            order by feed, rule
            """
        ).fetchall()
        for feed, checkpoint, rule in failed:
            fix, doc = NEXT_STEPS.get(
                rule, ("a blocking rule failed: fix the source data or the threshold", "")
            )
            where = doc or "docs/quality-gate.md"
            fix = fix.replace("{FEED}", feed.upper())
            steps.append(
                f"{feed}: {rule}: {fix}. Thresholds: expectations/{checkpoint}.json. See {where}."
            )
    rejected = con.execute("select count(*) from meta.files where outcome = 'rejected'").fetchone()[
        0
    ]
    if rejected:
        steps.append(
            f"{rejected} file(s) rejected whole (listed above): correct each and land it again "
            "under a new name. See docs/landing-contract.md and docs/runbook.md#replaying-a-corrected-file."
        )
    steps.append(
        "Any other failed step: its error is in the log above and in the Dagster UI (make ui); "
        "see docs/runbook.md#recovering-from-a-failed-run. BI keeps the last good snapshot."
    )
    return steps


def print_next_steps() -> None:
    import duckdb

    s = load_settings()
    print("\nThe run did not publish. What to do next:")
    if not s.warehouse_path.exists():
        print("  - No warehouse was written: see the error above; docs/runbook.md.")
        return
    con = duckdb.connect(str(s.warehouse_path), read_only=True)
    try:
        for line in next_steps(con):
            print(f"  - {line}")
    finally:
        con.close()


def print_summary() -> None:
    import duckdb

    from orchestration.lib.ingest import orphan_counts, quarantine_by_rule, summarise

    s = load_settings()
    if not s.warehouse_path.exists():
        print("No warehouse yet.")
        return
    con = duckdb.connect(str(s.warehouse_path), read_only=True)
    try:
        print(
            "\nLoaded (all runs)        files  dup  rejected       rows in     loaded   replaced"
            "  quarantined  retracted"
        )
        for feed, fl, fd, fr, rin, rl, rr, rq, rt in summarise(con):
            print(
                f"  {feed:<22}{fl:>6}{fd:>5}{fr:>10}{rin or 0:>14,}{rl or 0:>11,}{rr or 0:>11,}"
                f"{rq or 0:>13,}{rt or 0:>11,}"
            )
        print("  (rows in = loaded + quarantined + retracted, for every file)")
        for feed, n in orphan_counts(con).items():
            if n:
                print(
                    f"  {feed}: {n:,} loaded row(s) refer to an order that is not loaded or is held "
                    "by a suite verdict; they are not in the marts until it lands "
                    "(docs/landing-contract.md, 'Broken references')"
                )
        rows = quarantine_by_rule(con)
        if rows:
            print("\nQuarantined rows by rule (meta.quarantine, restricted):")
            for feed, rule, n in rows:
                print(f"  {feed:<22}{rule:<26}{n:>8,}")
        rejected = con.execute(
            "select path, reason from meta.files where outcome = 'rejected' order by path"
        ).fetchall()
        if rejected:
            print("\nRejected files:")
            for _path, reason in rejected:
                print(f"  {reason}")
        dups = con.execute(
            "select path, reason from meta.files where outcome = 'duplicate_content' order by path"
        ).fetchall()
        for path, reason in dups:
            print(f"  duplicate: {path}: {reason}")
        _print_gate(con)
    finally:
        con.close()
    print(f"\nWarehouse (working file, not for BI): {s.warehouse_path}")
    if s.published_path.exists():
        print(f"Published for BI (read-only):          {s.published_path}")
        print(f"  and as Parquet:                      {s.published_path.parent / 'parquet'}")
        print(
            f"  open it: .venv/bin/python -c \"import duckdb; c = duckdb.connect('{s.published_path}', read_only=True);"
            ' print(c.sql(\\"select period_start, metric, value, change_pct from marts.metric_values'
            " where grain = 'month' and dimension = 'all' and metric in ('revenue', 'gross_margin',"
            " 'contribution_margin') order by period_start desc, metric limit 6\\\"))\""
        )
        print("  BI connection settings: docs/bi.md")
        print(
            "  by metric name (MetricFlow):         make metrics-query"
            " METRICS=revenue,nps BY=metric_time__month,store"
        )
    if s.restricted_path.exists():
        print(f"Restricted (quarantine, PII; never for BI): {s.restricted_path}")
    print("Dagster UI:                            make ui   (then http://127.0.0.1:3000)")
    print("dbt docs (lineage, every column):      make docs")
    if not s.published_path.exists():
        return
    reports = sorted((s.published_path.parent / "reports").glob("flywheel-report-*.html"))
    if reports:
        print(f"Monthly report (one offline HTML file): {reports[-1]}")
    from orchestration.lib.publish import connect_bi

    con = connect_bi(s.published_path)
    try:
        line = headline(con, s.currency)
        if line:
            print(f"\n{line}")
        for sentence, metric, month in story_lines(s.landing_dir):
            print(sentence)
            found = explanation(con, metric, month)
            if found:
                print(f"  found by marts.metric_change_explanations: {found}")
    finally:
        con.close()
    print(f"\n{EXPLORE_LINE}")


def _print_gate(con) -> None:
    """The quality gate's verdicts and the rules that failed in its latest run per feed."""
    verdicts = con.execute(
        "select expectation, is_duplicate, count(*) from quality.lead_verdicts group by all order by 3 desc"
    ).fetchall()
    if verdicts:
        print("\nLeads flagged by the quality gate (quality.lead_verdicts):")
        for expectation, is_dup, n in verdicts:
            note = "kept, counted once" if is_dup else "quarantined"
            print(f"  {expectation:<30}{n:>6,}  {note}")
    has_results = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'quality' and table_name = 'gate_results'"
    ).fetchone()[0]
    if not has_results:
        return
    failed = con.execute(
        """
        select severity, message from quality.gate_results g
        where not passed and run_id = (
            select max_by(run_id, checked_at) from quality.gate_results r where r.feed = g.feed)
        order by severity, feed, rule, channel, month
        """
    ).fetchall()
    if failed:
        print(
            "\nQuality gate, latest run (blocking stops marts and publish; warnings are alerted):"
        )
        for severity, message in failed:
            print(f"  {severity.upper():<9}{message}")
    else:
        print("\nQuality gate, latest run: every rule passed.")


def build_docs() -> int:
    """dbt's documentation site, offline: `dbt docs generate --static` writes one HTML file
    with the manifest and catalog inside (lineage, every model and column described),
    which a browser opens from disk with no server and no network."""
    import subprocess

    from orchestration.lib.warehouse import writer_lock

    s = load_settings()
    if not s.warehouse_path.exists():
        print(f"No warehouse at {s.warehouse_path}: run `make demo` or `make run` first.")
        return 1
    project = Path(__file__).resolve().parents[1] / "dbt_project"
    target = s.data_dir / "dbt_docs"
    env = {
        **os.environ,
        "FLYWHEEL_DATA_DIR": str(s.data_dir),
        "FLYWHEEL_TIMEZONE": s.timezone,
        "FLYWHEEL_CURRENCY": s.currency,
    }
    dbt = Path(sys.executable).with_name("dbt")
    cmd = [str(dbt) if dbt.exists() else "dbt", "docs", "generate", "--static", "--quiet",
           "--project-dir", str(project), "--profiles-dir", str(project),
           "--target-path", str(target)]  # fmt: skip
    with writer_lock(s):  # the catalog reads the warehouse
        done = subprocess.run(cmd, env=env, cwd=project)
    if done.returncode:
        print("dbt docs generate failed (its error is above).")
        return done.returncode
    page = target / "static_index.html"
    print(f"dbt docs (lineage, models, columns): {page}")
    print(f"  open it in a browser: file://{page}  (one file, works offline, no server)")
    return 0


def demo(orders: int, fresh: bool) -> int:
    from orchestration.demo import generate

    s = load_settings()
    if fresh and s.landing_dir.exists():
        shutil.rmtree(s.landing_dir)
    if fresh and s.data_dir.exists():
        for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):
            (s.data_dir / name).unlink(missing_ok=True)
    if not (s.landing_dir / "_manifest.json").exists():
        print(f"Generating demo landing data ({orders:,} orders) in {s.landing_dir} ...")
        generate(s.landing_dir, orders=orders, store_response=DEMO_STORE_RESPONSE, progress=print)
    else:
        print(f"Using existing demo landing data in {s.landing_dir} (make clean to regenerate)")
    ok = run_pipeline()
    if ok:
        ok = run_pipeline("monthly_report_job")
    print_summary()
    if not ok:
        print_next_steps()
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    _quiet_env()
    parser = argparse.ArgumentParser(prog="python -m orchestration.cli")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_demo = sub.add_parser("demo", help="generate demo landing data and run the pipeline")
    p_demo.add_argument(
        "--orders", type=int, default=None, help="orders in the demo world (FLYWHEEL_DEMO_ORDERS)"
    )
    p_demo.add_argument(
        "--fresh", action="store_true", help="regenerate landing data and start a new warehouse"
    )
    p_run = sub.add_parser("run", help="run the pipeline on FLYWHEEL_LANDING_DIR")
    p_run.add_argument("--job", default="pipeline_job")
    sub.add_parser("prepare-home", help="write DAGSTER_HOME/dagster.yaml")
    sub.add_parser("summary", help="print what was loaded and quarantined")
    sub.add_parser("docs", help="build dbt's documentation site (offline, one HTML file)")
    sub.add_parser("report", help="write the monthly report of the last complete month")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingError as exc:  # a bad FLYWHEEL_* value: say which, not a traceback
        print(f"flywheel: {exc}", file=sys.stderr)
        return 2
    if args.cmd == "demo":
        orders = settings.demo_orders if args.orders is None else args.orders
        return demo(orders, args.fresh)
    if args.cmd == "run":
        if not check_landing(settings.landing_dir):
            return 2
        ok = run_pipeline(args.job)
        print_summary()
        if not ok:
            print_next_steps()
        return 0 if ok else 1
    if args.cmd == "prepare-home":
        print(prepare_home())
        return 0
    if args.cmd == "docs":
        return build_docs()
    if args.cmd == "report":
        return 0 if run_pipeline("monthly_report_job") else 1
    if args.cmd == "summary":
        print_summary()
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
