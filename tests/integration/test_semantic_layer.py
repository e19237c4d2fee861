"""The semantic layer (MetricFlow) answers with the numbers of marts.metric_values.

Two independent computations meet here: MetricFlow writes its own SQL from the
semantic models (dbt_project/models/marts/semantic/) over the fact and dimension
marts, and the metric catalog computes metric_values from its own aggregates.
Each metric is asked at day, week and month, overall and by store or channel,
on the published snapshot of one pipeline run; every value, numerator and
denominator must agree within 1e-9 (relative), and neither side may have a
period or segment the other lacks.
"""

import shutil
from datetime import date, datetime

import duckdb
import pytest

from orchestration.lib import semantic

pytestmark = pytest.mark.slow

GRAINS = ("day", "week", "month")
# metric -> (numerator metric, denominator metric) for ratios, None for the rest
RATIOS = {
    "aov": ("revenue", "revenue_orders"),
    "qualification_rate": ("qualified_leads", "leads"),
    "cpl": ("marketing_spend", "leads"),
    "cpql": ("marketing_spend", "qualified_leads"),
    "cac": ("paid_marketing_spend", "paid_acquired_customers"),
    "nps": ("nps_points", "nps_answers"),
    "csi": ("csi_score_sum", "csi_answers"),
    "on_time_rate": ("delivered_on_time", "delivered_with_promise"),
}
SUMS = (
    "revenue", "cogs", "gross_margin", "marketing_spend", "contribution_margin",
    "revenue_orders", "paying_customers", "leads", "qualified_leads", "new_customers",
)  # fmt: skip
# The segment each metric is compared by besides 'all': the metric_values dimension
# and the entity MetricFlow groups by (same name). contribution_margin is overall only.
BY = {
    **dict.fromkeys(
        ["revenue", "cogs", "gross_margin", "revenue_orders", "paying_customers"], "store"
    ),
    **dict.fromkeys(["aov", "nps", "csi", "on_time_rate"], "store"),
    **dict.fromkeys(
        ["marketing_spend", "leads", "qualified_leads", "qualification_rate"], "channel"
    ),
    **dict.fromkeys(["cpl", "cpql", "new_customers", "cac"], "channel"),
}


def close(a, b) -> bool:
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))


def as_date(v) -> date:
    return v.date() if isinstance(v, datetime) else v


@pytest.fixture(scope="module")
def layer(published_world):
    with semantic.SemanticLayer(published_world.settings) as layer:
        yield layer


@pytest.fixture(scope="module")
def marts(published_world):
    con = duckdb.connect(str(published_world.settings.published_path), read_only=True)
    yield con
    con.close()


def ask(layer, metric: str, grain: str, by: str | None) -> dict[tuple, float]:
    """{(period_start, segment): value} of one metric, the null values left out."""
    group_by = [f"metric_time__{grain}"] + ([by] if by else [])
    answer = layer.query([metric], group_by)
    col = {name: i for i, name in enumerate(answer.columns)}
    return {
        (as_date(row[col[f"metric_time__{grain}"]]), row[col[by]] if by else "all"): row[
            col[metric]
        ]
        for row in answer.rows
        if row[col[metric]] is not None
    }


def stored(marts, metric: str, grain: str, dimension: str) -> dict[tuple, tuple]:
    rows = marts.execute(
        "select period_start, dimension_value, value, numerator, denominator"
        " from marts.metric_values"
        " where metric = ? and grain = ? and dimension = ? and value is not null",
        [metric, grain, dimension],
    ).fetchall()
    return {(p, v): (value, n, d) for p, v, value, n, d in rows}


def differences(got: dict, want: dict) -> list:
    wrong = [
        (k, got[k], want[k]) for k in sorted(set(got) & set(want)) if not close(got[k], want[k])
    ]
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    return wrong[:5] + [("missing", m) for m in missing[:5]] + [("extra", e) for e in extra[:5]]


