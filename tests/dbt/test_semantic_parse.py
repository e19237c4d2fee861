"""`dbt parse` validates the semantic layer: a metric that names a metric that does
not exist stops the parse (so every dbt build in CI and every pipeline run checks
the semantic models and metrics), and the valid project writes the manifest that
MetricFlow reads."""

import json
import os

from tests.dbt.dbt_fixture import dbt_env, prepare_project, run_dbt

SEMANTIC_METRICS = "models/marts/semantic/_semantic__metrics.yml"


def test_parse_writes_the_semantic_manifest(tmp_path, monkeypatch):
    project = prepare_project(tmp_path)
    for k, v in dbt_env(tmp_path / "data").items():
        monkeypatch.setenv(k, v)
    result = run_dbt(project, ["parse"])
    assert result.success, result.exception
    manifest = json.loads((project / "target" / "semantic_manifest.json").read_text())
    names = {m["name"] for m in manifest["metrics"]}
    assert {"revenue", "aov", "cac", "nps", "on_time_rate", "contribution_margin"} <= names
    models = {m["name"] for m in manifest["semantic_models"]}
    assert models == {
        "orders", "order_items", "marketing_spend", "leads", "customers", "survey_answers",
        "channels", "stores",
    }  # fmt: skip


def test_parse_fails_on_a_misspelt_metric(tmp_path, monkeypatch):
    project = prepare_project(tmp_path)
    path = project / SEMANTIC_METRICS
    text = path.read_text()
    assert text.count("denominator: paid_acquired_customers\n") == 1
    path.write_text(
        text.replace(
            "denominator: paid_acquired_customers\n", "denominator: paid_acquired_customer\n"
        )
    )
    for k, v in dbt_env(tmp_path / "data").items():
        monkeypatch.setenv(k, v)
    result = run_dbt(project, ["parse"])
    assert not result.success
    # dbt names the file, the metric and the missing name
    message = str(result.exception)
    assert "Parsing Error in metric cac (models/marts/semantic/_semantic__metrics.yml)" in message
    assert "The metric `paid_acquired_customer` does not exist" in message, message
    assert not os.path.exists(project / "target" / "semantic_manifest.json")
