"""Metric alerts without the pipeline: the trust rule on a hand-made snapshot, and the
outbox's retry schedule against a receiver that is not there."""

from __future__ import annotations

import socket
from datetime import date

import duckdb
import pytest

from orchestration.lib.alerts import Alert
from orchestration.lib.metric_alerts import DATA_ROUTE, Outbox, evaluate_snapshot

SEPT = date(2026, 9, 1)


def _snapshot(stale_feed: str | None):
    """A published snapshot with one counter alert (NPS fell while revenue rose)."""
    con = duckdb.connect(":memory:")
    con.execute("create schema marts")
    con.execute(
        "create table marts.publish_info as select * from (values"
        " ('orders', false, cast(null as varchar), 0, 1000, date '2026-10-31'),"
        " ('survey_answers', false, null, 0, 500, date '2026-10-31')"
        ") t(feed, is_stale, stale_message, quarantined_rows, raw_rows, data_as_of)"
    )
    if stale_feed:
        con.execute(
            "update marts.publish_info set is_stale = true,"
            " stale_message = 'newest row 400 h old' where feed = ?",
            [stale_feed],
        )
    con.execute(
        "create table marts.metric_tree as select * from (values"
        " ('revenue', null, 'root', 'higher', 'orders order_items'),"
        " ('nps', 'revenue', 'counter', 'higher', 'survey_answers')"
        ") t(metric, parent, relation, direction, requires_feeds)"
    )
    con.execute(
        "create table marts.metric_values as select * from (values"
        " ('nps', 'month', date '2026-09-01', 'all', 'all', 20.0, -20.0, 40.0)"
        ") t(metric, grain, period_start, dimension, dimension_value, value, change,"
        " previous_value)"
    )
    con.execute(
        "create table marts.metric_contributions (parent_metric varchar, grain varchar,"
        " period_start date, dimension varchar, dimension_value varchar, comparison varchar,"
        " contribution double, child_metric varchar, sentence varchar)"
    )
    con.execute(
        "create table marts.metric_change_explanations (metric varchar, grain varchar,"
        " period_start date, comparison varchar, segment varchar, value_1 varchar,"
        " dimension_2 varchar, value_2 varchar, segment_rank bigint, sentence varchar)"
    )
    con.execute(
        "create table marts.metric_alerts as select"
        " 'counter:nps:all=all:month:2026-09-01:previous_period' as alert_key,"
        " 'counter' as alert_kind, 'nps' as metric, 'month' as grain,"
        " date '2026-09-01' as period_start, 'all' as dimension, 'all' as dimension_value,"
        " 'previous_period' as baseline, 20.0::double as value, 40.0::double as baseline_value,"
        " -20.0::double as change, -0.5::double as change_pct, 0.05::double as tolerance,"
        " 300.0::double as sample,"
        " 'higher' as direction, 'score' as unit, false as is_good_move, 'high' as severity,"
        " 'business,cx' as routes, 'revenue' as guarded_metric"
    )
    return con


def test_a_counter_alert_goes_to_both_owners():
    # NPS 40 -> 20 (-50%) while revenue improved: one alert, routes of both metrics.
    (item,) = evaluate_snapshot(_snapshot(None), explorer_url="http://explorer.test")
    assert item.routes == ("business", "cx")
    assert item.alert.title == "nps -50.0% (bad) while revenue improved, 2026-09"
    assert "nps: 20.00 against 40.00 for the period before: -20.00 (-50.0%)" in item.alert.text
    assert "nps guards revenue" in item.alert.text
    assert "<h2>" in item.alert.html and "http://explorer.test/why?metric=nps" in item.alert.html


@pytest.mark.parametrize("feed", ["survey_answers", "orders"])
def test_a_stale_feed_withholds_the_alert_and_tells_the_data_route(feed):
    # The counter alert needs survey_answers (nps) and orders (revenue): either stale
    # turns it into one data incident naming the feed and the rule.
    (item,) = evaluate_snapshot(_snapshot(feed))
    assert item.routes == (DATA_ROUTE,)
    assert item.key == f"incident:{feed}:stale:2026-10-31"
    assert item.alert.fields == {"feed": feed, "rule": "stale"}
    assert f"Feed {feed}: stale: newest row 400 h old." in item.alert.text
    assert "counter:nps:all=all:month:2026-09-01:previous_period" in item.alert.text


def test_quarantined_rows_above_the_share_withhold_too():
    con = _snapshot(None)
    # 60 quarantined of 60 + 500 = 10.7% > 5%
    con.execute("update marts.publish_info set quarantined_rows = 60 where feed = 'survey_answers'")
    (item,) = evaluate_snapshot(con)
    assert item.routes == (DATA_ROUTE,)
    assert "60 rows quarantined (10.7% of the feed; more than 5%)" in item.alert.text
    # 20 of 520 = 3.8%: trusted, the alert goes to its owners
    con.execute("update marts.publish_info set quarantined_rows = 20 where feed = 'survey_answers'")
    (item,) = evaluate_snapshot(con)
    assert item.routes == ("business", "cx")


