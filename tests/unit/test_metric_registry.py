"""The metric registry (dbt_project/macros/metric_catalog.sql) is the one place a
metric is declared: every tree metric has an entry, and docs/metrics.md's metric
tables are the registry's, never edited by hand."""

import csv

import pytest

from orchestration.lib import metric_registry
from orchestration.lib.metric_registry import DOCS, REPO, SECTIONS


def _tree() -> list[str]:
    with open(REPO / "seeds" / "metric_tree.csv", newline="") as f:
        return [row["metric"] for row in csv.DictReader(f)]


def test_docs_tables_are_generated_from_the_registry():
    entries, _ = metric_registry.read()
    current = DOCS.read_text()
    assert metric_registry.render_docs(current, entries) == current, (
        "docs/metrics.md is stale: python -m orchestration.lib.metric_registry"
    )
    assert metric_registry.main(["--check"]) == 0


def test_every_entry_says_what_people_read():
    entries, components = metric_registry.read()
    tree = set(_tree())
    for e in entries:
        name = metric_registry.display_name(e)
        assert e["section"] in SECTIONS, name
        assert e["formula"] and e["doc_dimensions"], name
        if e.get("metric") in tree or e.get("metric_prefix") == "cx_score_":
            assert e.get("description"), name
        # computed from components, or by the one model that says so
        assert ("numerator" in e) != ("computed_in" in e), name


def test_every_tree_metric_has_exactly_one_entry():
    entries, _ = metric_registry.read()
    for metric in _tree():
        matches = [
            e
            for e in entries
            if e.get("metric") == metric
            or ("metric_prefix" in e and metric.startswith(e["metric_prefix"]))
        ]
        assert len(matches) == 1, (metric, [metric_registry.display_name(e) for e in matches])


def test_a_family_is_listed_with_its_suffix():
    entries, _ = metric_registry.read()
    table = metric_registry.docs_table(entries, "cx")
    assert "| cx_score_{question} | mean score per cx question" in table
    assert "| nps | 100 x (promoters - detractors) / nps answers" in table


def test_an_unknown_section_is_refused():
    entry = {"metric": "x", "section": "finance", "formula": "f", "doc_dimensions": "all"}
    with pytest.raises(ValueError, match="unknown section"):
        metric_registry.render_docs(DOCS.read_text(), [entry])
