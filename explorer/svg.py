"""Pictures drawn as inline SVG: the metric tree, a waterfall of contributions, a trend.

Plain SVG strings, so the app and the monthly report (one offline HTML file) draw the
same pictures from the same rows, with no chart library or script to load.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from explorer import fmt

COLOURS = {  # fill, border, text of a verdict
    fmt.GOOD: ("#e6f4ea", "#1e8e3e", "#137333"),
    fmt.BAD: ("#fce8e6", "#d93025", "#b3261e"),
    fmt.FLAT: ("#f1f3f4", "#80868b", "#3c4043"),
}
NO_DATA = ("#ffffff", "#bdc1c6", "#80868b")
RELATION_ORDER = {
    "summand": 0,
    "factor": 1,
    "subtrahend": 2,
    "divisor": 3,
    "derived": 4,
    "driver": 5,
    "counter": 6,
}
FONT = "font-family:DejaVu Sans,Arial,Helvetica,sans-serif"


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# --- the tree ----------------------------------------------------------------------


@dataclass
class Box:
    metric: str
    x: float
    y: float


def depths(nodes: pd.DataFrame) -> dict[str, int]:
    """Each metric's level in the tree (the root is 0)."""
    parent = dict(zip(nodes["metric"], nodes["parent"], strict=True))

    def level(m: str) -> int:
        p = parent.get(m)
        return 0 if p is None or pd.isna(p) or p not in parent else level(p) + 1

    return {m: level(m) for m in parent}


def children(nodes: pd.DataFrame) -> tuple[str | None, dict[str, list[str]]]:
    """The root and each metric's children, in reading order: summands and factors
    first, counters last (RELATION_ORDER), then by name."""
    kids: dict[str, list[str]] = {}
    rel = dict(zip(nodes["metric"], nodes["relation"], strict=True))
    root = None
    for m, p in zip(nodes["metric"], nodes["parent"], strict=True):
        if pd.isna(p):
            root = m
        else:
            kids.setdefault(p, []).append(m)
    for k in kids.values():
        k.sort(key=lambda m: (RELATION_ORDER.get(rel[m], 9), m))
    return root, kids


def tree_layout(nodes: pd.DataFrame, w: float, h: float, gap_x: float, gap_y: float):
    """Left to right, read from the top: the root at the top left, each parent level with
    its first child (so the chain from the root to its first leaf is one row)."""
    root, kids = children(nodes)
    boxes: dict[str, Box] = {}
    slot = [0]

    def place(m: str, depth: int) -> float:
        ys = [place(c, depth + 1) for c in kids.get(m, [])]
        if ys:
            y = ys[0]
        else:
            y = slot[0] * (h + gap_y)
            slot[0] += 1
        boxes[m] = Box(m, depth * (w + gap_x), y)
        return y

    if root is not None:
        place(root, 0)
    return boxes, kids


def tree(
    nodes: pd.DataFrame,
    currency: str,
    link: Callable[[str], str] | None = None,
    selected: str | None = None,
) -> str:
    """The metric tree: per node value, change vs previous period and vs a year earlier,
    coloured by direction; counters dashed; marks for incomplete and small samples."""
    w, h, gx, gy = 224.0, 70.0, 34.0, 10.0
    boxes, kids = tree_layout(nodes, w, h, gx, gy)
    if not boxes:
        return "<p>The metric tree is empty.</p>"
    width = max(b.x for b in boxes.values()) + w + 8
    height = max(b.y for b in boxes.values()) + h + 8
    rows = {r.metric: r for r in nodes.itertuples()}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="metric tree" '
        f'style="{FONT};font-size:12px">',
        "<style>.node text{text-decoration:none}a{text-decoration:none}</style>",
    ]
    for parent, children in kids.items():
        p = boxes[parent]
        for c in children:
            b = boxes[c]
            dash = ' stroke-dasharray="5,4"' if rows[c].relation == "counter" else ""
            x1, y1, x2, y2 = p.x + w, p.y + h / 2, b.x, b.y + h / 2
            mx = x1 + gx / 2
            out.append(
                f'<path d="M{x1:.0f},{y1:.0f} C{mx:.0f},{y1:.0f} {mx:.0f},{y2:.0f} '
                f'{x2:.0f},{y2:.0f}" fill="none" stroke="#9aa0a6"{dash}/>'
            )
    for m, b in boxes.items():
        out.append(_node(rows[m], b, w, h, currency, link, m == selected))
    out.append("</svg>")
    return "".join(out)


