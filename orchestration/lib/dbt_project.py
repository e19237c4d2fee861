"""The dbt project's files on disk.

- `newest_source_mtime`: when the project last changed, the newest modification time
  of every file dbt parses (project and profile files, models, macros, tests, seeds).
  A manifest older than that is stale: orchestration.defs.transform.ensure_manifest
  (the manifest Dagster loads) and orchestration.lib.semantic (the semantic manifest)
  parse again.
- `prune_run_targets`: dagster-dbt gives every build its own target folder (compiled
  SQL, manifest, run results, dbt.log: 19 MB at the test world's size) and never
  removes one; a daily run would keep 7 GB a year of them.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path


def newest_source_mtime(project_dir: Path) -> float:
    watched = [
        project_dir / "dbt_project.yml",
        project_dir / "profiles.yml",
        project_dir.parent / "seeds",  # seed-paths: ["../seeds"]
    ]
    watched += [project_dir / d for d in ("models", "macros", "tests")]
    newest = 0.0
    for root in watched:
        paths = [root] if root.is_file() else list(root.rglob("*")) if root.exists() else []
        for p in paths:
            newest = max(newest, p.stat().st_mtime)
    return newest


def prune_run_targets(
    target: Path, prefix: str, keep: int = 10, younger_than_s: float = 3600.0
) -> list[Path]:
    """Remove the per-build target folders `target/<prefix>-*` but the newest `keep`
    and any written in the last `younger_than_s` seconds: another build may be using
    one (two data folders can share the project, as the test workers do). Returns
    what was removed."""
    runs = sorted(
        (p for p in target.glob(f"{prefix}-*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    now = time.time()
    removed = []
    for run in runs[keep:]:
        if now - run.stat().st_mtime >= younger_than_s:
            shutil.rmtree(run, ignore_errors=True)
            removed.append(run)
    return removed
