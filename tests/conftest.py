"""Shared fixtures. Every test runs with telemetry off and its own data folders."""

import os

import pytest

os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
os.environ["DAGSTER_DISABLE_TELEMETRY"] = "true"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"


def pytest_configure(config):
    """Under pytest-xdist only the workers collect tests: the requirement that Spark can run
    (tests/spark/conftest.py) is checked here too, in the main process, before any worker
    starts, so the run stops with the reason instead of workers failing one by one."""
    if hasattr(config, "workerinput"):
        return
    from tests.spark.conftest import required_but_missing

    missing = required_but_missing()
    if missing:
        raise pytest.UsageError(missing)
