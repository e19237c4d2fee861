"""Metric alerts and the outbox every alert goes through (docs/alerts.md).

- `evaluate_snapshot` reads a published snapshot: the rows of marts.metric_alerts
  (rules of seeds/metric_alert_rules.csv and the counter-metric rule, computed by
  dbt), each with what lies behind it (contributions along the tree, segments,
  the counters that guard it) and a link to the explorer. A metric whose feeds
  cannot be trusted in this snapshot (stale, or too many rows quarantined) does
  not alert its owner: the feed goes to the data route as an incident instead.
- `Outbox` keeps every alert until each target of its routes took it: a SQLite
  file beside the data (the sensors of one daemon, or two daemons, may tick at
  once: a tick claims what it sends). An alert key goes in once, so the same alert is never sent
  twice, also across restarts; a failed delivery stays pending and is retried
  with backoff on later ticks (at least once).

Plain Python (no Dagster): the sensors and the tests share it.
"""

from __future__ import annotations

import hashlib
import html
import json
import sqlite3
import time
import urllib.parse
from dataclasses import dataclass, replace
from pathlib import Path

from orchestration.lib.alerts import (
    Alert,
    Target,
    WebhookTarget,
    alert_targets,
    send_alert,
)
from orchestration.lib.settings import Settings, load_settings

DATA_ROUTE = "data"
MAX_RETRY_S = 3600.0
LEASE_S = 120.0  # a claimed delivery is left alone this long by other ticks


# --- routes ------------------------------------------------------------------


def route_targets(route: str, settings: Settings | None = None) -> list[Target]:
    """Where a route's alerts go: FLYWHEEL_ALERT_ROUTE_<ROUTE>_WEBHOOK_URL and/or
    FLYWHEEL_ALERT_ROUTE_<ROUTE>_SMTP_TO (the SMTP server is the shared
    FLYWHEEL_ALERT_SMTP_*); a route with neither uses the default targets
    (FLYWHEEL_ALERT_WEBHOOK_URL, FLYWHEEL_ALERT_SMTP_*)."""
    settings = load_settings() if settings is None else settings
    defaults = alert_targets(settings)
    routed = settings.alert_routes.get(route.upper(), {})
    own: list[Target] = []
    url = routed.get("WEBHOOK_URL", "")
    if url:
        own.append(WebhookTarget(url=url, timeout_s=settings.alert_timeout_s))
    to = tuple(a.strip() for a in routed.get("SMTP_TO", "").split(",") if a.strip())
    if to and settings.alert_smtp_host:
        # the shared server with its login and STARTTLS, whether or not _TO is set
        (smtp,) = alert_targets(replace(settings, alert_webhook_url="", alert_smtp_to=to))
        own.append(smtp)
    return own or defaults


def target_key(target: Target) -> str:
    """A target's name in the outbox: its label (no secret) and a short hash of what
    makes it that target (a webhook's whole URL; a mail server and its recipients)."""
    if isinstance(target, WebhookTarget):
        what = target.url
    else:
        what = f"{target.host}:{target.port}:{','.join(sorted(target.recipients))}"
    return f"{target.label} #{hashlib.sha256(what.encode()).hexdigest()[:8]}"


# --- the outbox --------------------------------------------------------------


@dataclass(frozen=True)
class OutboxStatus:
    sent: int
    pending: int
    failed_attempts: int


