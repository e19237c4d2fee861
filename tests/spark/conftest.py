"""Spark tests (marked slow and heavy: make test-heavy). Where Spark cannot run (pyspark / dbt-spark or Java 17
missing) they are skipped, except when FLYWHEEL_REQUIRE_SPARK=1 (set by `make test-heavy`, so
by CI): then the run stops before any test with the reason (tests/conftest.py), because
a skipped parity check is a parity check that did not happen."""

import importlib.util
import os
import re
import shutil
import subprocess

import pytest

JAVA_HINT = (
    "install Java 17: apt-get install -y openjdk-17-jre-headless (make test does it as root)"
)


def _java_major(java: str) -> int | None:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2)) if major == 1 and found.group(2) else major


def spark_available() -> str | None:
    """None when the Spark engine can run here, else the reason it cannot."""
    for module in ("pyspark", "dbt.adapters.spark"):
        try:
            if importlib.util.find_spec(module) is None:
                return f"{module} is not installed (pip install -e '.[spark]')"
        except ModuleNotFoundError:
            return f"{module} is not installed (pip install -e '.[spark]')"
    java = shutil.which("java")
    if java is None:
        return f"java is not on PATH: {JAVA_HINT}"
    major = _java_major(java)
    if major is None or major < 17:
        return f"{java} is Java {major or 'of unknown version'}, Spark 4 needs 17 or later: {JAVA_HINT}"
    return None


def required_but_missing() -> str | None:
    """The error when FLYWHEEL_REQUIRE_SPARK=1 and Spark cannot run here, else None."""
    if os.environ.get("FLYWHEEL_REQUIRE_SPARK") != "1":
        return None
    reason = spark_available()
    return (
        f"The Spark tests cannot run: {reason}. "
        "FLYWHEEL_REQUIRE_SPARK=1 (make test-heavy, CI) makes this an error, not a skip."
        if reason
        else None
    )


def pytest_collection_modifyitems(config, items):
    # FLYWHEEL_REQUIRE_SPARK=1 has already stopped the run by now when Spark cannot run
    # (tests/conftest.py, pytest_configure, in the main process): here it is a skip.
    spark_items = [item for item in items if "tests/spark" in str(item.fspath)]
    if not spark_items:
        return
    reason = spark_available()
    for item in spark_items:
        item.add_marker(pytest.mark.slow)
        item.add_marker(pytest.mark.heavy)  # make test-heavy (and CI): needs Java and pyspark
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))