def test_the_outbox_retries_with_backoff_and_queues_a_key_once(tmp_path, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("FLYWHEEL_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{port}/hook")
    monkeypatch.setenv("FLYWHEEL_ALERT_TIMEOUT_SECONDS", "1")
    box = Outbox(tmp_path / "outbox.sqlite", retry_base_s=30)
    assert box.enqueue("k1", "marketing", Alert("t", "x"), now=1000.0) == 1
    assert box.enqueue("k1", "marketing", Alert("t", "x"), now=1001.0) == 0  # once
    # failures at 1000, 1030, 1090: next attempts 30 s, 60 s, 120 s later
    waits = []
    now = 1000.0
    for _ in range(3):
        status = box.deliver_due(now=now)
        assert (status.sent, status.pending, status.failed_attempts) == (0, 1, 1)
        (row,) = box.rows()
        waits.append(row["next_attempt_at"] - now)
        assert box.deliver_due(now=row["next_attempt_at"] - 1).failed_attempts == 0  # not due
        now = row["next_attempt_at"]
    assert waits == [30, 60, 120]
    (row,) = box.rows()
    assert row["attempts"] == 3 and row["status"] == "pending"
    assert "Connection refused" in row["last_error"] or "URLError" in row["last_error"]


def test_two_ticks_at_once_send_an_alert_once(tmp_path, monkeypatch):
    # A slow receiver: while the first tick is sending, a second tick (another thread,
    # as two sensors of one daemon) finds the delivery claimed and leaves it alone.
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self):  # http.server API
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(1.0)
            received.append(1)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv(
            "FLYWHEEL_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_address[1]}/h"
        )
        path = tmp_path / "outbox.sqlite"
        Outbox(path).enqueue("k1", "cx", Alert("t", "x"))
        first = threading.Thread(target=Outbox(path).deliver_due)
        first.start()
        time.sleep(0.3)  # the first tick has claimed the row and is sending
        second = Outbox(path).deliver_due()
        first.join()
        assert (second.sent, second.failed_attempts) == (0, 0)
        assert received == [1]
        (row,) = Outbox(path).rows()
        assert row["status"] == "delivered" and row["attempts"] == 1
    finally:
        server.shutdown()
        server.server_close()


def test_a_negative_base_keeps_the_sign_of_the_change_in_the_counters():
    # A revenue alert whose counter NPS went from -10 to -5: +5 points on a base of
    # size 10 is +50%, and good (higher is better), though -5 / -10 - 1 would be -50%.
    con = _snapshot(None)
    con.execute("delete from marts.metric_values")
    con.execute(
        "insert into marts.metric_values values"
        " ('nps', 'month', date '2026-09-01', 'all', 'all', -5.0, 5.0, -10.0)"
    )
    con.execute(
        "update marts.metric_alerts set alert_key = 'rule:revenue', alert_kind = 'rule',"
        " metric = 'revenue', value = 120.0, baseline_value = 100.0, change = 20.0,"
        " change_pct = 0.2, unit = 'currency', is_good_move = true, routes = 'business',"
        " guarded_metric = null"
    )
    (item,) = evaluate_snapshot(con)
    assert "Counter-metrics:\n- nps +50.0% (good)" in item.alert.text


def test_two_routes_on_one_default_target_get_one_copy(tmp_path, monkeypatch):
    # business and cx have no targets of their own: both fall back to the default
    # webhook, which gets the counter alert once.
    monkeypatch.setenv("FLYWHEEL_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    box = Outbox(tmp_path / "outbox.sqlite")
    assert box.enqueue("k", ("business", "cx"), Alert("t", "x")) == 1
    monkeypatch.setenv("FLYWHEEL_ALERT_ROUTE_CX_WEBHOOK_URL", "http://127.0.0.1:9/cx")
    box2 = Outbox(tmp_path / "outbox2.sqlite")
    assert box2.enqueue("k", ("business", "cx"), Alert("t", "x")) == 2  # now two targets


def test_an_alert_queued_before_any_target_reaches_the_target_configured_later(
    tmp_path, monkeypatch
):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # http.server API
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append(1)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    for name in ("FLYWHEEL_ALERT_WEBHOOK_URL", "FLYWHEEL_ALERT_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    box = Outbox(tmp_path / "outbox.sqlite", retry_base_s=0)
    box.enqueue("run:1", DATA_ROUTE, Alert("run failed", "x"), now=1000.0)
    assert box.deliver_due(now=1000.0).pending == 1  # nowhere to send: kept
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv(
            "FLYWHEEL_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_address[1]}/h"
        )
        box.deliver_due(now=1001.0)  # handed to the webhook configured now
        status = box.deliver_due(now=1002.0)
        assert (status.sent, status.pending, received) == (1, 0, [1])
        assert sorted(r["status"] for r in box.rows()) == ["delivered", "superseded"]
    finally:
        server.shutdown()
        server.server_close()
