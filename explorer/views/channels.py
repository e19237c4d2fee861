"""Channels: the marketing metrics per channel and campaign, each value marked final or not
by its own window (metric_values.is_complete of that metric), small samples marked."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer import common, fmt, model

NOT_FINAL, SMALL = "*", "°"


def channel_table(long: pd.DataFrame, units: dict[str, str], cur: str) -> pd.DataFrame:
    """One row per channel (its total) followed by its campaigns; cells are display strings."""
    rows = []
    for (channel, campaign), g in long.groupby(["channel", "campaign"], dropna=False, sort=True):
        row = {"channel": channel, "campaign": "(channel total)" if pd.isna(campaign) else campaign}
        for r in g.itertuples():
            text = fmt.value(r.value, units.get(r.metric, ""), cur)
            if not fmt.missing(r.value):
                text += (NOT_FINAL if r.is_complete is False else "") + (
                    SMALL if r.is_small_sample is True else "")
            row[r.metric] = text
        rows.append(row)
    table = pd.DataFrame(rows)
    metrics = [m for m in model.CHANNEL_METRICS if m in table.columns]
    table["_order"] = table["campaign"] != "(channel total)"
    table = table.sort_values(["channel", "_order", "campaign"]).drop(columns="_order")
    return table[["channel", "campaign", *metrics]].fillna("")


def render() -> None:
    snap = common.snapshot()
    cur = common.currency()
    months = model.channel_months(snap)
    common.snapshot_caption(snap)
    st.title("Channels")
    if not months:
        st.warning("No channel values in this snapshot (leads or marketing spend not delivered).")
        return
    wanted = common.param("period")
    # default: the month the tree opens on (the last complete one), else the newest
    wanted = wanted or f"{model.default_period(snap, 'month')}"
    index = next((i for i, m in enumerate(months) if f"{m}" == wanted), 0)
    month = st.sidebar.selectbox("Month", months, index=index,
                                 format_func=lambda d: fmt.period_label(d, "month"))
    units = dict(zip(*[model.tree(snap)[c] for c in ("metric", "unit")], strict=True))
    long = model.channels(snap, month)
    st.markdown(f"**{fmt.period_label(month, 'month')}**: spend, leads and what they became, "
                "per channel (total first) and campaign.")
    st.caption(
        f"{NOT_FINAL} not final yet: the metric's own window after the month is not over "
        "(e.g. leads still being qualified, customers still being acquired, revenue still "
        f"accruing for ROAS and LTV); {SMALL} small sample. CAC, ROAS, ROI, LTV/CAC and "
        "payback cover paid channels."
    )
    table = channel_table(long, units, cur)
    st.dataframe(
        table.rename(columns={m: fmt.label(m) for m in model.CHANNEL_METRICS}),
        hide_index=True, use_container_width=True,
    )
