"""The semantic layer's formulas are the metric catalog's (no second definition that
can drift): checked on the project's YAML, and shown to catch a changed formula."""

import copy
from pathlib import Path

import pytest

from orchestration.lib import semantic

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
# The metrics issue 32 asks for, by their names in metric_values.
MAIN_METRICS = {
    "revenue", "cogs", "gross_margin", "marketing_spend", "contribution_margin",
    "revenue_orders", "paying_customers", "aov", "leads", "qualified_leads",
    "qualification_rate", "cpl", "cpql", "new_customers", "cac", "nps", "csi", "on_time_rate",
}  # fmt: skip


@pytest.fixture(scope="module")
def metrics():
    return semantic._semantic_metrics(PROJECT)


def test_every_main_metric_is_defined(metrics):
    assert MAIN_METRICS <= set(metrics), sorted(MAIN_METRICS - set(metrics))


def test_formulas_are_the_catalogs(metrics):
    assert semantic.catalog_mismatches(PROJECT, metrics) == []


def _changed(metrics, name, **type_params):
    changed = copy.deepcopy(metrics)
    changed[name]["type_params"].update(type_params)
    return changed


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        # CAC over all spend instead of the paid channels' spend
        ("cac", {"numerator": "marketing_spend"}, "cac: semantic layer"),
        # numerator and denominator swapped
        ("aov", {"numerator": "revenue_orders", "denominator": "revenue"}, "aov: semantic layer"),
        # a sum of the wrong component
        ("revenue", {"measure": "cogs"}, "revenue: semantic layer"),
        # gross margin spelt differently from the catalog
        ("gross_margin", {"expr": "revenue + cogs"}, "gross_margin: semantic layer"),
    ],
)
def test_a_changed_formula_is_reported(metrics, name, change, expected):
    problems = semantic.catalog_mismatches(PROJECT, _changed(metrics, name, **change))
    assert any(p.startswith(expected) for p in problems), problems


def test_a_misspelt_metric_is_reported(metrics):
    misspelt = copy.deepcopy(metrics)
    misspelt["qualifed_leads"] = misspelt.pop("qualified_leads")
    problems = semantic.catalog_mismatches(PROJECT, misspelt)
    assert "qualifed_leads: neither a catalog metric nor a component of one" in problems
