"""What every page shares: the snapshot, the currency, the grain and period pickers, and
the query parameters a link (an alert, a tree node) opens a page with."""

from __future__ import annotations

import threading
from datetime import date

import streamlit as st

from explorer import fmt, model
from explorer.snapshot import Snapshot, SnapshotMissing
from orchestration.lib.settings import load_settings

_render = threading.local()  # Streamlit runs each session's script in its own thread


def snapshot() -> Snapshot:
    """The published snapshot as it is now, opened for this render (app.py closes it when
    the page is done); stops the page with what to run when there is none."""
    try:
        snap = Snapshot.open()
    except SnapshotMissing as e:
        st.error(str(e))
        st.stop()
        raise
    _render.__dict__.setdefault("open", []).append(snap)
    return snap


def close_snapshots() -> None:
    """Close what this render opened (called by app.py after the page ran)."""
    for snap in _render.__dict__.pop("open", []):
        snap.close()


def currency() -> str:
    return load_settings().currency


def param(name: str, default: str | None = None) -> str | None:
    return st.query_params.get(name, default)


def pick_grain(key: str = "grain") -> str:
    wanted = param("grain", "month")
    grains = list(model.GRAINS)
    return st.sidebar.selectbox(
        "Grain", grains, index=grains.index(wanted) if wanted in grains else 0, key=key
    )


def pick_period(snap: Snapshot, grain: str, key: str = "period") -> date | None:
    """A period of the grain; default the last complete one (or the link's period)."""
    p = model.periods(snap, grain)
    if p.empty:
        st.warning(f"No {grain} values in this snapshot.")
        return None
    options = [d.date() for d in p["period_start"]]
    complete = dict(zip(options, p["is_complete"], strict=True))
    wanted = param("period")
    default = model.default_period(snap, grain)
    if wanted:
        try:
            d = date.fromisoformat(wanted)
            default = d if d in complete else default
        except ValueError:
            pass
    return st.sidebar.selectbox(
        "Period",
        options,
        index=options.index(default),
        format_func=lambda d: fmt.period_label(d, grain) + ("" if complete[d] else " (incomplete)"),
        key=key,
    )


def pick_month(snap: Snapshot, months: list[date]) -> date:
    """A month of `months` (newest first); default the link's, else the month the tree
    opens on (the last complete one), else the newest."""
    wanted = param("period") or f"{model.default_period(snap, 'month')}"
    index = next((i for i, m in enumerate(months) if f"{m}" == wanted), 0)
    return st.sidebar.selectbox(
        "Month", months, index=index, format_func=lambda d: fmt.period_label(d, "month")
    )


def pick_cut(snap: Snapshot, grain: str, period: date, key: str = "cut") -> model.Cut:
    """All data, or one value of a dimension the metrics have a cut by."""
    available = model.cuts(snap, grain, period)
    options = [model.ALL] + [
        model.Cut(d, v) for d in model.FILTER_DIMENSIONS for v in available.get(d, [])
    ]
    wanted = model.Cut(param("dimension", "all"), param("value", "all"))
    index = options.index(wanted) if wanted in options else 0
    return st.sidebar.selectbox(
        "Filter", options, index=index, format_func=model.Cut.label, key=key
    )


def snapshot_caption(snap: Snapshot) -> None:
    info = model.data_status(snap)["feeds"]
    if not info.empty:
        built = info["built_at"].iloc[0]
        st.sidebar.caption(
            f"Snapshot built {built:%Y-%m-%d %H:%M} UTC · run {fmt.md(info['run_id'].iloc[0][:8])}"
        )
    st.sidebar.caption(f"Reading {fmt.md(snap.path)}")


def marks_legend() -> None:
    st.caption(
        "Green: moved the good way for this metric (CAC up is bad); red: the bad way; grey: "
        "flat or no comparison. Dashed: counter-metrics, shown beside what they guard. "
        "'incomplete': the period (or the metric's window after it) is not over yet; "
        "'small sample': fewer answers or leads than the rule needs."
    )


def picture(svg_html: str, css_class: str, max_height: int | None = None) -> None:
    """Inline SVG on the page. st.markdown keeps SVG (st.html's sanitiser drops it); the
    SVG is built from mart rows with every text escaped (explorer.svg.esc)."""
    style = f"overflow:auto;max-height:{max_height}px" if max_height else "overflow:auto"
    st.markdown(
        f'<div class="{css_class}" style="{style}">{svg_html}</div>', unsafe_allow_html=True
    )
