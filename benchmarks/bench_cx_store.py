"""Benchmark: the 15-minute store run at 2.4M answers.

    .venv/bin/python -m benchmarks.bench_cx_store WORKDIR [SOURCE_DATA_DIR SOURCE_LANDING]

Starts from a built demo (SOURCE_DATA_DIR: a data dir after `orchestration.cli
demo`, SOURCE_LANDING its landing dir), adds 100,000 answers a month for 24
months straight into raw.survey_answers with SQL (the generator would take
far longer), runs cx_store_job once to catch up, then lands one new answer
file and times the 15-minute run. It reports times; it asserts none.
"""

import os
import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from orchestration.lib.settings import load_settings

ANSWERS_PER_MONTH = 100_000
MONTHS = 24


def seed_answers(warehouse: Path, end: datetime) -> int:
    import duckdb

    con = duckdb.connect(str(warehouse))
    n = ANSWERS_PER_MONTH * MONTHS
    start = end - timedelta(days=730)
    span = int((end - start).total_seconds())
    con.execute(
        f"""
        insert into raw.survey_answers
            (answer_id, answered_at, survey, question, score, order_id, store_id, customer_id,
             email, phone, loyalty_card_id, comment, _file_id, _line, _ingested_at)
        with s as (select store_id, row_number() over (order by store_id) - 1 as k from main.stores),
        g as (
            select i, hash(i) as h from range({n}) t(i)
        )
        select
            'B' || lpad(cast(i as varchar), 9, '0'),
            timestamp '{start:%Y-%m-%d %H:%M:%S}' + to_seconds(cast(i * {span} // {n} as bigint)),
            case i % 3 when 0 then 'nps' when 1 then 'csi' else 'cx' end,
            case i % 3 when 0 then 'recommend' when 1 then 'store_visit' else 'queue' end,
            case i % 3 when 0 then cast(h % 11 as integer) else cast(1 + h % 5 as integer) end,
            null, s.store_id, 'C' || lpad(cast(h % 3000 as varchar), 8, '0'),
            null, null, null, null, -1, i, cast(current_timestamp as timestamp) - interval 1 day
        from g join s on g.h % (select count(*) from s) = s.k
        """
    )
    total = con.execute("select count(*) from raw.survey_answers").fetchone()[0]
    # The first run then builds the store-day aggregate from scratch over all of it.
    con.execute("drop table if exists main.int_cx_store_days_aggregated")
    con.close()
    return total


def land_new_answers(landing: Path, end: datetime, n: int = 300) -> Path:
    folder = landing / "survey_answers"
    path = folder / f"survey_answers_{end:%Y-%m-%d}_live_{int(time.time())}.csv"
    lines = [
        "answer_id,answered_at,survey,question,score,order_id,store_id,customer_id,email,phone,loyalty_card_id,comment"
    ]
    for i in range(n):
        t = end + timedelta(minutes=i % 60)
        lines.append(
            f"L{int(time.time())}{i:05d},{t:%Y-%m-%d %H:%M:%S},nps,recommend,{i % 11},,S0{1 + i % 3},,,,,"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def run_store_job():
    import dagster as dg

    from orchestration.definitions import defs as base
    from orchestration.defs import cx

    defs = dg.Definitions.merge(base, dg.Definitions(assets=cx.assets, jobs=cx.jobs))
    started = time.monotonic()
    result = defs.resolve_job_def("cx_store_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    elapsed = time.monotonic() - started
    steps = {}
    for ev in result.all_events:
        if ev.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            steps[ev.step_key] = ev.event_specific_data.duration_ms / 1000
    return result.success, elapsed, steps


def main(workdir: Path, src_data: Path, src_landing: Path) -> None:
    data, landing = workdir / "data", workdir / "landing"
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(src_data, data, ignore=shutil.ignore_patterns("dagster_home", "*.lock"))
    shutil.copytree(src_landing, landing)
    os.environ.update({"FLYWHEEL_DATA_DIR": str(data), "FLYWHEEL_LANDING_DIR": str(landing)})
    import duckdb

    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    end = con.execute("select max(answered_at) from raw.survey_answers").fetchone()[0]
    con.close()
    if not load_settings().gate_now:  # the gate's clock: the morning after the data
        os.environ["FLYWHEEL_GATE_NOW"] = f"{(end + timedelta(days=1)):%Y-%m-%d}T06:00:00"
    t0 = time.monotonic()
    total = seed_answers(data / "warehouse.duckdb", end)
    print(f"seeded: raw.survey_answers now {total:,} rows in {time.monotonic() - t0:.1f} s")
    ok, elapsed, steps = run_store_job()
    print(f"first run (full build over all answers): success={ok} {elapsed:.1f} s {steps}")
    ok, elapsed, steps = run_store_job()
    print(f"no new files: success={ok} {elapsed:.1f} s {steps}")
    land_new_answers(landing, end)
    ok, elapsed, steps = run_store_job()
    print(f"15-minute run with one new file of 300 answers: success={ok} {elapsed:.1f} s {steps}")


if __name__ == "__main__":
    work = Path(sys.argv[1])
    src = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("/tmp/cx1/data")
    src_landing = Path(sys.argv[3]) if len(sys.argv) > 3 else Path("/tmp/cx1/landing")
    main(work, src, src_landing)