def _node(r, b: Box, w: float, h: float, currency: str, link, selected: bool) -> str:
    has = not fmt.missing(r.value)
    v = fmt.verdict(r.change, r.direction)
    fill, border, ink = COLOURS[v] if has else NO_DATA
    _, _, ink_yoy = COLOURS[fmt.verdict(r.yoy_change, r.direction)] if has else NO_DATA
    dash = ' stroke-dasharray="6,3"' if (r.kind == "counter" or r.relation == "counter") else ""
    marks = []
    if r.kind != "main":
        marks.append(str(r.kind))
    if has and fmt.is_false(r.is_complete):
        marks.append("incomplete")
    if has and fmt.is_true(r.is_small_sample):
        marks.append("small sample")
    if not has:
        not_delivered = str(r.availability).startswith("not delivered")
        marks.append("feed not delivered" if not_delivered else "no value here")
    title = f"{fmt.label(r.metric)}: {r.description}"
    x, y = b.x, b.y
    parts = [
        # the mart's value as it is, for a reader that wants the figure (and for the tests)
        f'<g class="node" data-metric="{esc(r.metric)}" data-verdict="{v if has else "none"}" '
        f'data-value="{"" if not has else repr(float(r.value))}">',
        f"<title>{esc(title)}</title>",
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="6" fill="{fill}" '
        f'stroke="{"#1a73e8" if selected else border}" stroke-width="{3 if selected else 1.5}"{dash}/>',
        f'<text x="{x + 8:.0f}" y="{y + 16:.0f}" font-weight="bold" fill="#202124">'
        f"{esc(_clip(fmt.label(r.metric), 30))}</text>",
        f'<text x="{x + 8:.0f}" y="{y + 34:.0f}" font-size="15" fill="#202124" class="value">'
        f"{esc(fmt.value(r.value, r.unit, currency))}</text>",
    ]
    if has:
        prev = fmt.change(r.change, r.change_pct, r.unit, currency)
        yoy = fmt.change(r.yoy_change, r.yoy, r.unit, currency)
        parts.append(
            f'<text x="{x + 8:.0f}" y="{y + 51:.0f}" font-size="11">'
            f'<tspan fill="{ink}">prev {esc(prev)}</tspan>'
            f'<tspan fill="#5f6368"> · </tspan><tspan fill="{ink_yoy}">yoy {esc(yoy)}</tspan></text>'
        )
    if marks:
        parts.append(
            f'<text x="{x + 8:.0f}" y="{y + 67:.0f}" font-size="10" fill="#5f6368">'
            f"{esc(' · '.join(marks))}</text>"
        )
    parts.append("</g>")
    body = "".join(parts)
    if link:
        return (
            f'<a href="{esc(link(r.metric))}" target="_self" '
            f'style="text-decoration:none">{body}</a>'
        )
    return body


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# --- waterfall ---------------------------------------------------------------------


def waterfall(
    steps: list[tuple[str, float, str]], total_label: str, total: float, unit: str, currency: str
) -> str:
    """Horizontal waterfall: each (label, contribution, verdict) moves the running sum from
    the previous step's end; the last bar is the whole change (the steps add up to it)."""
    row, label_w, bar_w, value_w = 30.0, 250.0, 420.0, 130.0
    ends, run = [], 0.0
    for _, c, _ in steps:
        ends.append((run, run + c))
        run += c
    lo = min([0.0, total] + [min(a, b) for a, b in ends])
    hi = max([0.0, total] + [max(a, b) for a, b in ends])
    span = (hi - lo) or 1.0

    def sx(v: float) -> float:
        return label_w + (v - lo) / span * bar_w

    height = row * (len(steps) + 1) + 16
    width = label_w + bar_w + value_w
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'role="img" aria-label="waterfall" style="{FONT};font-size:12px">',
        f'<line x1="{sx(0):.1f}" y1="0" x2="{sx(0):.1f}" y2="{height - 8:.0f}" stroke="#5f6368"/>',
    ]
    for i, ((name, c, v), (a, b)) in enumerate(zip(steps, ends, strict=True)):
        y = i * row + 4
        colour = COLOURS[v][1]
        out.append(_bar(name, a, b, c, y, row, sx, colour, fmt.signed(c, unit, currency), "step"))
    y = len(steps) * row + 4
    colour = "#1a73e8"
    out.append(
        _bar(
            total_label,
            0.0,
            total,
            total,
            y,
            row,
            sx,
            colour,
            fmt.signed(total, unit, currency),
            "total",
            bold=True,
        )
    )
    out.append("</svg>")
    return "".join(out)


