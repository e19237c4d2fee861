"""Readers hammering the published file while runs publish; two runs started together.

Reader processes open the file the way docs/bi.md says (read-only, external
access off, configuration locked), query it in a loop and record every error
and every checksum they see. Both runs load the same landing folder, so every
snapshot a reader sees must carry the same numbers: a reader that saw a
half-swapped or mixed file would see a different checksum or an error.
"""

import json
import os
import subprocess
import sys
import time

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEventType

from orchestration.lib.feeds import ALLOWED_EXTENSIONS, FEEDS
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import WarehouseBusy, writer_lock
from tests.integration.pipeline_helpers import copy_landing
from tests.integration.test_publish_support import ROOT, cli_env, start_cli

READER = r"""
import json, sys, time, duckdb
path, stop, out = sys.argv[1:4]
queries, errors, runs, sums = 0, [], set(), set()
import os
while not os.path.exists(stop):
    if not os.path.exists(path):
        time.sleep(0.05)
        continue
    try:
        con = duckdb.connect(":memory:")
        con.execute("ATTACH ? AS flywheel (READ_ONLY)", [path])
        con.execute("USE flywheel")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        runs.update(r[0] for r in con.execute("select distinct run_id from marts.publish_info").fetchall())
        s = con.execute("select count(*), sum(md5_number_lower(t::varchar)) from marts.metric_tree t").fetchone()
        o = con.execute("select count(*), sum(md5_number_lower(t::varchar)) from marts.fct_orders t").fetchone()
        v = con.execute("select count(*) from marts.metric_values").fetchone()
        sums.add(json.dumps([str(s), str(o), str(v)]))
        queries += 4
        con.close()
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
json.dump({"queries": queries, "errors": errors[:20], "n_errors": len(errors), "runs": sorted(runs),
           "sums": sorted(sums)}, open(out, "w"))
"""

PUBLISH_AGAIN = r"""
import sys
from orchestration.lib.settings import load_settings
from orchestration.lib.warehouse import connect, writer_lock
from orchestration.lib.publish import publish
s = load_settings()
for i in range(int(sys.argv[1])):
    with writer_lock(s):
        con = connect(s)
        try:
            publish(con, s, f"republish-{i}")
        finally:
            con.close()
"""


def _landing_files(landing) -> int:
    """Files the contract says are read: regular, allowed extension, not hidden, in a feed folder."""
    n = 0
    for feed in FEEDS:
        folder = landing / feed
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if (
                p.is_file()
                and not p.is_symlink()
                and not p.name.startswith((".", "_"))
                and p.name.endswith(ALLOWED_EXTENSIONS)
            ):
                n += 1
    return n


@pytest.mark.heavy  # make test-heavy: two whole runs at once, readers hammering
def test_two_runs_together_and_hammering_readers(generated_landing, tmp_path):
    src, _ = generated_landing
    landing = copy_landing(src, tmp_path / "landing")
    env = cli_env(tmp_path, landing)
    published = tmp_path / "data" / "published" / "flywheel.duckdb"
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                READER,
                str(published),
                str(stop),
                str(tmp_path / f"reader{i}.json"),
            ]
        )
        for i in range(3)
    ]
    # Create the Dagster home and its storage first: two processes creating the SQLite
    # tables of a brand-new home at the same instant race ("table runs already exists").
    subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "prepare-home"], cwd=ROOT, env=env, check=True
    )
    subprocess.run(
        [sys.executable, "-c", "import dagster as dg; dg.DagsterInstance.get().get_runs(limit=1)"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    runs = [start_cli(env, tmp_path / f"run{i}.log") for i in range(2)]
    try:
        for r in runs:
            assert r.proc.wait(timeout=900) == 0, r.output()[-3000:]
        # More swaps under the readers: publish again three times (same warehouse, same numbers).
        subprocess.run(
            [sys.executable, "-c", PUBLISH_AGAIN, "3"], cwd=ROOT, env=env, check=True, timeout=600
        )
    finally:
        stop.write_text("stop")
        for p in readers:
            p.wait(timeout=120)
        for r in runs:
            if r.proc.poll() is None:
                os.killpg(r.proc.pid, 9)
    results = [json.loads((tmp_path / f"reader{i}.json").read_text()) for i in range(3)]
    queries = sum(r["queries"] for r in results)
    errors = sum(r["n_errors"] for r in results)
    seen_runs = set().union(*(r["runs"] for r in results))
    seen_sums = set().union(*(r["sums"] for r in results))
    outputs = [r.output() for r in runs]
    run_ids = {r.final()[0] for r in runs}
    print(
        f"\nreader queries run: {queries} by 3 processes, errors: {errors}; "
        f"snapshots seen: {len(seen_runs)} runs; distinct numbers seen: {len(seen_sums)}"
    )
    assert errors == 0, [r["errors"] for r in results]
    assert queries > 100
    assert (
        len(seen_sums) == 1
    )  # same landing data: every snapshot has the same numbers, never a mix
    assert seen_runs <= run_ids | {f"republish-{i}" for i in range(3)}
    assert len(seen_runs) >= 2  # the readers lived through at least one swap

    # Both runs succeeded on the shared warehouse, their writing steps queued: Dagster's pool
    # duckdb_writer (limit 1) blocked steps of one run while the other's ran (event log), and
    # the writer lock would have queued them otherwise ("waiting for the warehouse").
    assert all("SUCCESS" in o for o in outputs)
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        blocked = sum(
            "blocked by limit for pool duckdb_writer" in (r.event_log_entry.user_message or "")
            for run_id in run_ids
            for r in instance.get_records_for_run(
                run_id, of_type=DagsterEventType.ENGINE_EVENT, limit=10_000
            ).records
        )
    lock_waits = sum(o.count("waiting for the warehouse") for o in outputs)
    print(
        f"steps queued behind the other run: {blocked} pool waits, {lock_waits} writer-lock waits"
    )
    assert blocked + lock_waits > 0
    # The warehouse is whole: every landing file registered exactly once (the second run's
    # ingest found them all known), and the published file is from one of the runs.
    con = duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True)
    paths = [r[0] for r in con.execute("select path from meta.files").fetchall()]
    con.close()
    assert len(paths) == len(set(paths)) == _landing_files(landing)


def test_writer_lock_makes_the_second_writer_wait(tmp_path):
    settings = Settings(landing_dir=tmp_path / "landing", data_dir=tmp_path / "data")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from orchestration.lib.settings import Settings; from orchestration.lib.warehouse import writer_lock;"
            f"s = Settings(landing_dir=None, data_dir=__import__('pathlib').Path({str(settings.data_dir)!r}));"
            "cm = writer_lock(s); cm.__enter__(); print('held', flush=True); time.sleep(3); cm.__exit__(None, None, None)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    # A writer with a short timeout is refused with a message naming the holder.
    with pytest.raises(WarehouseBusy, match=rf"held by pid {holder.pid}"):
        with writer_lock(settings, timeout_s=0.5, log=lambda m: None):
            pass
    # A patient writer waits, says so, and gets the lock once the holder lets go.
    messages: list[str] = []
    t0 = time.monotonic()
    with writer_lock(settings, timeout_s=30, log=messages.append):
        waited = time.monotonic() - t0
    holder.wait(timeout=10)
    assert waited > 1.0 and messages and f"pid {holder.pid}" in messages[0]
    print(f"\nsecond writer waited {waited:.1f} s: {messages[0]}")
