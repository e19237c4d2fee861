"""kill -9 at each phase of `python -m orchestration.cli run`: BI always sees a whole
snapshot, and the next run recovers by itself.

A first run publishes the baseline. Then the same run on the same landing folder is
killed once in each phase, deterministically:
- start-up (before any step has logged), ingestion, the gate and dbt build: the test
  waits for the phase's first line in the run's output, then SIGKILLs the run's whole
  process group (as an OOM kill or a container stop does). A second dbt-build kill takes
  only the Dagster process, which orphans a running dbt that keeps DuckDB's lock until
  it ends;
- publish, at each boundary of its steps (orchestration/lib/publish.py, KILL_POINTS):
  the run kills its own process group there (FLYWHEEL_TEST_KILL_AT), so the kill lands
  between the write and the audit, before any swap, between the DuckDB and the Parquet
  swap, and before the restricted swap, every time.
The test asserts each kill landed in its phase. After each kill the published file must
open read-only, name one run, and hold exactly the baseline's numbers (same landing
data, so every publish must have the same numbers). A final run must succeed without
any manual step and publish the same numbers again.
"""

import os
import signal
import time

import dagster as dg
import pytest

from orchestration.lib.publish import KILL_POINTS
from tests.integration.pipeline_helpers import copy_landing
from tests.integration.test_publish_support import cli_env, published_checksums, start_cli

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


@pytest.mark.slow
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

        plan = [
            (phase, marker, after, group, None) for phase, marker, after, group in EXTERNAL_KILLS
        ]
        plan += [("publish", None, 0.0, True, point) for point in KILL_POINTS]
        landed: list[tuple[str, str]] = []
        for i, (phase, marker, after, whole_group, point) in enumerate(plan):
            run_env = env | ({"FLYWHEEL_TEST_KILL_AT": point} if point else {})
            attempt = start_cli(run_env, tmp_path / f"run_kill_{i}.log")
            groups.append(attempt.proc.pid)
            if point is None:
                _wait_for(attempt, marker, after)
                assert attempt.proc.poll() is None, f"kill {i}: the run ended before the kill"
                seen = _phase(attempt.output())
                _kill(attempt.proc.pid, whole_group)
            code = attempt.proc.wait(timeout=600)
            if point is not None:
                seen = _phase(attempt.output())
            assert code == -signal.SIGKILL, f"kill {i}: the run exited with {code}"
            landed.append((phase, seen))
            assert seen == phase, f"kill {i} aimed at {phase} ({point or marker}) landed in {seen}"
            # The published file is there, whole, from exactly one run, with the baseline's numbers.
            assert published.exists(), f"kill {i} ({phase}): published file missing"
            runs, sums = published_checksums(published)
            assert len(runs) == 1, f"kill {i} ({phase}): publish_info names {runs}"
            (run,) = runs
            # the baseline's run, or an attempt that swapped its file in before it was killed
            swapped = point in ("duckdb_swapped", "parquet_swapped")
            assert run == (next(iter(attempt.run_ids())) if swapped else base_id), (
                f"kill {i} ({phase} {point or ''}): published run {run}"
            )
            assert sums == expected, (
                f"kill {i} ({phase}): published numbers differ from the baseline"
            )

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
        print(f"\nkills (aimed, landed): {landed}; recovery run published the baseline's numbers")
    finally:
        for pgid in groups:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
