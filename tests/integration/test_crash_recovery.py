"""kill -9 at many points of `python -m orchestration.cli run`: BI always sees a whole snapshot,
and the next run recovers by itself.

A first run publishes the baseline. Then each attempt starts the same run on the
same landing folder and is SIGKILLed after a delay; the delays are spread
(stratified, random within each stratum) over the baseline run's duration, so
kills land in start-up, ingestion, the gate, dbt build and publish. Most kills
take the whole process group (as an OOM kill or a container stop does); every
fourth kills only the Dagster process, which orphans a running dbt that keeps
DuckDB's lock until it ends. After each kill the published file must open
read-only, name one run, and hold exactly the baseline's numbers (same landing
data, so every publish must have the same numbers). A final run must succeed
without any manual step and publish the same numbers again.

Two more kill points are aimed at the publish step (a random 0-3 s after it
starts). FLYWHEEL_CRASH_KILL_POINTS (default 8), FLYWHEEL_CRASH_PUBLISH_KILLS
(default 2) and FLYWHEEL_CRASH_SEED change the plan.
"""

import os
import random
import signal
import time
from collections import Counter

import dagster as dg
import pytest

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


@pytest.mark.slow
def test_kill_nine_at_many_points(generated_landing, tmp_path):
    src, _ = generated_landing
    landing = copy_landing(src, tmp_path / "landing")
    env = cli_env(tmp_path, landing)
    published = tmp_path / "data" / "published" / "flywheel.duckdb"
    groups: list[int] = []
    try:
        base = start_cli(env, tmp_path / "run_base.log")
        groups.append(base.proc.pid)
        assert base.proc.wait(timeout=600) == 0, base.output()[-3000:]
        duration = time.monotonic() - base.started
        base_id, status = base.final()
        assert status == "SUCCESS"
        runs, expected = published_checksums(published)
        assert runs == {base_id}
        assert len(expected) >= 13 and all(n > 0 for n, _ in expected.values())

        n = int(os.environ.get("FLYWHEEL_CRASH_KILL_POINTS", "8"))
        rng = random.Random(int(os.environ.get("FLYWHEEL_CRASH_SEED", "7")))
        delays: list[float | None] = [duration * (i + rng.random()) / n for i in range(n)]
        # plus kill points aimed at the publish step itself (0-3 s after it starts: the
        # write, the audit, the swaps): None = wait for the step, then a random delay
        delays += [None] * int(os.environ.get("FLYWHEEL_CRASH_PUBLISH_KILLS", "2"))
        phases: Counter = Counter()
        finished_before_kill = 0
        for i, delay in enumerate(delays):
            attempt = start_cli(env, tmp_path / f"run_kill_{i}.log")
            groups.append(attempt.proc.pid)
            if delay is None:
                while (
                    attempt.proc.poll() is None
                    and "published__bi_snapshot - publishing:" not in attempt.output()
                ):
                    time.sleep(0.05)
                delay = rng.uniform(0.0, 3.0)
            try:
                attempt.proc.wait(timeout=delay)
                finished_before_kill += 1
                phase = "finished"
            except Exception:  # noqa: BLE001 - TimeoutExpired: still running, as intended
                phase = _phase(attempt.output())
                _kill(attempt.proc.pid, whole_group=(i % 4 != 1))
                attempt.proc.wait(timeout=60)
            phases[phase] += 1
            # The published file is there, whole, from exactly one run, with the baseline's numbers.
            assert published.exists(), f"kill {i} ({phase}): published file missing"
            runs, sums = published_checksums(published)
            assert len(runs) == 1, f"kill {i} ({phase}): publish_info names {runs}"
            (run,) = runs
            # the baseline's run, or an attempt that completed its swap before it was killed
            assert (
                run == base_id
                or run in attempt.run_ids()
                or any(run in (tmp_path / f"run_kill_{j}.log").read_text() for j in range(i))
            ), f"kill {i}: unknown run {run}"
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
        print(
            f"\nkill points tried: {len(delays)} (by phase: {dict(phases)}; {finished_before_kill} finished first); "
            f"baseline run {duration:.0f} s; recovery run succeeded with the baseline's numbers"
        )
    finally:
        for pgid in groups:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
