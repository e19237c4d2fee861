"""The explorer's formatting and pictures on hand-made rows (no snapshot): verdicts by
direction, changes in the unit's own terms, a waterfall whose bars add up, a tree laid out
without overlaps with the root first."""

from __future__ import annotations

import re

import pandas as pd

from explorer import fmt, svg


def test_verdict_follows_the_metric_direction():
    assert fmt.verdict(+120.0, "higher") == fmt.GOOD  # revenue up
    assert fmt.verdict(+120.0, "lower") == fmt.BAD  # CAC up is bad
    assert fmt.verdict(-3.0, "lower") == fmt.GOOD  # churn down
    assert fmt.verdict(0.0, "higher") == fmt.FLAT
    assert fmt.verdict(None, "higher") == fmt.FLAT
    assert fmt.verdict(pd.NA, "higher") == fmt.FLAT


def test_values_and_changes_read_in_their_units():
    # 14,265,882.68 RUB -> 14.27M RUB; 8,377.4 RUB below a million: whole number with separators
    assert fmt.value(14_265_882.68, "currency", "RUB") == "14.27M RUB"
    assert fmt.value(8_377.4, "currency", "EUR") == "8,377 EUR"
    assert fmt.value(0.2345, "ratio", "RUB") == "23.4%"
    assert fmt.value(1.3087, "orders", "RUB") == "1.31"  # orders per paying customer
    assert fmt.value(1298.0, "customers", "RUB") == "1,298"
    assert fmt.value(-13.3333, "score", "RUB") == "-13.3"  # NPS: one decimal
    assert fmt.value(3.8333, "score", "RUB") == "3.83"  # CSI (1..5): two
    # ratio 0.25 -> 0.27: +2.0 points, not +8%; NPS 40 -> 27: -13.0 pts
    assert fmt.change(0.02, 0.08, "ratio", "RUB") == "+2.0 pp"
    assert fmt.change(-13.0, -0.325, "score", "RUB") == "-13.0 pts"
    assert fmt.change(546_052.84, 0.0398, "currency", "RUB") == "+4.0%"
    assert fmt.change(5.0, None, "leads", "RUB") == "+5 leads (from 0)"
    assert fmt.signed(-1_389_254.0, "currency", "RUB") == "-1.39M RUB"


def test_waterfall_bars_add_up_to_the_change():
    # 1,730,344 - 1,389,254 + 204,963 = 546,053 (the revenue change of the demo's November)
    steps = [
        ("Paying customers", 1_730_344.0, fmt.GOOD),
        ("AOV", -1_389_254.0, fmt.BAD),
        ("Orders per paying customer", 204_963.0, fmt.GOOD),
    ]
    picture = svg.waterfall(steps, "Change", 546_053.0, "currency", "RUB")
    amounts = [float(a) for a in re.findall(r'class="step" data-amount="([^"]+)"', picture)]
    (total,) = [float(a) for a in re.findall(r'class="total" data-amount="([^"]+)"', picture)]
    assert amounts == [1_730_344.0, -1_389_254.0, 204_963.0]
    assert total == 546_053.0
    # each bar starts where the previous one ended: running sums 0 -> 1.73M -> 0.34M -> 0.55M
    bars = [
        (float(x), float(x) + float(w))
        for x, w in re.findall(r'<rect x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"', picture)
    ]
    step1, step2, step3, whole = bars
    assert abs(step2[1] - step1[1]) < 0.2  # AOV falls back from the top of the first bar
    assert abs(step3[0] - step2[0]) < 0.2  # the third rises from where AOV ended
    assert abs(whole[0] - step1[0]) < 0.2 and abs(whole[1] - step3[1]) < 0.2  # 0 to the change
    assert "+1.73M RUB" in picture and "-1.39M RUB" in picture and "+546,053 RUB" in picture


def _nodes(rows):
    cols = [
        "metric",
        "parent",
        "relation",
        "kind",
        "unit",
        "direction",
        "description",
        "availability",
        "value",
        "change",
        "change_pct",
        "yoy_change",
        "yoy",
        "is_complete",
        "is_small_sample",
    ]
    return pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])


def test_tree_root_first_no_overlaps_counters_dashed_and_values_escaped():
    rows = [
        (
            "margin",
            None,
            "root",
            "main",
            "currency",
            "higher",
            "m",
            "ok",
            100.0,
            10.0,
            0.1,
            5.0,
            0.05,
            True,
            False,
        ),
        (
            "revenue",
            "margin",
            "summand",
            "main",
            "currency",
            "higher",
            "r",
            "ok",
            300.0,
            30.0,
            0.1,
            -1.0,
            -0.01,
            True,
            False,
        ),
        (
            "cogs",
            "margin",
            "subtrahend",
            "proxy",
            "currency",
            "lower",
            "c",
            "ok",
            200.0,
            20.0,
            0.1,
            None,
            None,
            False,
            False,
        ),
        (
            "nps",
            "revenue",
            "counter",
            "counter",
            "score",
            "higher",
            "<b>n</b>",
            "ok",
            40.0,
            -5.0,
            -0.11,
            None,
            None,
            True,
            True,
        ),
        (
            "aov",
            "revenue",
            "factor",
            "main",
            "currency",
            "higher",
            "a",
            "ok",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ),
    ]
    nodes = _nodes(rows)
    boxes, kids = svg.tree_layout(nodes, 100, 50, 10, 10)
    assert (boxes["margin"].x, boxes["margin"].y) == (0, 0)
    assert boxes["revenue"].y == 0  # the first child shares its parent's row
    assert kids["revenue"] == ["aov", "nps"]  # factor before counter
    spots = {(b.x, b.y) for b in boxes.values()}
    assert len(spots) == len(boxes)
    assert svg.depths(nodes) == {"margin": 0, "revenue": 1, "cogs": 1, "nps": 2, "aov": 2}
    picture = svg.tree(nodes, "RUB", link=lambda m: f"why?metric={m}")
    # revenue +30 (good), cogs +20 with direction lower (bad), nps counter dashed, aov no value
    assert 'data-metric="revenue" data-verdict="good" data-value="300.0"' in picture
    assert 'data-metric="cogs" data-verdict="bad"' in picture
    assert 'data-metric="aov" data-verdict="none" data-value=""' in picture
    nps = picture.split('data-metric="nps"')[1].split("</g>")[0]
    assert 'stroke-dasharray="6,3"' in nps and "small sample" in nps
    assert "<b>n</b>" not in picture and "&lt;b&gt;n&lt;/b&gt;" in picture
    assert 'href="why?metric=cogs"' in picture
    assert "incomplete" in picture.split('data-metric="cogs"')[1].split("</g>")[0]


def test_mart_text_is_literal_markdown():
    # a campaign named like a markdown image, and HTML, as written in a sentence
    hostile = "campaign ![x](https://evil.example/p.png) <img src=x onerror=alert(1)> a_b"
    shown = fmt.md(hostile)
    # no markdown image, link or HTML tag left unescaped (a backslash before each)
    assert not re.search(r"(?<!\\)(!|\]|<)", shown)
    assert "\\!\\[x\\]\\(https\\://evil" in shown
    # every escape removed gives the text back
    assert shown.replace("\\", "") == hostile.replace("\\", "")
    assert fmt.is_false(False) and not fmt.is_false(pd.NA) and fmt.is_true(True)
