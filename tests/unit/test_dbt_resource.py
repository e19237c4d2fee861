"""The dbt resource skips two start-up steps of dagster-dbt; these tests check that
what it assumes instead is true, and that the skipped steps are still the ones upstream runs.

The pipeline tests (tests/integration) run real dbt builds through this resource.
"""

import inspect
import re
import subprocess
from pathlib import Path

import pytest
from dagster_dbt import DbtCliResource
from dagster_dbt.core import resource as upstream
from packaging.version import Version

from orchestration.defs.transform import _DBT_EXE, DBT_DIR, FlywheelDbtCliResource, dbt_resource


def _fresh(**kwargs) -> FlywheelDbtCliResource:
    """A new instance: _cli_version is cached per instance."""
    return FlywheelDbtCliResource(project_dir=str(DBT_DIR), profiles_dir=str(DBT_DIR), **kwargs)


def test_version_equals_what_the_dbt_executable_prints():
    # Second method: ask the executable itself, as dagster-dbt would.
    out = subprocess.check_output([str(_DBT_EXE), "--version"], text=True)
    printed = re.search(r"(\d+\.\d+\.\d+)", out).group(1)
    assert _fresh(dbt_executable=str(_DBT_EXE))._cli_version == Version(printed)
    # The pipeline's resource is the dbt beside this interpreter, so it takes that path.
    assert dbt_resource.dbt_executable == str(_DBT_EXE)


def test_no_subprocess_for_the_version_of_our_own_dbt(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a subprocess was started: {args}")

    monkeypatch.setattr(upstream, "check_output", refuse)
    assert _fresh(dbt_executable=str(_DBT_EXE))._cli_version.major == 1
    # Any other dbt executable is asked, as upstream does: the patched call is reached.
    other = tmp_path / "dbt"
    other.symlink_to(_DBT_EXE)
    with pytest.raises(AssertionError, match="a subprocess was started"):
        _ = _fresh(dbt_executable=str(other))._cli_version


def test_no_adapter_is_loaded_and_nothing_needs_one():
    assert _fresh(dbt_executable=str(_DBT_EXE))._initialize_dbt_core_adapter(["build"]) is None
    # Only dagster-dbt's metadata fetchers use the adapter: the project must not call them.
    root = Path(__file__).resolve().parents[2] / "orchestration"
    call = re.compile(r"\.fetch_(row_counts|column_metadata)\(")
    callers = [
        f"{p.relative_to(root.parent)}:{n}"
        for p in root.rglob("*.py")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if call.search(line) and "`" not in line  # a mention in a docstring is quoted
    ]
    assert callers == []


def test_the_overridden_names_are_what_upstream_cli_uses():
    # If dagster-dbt renames either, the overrides would silently stop saving time.
    cli_source = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in cli_source
    assert "self._initialize_dbt_core_adapter(" in cli_source
    assert "check_output([self.dbt_executable" in inspect.getsource(
        DbtCliResource._cli_version.func
    )