@pytest.mark.parametrize("metric", SUMS + tuple(RATIOS))
def test_same_values_as_metric_values(layer, marts, metric):
    compared = 0
    for grain in GRAINS:
        for dimension in ["all"] + ([BY[metric]] if metric in BY else []):
            by = None if dimension == "all" else dimension
            want = stored(marts, metric, grain, dimension)
            assert want, (metric, grain, dimension, "metric_values has no values to compare")
            got = ask(layer, metric, grain, by)
            problems = differences(got, {k: v[0] for k, v in want.items()})
            if metric in RATIOS:
                numerator, denominator = RATIOS[metric]
                # the parts at the keys where the ratio has a value
                for part, index in ((numerator, 1), (denominator, 2)):
                    parts = ask(layer, part, grain, by)
                    problems += differences(
                        {k: parts.get(k) for k in want if k in parts},
                        {k: v[index] for k, v in want.items()},
                    )
            assert not problems, (metric, grain, dimension, problems)
            compared += len(want)
    assert compared > 0


def test_revenue_and_nps_by_store_in_one_query(layer, marts):
    """Two semantic models in one answer, joined on the month and the store key: the
    store-less rows ('(none)': web orders) must meet, not split into two rows."""
    answer = layer.query(["revenue", "nps"], ["metric_time__month", "store"])
    keys = [(row[0], row[1]) for row in answer.rows]
    assert len(keys) == len(set(keys))
    col = {name: i for i, name in enumerate(answer.columns)}
    got = {(as_date(r[col["metric_time__month"]]), r[col["store"]]): r for r in answer.rows}
    for metric in ("revenue", "nps"):
        want = stored(marts, metric, "month", "store")
        values = {k: r[col[metric]] for k, r in got.items() if r[col[metric]] is not None}
        assert not differences(values, {k: v[0] for k, v in want.items()}), metric
    assert any(k[1] == "(none)" for k in got)


def test_manifest_is_valid_and_names_the_tree(layer, marts):
    """MetricFlow's own validations pass, and every semantic metric named like a tree
    metric is one (a misspelt name would be a metric nobody can find in the tree)."""
    assert semantic.validate(layer.manifest) == []
    tree = {r[0] for r in marts.execute("select metric from marts.metric_tree").fetchall()}
    asked = set(SUMS) | set(RATIOS)
    assert asked <= tree, sorted(asked - tree)
    assert asked <= set(layer.metric_names())


def test_cli_writes_a_safe_csv(published_world, tmp_path, monkeypatch, capsys):
    """make metrics-query: a table on screen and, with --csv, the same answer in a file
    (its formula neutralising: tests/unit/test_semantic_definitions.py); an unknown
    metric is an error, not an empty answer."""
    monkeypatch.setenv("FLYWHEEL_DATA_DIR", str(published_world.settings.data_dir))
    out = tmp_path / "answer.csv"
    code = semantic.main(
        ["--metrics", "revenue", "--group-by", "metric_time__month,store", "--csv", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "metric_time__month" in printed and "revenue" in printed
    lines = out.read_text().splitlines()
    assert lines[0] == "metric_time__month,store,revenue"
    assert len(lines) > 1
    assert semantic.main(["--metrics", "no_such_metric"]) == 1


def test_an_older_snapshot_is_named_not_a_crash(published_world, tmp_path):
    """A snapshot published before fct_marketing_spend existed: the answer names the
    missing table and the run that fixes it."""
    old = tmp_path / "old.duckdb"
    shutil.copy(published_world.settings.published_path, old)
    with duckdb.connect(str(old)) as con:
        con.execute("drop table marts.fct_marketing_spend")
    with pytest.raises(semantic.SemanticLayerError) as raised:
        semantic.SemanticLayer(published_world.settings, snapshot=old)
    message = str(raised.value)
    assert "fct_marketing_spend" in message and "make run" in message, message
