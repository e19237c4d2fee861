"""How a value reads: by the unit the metric tree gives it, in the reporting currency.

Formatting only: no number is computed here that a mart does not hold.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

GOOD, BAD, FLAT = "good", "bad", "flat"
# Units whose change reads in points of the unit rather than in per cent of it.
POINT_UNITS = {"ratio": "pp", "score": "pts"}
COUNT_UNITS = {"customers", "orders", "leads", "clicks", "impressions"}


def missing(x) -> bool:
    """None, NaN, NaT or pandas' NA (nullable columns of the marts)."""
    try:
        return x is None or bool(pd.isna(x))
    except (TypeError, ValueError):  # a list or array is not one missing value
        return False


def is_true(flag) -> bool:
    """A mart flag that is set (numpy, pandas and Python booleans alike; NA is not)."""
    return not missing(flag) and bool(flag)


def is_false(flag) -> bool:
    """A mart flag that is known and not set (NA is neither true nor false)."""
    return not missing(flag) and not bool(flag)


MARKDOWN_SPECIALS = set("\\`*_{}[]()<>#+-.!|~$:")


def md(text: object) -> str:
    """Mart text (campaign and store names inside sentences, gate messages) as literal
    markdown: every markdown character escaped, so a name like `![x](http://...)` is
    shown as written and never becomes an image, a link or HTML."""
    return "".join("\\" + c if c in MARKDOWN_SPECIALS else c for c in str(text))


def number(x: float, decimals: int = 0) -> str:
    return f"{x:,.{decimals}f}"


def compact(x: float) -> str:
    """1,234,567 -> 1.23M; below a million, the whole number with separators."""
    ax = abs(x)
    if ax >= 1e9:
        return f"{x / 1e9:,.2f}B"
    if ax >= 1e6:
        return f"{x / 1e6:,.2f}M"
    if ax >= 1e3:
        return number(x)
    return number(x, 2 if ax < 100 and x != int(x) else 0)


def value(x, unit: str, currency: str) -> str:
    """A metric value as a person reads it: '14.27M RUB', '23.4%', '7.12', '1,298 customers'."""
    if missing(x):
        return "n/a"
    if unit == "currency":
        return f"{compact(x)} {currency}"
    if unit == "ratio":
        return f"{x * 100:.1f}%"
    if unit == "score":  # NPS runs -100..100 (one decimal), CSI and the cx scores 1..5
        return f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"
    if unit in COUNT_UNITS:
        return number(x, 0 if float(x).is_integer() else 2)
    if unit in ("days", "months"):
        return f"{x:.1f} {unit}"
    return f"{x:,.2f}"


def change(delta, pct, unit: str, currency: str) -> str:
    """A change: per cent for amounts, points for ratios and scores ('+2.3 pp')."""
    if missing(delta):
        return "n/a"
    if unit in POINT_UNITS:
        scale = 100 if unit == "ratio" else 1
        return f"{delta * scale:+.1f} {POINT_UNITS[unit]}"
    if missing(pct):
        return f"{signed(delta, unit, currency)} (from 0)"
    return f"{pct * 100:+.1f}%"


def signed(x, unit: str, currency: str) -> str:
    """A signed amount in the metric's unit: '+1.73M RUB', '-15 leads', '-2.3 pp'."""
    if missing(x):
        return "n/a"
    if unit == "ratio":
        return f"{x * 100:+.1f} pp"
    if unit == "score":
        return f"{x:+.2f} pts"
    sign = "+" if x > 0 else ("-" if x < 0 else "±")
    if unit == "currency":
        return f"{sign}{compact(abs(x))} {currency}"
    if unit in COUNT_UNITS:
        return f"{sign}{number(abs(x))} {unit}"
    return f"{sign}{abs(x):,.2f}"


def verdict(delta, direction: str) -> str:
    """good / bad / flat by the metric's direction (CAC up is bad)."""
    if missing(delta) or delta == 0 or direction not in ("higher", "lower"):
        return FLAT
    up = delta > 0
    return GOOD if up == (direction == "higher") else BAD


def period_label(start: date, grain: str) -> str:
    if grain == "month":
        return f"{start:%B %Y}"
    if grain == "week":
        return f"week of {start:%d %b %Y}"
    return f"{start:%a %d %b %Y}"


def label(metric: str) -> str:
    """'orders_per_paying_customer' -> 'Orders per paying customer'; acronyms kept."""
    acronyms = {
        "aov",
        "cac",
        "cpl",
        "cpql",
        "cpc",
        "cpm",
        "ctr",
        "nps",
        "csi",
        "csat",
        "ltv",
        "roas",
        "roi",
        "arpu",
        "arppu",
        "cx",
        "yoy",
    }
    words = [w.upper() if w in acronyms else w for w in metric.split("_")]
    text = " ".join(words)
    return text[0].upper() + text[1:]