def _bar(name, a, b, amount, y, row, sx, colour, text, cls, bold=False) -> str:
    """One row of the waterfall: a bar from a to b; data-amount carries b - a as given."""
    x0, x1 = sorted((sx(a), sx(b)))
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<g class="{cls}" data-amount="{float(amount)!r}">'
        f'<text x="4" y="{y + row * 0.6:.0f}"{weight}>{esc(_clip(name, 38))}</text>'
        f'<rect x="{x0:.1f}" y="{y + 4:.0f}" width="{max(x1 - x0, 1):.1f}" height="{row - 10:.0f}" '
        f'fill="{colour}"/>'
        f'<text x="{sx(max(a, b)) + 6:.0f}" '
        f'y="{y + row * 0.6:.0f}"{weight}>{esc(text)}</text></g>'
    )


# --- trend -------------------------------------------------------------------------


def trend(df: pd.DataFrame, unit: str, currency: str, grain: str) -> str:
    """The metric over the periods of `df`, with the year-earlier value as a dashed line."""
    if df.empty:
        return "<p>No values for this metric and cut.</p>"
    w, h, left, bottom = 760.0, 250.0, 110.0, 40.0
    vals = [v for v in list(df["value"]) + list(df["year_earlier_value"]) if not fmt.missing(v)]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    n = len(df)

    def px(i: int) -> float:
        return left + (i + 0.5) * (w - left - 10) / n

    def py(v: float) -> float:
        return 10 + (hi - v) / (hi - lo) * (h - bottom - 20)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
        f'role="img" aria-label="trend" style="{FONT};font-size:11px">'
    ]
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        out.append(
            f'<line x1="{left}" x2="{w - 10}" y1="{py(v):.1f}" y2="{py(v):.1f}" '
            f'stroke="#e8eaed"/><text x="{left - 6}" y="{py(v) + 4:.1f}" '
            f'text-anchor="end" fill="#5f6368">{esc(fmt.value(v, unit, currency))}</text>'
        )
    for col, colour, dash, name in (
        ("year_earlier_value", "#9aa0a6", ' stroke-dasharray="5,4"', "a year earlier"),
        ("value", "#1a73e8", "", "this period"),
    ):
        pts = [(px(i), py(v)) for i, v in enumerate(df[col]) if not fmt.missing(v)]
        if pts:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" '
                f'stroke-width="2"{dash} class="{col}"><title>{name}</title></polyline>'
            )
    for i, r in enumerate(df.itertuples()):
        if not fmt.missing(r.value):
            hollow = "#ffffff" if fmt.is_false(r.is_complete) else "#1a73e8"
            out.append(
                f'<circle cx="{px(i):.1f}" cy="{py(r.value):.1f}" r="3.5" fill="{hollow}" '
                f'stroke="#1a73e8"><title>{esc(fmt.period_label(r.period_start, grain))}: '
                f"{esc(fmt.value(r.value, unit, currency))}</title></circle>"
            )
        if i % max(1, n // 7) == 0 or i == n - 1:
            label = f"{r.period_start:%b %y}" if grain == "month" else f"{r.period_start:%d %b}"
            out.append(
                f'<text x="{px(i):.1f}" y="{h - bottom + 16}" text-anchor="middle" '
                f'fill="#5f6368">{esc(label)}</text>'
            )
    out.append(
        f'<text x="{left}" y="{h - 6}" fill="#5f6368">— this period   '
        f"- - a year earlier   ○ incomplete</text></svg>"
    )
    return "".join(out)