class Outbox:
    """Alerts waiting for delivery, one row per alert key, route and target."""

    def __init__(self, path: Path, retry_base_s: float | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.retry_base_s = (
            load_settings().alert_retry_base_s if retry_base_s is None else retry_base_s
        )
        with self._connect() as con:
            con.execute(
                """create table if not exists outbox (
                    alert_key text not null, route text not null, target text not null,
                    alert text not null, created_at real not null,
                    status text not null default 'pending', attempts integer not null default 0,
                    next_attempt_at real not null, last_error text, delivered_at real,
                    primary key (alert_key, route, target))"""
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def enqueue(
        self, key: str, routes: str | tuple[str, ...], alert: Alert, now: float | None = None
    ) -> int:
        """Queue an alert for every target of its routes, each target once (two routes
        that fall back to the same default webhook get one copy); a key already queued
        (sent or not) is not queued again. Returns how many deliveries were queued."""
        now = time.time() if now is None else now
        routes = (routes,) if isinstance(routes, str) else tuple(routes)
        body = self._body(alert)
        added = 0
        with self._connect() as con:
            if con.execute("select 1 from outbox where alert_key = ? limit 1", (key,)).fetchone():
                return 0
            seen: set[str] = set()
            for route in routes:
                for target in route_targets(route) or [None]:
                    name = target_key(target) if target else f"(no target configured for {route})"
                    if name in seen:
                        continue
                    seen.add(name)
                    cur = con.execute(
                        "insert or ignore into outbox (alert_key, route, target, alert, created_at,"
                        " next_attempt_at) values (?, ?, ?, ?, ?, ?)",
                        (key, route, name, body, now, now),
                    )
                    added += cur.rowcount
        return added

    @staticmethod
    def _body(alert: Alert) -> str:
        clean = alert.scrubbed()
        return json.dumps(
            {
                "title": clean.title,
                "text": clean.text,
                "severity": clean.severity,
                "fields": clean.fields,
                "html": clean.html,
            }
        )

    def deliver_due(self, now: float | None = None) -> OutboxStatus:
        """Send what is due, each target's alerts in turn; a failure stays pending with
        its next attempt after 30 s, 60 s, 120 s ... (at most an hour)."""
        now = time.time() if now is None else now
        targets: dict[tuple[str, str], Target] = {}
        routes_seen: set[str] = set()
        sent = failed = 0
        # Claim the due rows first, in one write transaction: a sensor ticking at the
        # same time (another thread or process) skips them for LEASE_S, so an alert is
        # not sent twice; a process that dies while sending leaves them to be retried
        # when the lease ends (at least once).
        claim = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            claim.execute("begin immediate")
            rows = claim.execute(
                "select alert_key, route, target, alert, attempts from outbox"
                " where status = 'pending' and next_attempt_at <= ? order by created_at, alert_key",
                (now,),
            ).fetchall()
            claim.executemany(
                "update outbox set next_attempt_at = ? where alert_key = ? and route = ? and target = ?",
                [(now + LEASE_S, key, route, label) for key, route, label, _, _ in rows],
            )
            claim.execute("commit")
        finally:
            claim.close()
        # each outcome is written at once (autocommit): no lock is held while sending
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            for key, route, label, body, attempts in rows:
                if route not in routes_seen:
                    routes_seen.add(route)
                    for t in route_targets(route):
                        targets[(route, target_key(t))] = t
                target = targets.get((route, label))
                if target is None:
                    # The route's targets changed since the alert was queued (or there
                    # were none): hand it to the targets the route has now.
                    current = [n for (r, n) in targets if r == route]
                    for name in current:
                        con.execute(
                            "insert or ignore into outbox (alert_key, route, target, alert,"
                            " created_at, next_attempt_at) values (?, ?, ?, ?, ?, ?)",
                            (key, route, name, body, now, now),
                        )
                    if current:
                        con.execute(
                            "update outbox set status = 'superseded', last_error = ?"
                            " where alert_key = ? and route = ? and target = ?",
                            (f"target gone; queued for {', '.join(current)}", key, route, label),
                        )
                        continue
                    error = f"no target configured for route {route}"
                    ok = False
                else:
                    data = json.loads(body)
                    alert = Alert(
                        title=data["title"],
                        text=data["text"],
                        severity=data["severity"],
                        fields=data["fields"],
                        html=data.get("html", ""),
                    )
                    (delivery,) = send_alert(alert, [target])
                    ok, error = delivery.ok, delivery.error
                if ok:
                    con.execute(
                        "update outbox set status = 'delivered', delivered_at = ?, attempts = ?,"
                        " last_error = null where alert_key = ? and route = ? and target = ?",
                        (now, attempts + 1, key, route, label),
                    )
                    sent += 1
                else:
                    wait = min(self.retry_base_s * 2**attempts, MAX_RETRY_S)
                    con.execute(
                        "update outbox set attempts = ?, next_attempt_at = ?, last_error = ?"
                        " where alert_key = ? and route = ? and target = ?",
                        (attempts + 1, now + wait, error, key, route, label),
                    )
                    failed += 1
            (pending,) = con.execute(
                "select count(*) from outbox where status = 'pending'"
            ).fetchone()
        finally:
            con.close()
        return OutboxStatus(sent=sent, pending=pending, failed_attempts=failed)

    def rows(self) -> list[dict]:
        """Every delivery with its state (for the CLI, the sensor's message and tests)."""
        with self._connect() as con:
            con.row_factory = sqlite3.Row
            return [
                dict(r)
                for r in con.execute(
                    "select alert_key, route, target, status, attempts, last_error, created_at,"
                    " next_attempt_at, delivered_at from outbox order by created_at, alert_key"
                ).fetchall()
            ]


def outbox_path(settings: Settings) -> Path:
    """FLYWHEEL_ALERT_OUTBOX, else alerts/outbox.sqlite in the data folder."""
    return settings.alert_outbox_path


# --- what a metric alert says ------------------------------------------------


@dataclass(frozen=True)
class Queued:
    key: str
    routes: tuple[str, ...]
    alert: Alert


def _label(metric: str) -> str:
    return metric.replace("_", " ")


def _fmt(value: float | None, unit: str, currency: str, change: bool = False) -> str:
    if value is None:
        return "n/a"
    sign = "+" if change and value > 0 else ""
    if unit == "currency":
        return f"{sign}{value:,.0f} {currency}"
    if unit == "ratio":
        return f"{sign}{100 * value:,.1f}{' pp' if change else '%'}"
    if unit == "score":
        return f"{sign}{value:,.2f}"
    if abs(value) < 100 and value != round(value):
        return f"{sign}{value:,.2f}"
    return f"{sign}{value:,.0f}"


def _period(grain: str, start) -> str:
    return {"month": f"{start:%Y-%m}", "week": f"week of {start:%Y-%m-%d}"}.get(
        grain, f"{start:%Y-%m-%d}"
    )


def _untrusted_feeds(con, max_quarantine_share: float) -> dict[str, tuple[str, str]]:
    """Feeds whose data this snapshot cannot vouch for: feed -> (rule, what it found)."""
    out = {}
    for feed, stale, message, quarantined, raw in con.execute(
        "select feed, is_stale, stale_message, quarantined_rows, raw_rows from marts.publish_info"
    ).fetchall():
        if stale:
            out[feed] = ("stale", f"stale: {message}")
        elif quarantined and quarantined > max_quarantine_share * (quarantined + (raw or 0)):
            share = quarantined / (quarantined + (raw or 0))
            out[feed] = (
                "quarantine",
                f"{quarantined:,} rows quarantined ({100 * share:.1f}% of the feed; "
                f"more than {100 * max_quarantine_share:.0f}%): see meta.quarantine",
            )
    return out


def _behind(con, row: dict) -> tuple[list[str], list[str], list[str]]:
    """The top 3 contributions, top 2 segments and the counters of an alert's metric,
    against the comparison of its rule (the weekday median has none: the period before)."""
    key = [
        row["metric"],
        row["grain"],
        row["period_start"],
        row["dimension"],
        row["dimension_value"],
    ]
    comparison = "year_earlier" if row["baseline"] == "year_earlier" else "previous_period"
    contributions = [
        r[0]
        for r in con.execute(
            "select sentence from marts.metric_contributions where parent_metric = ?"
            " and grain = ? and period_start = ? and dimension = ? and dimension_value = ?"
            " and comparison = ? and contribution is not null"
            " order by abs(contribution) desc, child_metric limit 3",
            [*key, comparison],
        ).fetchall()
    ]
    # the segments of the metric's change; for an alert on a cut (a channel), those
    # inside it: the cut itself, its pairs, its campaigns
    cut = f"{row['dimension']} {row['dimension_value']}"
    segments = [
        r[0]
        for r in con.execute(
            "select sentence from marts.metric_change_explanations where metric = ?"
            " and grain = ? and period_start = ? and comparison = ?"
            " and (? = 'all' or segment = ? or starts_with(segment, ? || ' &')"
            " or (? = 'channel' and value_1 like ? || ' / %')"
            " or (dimension_2 = ? and value_2 = ?))"
            " order by segment_rank limit 2",
            [
                row["metric"],
                row["grain"],
                row["period_start"],
                comparison,
                row["dimension"],
                cut,
                cut,
                row["dimension"],
                row["dimension_value"],
                row["dimension"],
                row["dimension_value"],
            ],
        ).fetchall()
    ]
    counters = []
    for metric, direction, change, previous in con.execute(
        "select t.metric, t.direction, v.change, v.previous_value from marts.metric_tree t"
        " join marts.metric_values v on v.metric = t.metric"
        " where t.parent = ? and t.relation = 'counter' and v.grain = ? and v.period_start = ?"
        " and v.dimension = ? and v.dimension_value = ? order by t.metric",
        [row["metric"], *key[1:]],
    ).fetchall():
        if change is None or not previous:
            verdict = "no earlier period"
        else:
            # by the sign of the change: a % of a negative base (NPS -10) flips its sign
            good = change == 0 or (change > 0) == (direction == "higher")
            verdict = f"{100 * change / abs(previous):+.1f}% ({'good' if good else 'bad'})"
        counters.append(f"{_label(metric)} {verdict}")
    return contributions, segments, counters


def _html(title: str, lines: list[str], sections: dict[str, list[str]], link: str) -> str:
    parts = [f"<h2>{html.escape(title)}</h2>"]
    parts += [f"<p>{html.escape(line)}</p>" for line in lines]
    for name, items in sections.items():
        if items:
            parts.append(f"<h3>{html.escape(name)}</h3><ul>")
            parts += [f"<li>{html.escape(i)}</li>" for i in items]
            parts.append("</ul>")
    parts.append(f'<p><a href="{html.escape(link)}">Open in the explorer</a></p>')
    return "\n".join(parts)


def _metric_alert(con, row: dict, currency: str, explorer: str) -> Alert:
    unit = row["unit"]
    cut = "" if row["dimension"] == "all" else f", {row['dimension']} {row['dimension_value']}"
    period = _period(row["grain"], row["period_start"])
    verdict = "good" if row["is_good_move"] else "bad"
    if row["alert_kind"] == "counter":
        title = (
            f"{_label(row['metric'])} {100 * row['change_pct']:+.1f}% ({verdict}) while "
            f"{_label(row['guarded_metric'])} improved{cut}, {period}"
        )
    else:
        title = (
            f"{_label(row['metric'])} {100 * row['change_pct']:+.1f}% ({verdict}){cut}, {period}"
        )
    baseline = {
        "previous_period": "the period before",
        "year_earlier": "the same period a year earlier",
        "same_weekday_median_4w": "the median of the same weekday over the 4 weeks before",
    }[row["baseline"]]
    lines = [
        f"{_label(row['metric'])}: {_fmt(row['value'], unit, currency)} against "
        f"{_fmt(row['baseline_value'], unit, currency)} for {baseline}: "
        f"{_fmt(row['change'], unit, currency, change=True)} ({100 * row['change_pct']:+.1f}%), "
        f"{verdict} for a metric where {row['direction']} is better; "
        f"quiet within +-{100 * row['tolerance']:.0f}%"
        + (f", on a sample of {row['sample']:,.0f}" if row["sample"] is not None else "")
        + "."
    ]
    if row["alert_kind"] == "counter":
        lines.append(
            f"{_label(row['metric'])} guards {_label(row['guarded_metric'])}: the main metric "
            "improved while its counter-metric moved the bad way."
        )
    contributions, segments, counters = _behind(con, row)
    link = f"{explorer.rstrip('/')}/why?" + urllib.parse.urlencode(
        {
            "metric": row["metric"],
            "grain": row["grain"],
            "period": f"{row['period_start']:%Y-%m-%d}",
            "dimension": row["dimension"],
            "value": row["dimension_value"],
        }
    )
    sections = {
        "Contributions": contributions,
        "Segments behind the change": segments,
        "Counter-metrics": counters,
    }
    text = "\n".join(
        lines
        + [
            line
            for name, items in sections.items()
            if items
            for line in [f"{name}:", *[f"- {i}" for i in items]]
        ]
        + [f"Explorer: {link}"]
    )
    fields = {
        "metric": row["metric"],
        "cut": f"{row['dimension']}={row['dimension_value']}",
        "period": period,
        "rule": f"{row['alert_kind']} {row['baseline']} +-{100 * row['tolerance']:.0f}%",
        "severity": row["severity"],
        "key": row["alert_key"],
    }
    severity = "error" if row["severity"] == "high" and not row["is_good_move"] else "warning"
    return Alert(
        title=title,
        text=text,
        severity=severity if not row["is_good_move"] else "info",
        fields=fields,
        html=_html(title, lines, sections, link),
    )


def evaluate_snapshot(
    con,
    currency: str = "RUB",
    explorer_url: str | None = None,
    max_quarantine_share: float | None = None,
) -> list[Queued]:
    """The alerts of a published snapshot (a connection to it), with their routes."""
    settings = load_settings()
    explorer = explorer_url or settings.explorer_url
    max_share = (
        settings.alert_max_quarantine_share
        if max_quarantine_share is None
        else max_quarantine_share
    )
    untrusted = _untrusted_feeds(con, max_share)
    feeds = {
        m: set((f or "").split())
        for m, f in con.execute("select metric, requires_feeds from marts.metric_tree").fetchall()
    }
    cur = con.execute("select * from marts.metric_alerts order by alert_key")
    names = [d[0] for d in cur.description]
    out: list[Queued] = []
    withheld: dict[str, list[str]] = {}
    for values in cur.fetchall():
        row = dict(zip(names, values, strict=True))
        needed = feeds.get(row["metric"], set())
        if row.get("guarded_metric"):
            needed |= feeds.get(row["guarded_metric"], set())
        bad = sorted(needed & set(untrusted))
        if bad:
            for feed in bad:
                withheld.setdefault(feed, []).append(row["alert_key"])
            continue
        routes = tuple(r.strip() for r in row["routes"].split(",") if r.strip())
        out.append(Queued(row["alert_key"], routes, _metric_alert(con, row, currency, explorer)))
    data_as_of = dict(con.execute("select feed, data_as_of from marts.publish_info").fetchall())
    for feed, keys in sorted(withheld.items()):
        rule, reason = untrusted[feed]
        title = f"Data incident: feed {feed} is not trustworthy ({rule})"
        text = (
            f"Feed {feed}: {reason}.\n{len(keys)} metric alert(s) that depend on it are withheld "
            "until the feed is fixed and the pipeline has run again: " + ", ".join(keys[:10])
        )
        out.append(
            Queued(
                f"incident:{feed}:{rule}:{data_as_of.get(feed)}",
                (DATA_ROUTE,),
                Alert(
                    title=title, text=text, severity="error", fields={"feed": feed, "rule": rule}
                ),
            )
        )
    return out
