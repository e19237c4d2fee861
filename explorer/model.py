"""What each page shows, as rows of the marts: one function per question, no formula.

Every function takes the Snapshot and returns marts rows (filtered, joined, pivoted),
so the pages and the monthly report read the same numbers the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from explorer.snapshot import Snapshot, has_table, query

GRAINS = ("month", "week", "day")
COMPARISONS = {"previous_period": "previous period", "year_earlier": "a year earlier"}
# Cuts a person filters the tree by (metric_values.dimension), in the order offered.
FILTER_DIMENSIONS = ("channel", "campaign", "region", "store", "sales_channel", "fulfilment")
# Channel economics (docs/metrics.md): the marketing metrics per channel and campaign.
CHANNEL_METRICS = (
    "marketing_spend",
    "leads",
    "cpl",
    "qualification_rate",
    "cpql",
    "qualified_leads",
    "acquired_customers",
    "cac",
    "roas",
    "channel_roi",
    "ltv_cac",
    "payback_months",
)
CX_METRICS = ("nps", "csi", "csat")


@dataclass(frozen=True)
class Cut:
    """A filter of metric_values: the whole business ('all') or one dimension value."""

    dimension: str = "all"
    value: str = "all"

    @property
    def is_all(self) -> bool:
        return self.dimension == "all"

    def label(self) -> str:
        return "all data" if self.is_all else f"{self.dimension.replace('_', ' ')} {self.value}"


ALL = Cut()


def tree(snap: Snapshot) -> pd.DataFrame:
    return query(snap, "select * from marts.metric_tree order by metric")


def root_metric(snap: Snapshot) -> str:
    t = tree(snap)
    return str(t.loc[t["parent"].isna(), "metric"].iloc[0])


def anchor_metric(snap: Snapshot, grain: str) -> str | None:
    """The metric that says whether a period is complete: the root, or (a shop that
    sends no ad spend has no contribution margin) the highest metric of the tree that
    has values at this grain."""
    from explorer.svg import depths

    t = tree(snap)
    have = set(
        query(
            snap,
            "select distinct metric from marts.metric_values where grain = $g and dimension = 'all'",
            {"g": grain},
        )["metric"]
    )
    level = depths(t)
    ranked = sorted((level[m], m) for m in have if m in level)
    return ranked[0][1] if ranked else None


def periods(snap: Snapshot, grain: str, metric: str | None = None) -> pd.DataFrame:
    """Periods of a grain, newest first, with whether the anchor metric's period is complete."""
    metric = metric or anchor_metric(snap, grain)
    return query(
        snap,
        "select period_start, bool_and(is_complete) as is_complete from marts.metric_values"
        " where grain = $g and metric = $m and dimension = 'all'"
        " group by period_start order by period_start desc",
        {"g": grain, "m": metric},
    )


def default_period(snap: Snapshot, grain: str) -> date | None:
    """The last complete period of the grain (the newest one when none is complete)."""
    p = periods(snap, grain)
    if p.empty:
        return None
    complete = p[p["is_complete"]]
    return (complete if not complete.empty else p)["period_start"].iloc[0].date()


def cuts(snap: Snapshot, grain: str, period: date) -> dict[str, list[str]]:
    """The dimension values that have metric values in the period, by dimension."""
    df = query(
        snap,
        "select distinct dimension, dimension_value from marts.metric_values"
        " where grain = $g and period_start = $p and dimension <> 'all'"
        " order by dimension, dimension_value",
        {"g": grain, "p": period},
    )
    return {d: list(g["dimension_value"]) for d, g in df.groupby("dimension", sort=False)}


def node_values(snap: Snapshot, grain: str, period: date, cut: Cut = ALL) -> pd.DataFrame:
    """One row per metric of the tree: its metric_values row for the period and cut (if any)."""
    return query(
        snap,
        """
        select t.metric, t.parent, t.relation, t.kind, t.unit, t.direction, t.description,
            t.availability, v.value, v.previous_value, v.change, v.change_pct,
            v.year_earlier_value, v.yoy_change, v.yoy, v.sample_size, v.is_small_sample,
            v.is_complete, v.numerator, v.denominator
        from marts.metric_tree t
        left join marts.metric_values v
            on v.metric = t.metric and v.grain = $g and v.period_start = $p
            and v.dimension = $d and v.dimension_value = $v
        order by t.metric
        """,
        {"g": grain, "p": period, "d": cut.dimension, "v": cut.value},
    )


def contributions(
    snap: Snapshot, metric: str, grain: str, period: date, comparison: str, cut: Cut = ALL
) -> pd.DataFrame:
    """The children's contributions to the metric's change (marts.metric_contributions)."""
    return query(
        snap,
        """
        select c.*, t.unit as child_unit, t.direction as child_direction
        from marts.metric_contributions c
        join marts.metric_tree t on t.metric = c.child_metric
        where c.parent_metric = $m and c.grain = $g and c.period_start = $p
            and c.comparison = $c and c.dimension = $d and c.dimension_value = $v
        order by abs(c.contribution) desc nulls last, c.child_metric
        """,
        {"m": metric, "g": grain, "p": period, "c": comparison, "d": cut.dimension, "v": cut.value},
    )


