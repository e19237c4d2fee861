"""The lighter suites (orders, survey answers) through the same gate mechanism."""

from __future__ import annotations

import datetime as dt

from orchestration.lib import quality
from tests.unit.test_quality_gate import NOW, con, land, settings  # noqa: F401 (fixtures)


def order(i: int, **kw) -> dict:
    row = {
        "order_id": f"O{i:05d}",
        "customer_id": f"C{i % 7}",
        "ordered_at": NOW - dt.timedelta(hours=3, minutes=i),
        "status": "paid",
        "sales_channel": "web",
        "fulfilment": "courier",
        "delivered_at": None,
    }
    row.update(kw)
    return row


def answer(i: int, **kw) -> dict:
    row = {
        "answer_id": f"A{i:05d}",
        "answered_at": NOW - dt.timedelta(hours=5, minutes=i),
        "survey": "nps",
        "question": "recommend",
        "score": i % 11,
        "email": f"resp{i}@example.com",
        "comment": "call me at +7 912 000 11 22",
    }
    row.update(kw)
    return row


def row_verdicts(con, feed):  # noqa: F811
    return {
        (r[0], r[1])
        for r in con.execute(
            "select record_key, expectation from quality.row_verdicts where feed = ?", [feed]
        ).fetchall()
    }


def test_orders_suite_flags_bad_rows_and_blocks_on_share(con, settings):  # noqa: F811
    good = [order(i) for i in range(40)]
    bad = [
        order(100, status="lost"),
        order(101, sales_channel="fax"),
        order(102, delivered_at=NOW - dt.timedelta(days=30)),
        order(103, ordered_at=NOW + dt.timedelta(days=2)),
        order(104, customer_id=None),
        order(105),
        order(105, customer_id="C9"),  # the same order id twice: both rows are flagged
    ]
    land(con, good + bad, feed="orders")
    result = quality.run_suite(con, settings, "orders", "run-1", now=NOW, build_docs=False)
    assert row_verdicts(con, "orders") == {
        ("O00100", "status_known"),
        ("O00101", "sales_channel_known"),
        ("O00102", "delivered_not_before_ordered"),
        ("O00103", "ordered_at_not_in_future"),
        ("O00104", "customer_id_present"),
        ("O00105", "order_id_unique"),
    }
    flagged_105 = con.execute(
        "select count(*) from quality.row_verdicts where record_key = 'O00105'"
    ).fetchall()[0][0]
    assert flagged_105 == 2
    # 'web' has 46 orders (40 good + 100, 102, 103, 104 and the two 105s) with 6 bad = 13% > 5%;
    # 'fax' has 1 order (< 20: not judged alone); the batch: 7 bad of 47.
    blocking = {(o.rule, o.channel): o.observed for o in result.blocking_failures}
    assert set(blocking) == {("invalid_share", "web"), ("invalid_share", "all")}
    assert round(blocking[("invalid_share", "all")], 4) == round(7 / 47, 4)


def test_survey_suite_scores_in_range_and_no_pii_in_verdicts(con, settings):  # noqa: F811
    good = [answer(i) for i in range(60)]
    bad = [
        answer(100, survey="csi", question="order", score=7),  # csi is 1..5
        answer(101, score=11),  # nps is 0..10
        answer(102, survey="poll"),
    ]
    land(con, good + bad, feed="survey_answers")
    result = quality.run_suite(con, settings, "survey_answers", "run-1", now=NOW, build_docs=False)
    assert row_verdicts(con, "survey_answers") == {
        ("A00100", "score_in_range"),
        ("A00101", "score_in_range"),
        ("A00102", "survey_known"),
    }
    details = " ".join(
        r[0] for r in con.execute("select details from quality.row_verdicts").fetchall()
    )
    assert "score 7" in details and "example.com" not in details and "912" not in details
    # nps: 2 bad of 61 = 3.3% (passes); csi: 1 answer (not judged alone); all: 3/63 = 4.8%
    assert result.passed
    second = quality.run_suite(con, settings, "survey_answers", "run-2", now=NOW, build_docs=False)
    assert second.rows_checked == 0 and second.passed  # watermark: nothing new
