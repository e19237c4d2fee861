"""When the dbt project last changed: the newest modification time of every file dbt
parses (project and profile files, models, macros, tests, seeds). A manifest older
than that is stale: orchestration.defs.transform.ensure_manifest (the manifest
Dagster loads) and orchestration.lib.semantic (the semantic manifest) parse again."""

from __future__ import annotations

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
