"""Why did it move: a node's children's contributions (a waterfall that adds up to the
change), the segments behind the change, the counters, and the trend."""

from __future__ import annotations

import streamlit as st

from explorer import common, fmt, model, svg


def waterfall_svg(contrib, parent_unit: str, parent_direction: str, cur: str) -> str | None:
    """The contributions as a waterfall; None when the change is not decomposed."""
    usable = contrib[contrib["contribution"].notna()]
    if usable.empty:
        return None
    steps = [
        (fmt.label(r.child_metric), r.contribution, fmt.verdict(r.contribution, parent_direction))
        for r in usable.itertuples()
    ]
    total = float(contrib["parent_change"].iloc[0])
    return svg.waterfall(steps, "Change", total, parent_unit, cur)


def render() -> None:
    snap = common.snapshot()
    cur = common.currency()
    tree = model.tree(snap)
    metrics = list(tree["metric"])
    wanted = common.param("metric", model.root_metric(snap))
    metric = st.sidebar.selectbox(
        "Metric",
        metrics,
        index=metrics.index(wanted) if wanted in metrics else 0,
        format_func=fmt.label,
        key="metric",
    )
    grain = common.pick_grain()
    period = common.pick_period(snap, grain)
    if period is None:
        return
    cut = common.pick_cut(snap, grain, period)
    comparisons = list(model.COMPARISONS)
    comparison = st.sidebar.radio(
        "Compared with", comparisons, format_func=model.COMPARISONS.get, key="comparison"
    )
    common.snapshot_caption(snap)
    nodes = model.node_values(snap, grain, period, cut)
    me = nodes[nodes["metric"] == metric].iloc[0]
    st.title(f"Why did {fmt.label(metric)} move?")
    st.caption(fmt.md(me.description))
    delta, pct = (
        (me.change, me.change_pct) if comparison == "previous_period" else (me.yoy_change, me.yoy)
    )
    verdict = fmt.verdict(delta, me.direction)
    st.markdown(
        f"**{fmt.label(metric)}**, {fmt.period_label(period, grain)}, {fmt.md(cut.label())}: "
        f"**{fmt.value(me.value, me.unit, cur)}**, {fmt.change(delta, pct, me.unit, cur)} "
        f"({fmt.signed(delta, me.unit, cur)}) against {model.COMPARISONS[comparison]}"
        f" — {'the good way' if verdict == fmt.GOOD else 'the bad way' if verdict == fmt.BAD else 'no change to judge'}."
    )
    if fmt.is_false(me.is_complete):
        st.info("This period is not complete yet: the figures will still move.")

    bad_counters = (
        model.counters_against(snap, nodes, metric)
        if comparison == "previous_period"
        else nodes.iloc[0:0]
    )
    for r in bad_counters.itertuples():
        st.warning(
            f"Counter-metric {fmt.label(r.metric)} moved the bad way "
            f"({fmt.change(r.change, r.change_pct, r.unit, cur)}) while {fmt.label(metric)} "
            "improved: check that the gain was not bought with it."
        )

    st.subheader("What the change is made of")
    contrib = model.contributions(snap, metric, grain, period, comparison, cut)
    if contrib.empty:
        st.write(
            f"{fmt.label(metric)} has no children that add up to it (a leaf or a ratio "
            "without an identity); see the segments and the trend below."
        )
    else:
        picture = waterfall_svg(contrib, me.unit, me.direction, cur)
        if picture is None:
            st.write(
                "Not decomposable here (a factor is negative or missing): "
                "each child's own change is listed below."
            )
        else:
            common.picture(picture, "waterfall")
        note = contrib["comparison_note"].dropna()
        if not note.empty:
            st.caption(fmt.md(note.iloc[0]))
        for s in contrib["sentence"].dropna():
            st.markdown(f"- {fmt.md(s)}")

    st.subheader("Where it moved")
    if not cut.is_all:
        st.caption("Segments are found for all data; the filter above applies to the tree numbers.")
    seg = model.explanations(snap, metric, grain, period, comparison)
    if seg.empty:
        st.write(
            "No segment moved beyond the whole metric (or segments are not searched for "
            "this metric and grain: week and month, the metrics of var explain_metrics)."
        )
    else:
        for s in seg["sentence"]:
            st.markdown(f"- {fmt.md(s)}")

    st.subheader("Trend")
    common.picture(
        svg.trend(model.trend(snap, metric, grain, period, cut), me.unit, cur, grain), "trend"
    )
