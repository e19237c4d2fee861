"""Alerts that reach people: a Slack-compatible webhook and email over SMTP.

Plain Python (no Dagster) so the gate, the sensors and the tests share it.
Sending never raises: an alert path that crashes the run it reports on is
worse than a missed alert, so a dead receiver is logged and reported back.
Every text passes a PII scrubber first (defence in depth: the gate already
keeps contact data out of its messages).
"""

from __future__ import annotations

import json
import logging
import re
import smtplib
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage

from orchestration.lib import contact_data
from orchestration.lib.settings import Settings, load_settings

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0


def scrub_pii(text: str) -> str:
    """Mask anything that looks like an email address, a phone or a card number
    (the one detector, orchestration.lib.contact_data)."""
    out = contact_data.scrub(text)
    if out != text:
        log.warning("alert text contained what looks like contact data; it was masked")
    return out


@dataclass(frozen=True)
class Alert:
    """What a person reads: a title, a text, and the figures behind them."""

    title: str
    text: str
    severity: str = "error"  # error | warning | info
    fields: dict[str, str] = field(default_factory=dict)
    html: str = ""  # an HTML body for email, beside the plain text (optional)

    def scrubbed(self) -> Alert:
        return Alert(
            title=scrub_pii(self.title),
            text=scrub_pii(self.text),
            severity=self.severity,
            fields={scrub_pii(str(k)): scrub_pii(str(v)) for k, v in self.fields.items()},
            html=scrub_pii(self.html),
        )

    def plain_text(self) -> str:
        lines = [f"[{self.severity.upper()}] {self.title}", "", self.text]
        if self.fields:
            lines.append("")
            lines.extend(f"{k}: {v}" for k, v in self.fields.items())
        return "\n".join(lines)


@dataclass(frozen=True)
class WebhookTarget:
    """A Slack-compatible incoming webhook: POST of {"text": ...} as JSON."""

    url: str = field(repr=False)  # its path is the token: logs show label (the host) only
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def label(self) -> str:
        # Webhook URLs carry their secret in the path: log the host only.
        return "webhook " + re.sub(r"^(\w+://[^/]+).*$", r"\1/...", self.url)

    def send(self, alert: Alert) -> None:
        icon = {
            "error": ":rotating_light:",
            "warning": ":warning:",
            "info": ":information_source:",
        }.get(alert.severity, "")
        body = {
            "text": f"{icon} *{alert.title}*\n{alert.text}".strip(),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150]}},
                {"type": "section", "text": {"type": "mrkdwn", "text": alert.text[:2900]}},
            ],
        }
        if alert.fields:
            body["blocks"].append(
                {
                    "type": "section",
                    "fields": [
                        {"type": "mrkdwn", "text": f"*{k}*\n{v}"}
                        for k, v in list(alert.fields.items())[:10]
                    ],
                }
            )
        data = json.dumps(body).encode("utf-8")
        req = urllib.request.Request(
            self.url, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # URL is user config
            if resp.status >= 300:
                raise OSError(f"webhook answered HTTP {resp.status}")


@dataclass(frozen=True)
class SmtpTarget:
    """Plain SMTP, optionally STARTTLS and login."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def label(self) -> str:
        return f"smtp {self.host}:{self.port}"

    def send(self, alert: Alert) -> None:
        msg = EmailMessage()
        msg["Subject"] = f"[Flywheel {alert.severity}] {alert.title}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg.set_content(alert.plain_text())
        if alert.html:
            msg.add_alternative(alert.html, subtype="html")
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(msg)


Target = WebhookTarget | SmtpTarget


def alert_targets(settings: Settings) -> list[Target]:
    """The default alert targets of the settings (none configured: no targets).

    FLYWHEEL_ALERT_WEBHOOK_URL          Slack-compatible incoming webhook
    FLYWHEEL_ALERT_SMTP_HOST / _PORT    SMTP server (port default 25)
    FLYWHEEL_ALERT_SMTP_FROM / _TO      sender; comma-separated recipients
    FLYWHEEL_ALERT_SMTP_USER / _PASSWORD / _STARTTLS (true|false)
    FLYWHEEL_ALERT_TIMEOUT_SECONDS      per target (default 10)
    """
    timeout = settings.alert_timeout_s
    targets: list[Target] = []
    if settings.alert_webhook_url:
        targets.append(WebhookTarget(url=settings.alert_webhook_url, timeout_s=timeout))
    host = settings.alert_smtp_host
    if host and settings.alert_smtp_to:
        targets.append(
            SmtpTarget(
                host=host,
                port=settings.alert_smtp_port,
                sender=settings.alert_smtp_from,
                recipients=settings.alert_smtp_to,
                user=settings.alert_smtp_user,
                password=settings.alert_smtp_password,
                starttls=settings.alert_smtp_starttls,
                timeout_s=timeout,
            )
        )
    elif host:
        log.warning("FLYWHEEL_ALERT_SMTP_HOST is set but FLYWHEEL_ALERT_SMTP_TO is empty: no email")
    return targets


def targets_from_env(env: Mapping[str, str] | None = None) -> list[Target]:
    """alert_targets of the settings in `env` (the process environment by default)."""
    return alert_targets(load_settings(env))


@dataclass(frozen=True)
class Delivery:
    target: str
    ok: bool
    error: str = ""


def send_alert(alert: Alert, targets: list[Target] | None = None) -> list[Delivery]:
    """Send to every target; never raises. Returns one Delivery per target."""
    targets = targets_from_env() if targets is None else targets
    clean = alert.scrubbed()
    if not targets:
        log.warning("no alert target configured; alert not sent: %s", clean.title)
    out: list[Delivery] = []
    for target in targets:
        try:
            target.send(clean)
            out.append(Delivery(target.label, True))
        except Exception as exc:  # a dead receiver must not fail the run
            log.error("alert to %s failed: %s", target.label, exc)
            out.append(Delivery(target.label, False, f"{type(exc).__name__}: {exc}"))
    return out
