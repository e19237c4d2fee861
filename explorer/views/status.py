"""Data status: when the snapshot was built, how recent each feed is, the gate's verdicts
and the rows held in quarantine (counts only; the rows stay in the restricted file)."""

from __future__ import annotations

import streamlit as st

from explorer import common, fmt, model


def render() -> None:
    snap = common.snapshot()
    common.snapshot_caption(snap)
    st.title("Data status")
    status = model.data_status(snap)
    feeds = status["feeds"]
    if not feeds.empty:
        st.markdown(
            f"Snapshot built **{feeds['built_at'].iloc[0]:%Y-%m-%d %H:%M} UTC** by "
            f"run {fmt.md(feeds['run_id'].iloc[0])}."
        )
    stale = feeds[feeds["is_stale"].fillna(False)]
    for r in stale.itertuples():
        st.warning(fmt.md(f"{r.feed}: stale. {r.stale_message}"))
    st.subheader("Feeds")
    st.dataframe(
        feeds[
            [
                "feed",
                "delivery",
                "data_as_of",
                "is_stale",
                "files_loaded",
                "raw_rows",
                "quarantined_rows",
                "orphan_rows",
                "last_file_registered_at",
            ]
        ],
        hide_index=True,
        width="stretch",
    )
    st.subheader("Quality gate: the last run's verdicts")
    checks = status["publish_checks"]
    if checks.empty:
        st.write("No gate results in this snapshot.")
    else:
        failed = checks[checks["failed"] > 0]
        blocking = failed[failed["severity"] == "blocking"]
        if not blocking.empty:
            for r in blocking.itertuples():
                st.error(fmt.md(f"{r.feed} · {r.rule} (blocking): {r.first_failed_message}"))
        for r in failed[failed["severity"] != "blocking"].itertuples():
            st.warning(fmt.md(f"{r.feed} · {r.rule} ({r.severity}): {r.first_failed_message}"))
        if failed.empty:
            st.success("Every rule passed in each feed's latest gate run.")
        st.dataframe(
            checks[
                [
                    "feed",
                    "checkpoint",
                    "rule",
                    "severity",
                    "checks",
                    "failed",
                    "rows_checked",
                    "checked_at",
                ]
            ],
            hide_index=True,
            width="stretch",
        )
    st.subheader("Quarantine: rows held back, per feed and rule")
    q = status["publish_quarantine"]
    if q.empty:
        st.write("No rows in quarantine.")
    else:
        st.dataframe(q, hide_index=True, width="stretch")
        st.caption(
            "Counts only. The rows (with their contact data) are in the restricted "
            "file for the data engineer; docs/quality-gate.md."
        )
