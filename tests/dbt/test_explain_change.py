"""Explaining a change (mart_metric_contributions, mart_metric_change_explanations)
on hand-written metric values.

The two models run with real dbt on a DuckDB warehouse whose upstream tables
(metric_values, the tree, the segment tables) are written here by hand, so
every case is small enough to work out on paper; the working is in the
comment beside each assertion. LMDI values are irrational: they are checked
against the formula evaluated here in Python, and the sum against the change.
"""

from __future__ import annotations

import math
from datetime import date

import dbt_fixture as fixture
import duckdb
import pytest

JAN, FEB, MAR, APR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)

# metric, parent, relation, unit
TREE = [
    ("p", None, "root", "currency"),
    ("a", "p", "factor", "customers"),
    ("b", "p", "factor", "currency"),
    ("q", None, "root", "ratio"),
    ("n", "q", "factor", "ratio"),
    ("d", "q", "divisor", "ratio"),
    ("s", None, "root", "currency"),
    ("x", "s", "summand", "currency"),
    ("y", "s", "summand", "currency"),
    ("z", "s", "subtrahend", "currency"),
    ("leads", None, "root", "leads"),
    ("qualification_rate", None, "root", "ratio"),
]

# metric -> (January, February) at month grain, dimension all
TREE_VALUES = {
    "p": (10.0, 22.0),  # = a x b: 2 x 5, 4 x 5.5
    "a": (2.0, 4.0),
    "b": (5.0, 5.5),
    "q": (0.0, 2.0),  # = n / d: 0 / 4, 6 / 3
    "n": (0.0, 6.0),
    "d": (4.0, 3.0),
    "s": (5.0, 2.0),  # = x + y - z: 10 - 4 - 1, 12 - 7 - 3
    "x": (10.0, 12.0),
    "y": (-4.0, -7.0),  # a negative child
    "z": (1.0, 3.0),
}

# campaign -> (leads, qualified leads) per month. January -> February: campaign
# "y / c" doubles its leads at a third of the others' qualification rate; the
# rest stand still. March -> April: every campaign grows about 10% at the same
# rate (one by 11%): no segment is behind that change.
CAMPAIGNS = {
    JAN: {"x / a": (100, 30), "x / b": (100, 30), "y / c": (100, 30), "y / d": (100, 30)},
    FEB: {"x / a": (100, 30), "x / b": (100, 30), "y / c": (200, 20), "y / d": (100, 30)},
    MAR: {"x / a": (100, 30), "x / b": (100, 30), "y / c": (100, 30), "y / d": (100, 30)},
    APR: {"x / a": (111, 33.3), "x / b": (110, 33), "y / c": (110, 33), "y / d": (110, 33)},
}


