"""Tree: the whole metric tree for one grain, period and cut, as a graph."""

from __future__ import annotations

import urllib.parse

import streamlit as st

from explorer import common, fmt, model, svg


def why_link(metric: str, grain: str, period, cut: model.Cut) -> str:
    query = {
        "metric": metric,
        "grain": grain,
        "period": f"{period:%Y-%m-%d}",
        "dimension": cut.dimension,
        "value": cut.value,
    }
    return "why?" + urllib.parse.urlencode(query)


def render() -> None:
    snap = common.snapshot()
    cur = common.currency()
    grain = common.pick_grain()
    period = common.pick_period(snap, grain)
    if period is None:
        return
    cut = common.pick_cut(snap, grain, period)
    common.snapshot_caption(snap)
    nodes = model.node_values(snap, grain, period, cut)
    root = nodes[nodes["parent"].isna()].iloc[0]
    st.title("Metric tree")
    st.markdown(
        f"**{fmt.period_label(period, grain)}**, {fmt.md(cut.label())}: "
        f"{fmt.label(root.metric)} **{fmt.value(root.value, root.unit, cur)}**, "
        f"{fmt.change(root.change, root.change_pct, root.unit, cur)} on the previous {grain}, "
        f"{fmt.change(root.yoy_change, root.yoy, root.unit, cur)} on a year earlier."
    )
    common.marks_legend()
    level = svg.depths(nodes)
    deepest = max(level.values())
    levels = st.sidebar.slider("Levels shown", 1, deepest + 1, deepest + 1, key="levels")
    shown = nodes[[level[m] < levels for m in nodes["metric"]]]
    picture = svg.tree(shown, cur, link=lambda m: why_link(m, grain, period, cut))
    common.picture(picture, "metric-tree", max_height=1100)
    st.caption("Click a metric to see why it moved.")
    with st.expander("The same numbers as a table"):
        table = nodes[
            [
                "metric",
                "kind",
                "unit",
                "value",
                "change_pct",
                "yoy",
                "is_complete",
                "is_small_sample",
            ]
        ].copy()
        table["value"] = [
            fmt.value(v, u, cur) for v, u in zip(nodes["value"], nodes["unit"], strict=True)
        ]
        table["vs previous"] = [
            fmt.change(c, p, u, cur)
            for c, p, u in zip(nodes["change"], nodes["change_pct"], nodes["unit"], strict=True)
        ]
        table["vs year earlier"] = [
            fmt.change(c, p, u, cur)
            for c, p, u in zip(nodes["yoy_change"], nodes["yoy"], nodes["unit"], strict=True)
        ]
        st.dataframe(table.drop(columns=["change_pct", "yoy"]), hide_index=True)
