"""kill -9 at each phase of `python -m orchestration.cli run`: BI always sees a whole
snapshot, and the next run recovers by itself.

A first run publishes the baseline. Then the same landing folder is worked on again and
killed once in each phase, deterministically:
- start-up (before any step has logged), ingestion, the gate and dbt build: the run is
  started, the test waits for the phase's first line in its output and SIGKILLs the run's
  whole process group (as an OOM kill or a container stop does). A second dbt-build kill
  takes only the Dagster process, which orphans a running dbt that keeps DuckDB's lock
  until it ends;
- publish, at each boundary between its steps (orchestration/lib/publish.py,
  KILL_POINTS: after the write, before any swap, between the DuckDB and the Parquet swap,
  before the restricted swap): publish runs, under the writer lock as in a run, in a
  process of its own that kills its process group there (FLYWHEEL_TEST_KILL_AT). What a
  kill leaves on disk does not depend on who called publish, and this costs seconds
  where a whole run per point cost a minute.
The test asserts each kill landed in its phase. After each kill the published file must
open read-only, name one run, and hold exactly the baseline's numbers (same landing
data, so every publish must have the same numbers). A final run must succeed without
any manual step, clean up what the kills left and publish the same numbers again.
"""

import os
import signal
import subprocess
import sys
import time

import dagster as dg
import duckdb
import pytest

from orchestration.lib.publish import KILL_POINTS
from tests.integration.pipeline_helpers import copy_landing
from tests.integration.test_publish_support import (
    ROOT,
    cli_env,
    parquet_checksums,
    published_checksums,
    start_cli,
)

PHASES = [  # (marker in the run's output, phase), last one seen wins
    ("raw__", "ingest"),
    ("quality__lead_verdicts", "gate"),
    ("flywheel_dbt", "dbt build"),
    ("published__bi_snapshot", "publish"),
    ("Dagster run ", "finished"),
]


def _phase(output: str) -> str:
    best, pos = "start-up", -1
    for marker, name in PHASES:
        i = output.rfind(marker)
        if i > pos:
            best, pos = name, i
    return best


def _kill(pid: int, whole_group: bool) -> None:
    try:
        if whole_group:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# (phase, the output line that starts it, seconds to wait after it, kill whole group)
EXTERNAL_KILLS = [
    ("start-up", None, 0.5, True),
    ("ingest", "raw__", 0.0, True),
    ("gate", "quality__lead_verdicts", 0.0, True),
    ("dbt build", "flywheel_dbt", 2.0, True),
    ("dbt build", "flywheel_dbt", 2.0, False),  # Dagster only: dbt lives on, orphaned
]


def _wait_for(attempt, marker: str | None, after: float) -> None:
    if marker is not None:
        while marker not in attempt.output():
            assert attempt.proc.poll() is None, (
                f"the run ended before {marker!r} appeared:\n{attempt.output()[-2000:]}"
            )
            time.sleep(0.02)
    time.sleep(after)


PUBLISH_ALONE = """
import sys
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.publish import publish
warehouse = WarehouseResource()
with warehouse.session(log=lambda _m: None) as con:
    publish(con, warehouse.settings(), sys.argv[1])
"""


def _publish_killed_at(env: dict, point: str, run_id: str) -> int:
    """Publish in a process of its own (its own process group) that dies at `point`."""
    proc = subprocess.run(
        [sys.executable, "-c", PUBLISH_ALONE, run_id],
        cwd=ROOT,
        env=env | {"FLYWHEEL_TEST_KILL_AT": point},
        capture_output=True,
        text=True,
        timeout=600,
        start_new_session=True,
    )
    return proc.returncode


