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


def test_a_reference_with_a_filter_is_read_as_its_name(metrics):
    written_long = _changed(metrics, "aov", numerator={"name": "revenue"})
    assert semantic.catalog_mismatches(PROJECT, written_long) == []


def test_a_ratio_across_models_must_be_strict_in_the_catalog(metrics, monkeypatch):
    """aov is not strict: both parts come from orders. Were revenue_orders measured in
    another semantic model, MetricFlow would give no AOV where the catalog counts the
    missing part as 0; the check says so."""
    original = semantic._semantic_yaml

    def moved(project, key):
        found = original(project, key)
        if key == "semantic_models":
            found = copy.deepcopy(found)
            measures = found["orders"]["measures"]
            moved_measure = next(m for m in measures if m["name"] == "revenue_orders")
            measures.remove(moved_measure)
            found["leads"]["measures"].append(moved_measure)
        return found

    monkeypatch.setattr(semantic, "_semantic_yaml", moved)
    problems = semantic.catalog_mismatches(PROJECT, metrics)
    assert problems == [
        "aov: its parts come from ['orders'] and ['leads'], and the catalog does not mark it strict"
    ], problems


def test_csv_cells_never_start_a_formula(tmp_path):
    answer = semantic.Answer(
        ["metric_time__month", "lead__campaign", "leads"],
        [("2026-10-01", '=HYPERLINK("http://x")', 3.0), ("2026-10-01", "+7 912", -2.5)],
        sql="",
    )
    out = tmp_path / "a.csv"
    semantic.write_csv(answer, out)
    lines = out.read_text().splitlines()
    # a formula trigger gets a leading quote; the number -2.5 is a float, written as is
    assert lines[1] == '2026-10-01,"\'=HYPERLINK(""http://x"")",3.0'
    assert lines[2] == "2026-10-01,'+7 912,-2.5"


def test_a_misspelt_metric_is_reported(metrics):
    misspelt = copy.deepcopy(metrics)
    misspelt["qualifed_leads"] = misspelt.pop("qualified_leads")
    problems = semantic.catalog_mismatches(PROJECT, misspelt)
    assert "qualifed_leads: neither a catalog metric nor a component of one" in problems