def _write_upstream(path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists marts")
        con.execute(
            "create table main.stg_seeds__metric_tree (metric varchar, parent varchar,"
            " relation varchar, weight double, kind varchar, function varchar, unit varchar,"
            " direction varchar, description varchar)"
        )
        for metric, parent, relation, unit in TREE:
            con.execute(
                "insert into main.stg_seeds__metric_tree values (?, ?, ?, 1, 'main', 'test', ?,"
                " 'higher', 'test')",
                [metric, parent, relation, unit],
            )
        con.execute(
            "create table main.stg_seeds__stores (store_id varchar, store_name varchar,"
            " region varchar)"
        )
        con.execute(
            "create table marts.metric_values (metric varchar, grain varchar, period_start date,"
            " dimension varchar, dimension_value varchar, value double, numerator double,"
            " denominator double, is_complete boolean)"
        )
        rows = []
        for metric, (jan, feb) in TREE_VALUES.items():
            rows += [
                (metric, JAN, "all", "all", jan, jan, None),
                (metric, FEB, "all", "all", feb, feb, None),
            ]
        for month, campaigns in CAMPAIGNS.items():
            leads = sum(n for n, _ in campaigns.values())
            qualified = sum(k for _, k in campaigns.values())
            rows.append(("leads", month, "all", "all", leads, leads, None))
            rows.append(
                ("qualification_rate", month, "all", "all", qualified / leads, qualified, leads)
            )
            for campaign, (n, k) in campaigns.items():
                rows.append(("leads", month, "campaign", campaign, n, n, None))
                rows.append(("qualification_rate", month, "campaign", campaign, k / n, k, n))
        for metric, month, dim, value, v, num, den in rows:
            con.execute(
                "insert into marts.metric_values values (?, 'month', ?, ?, ?, ?, ?, ?, true)",
                [metric, month, dim, value, v, num, den],
            )
        for name in ("int_metric_segments_orders", "int_metric_segments_survey"):
            con.execute(
                f"create table main.{name} (metric varchar, grain varchar, period_start date,"
                " depth integer, dimension_1 varchar, value_1 varchar, dimension_2 varchar,"
                " value_2 varchar, numerator double, denominator double)"
            )
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("explain")
    data = workdir / "data"
    path = data / "warehouse.duckdb"
    _write_upstream(path)
    project = fixture.prepare_project(workdir)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in fixture.dbt_env(data).items():
            mp.setenv(key, value)
        result = fixture.run_dbt(
            project,
            [
                "run",
                "--select",
                "mart_metric_contributions int_metric_change_candidates mart_metric_change_explanations",
                "--vars",
                # a floor of 0.5% of the metric's level (default 1%): see the cases
                "{explain_metrics: [leads, qualification_rate], explain_min_effect: 0.005}",
            ],
        )
    assert result.success, result.exception
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def _contributions(con, parent):
    rows = con.execute(
        "select child_metric, method, contribution, parent_change from marts.metric_contributions"
        " where parent_metric = ? and period_start = ? and comparison = 'previous_period'",
        [parent, FEB],
    ).fetchall()
    return {child: (method, c, change) for child, method, c, change in rows}


def test_two_factor_product_by_lmdi(warehouse):
    # p = a x b: 10 -> 22, a 2 -> 4, b 5 -> 5.5.
    # L(22, 10) = 12 / ln(2.2) = 15.2196...; a: L x ln(2) = 10.5494...; b: L x ln(1.1) = 1.4506...
    # together L x ln(2 x 1.1) = L x ln(2.2) = 12, the change.
    got = _contributions(warehouse, "p")
    log_mean = 12 / math.log(2.2)
    assert got["a"][0] == got["b"][0] == "lmdi"
    assert got["a"][1] == pytest.approx(log_mean * math.log(2), rel=1e-12)
    assert got["b"][1] == pytest.approx(log_mean * math.log(1.1), rel=1e-12)
    assert got["a"][1] == pytest.approx(10.5494, abs=1e-4)
    assert got["b"][1] == pytest.approx(1.4506, abs=1e-4)
    assert got["a"][1] + got["b"][1] == pytest.approx(12, rel=1e-12)


def test_ratio_with_a_zero_in_the_base_period(warehouse):
    # q = n / d: 0 / 4 = 0 -> 6 / 3 = 2. n is 0 in January, so ln(n1 / n0) has no
    # value; as n0 tends to 0 the whole change (+2) goes to n, none to d.
    got = _contributions(warehouse, "q")
    assert got["n"] == ("zero_rule", pytest.approx(2.0), pytest.approx(2.0))
    assert got["d"] == ("zero_rule", pytest.approx(0.0), pytest.approx(2.0))


def test_sum_with_a_negative_child(warehouse):
    # s = x + y - z: 5 -> 2 (change -3). x +2 (10 -> 12), y -3 (-4 -> -7), z: -(3 - 1) = -2.
    got = _contributions(warehouse, "s")
    assert {k: (m, c) for k, (m, c, _) in got.items()} == {
        "x": ("additive", pytest.approx(2.0)),
        "y": ("additive", pytest.approx(-3.0)),
        "z": ("additive", pytest.approx(-2.0)),
    }
    assert sum(c for _, c, _ in got.values()) == pytest.approx(-3.0)


def _explanations(con, metric, month):
    return con.execute(
        "select segment_rank, segment, contribution, mix_effect, rate_effect, unexpected_change,"
        " segment_size, segment_base_size, sentence from marts.metric_change_explanations"
        " where metric = ? and period_start = ? and comparison = 'previous_period'"
        " order by segment_rank",
        [metric, month],
    ).fetchall()


def test_a_campaign_flooding_low_quality_leads_is_found_with_its_mix_and_rate(warehouse):
    # January: 4 campaigns x 100 leads at 30% -> 400 leads, rate 0.30.
    # February: y / c has 200 leads at 10% (20 qualified) -> 500 leads, 110 qualified, rate 0.22.
    # y / c: share of leads w 100/400 = 0.25 -> 200/500 = 0.4; its rate r 0.3 -> 0.1;
    #   mean of the total's rate (0.3 + 0.22) / 2 = 0.26
    #   mix  = (0.4 - 0.25) x ((0.3 + 0.1) / 2 - 0.26) = 0.15 x -0.06 = -0.009
    #   rate = (0.4 + 0.25) / 2 x (0.1 - 0.3) = 0.325 x -0.2 = -0.065
    #   contribution -0.074; unexpected = mix + 0.325 x (-0.2 - (-0.08)) = -0.009 - 0.039 = -0.048
    # each other campaign: w 0.25 -> 0.2, r 0.3 both: mix = -0.05 x (0.3 - 0.26) = -0.002,
    #   unexpected = -0.002 + (0.25 + 0.2) / 2 x 0.08 = +0.016
    rows = _explanations(warehouse, "qualification_rate", FEB)
    rank, segment, contribution, mix, rate, unexpected, size, base_size, sentence = rows[0]
    assert (rank, segment) == (1, "campaign y / c")
    assert mix == pytest.approx(-0.009)
    assert rate == pytest.approx(-0.065)
    assert contribution == pytest.approx(-0.074)
    assert unexpected == pytest.approx(-0.048)
    assert (size, base_size) == (200, 100)
    assert sentence == (
        "campaign y / c: qualification rate 30.0% to 10.0% on 100 to 200 leads"
        " (rest of the data 30.0% to 30.0%); mix -0.9 pp, rate -6.5 pp: -7.4 pp of the -8.0 pp change."
    )
    # The other three follow (contribution -0.002 each, above the floor of 0.5% of the
    # level, 0.26 x 0.005 = 0.0013), by segment name as their effects tie; the four
    # campaigns' contributions add up to the rate's change: -0.074 + 3 x -0.002 = -0.08.
    assert [r[1] for r in rows[1:]] == ["campaign x / a", "campaign x / b", "campaign y / d"]
    assert sum(r[2] for r in rows) == pytest.approx(-0.08)


def test_the_same_flood_in_lead_counts(warehouse):
    # leads 400 -> 500 (+25%); y / c 100 -> 200: contribution +100, unexpected
    # 100 - 100 x 0.25 = +75. The others: contribution 0, below the floor of 0.5% of
    # the level (450 x 0.005 = 2.25): not reported.
    rows = _explanations(warehouse, "leads", FEB)
    assert [(r[0], r[1], r[2], r[5]) for r in rows] == [
        (1, "campaign y / c", pytest.approx(100), pytest.approx(75))
    ]
    assert rows[0][-1] == (
        "campaign y / c: leads 100 to 200 (+100, +100.0%) while the rest moved 0.0%; +100 of the +100 change."
    )


def test_an_even_change_has_no_segment_behind_it(warehouse):
    # March -> April: 400 -> 441 leads (+10.25%); x / a +11, the others +10.
    # x / a: unexpected 11 - 100 x 0.1025 = 0.75 < 0.5% of the level (420.5 x 0.005 = 2.1);
    # the others: 10 - 10.25 = -0.25. The rate is 0.30 everywhere in both months.
    assert _explanations(warehouse, "leads", APR) == []
    assert _explanations(warehouse, "qualification_rate", APR) == []
