"""Spark tests: skipped when pyspark / dbt-spark or Java are missing; marked slow."""

import importlib.util
import shutil

import pytest


def spark_available() -> str | None:
    """None when the Spark engine can run here, else the reason it cannot."""
    for module in ("pyspark", "dbt.adapters.spark"):
        try:
            if importlib.util.find_spec(module) is None:
                return f"{module} is not installed (pip install -e '.[spark]')"
        except ModuleNotFoundError:
            return f"{module} is not installed (pip install -e '.[spark]')"
    if shutil.which("java") is None:
        return "java is not on PATH (Spark needs Java 17)"
    return None


def pytest_collection_modifyitems(items):
    reason = spark_available()
    for item in items:
        if "tests/spark" in str(item.fspath):
            item.add_marker(pytest.mark.slow)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
