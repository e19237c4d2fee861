"""The per-build target folders dagster-dbt leaves behind are pruned: the newest kept,
one still being written never touched, other folders of the target never touched."""

import os
import time

from orchestration.lib.dbt_project import prune_run_targets


def _folder(target, name, age_s, now):
    path = target / name
    (path / "compiled").mkdir(parents=True)
    (path / "run_results.json").write_text("{}")
    os.utime(path, (now - age_s, now - age_s))
    return path


def test_keeps_the_newest_and_the_recent_and_what_is_not_a_build(tmp_path):
    now = time.time()
    day = 86_400
    # 14 builds a day apart, the newest written a minute ago
    builds = [
        _folder(tmp_path, f"flywheel_dbt-run{i:02d}-abc", 60 + i * day, now) for i in range(14)
    ]
    # two more written in the last ten minutes: builds another data folder may still be
    # running on the same project
    in_use = [_folder(tmp_path, f"flywheel_dbt-busy{i}-abc", 600 + i, now) for i in range(2)]
    other = [
        _folder(tmp_path, "compiled", 30 * day, now),  # dbt's own, from `dbt parse`
        _folder(tmp_path, "semantic_layer-x", 30 * day, now),  # another prefix
    ]
    (tmp_path / "manifest.json").write_text("{}")

    removed = prune_run_targets(tmp_path, prefix="flywheel_dbt", keep=3, younger_than_s=3600)

    # By hand: 16 build folders by age: run00 (60 s), busy0 (600 s), busy1 (601 s),
    # then run01..run13 (a day and more). The newest 3 are kept (run00, busy0, busy1);
    # of the other 13 none is younger than an hour: run01..run13 go.
    assert sorted(p.name for p in removed) == [f"flywheel_dbt-run{i:02d}-abc" for i in range(1, 14)]
    assert [p.exists() for p in builds] == [True] + [False] * 13
    assert all(p.exists() for p in in_use + other)
    assert (tmp_path / "manifest.json").exists()


def test_a_recent_build_beyond_the_newest_is_kept(tmp_path):
    now = time.time()
    recent = [_folder(tmp_path, f"flywheel_dbt-r{i}-abc", 100 + i, now) for i in range(4)]
    old = _folder(tmp_path, "flywheel_dbt-old-abc", 7200, now)

    removed = prune_run_targets(tmp_path, prefix="flywheel_dbt", keep=2, younger_than_s=3600)

    # r0, r1 are the newest two; r2 and r3 are beyond them but under an hour old: kept;
    # old (two hours) goes
    assert removed == [old]
    assert all(p.exists() for p in recent)
