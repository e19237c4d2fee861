"""Alerts: PII scrubber, targets from env, delivery to real local receivers."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from orchestration.lib.alerts import (
    Alert,
    SmtpTarget,
    WebhookTarget,
    scrub_pii,
    send_alert,
    targets_from_env,
)


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    handler = type("Hook", (_Hook,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook/SECRET", handler.received
    server.shutdown()
    server.server_close()


class _Inbox:
    def __init__(self):
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd API
        self.messages.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.content.decode("utf-8", "replace"),
            )
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox.messages
    controller.stop()


@pytest.mark.parametrize(
    "text",
    [
        "write to Ivan.Petrov+leads@mail.example.ru now",
        "call +7 (912) 345-67-89 today",
        "phone 8 912 345 67 89",
        "raw 79123456789",
    ],
)
def test_scrubber_masks_contact_data(text):
    out = scrub_pii(text)
    assert "@mail" not in out and "345" not in out and "912" not in out
    assert "redacted" in out


@pytest.mark.parametrize(
    "text",
    [
        "invalid_share 12.5% of 1,200 leads; threshold 5.0%",
        "month 2025-05, checked at 2025-06-15 12:00:00",
        "run 5f3e2a10-1234-5678-9abc-def012345678 files 1..12",
        "Data Docs file:///data/gx_data_docs/index.html",
    ],
)
def test_scrubber_leaves_figures_dates_and_ids(text):
    assert scrub_pii(text) == text


def test_targets_from_env():
    env = {
        "FLYWHEEL_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/x",
        "FLYWHEEL_ALERT_SMTP_HOST": "127.0.0.1",
        "FLYWHEEL_ALERT_SMTP_PORT": "2525",
        "FLYWHEEL_ALERT_SMTP_FROM": "flywheel@shop.test",
        "FLYWHEEL_ALERT_SMTP_TO": "data@shop.test, sales@shop.test",
    }
    web, mail = targets_from_env(env)
    assert isinstance(web, WebhookTarget) and web.url.endswith("/x")
    assert isinstance(mail, SmtpTarget)
    assert (mail.port, mail.recipients) == (2525, ("data@shop.test", "sales@shop.test"))
    assert targets_from_env({}) == []


def test_alert_reaches_webhook_and_smtp_without_pii(webhook, smtp):
    url, received = webhook
    port, inbox = smtp
    alert = Alert(
        title="leads_gate blocked: invalid_share (social)",
        text="invalid_share: channel social, files 3..4: 12.5% of 400 rows failed; "
        "e.g. lead of anna@example.com / +7 912 345-67-89",
        fields={"batch": "files 3..4"},
    )
    targets = [
        WebhookTarget(url),
        SmtpTarget("127.0.0.1", port, "flywheel@shop.test", ("data@shop.test",)),
    ]
    deliveries = send_alert(alert, targets)
    assert [d.ok for d in deliveries] == [True, True]
    assert len(received) == 1 and "social" in received[0]["text"]
    assert "12.5%" in received[0]["text"]
    assert "anna@" not in json.dumps(received[0]) and "345-67" not in json.dumps(received[0])
    for _ in range(50):
        if inbox:
            break
        time.sleep(0.05)
    sender, rcpts, content = inbox[0]
    assert sender == "flywheel@shop.test" and rcpts == ["data@shop.test"]
    assert "invalid_share" in content and "social" in content
    assert "anna@" not in content and "345-67" not in content


def test_dead_receivers_are_logged_not_raised(caplog):
    dead = _free_port()
    targets = [
        WebhookTarget(f"http://127.0.0.1:{dead}/hook", timeout_s=1),
        SmtpTarget("127.0.0.1", dead, "a@b.test", ("c@d.test",), timeout_s=1),
    ]
    deliveries = send_alert(Alert("t", "x"), targets)
    assert [d.ok for d in deliveries] == [False, False]
    assert "failed" in caplog.text
