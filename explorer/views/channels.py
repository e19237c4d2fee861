"""Channels: the marketing metrics per channel and campaign, each value marked final or not
by its own window (metric_values.is_complete of that metric), small samples marked."""

from __future__ import annotations

import streamlit as st

from explorer import common, fmt, model
from explorer.tables import NOT_FINAL, SMALL, channel_table


def render() -> None:
    snap = common.snapshot()
    cur = common.currency()
    months = model.channel_months(snap)
    common.snapshot_caption(snap)
    st.title("Channels")
    if not months:
        st.warning("No channel values in this snapshot (leads or marketing spend not delivered).")
        return
    month = common.pick_month(snap, months)
    units = dict(zip(*[model.tree(snap)[c] for c in ("metric", "unit")], strict=True))
    long = model.channels(snap, month)
    if long.empty:
        st.warning(f"No channel values in {fmt.period_label(month, 'month')}.")
        return
    st.markdown(
        f"**{fmt.period_label(month, 'month')}**: spend, leads and what they became, "
        "per channel (total first) and campaign."
    )
    st.caption(
        f"\\{NOT_FINAL} not final yet: the metric's own window after the month is not over "
        "(e.g. leads still being qualified, customers still being acquired, revenue still "
        f"accruing for ROAS and LTV); {SMALL} small sample. CAC, ROAS, ROI, LTV/CAC and "
        "payback cover paid channels."
    )
    table = channel_table(long, units, cur)
    st.dataframe(
        table.rename(columns={m: fmt.label(m) for m in model.CHANNEL_METRICS}),
        hide_index=True,
        width="stretch",
    )