@pytest.mark.heavy  # make test-heavy: a kill -9 in every phase, one run each
def test_kill_nine_in_every_phase(generated_landing, tmp_path):
    src, _ = generated_landing
    landing = copy_landing(src, tmp_path / "landing")
    env = cli_env(tmp_path, landing)
    published = tmp_path / "data" / "published" / "flywheel.duckdb"
    groups: list[int] = []
    try:
        base = start_cli(env, tmp_path / "run_base.log")
        groups.append(base.proc.pid)
        assert base.proc.wait(timeout=600) == 0, base.output()[-3000:]
        base_id, status = base.final()
        assert status == "SUCCESS"
        runs, expected = published_checksums(published)
        assert runs == {base_id}
        assert len(expected) >= 13 and all(n > 0 for n, _ in expected.values())

        landed: list[tuple[str, str]] = []

        parquet = published.parent / "parquet"
        restricted = tmp_path / "data" / "restricted" / "restricted.duckdb"
        expected_parquet = parquet_checksums(parquet)
        assert set(expected_parquet) == set(expected)

        def parquet_run() -> set[str]:
            con = duckdb.connect()
            try:
                info = str(parquet / "publish_info.parquet")
                return {
                    r[0] for r in con.execute(f"select distinct run_id from '{info}'").fetchall()
                }
            finally:
                con.close()

        def check(i: int, phase: str, duckdb_run: str, parquet_run_id: str) -> None:
            # The published file is there, whole, from exactly one run, with the baseline's
            # numbers; so is the Parquet folder (each swapped on its own: between the two
            # swaps they name different runs); the restricted file opens.
            assert published.exists(), f"kill {i} ({phase}): published file missing"
            runs, sums = published_checksums(published)
            assert runs == {duckdb_run}, f"kill {i} ({phase}): the DuckDB file names {runs}"
            assert sums == expected, (
                f"kill {i} ({phase}): published numbers differ from the baseline"
            )
            assert parquet_run() == {parquet_run_id}, f"kill {i} ({phase}): Parquet {parquet_run()}"
            assert parquet_checksums(parquet) == expected_parquet, f"kill {i} ({phase}): Parquet"
            con = duckdb.connect(str(restricted), read_only=True)
            try:
                tables = con.execute("select count(*) from information_schema.tables").fetchone()[0]
            finally:
                con.close()
            assert tables >= 1, f"kill {i} ({phase}): restricted file"

        for i, (phase, marker, after, whole_group) in enumerate(EXTERNAL_KILLS):
            attempt = start_cli(env, tmp_path / f"run_kill_{i}.log")
            groups.append(attempt.proc.pid)
            _wait_for(attempt, marker, after)
            assert attempt.proc.poll() is None, f"kill {i}: the run ended before the kill"
            seen = _phase(attempt.output())
            _kill(attempt.proc.pid, whole_group)
            assert attempt.proc.wait(timeout=600) == -signal.SIGKILL
            landed.append((phase, seen))
            assert seen == phase, f"kill {i} aimed at {phase} ({marker}) landed in {seen}"
            check(i, phase, base_id, base_id)

        # The orphaned dbt of the last kill holds DuckDB's lock until it ends; publish waits
        # for the writer lock like a run would.
        duckdb_run = parquet_run_id = base_id
        for j, point in enumerate(KILL_POINTS):
            run_id = f"killed-at-{point}"
            code = _publish_killed_at(env, point, run_id)
            assert code == -signal.SIGKILL, f"publish meant to die at {point} exited with {code}"
            landed.append(("publish", point))
            if point in ("duckdb_swapped", "parquet_swapped"):
                duckdb_run = run_id
            if point == "parquet_swapped":
                parquet_run_id = run_id
            check(len(EXTERNAL_KILLS) + j, f"publish {point}", duckdb_run, parquet_run_id)

        # Recovery: the next run needs no manual step and publishes the same numbers.
        rec = start_cli(env, tmp_path / "run_recover.log")
        groups.append(rec.proc.pid)
        assert rec.proc.wait(timeout=900) == 0, rec.output()[-3000:]
        rec_id, status = rec.final()
        runs, sums = published_checksums(published)
        assert status == "SUCCESS" and runs == {rec_id}
        assert sums == expected
        folder = published.parent
        leftovers = [
            p.name
            for p in folder.iterdir()
            if p.name.startswith((".flywheel.duckdb", ".parquet.link"))
        ]
        assert leftovers == [], leftovers
        assert len([p for p in folder.glob(".parquet.*") if p.is_dir()]) <= 2
        assert not list((tmp_path / "data" / "restricted").glob(".*tmp*"))
        # Every killed run is marked failed (its slot in pool duckdb_writer freed), none left "started".
        with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            stuck = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        assert stuck == []
        print(
            f"\nkills (phase, where): {landed}; the recovery run published the baseline's numbers"
        )
    finally:
        for pgid in groups:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
