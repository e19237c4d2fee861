"""Metric alerts end to end: the demo world with its lead-quality collapse in the newest
complete month, the real pipeline, the real sensors, and real receivers on 127.0.0.1 (an
HTTP server per route path, an SMTP server).

What a person would check: the marketing route hears about the CPQL jump of the channel
that flooded the funnel, once, with the month and the segment behind it, even when its
receiver was down for three ticks; nothing is sent twice, not after a restart of the
sensor and not after the pipeline runs again; a run stopped by a blocking check reaches
the data route and no business alert comes from it.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from email import message_from_string
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import duckdb
import pytest
from aiosmtpd.controller import Controller

from orchestration.defs import alerts as alert_defs
from orchestration.demo import generate
from orchestration.lib.metric_alerts import Outbox, outbox_path
from orchestration.lib.settings import load_settings
from tests.integration.conftest import END_DATE
from tests.integration.pipeline_helpers import SmtpInbox, free_port, run_pipeline

ORDERS = 30_000  # enough leads per channel and month for the rules' minimum samples


class _Hooks(BaseHTTPRequestHandler):
    received: dict[str, list[dict]] = {}
    refused: dict[str, int] = {}
    down: set[str] = set()

    def do_POST(self):  # http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        route = self.path.strip("/")
        if route in type(self).down:
            type(self).refused[route] = type(self).refused.get(route, 0) + 1
            self.send_response(503)
        else:
            type(self).received.setdefault(route, []).append(body)
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("metric_alerts")
    landing = root / "landing"
    # The collapse in the newest complete month (September 2026 for data ending
    # 2026-10-31, whose last day may still be loading): where the alerts look.
    manifest = generate(
        landing, orders=ORDERS, seed=42, end_date=END_DATE, collapse_months_before_end=1
    )
    hooks = type("Hooks", (_Hooks,), {"received": {}, "refused": {}, "down": set()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), hooks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    inbox = SmtpInbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FLYWHEEL_DATA_DIR", str(root / "data"))
        mp.setenv("FLYWHEEL_LANDING_DIR", str(landing))
        mp.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        (root / "dagster_home").mkdir()
        mp.setenv("FLYWHEEL_PII_KEY", "test-key-not-secret")
        mp.setenv("FLYWHEEL_GATE_NOW", f"{END_DATE + timedelta(days=1)}T06:00:00")
        mp.setenv("FLYWHEEL_ALERT_WEBHOOK_URL", f"{url}/default")  # data and other routes
        mp.setenv("FLYWHEEL_ALERT_ROUTE_MARKETING_WEBHOOK_URL", f"{url}/marketing")
        mp.setenv("FLYWHEEL_ALERT_ROUTE_CX_WEBHOOK_URL", f"{url}/cx")
        mp.setenv("FLYWHEEL_ALERT_SMTP_HOST", "127.0.0.1")
        mp.setenv("FLYWHEEL_ALERT_SMTP_PORT", str(smtp_port))
        mp.setenv("FLYWHEEL_ALERT_SMTP_FROM", "flywheel@shop.test")
        mp.setenv("FLYWHEEL_ALERT_ROUTE_BUSINESS_SMTP_TO", "owner@shop.test")
        mp.setenv("FLYWHEEL_ALERT_RETRY_BASE_SECONDS", "0")  # retry on every tick
        mp.setenv("FLYWHEEL_EXPLORER_URL", "http://explorer.test")
        run_pipeline()  # the metric alert sensor reads the published snapshot, not the runs
        yield {"manifest": manifest, "hooks": hooks, "inbox": inbox.messages, "mp": mp}
    controller.stop()
    server.shutdown()
    server.server_close()


def _tick(cursor: str | None = None) -> str | None:
    ctx = dg.build_sensor_context(instance=dg.DagsterInstance.get(), cursor=cursor)
    alert_defs.metric_alerts(ctx)
    return ctx.cursor


def _about(bodies: list[dict], metric: str, cut: str) -> list[dict]:
    return [
        b
        for b in bodies
        if b["text"].split("*")[1].startswith(f"{metric} ") and cut in b["text"].split("\n")[0]
    ]


def test_the_collapse_reaches_marketing_once_even_after_three_ticks_down(shop):
    hooks, collapse = shop["hooks"], shop["manifest"]["story"]["collapse"]
    month, channel = collapse["month"], collapse["channel"]
    assert month == "2026-09"

    hooks.down.add("marketing")
    cursor = None
    for _ in range(3):
        cursor = _tick(cursor)
    assert hooks.refused.get("marketing", 0) >= 3
    assert not hooks.received.get("marketing")
    pending = [r for r in Outbox(outbox_path(load_settings())).rows() if r["status"] == "pending"]
    assert pending and all(r["route"] == "marketing" for r in pending)
    assert all(r["attempts"] == 3 and "503" in r["last_error"] for r in pending)

    hooks.down.clear()
    cursor = _tick(cursor)
    cursor = _tick(cursor)  # nothing left: no second copy
    marketing = hooks.received["marketing"]
    cpql = _about(marketing, "cpql", f"channel {channel}")
    assert len(cpql) == 1, [b["text"].split("\n")[0] for b in marketing]
    text = cpql[0]["text"]
    # the channel, the month, the change (CPQL up: bad), what lies behind it, the link
    assert f"channel {channel}, {month}" in text.split("\n")[0] and "(bad)" in text.split("\n")[0]
    assert "cpql: " in text and "for the period before" in text
    assert "Segments behind the change:" in text
    assert f"- channel {channel}: cpql " in text
    assert "Explorer: http://explorer.test/why?metric=cpql&grain=month&period=2026-09-01" in text
    # every alert keeps its own key once; no delivery is left
    rows = Outbox(outbox_path(load_settings())).rows()
    assert {r["status"] for r in rows} == {"delivered"}
    assert len({(r["alert_key"], r["route"], r["target"]) for r in rows}) == len(rows)


def test_nothing_is_sent_twice_after_a_restart_or_a_rerun(shop):
    hooks = shop["hooks"]
    before = {route: len(bodies) for route, bodies in hooks.received.items()}
    mails = len(shop["inbox"])
    _tick(cursor=None)  # a sensor that lost its cursor evaluates the snapshot again
    run_pipeline()  # a new snapshot of the same data
    _tick(cursor=None)
    time.sleep(0.3)
    assert {route: len(bodies) for route, bodies in hooks.received.items()} == before
    assert len(shop["inbox"]) == mails


def test_business_alerts_go_to_the_owner_by_email_with_an_html_part(shop):
    mails = [message_from_string(m) for m in shop["inbox"]]
    to_owner = [m for m in mails if m["To"] == "owner@shop.test"]
    assert to_owner, "the business route (owner) got no email"
    for mail in to_owner:
        kinds = {part.get_content_type() for part in mail.walk()}
        assert {"text/plain", "text/html"} <= kinds


def test_a_counter_that_moved_the_bad_way_while_its_main_metric_improved_alerts_both(shop):
    # The planted service dip of the weak stores falls in the same month. Read the
    # month's figures from metric_values: revenue (business) is guarded by NPS (cx).
    con = duckdb.connect(str(load_settings().published_path), read_only=True)
    revenue, nps = (
        dict(
            con.execute(
                "select metric, change_pct from marts.metric_values where grain = 'month'"
                " and dimension = 'all' and period_start = date '2026-09-01'"
                " and metric in ('revenue', 'nps')"
            ).fetchall()
        )[m]
        for m in ("revenue", "nps")
    )
    con.close()
    assert revenue > 0 and nps < -0.05  # the situation the counter rule is for
    subject = "nps " + f"{100 * nps:+.1f}% (bad) while revenue improved, 2026-09"
    to_owner = [message_from_string(m) for m in shop["inbox"]]
    assert [m for m in to_owner if m["To"] == "owner@shop.test" and subject in m["Subject"]]
    cx = [b for b in shop["hooks"].received.get("cx", []) if subject in b["text"]]
    assert len(cx) == 1


def test_a_run_stopped_by_a_blocking_check_is_a_data_incident_not_a_business_alert(shop):
    hooks, mp = shop["hooks"], shop["mp"]
    business_before = {r: len(b) for r, b in hooks.received.items() if r != "default"}
    default_before = len(hooks.received.get("default", []))
    # The clock three weeks on and stale sources blocking: the freshness rules stop the run.
    mp.setenv("FLYWHEEL_GATE_NOW", f"{END_DATE + timedelta(days=21)}T06:00:00")
    mp.setenv("FLYWHEEL_ON_STALE", "block")
    # on disk: the check alert sensor reads the run from DAGSTER_HOME, as in production
    run_pipeline(expect_success=False, instance=dg.DagsterInstance.get())
    alert_defs.quality_check_alerts(dg.build_sensor_context(instance=dg.DagsterInstance.get()))
    _tick(cursor=None)
    incidents = hooks.received.get("default", [])[default_before:]
    assert incidents, "the blocking check reached no one"
    assert any(
        "blocking" in b["text"]
        and ("fresh" in json.dumps(b).lower() or "stale" in json.dumps(b).lower())
        for b in incidents
    ), [b["text"][:300] for b in incidents]
    assert {r: len(b) for r, b in hooks.received.items() if r != "default"} == business_before
