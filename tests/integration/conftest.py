"""A small generated landing folder, shared by the integration tests of one session."""

import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from orchestration.lib.generator import generate

# Fixed end date: the generated data (and every figure derived from it) is the same on every machine.
END_DATE = date(2026, 10, 31)
ORDERS = 3000


@pytest.fixture(scope="session")
def generated_landing(tmp_path_factory) -> tuple[Path, dict]:
    landing = tmp_path_factory.mktemp("landing")
    manifest = generate(landing, orders=ORDERS, seed=7, end_date=END_DATE)
    return landing, manifest


@pytest.fixture
def flywheel_env(tmp_path, monkeypatch):
    """Point every setting at fresh folders; returns a function to set the landing folder."""
    data = tmp_path / "data"
    monkeypatch.setenv("FLYWHEEL_DATA_DIR", str(data))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    monkeypatch.setenv("FLYWHEEL_PII_KEY", "test-key-not-secret")
    # The gate's freshness rules compare with the clock: pin it to the morning after END_DATE.
    monkeypatch.setenv("FLYWHEEL_GATE_NOW", f"{END_DATE + timedelta(days=1)}T06:00:00")

    def use_landing(path: Path) -> None:
        monkeypatch.setenv("FLYWHEEL_LANDING_DIR", str(path))

    return use_landing


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.slow)


os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
