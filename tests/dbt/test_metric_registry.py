"""The tree and the metric registry agree, checked by dbt on every build: a
misspelt row of seeds/metric_tree.csv fails the data test
assert_tree_metrics_are_registered instead of leaving a metric without values."""

from tests.dbt.dbt_fixture import dbt_env, prepare_project, run_dbt

SELECT = [
    "metric_tree",
    "stg_seeds__metric_tree",
    "int_metric_registry",
    "int_metric_tree_registered",
    "assert_tree_metrics_are_registered",
]


def _build(tmp_path, monkeypatch):
    for k, v in dbt_env(tmp_path / "data").items():
        monkeypatch.setenv(k, v)
    (tmp_path / "data").mkdir(exist_ok=True)
    # cautious: only the tests whose every parent is selected (not those over the marts)
    return run_dbt(
        tmp_path / "dbt_project", ["build", "--indirect-selection", "cautious", "--select", *SELECT]
    )


def _registry_test(result):
    (node,) = [
        r for r in result.result.results if r.node.name == "assert_tree_metrics_are_registered"
    ]
    return node


def test_the_project_tree_is_registered(tmp_path, monkeypatch):
    prepare_project(tmp_path)
    result = _build(tmp_path, monkeypatch)
    assert result.success, result.exception
    assert _registry_test(result).failures == 0


def test_a_misspelt_tree_row_fails(tmp_path, monkeypatch):
    prepare_project(tmp_path)
    tree = tmp_path / "seeds" / "metric_tree.csv"
    text = tree.read_text()
    assert text.count("\nchurn_rate,") == 1
    tree.write_text(text.replace("\nchurn_rate,", "\nchurn_rat,"))
    result = _build(tmp_path, monkeypatch)
    assert not result.success
    node = _registry_test(result)
    assert str(node.status) == "fail"
    # Two rows, by hand: churn_rat is in the tree but not in the registry, and the
    # registry's churn_rate is no longer in the tree.
    assert node.failures == 2
