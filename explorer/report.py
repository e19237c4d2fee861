"""The monthly management report: the tree, why the main metrics moved, channels and CX of
one month, as one self-contained HTML file (inline SVG and CSS: it opens offline and can be
mailed). Written by the monthly_report job into the published folder.
"""

from __future__ import annotations

import html
import os
from datetime import date
from pathlib import Path

import pandas as pd

from explorer import fmt, model, svg
from explorer.snapshot import Snapshot
from explorer.tables import NOT_FINAL, SMALL, channel_table, store_table

CSS = """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;color:#202124;margin:24px auto;
max-width:1200px;line-height:1.45;padding:0 16px}
h1{font-size:26px;margin-bottom:4px} h2{font-size:20px;margin-top:36px;
border-bottom:1px solid #dadce0;padding-bottom:4px} h3{font-size:16px;margin:22px 0 6px}
.muted{color:#5f6368;font-size:13px} .good{color:#137333} .bad{color:#b3261e}
.scroll{overflow:auto;border:1px solid #e8eaed;padding:6px}
table{border-collapse:collapse;font-size:12px;margin:6px 0}
th,td{border:1px solid #dadce0;padding:3px 7px;text-align:right} th{background:#f1f3f4}
td:first-child,td:nth-child(2){text-align:left}
.warn{background:#fef7e0;border-left:4px solid #f9ab00;padding:6px 10px;margin:8px 0}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, escape=True, border=0, na_rep="")


def _verdict_class(delta, direction: str) -> str:
    v = fmt.verdict(delta, direction)
    return v if v != fmt.FLAT else "muted"


def _main_metrics_in_tree_order(nodes: pd.DataFrame) -> list[str]:
    """Main metrics, depth first from the root (the order the tree reads in)."""
    root, kids = svg.children(nodes)
    order: list[str] = []

    def walk(m: str) -> None:
        order.append(m)
        for c in kids.get(m, []):
            walk(c)

    if root:
        walk(root)
    kind = dict(zip(nodes["metric"], nodes["kind"], strict=True))
    return [m for m in order if kind[m] == "main"]


def _why_section(snap: Snapshot, nodes: pd.DataFrame, metric: str, month: date, cur: str) -> str:
    me = nodes[nodes["metric"] == metric].iloc[0]
    if fmt.missing(me.value):
        return ""
    cls = _verdict_class(me.change, me.direction)
    parts = [
        f"<h3>{_e(fmt.label(metric))}: {_e(fmt.value(me.value, me.unit, cur))} "
        f'<span class="{cls}">{_e(fmt.change(me.change, me.change_pct, me.unit, cur))}</span> '
        f'<span class="muted">on the previous month; '
        f"{_e(fmt.change(me.yoy_change, me.yoy, me.unit, cur))} on a year earlier</span></h3>"
    ]
    contrib = model.contributions(snap, metric, "month", month, "previous_period")
    usable = contrib[contrib["contribution"].notna()]
    if not usable.empty:
        steps = [
            (fmt.label(r.child_metric), r.contribution, fmt.verdict(r.contribution, me.direction))
            for r in usable.itertuples()
        ]
        total = float(contrib["parent_change"].iloc[0])
        parts.append(svg.waterfall(steps, "Change", total, me.unit, cur))
        parts.append("<ul>" + "".join(f"<li>{_e(s)}</li>" for s in usable["sentence"]) + "</ul>")
    seg = model.explanations(snap, metric, "month", month, "previous_period").head(3)
    if not seg.empty:
        parts.append('<p class="muted">Where it moved:</p><ul>')
        parts.extend(f"<li>{_e(s)}</li>" for s in seg["sentence"])
        parts.append("</ul>")
    for r in model.counters_against(snap, nodes, metric).itertuples():
        parts.append(
            f'<p class="warn">Counter-metric {_e(fmt.label(r.metric))} moved the bad way '
            f"({_e(fmt.change(r.change, r.change_pct, r.unit, cur))}) while "
            f"{_e(fmt.label(metric))} improved.</p>"
        )
    return "".join(parts)


def build(snap: Snapshot, month: date, currency: str) -> str:
    """The report of one month as one HTML document."""
    nodes = model.node_values(snap, "month", month)
    root = nodes[nodes["parent"].isna()].iloc[0]
    units = dict(zip(nodes["metric"], nodes["unit"], strict=True))
    status = model.data_status(snap)
    feeds = status["feeds"]
    built = f"{feeds['built_at'].iloc[0]:%Y-%m-%d %H:%M} UTC" if not feeds.empty else "unknown"
    title = f"Flywheel monthly report: {fmt.period_label(month, 'month')}"
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">From the published snapshot built {_e(built)}. Every figure is a '
        "row of the published marts (metric_values, metric_contributions, "
        "metric_change_explanations, store_rating).</p>",
        f"<p><b>{_e(fmt.label(root.metric))}</b> {_e(fmt.value(root.value, root.unit, currency))}"
        f': <span class="{_verdict_class(root.change, root.direction)}">'
        f"{_e(fmt.change(root.change, root.change_pct, root.unit, currency))}</span> on the "
        f'previous month, <span class="{_verdict_class(root.yoy_change, root.direction)}">'
        f"{_e(fmt.change(root.yoy_change, root.yoy, root.unit, currency))}</span> on a year "
        "earlier.</p>",
    ]
    if fmt.is_false(root.is_complete):
        body.append('<p class="warn">This month is not complete yet: figures will move.</p>')
    stale = feeds[feeds["is_stale"].fillna(False)] if not feeds.empty else feeds
    for r in stale.itertuples():
        body.append(f'<p class="warn">Feed {_e(r.feed)} is stale: {_e(r.stale_message)}</p>')
    body += [
        "<h2>The metric tree</h2>",
        '<p class="muted">Green: moved the good way for the metric; red: the bad way. Dashed: '
        "counter-metrics beside what they guard.</p>",
        f'<div class="scroll">{svg.tree(nodes, currency)}</div>',
        "<h2>Why the main metrics moved</h2>",
    ]
    body += [
        _why_section(snap, nodes, m, month, currency) for m in _main_metrics_in_tree_order(nodes)
    ]
    body.append("<h2>Channels</h2>")
    long = model.channels(snap, month)
    if long.empty:
        body.append("<p>No channel values this month.</p>")
    else:
        table = channel_table(long, units, currency)
        body.append(_table(table.rename(columns={m: fmt.label(m) for m in model.CHANNEL_METRICS})))
        body.append(
            f'<p class="muted">{NOT_FINAL} not final yet (the metric\'s own window is not '
            f"over); {SMALL} small sample.</p>"
        )
    body.append("<h2>Customer experience</h2>")
    stores = model.store_rating(snap, month)
    if stores.empty:
        body.append("<p>No survey answers this month.</p>")
    else:
        body.append(_table(store_table(stores)))
    body.append("<h2>Data status</h2>")
    if not feeds.empty:
        body.append(
            _table(
                feeds[
                    ["feed", "delivery", "data_as_of", "is_stale", "raw_rows", "quarantined_rows"]
                ]
            )
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        + "".join(body)
        + "</body></html>"
    )


def write(published_path: Path, currency: str, month: date | None = None) -> Path:
    """Write the report of `month` (default: the last complete month) beside the snapshot:
    published/reports/flywheel-report-YYYY-MM.html, replaced atomically."""
    with Snapshot.open(published_path) as snap:
        month = month or model.default_period(snap, "month")
        if month is None:
            raise ValueError(f"{published_path} holds no monthly values: nothing to report")
        folder = published_path.parent / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"flywheel-report-{month:%Y-%m}.html"
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(build(snap, month, currency), encoding="utf-8")
    os.replace(tmp, target)
    return target
