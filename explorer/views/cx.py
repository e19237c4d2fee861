"""Customer experience: NPS, CSI and CSAT by store and region, ranks, top problems, CSI by
weekday. The callback list (restricted, with contact data) is never read here."""

from __future__ import annotations

import streamlit as st

from explorer import common, fmt, model
from explorer.tables import WEEKDAYS, store_table


def render() -> None:
    snap = common.snapshot()
    common.snapshot_caption(snap)
    st.title("Customer experience")
    months = model.cx_months(snap)
    if not months:
        st.warning("No survey answers in this snapshot.")
        return
    month = common.pick_month(snap, months)
    st.markdown(
        f"**{fmt.period_label(month, 'month')}**. Stores with fewer respondents than "
        "the minimum (var cx_min_respondents) are shown but not ranked."
    )
    st.subheader("Stores")
    st.dataframe(store_table(model.store_rating(snap, month)), hide_index=True, width="stretch")

    st.subheader("Regions")
    reg = model.regions(snap, month)
    if not reg.empty:
        units = {"nps": "score", "csi": "score", "csat": "ratio"}
        reg["shown"] = [
            fmt.value(v, units[m], "") + (" °" if fmt.is_true(s) else "")
            for v, m, s in zip(reg["value"], reg["metric"], reg["is_small_sample"], strict=True)
        ]
        wide = reg.pivot(index="region", columns="metric", values="shown").reset_index()
        n = reg.pivot(index="region", columns="metric", values="sample_size").add_suffix(" answers")
        st.dataframe(wide.merge(n.reset_index(), on="region"), hide_index=True)
        st.caption("° small sample")

    st.subheader("Top problems per store")
    problems = model.top_problems(snap, month)
    if problems.empty:
        st.write("No low scores this month.")
    else:
        problems["low-score share"] = [
            fmt.value(v, "ratio", "") for v in problems["low_score_share"]
        ]
        st.dataframe(problems.drop(columns=["low_score_share"]), hide_index=True)

    st.subheader("CSI by weekday")
    wd = model.csi_by_weekday(snap, month)
    if not wd.empty:
        wd["day"] = [WEEKDAYS[d - 1] for d in wd["iso_day_of_week"]]
        grid = wd.pivot(index="store_id", columns="day", values="csi").reindex(
            columns=[d for d in WEEKDAYS if d in set(wd["day"])]
        )
        st.dataframe(grid.round(2), width="stretch")