def explanations(
    snap: Snapshot, metric: str, grain: str, period: date, comparison: str
) -> pd.DataFrame:
    """The segments behind the metric's change (marts.metric_change_explanations)."""
    return query(
        snap,
        "select * from marts.metric_change_explanations"
        " where metric = $m and grain = $g and period_start = $p and comparison = $c"
        " order by segment_rank",
        {"m": metric, "g": grain, "p": period, "c": comparison},
    )


def counters_against(snap: Snapshot, nodes: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Counter-metrics guarding `metric` (its children of relation or kind counter) that
    moved the bad way while the metric moved the good way, from the nodes' own rows."""
    from explorer.fmt import BAD, GOOD, verdict

    me = nodes[nodes["metric"] == metric]
    if me.empty or verdict(me["change"].iloc[0], me["direction"].iloc[0]) != GOOD:
        return nodes.iloc[0:0]
    guards = nodes[
        (nodes["parent"] == metric)
        & ((nodes["relation"] == "counter") | (nodes["kind"] == "counter"))
    ]
    bad = [verdict(r.change, r.direction) == BAD for r in guards.itertuples()]
    return guards[bad]


def trend(
    snap: Snapshot, metric: str, grain: str, period: date, cut: Cut = ALL, n: int = 13
) -> pd.DataFrame:
    """The last n periods up to `period`, each with its year-earlier value."""
    return query(
        snap,
        "select period_start, value, year_earlier_value, is_complete, is_small_sample"
        " from marts.metric_values where metric = $m and grain = $g and dimension = $d"
        " and dimension_value = $v and period_start <= $p"
        " order by period_start desc limit $n",
        {"m": metric, "g": grain, "d": cut.dimension, "v": cut.value, "p": period, "n": n},
    ).sort_values("period_start")


def channel_months(snap: Snapshot) -> list[date]:
    df = query(
        snap,
        "select distinct period_start from marts.metric_values where grain = 'month'"
        " and dimension = 'channel' order by 1 desc",
    )
    return [d.date() for d in df["period_start"]]


def channels(snap: Snapshot, month: date) -> pd.DataFrame:
    """Channel and campaign rows of the month: each metric's value, whether that value is
    final (its own window is over: metric_values.is_complete) and whether its sample is
    small. Campaign keys read 'channel / campaign' (dbt macro campaign_key)."""
    df = query(
        snap,
        "select dimension, dimension_value, metric, value, is_complete, is_small_sample"
        " from marts.metric_values where grain = 'month' and period_start = $p"
        " and dimension in ('channel', 'campaign') and list_contains($metrics, metric)",
        {"p": month, "metrics": list(CHANNEL_METRICS)},
    )
    if df.empty:
        return df
    df["channel"] = df["dimension_value"].str.split(" / ").str[0]
    df["campaign"] = (
        df["dimension_value"].where(df["dimension"] == "campaign").str.split(" / ", n=1).str[1]
    )
    return df.drop(columns="dimension_value")


def store_rating(snap: Snapshot, month: date) -> pd.DataFrame:
    """marts.store_rating of the month with each store's CSAT (metric_values, store cut)."""
    return query(
        snap,
        """
        select r.store_id, r.store_name, r.region, r.nps, r.nps_respondents, r.nps_rank,
            r.nps_rank_change, r.nps_is_small_sample, r.csi, r.csi_respondents, r.csi_rank,
            r.csi_rank_change, r.csi_is_small_sample, c.value as csat,
            c.sample_size as csat_respondents, c.is_small_sample as csat_is_small_sample
        from marts.store_rating r
        left join marts.metric_values c
            on c.metric = 'csat' and c.grain = 'month' and c.period_start = r.month
            and c.dimension = 'store' and c.dimension_value = r.store_id
        where r.month = $p
        order by r.nps_rank nulls last, r.store_id
        """,
        {"p": month},
    )


def cx_months(snap: Snapshot) -> list[date]:
    df = query(snap, "select distinct month from marts.store_rating order by 1 desc")
    return [d.date() for d in df["month"]]


def regions(snap: Snapshot, month: date) -> pd.DataFrame:
    """NPS, CSI and CSAT per region (metric_values, region cut), long form."""
    return query(
        snap,
        "select dimension_value as region, metric, value, sample_size, is_small_sample,"
        " change from marts.metric_values where grain = 'month' and period_start = $p"
        " and dimension = 'region' and list_contains($m, metric) order by region, metric",
        {"p": month, "m": list(CX_METRICS)},
    )


def top_problems(snap: Snapshot, month: date) -> pd.DataFrame:
    return query(
        snap,
        "select store_id, problem_rank, question, low_score_answers, detractor_answers,"
        " low_score_share, mean_score, is_small_sample from marts.store_top_problems"
        " where month = $p order by store_id, problem_rank",
        {"p": month},
    )


def csi_by_weekday(snap: Snapshot, month: date) -> pd.DataFrame:
    return query(
        snap,
        "select store_id, iso_day_of_week, csi, csi_respondents from marts.store_csi_by_weekday"
        " where month = $p order by store_id, iso_day_of_week",
        {"p": month},
    )


def data_status(snap: Snapshot) -> dict[str, pd.DataFrame]:
    """publish_info, and the gate's verdicts and quarantine counts where published."""
    out = {"feeds": query(snap, "select * from marts.publish_info order by feed")}
    for t in ("publish_checks", "publish_quarantine"):
        out[t] = query(snap, f"select * from marts.{t}") if has_table(snap, t) else pd.DataFrame()
    return out
