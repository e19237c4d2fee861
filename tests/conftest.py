"""Shared fixtures. Every test runs with telemetry off and its own data folders."""

import os

import pytest

os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
os.environ["DAGSTER_DISABLE_TELEMETRY"] = "true"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"


def pytest_configure(config):
    """FLYWHEEL_REQUIRE_SPARK=1 (make test-heavy): stop before any test when Spark cannot run
    (tests/spark/conftest.py). Checked in the main process only: under pytest-xdist the
    workers would each fail on their own instead of the run stopping with the reason."""
    if hasattr(config, "workerinput"):
        return
    from tests.spark.conftest import required_but_missing

    missing = required_but_missing()
    if missing:
        raise pytest.UsageError(missing)
