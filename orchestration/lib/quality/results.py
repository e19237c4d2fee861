"""What a gate run produces: rule outcomes, the run's result and its alert, and the
tables they are recorded in (quality.gate_runs, quality.gate_results)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from orchestration.lib.alerts import Alert
from orchestration.lib.quality.suites import BLOCKING, WARNING

GATE_DDL = """
create schema if not exists quality;
create table if not exists quality.gate_runs (
    feed varchar not null,
    checkpoint varchar not null,
    run_id varchar,
    from_file_id bigint not null,      -- exclusive: the watermark before this run
    to_file_id bigint not null,        -- inclusive: the watermark after it
    rows_checked bigint not null,
    rows_flagged bigint not null,
    blocking_failures integer not null,
    warnings integer not null,
    passed boolean not null,
    checked_at timestamp not null
);
create table if not exists quality.gate_results (
    run_id varchar,
    feed varchar not null,
    checkpoint varchar not null,
    rule varchar not null,
    severity varchar not null,         -- blocking | warning
    channel varchar,                   -- the group: channel, sales_channel, survey, or 'all'
    month varchar,                     -- YYYY-MM for month rules
    batch varchar,
    observed double,
    threshold double,
    reference double,                  -- the trailing value a ratio rule compares with
    rows bigint,
    passed boolean not null,
    message varchar,
    checked_at timestamp not null
);
"""
# quality.lead_verdicts and quality.row_verdicts are created by warehouse.bootstrap:
# dbt reads them as sources, also before any gate has run.


@dataclass(frozen=True)
class RuleOutcome:
    """One batch rule evaluated for one group (and month)."""

    rule: str
    severity: str
    channel: str
    batch: str
    month: str | None
    observed: float | None
    threshold: float | None
    passed: bool
    message: str
    reference: float | None = None
    rows: int | None = None


@dataclass
class GateResult:
    feed: str
    checkpoint: str
    run_id: str
    batch: str
    from_file_id: int
    to_file_id: int
    rows_checked: int
    rows_flagged: int
    flagged_by_expectation: dict[str, int]
    outcomes: list[RuleOutcome]
    checked_at: dt.datetime
    data_docs_index: str | None = None
    where_to_look: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def blocking_failures(self) -> list[RuleOutcome]:
        return [o for o in self.outcomes if not o.passed and o.severity == BLOCKING]

    @property
    def warnings(self) -> list[RuleOutcome]:
        return [o for o in self.outcomes if not o.passed and o.severity == WARNING]

    @property
    def passed(self) -> bool:
        return not self.blocking_failures

    def figures(self, rule: str) -> dict[str, float]:
        """Observed value of a rule per group (and month): for UI metadata."""
        return {
            (o.channel if o.month is None else f"{o.channel} {o.month}"): round(o.observed, 4)
            for o in self.outcomes
            if o.rule == rule and o.observed is not None
        }

    def summary(self, severity: str = BLOCKING) -> str:
        items = self.blocking_failures if severity == BLOCKING else self.warnings
        head = (
            f"{self.checkpoint} on {self.feed}, {self.batch} (run {self.run_id}): "
            f"{self.rows_checked:,} rows checked, {self.rows_flagged:,} flagged."
        )
        if not items:
            return head + f" No {severity} rule failed."
        lines = [head, f"{len(items)} {severity} rule(s) failed:"]
        lines += [f"- {o.message}" for o in items[:20]]
        if len(items) > 20:
            lines.append(f"- ... and {len(items) - 20} more (see quality.gate_results)")
        lines.append(self.where_to_look)
        return "\n".join(lines)

    def to_alert(self, severity: str = BLOCKING) -> Alert | None:
        """The alert a person receives for this run's failed rules of one severity."""
        items = self.blocking_failures if severity == BLOCKING else self.warnings
        if not items:
            return None
        groups = sorted({o.channel for o in items})
        rules = sorted({o.rule for o in items})
        verb = "blocked" if severity == BLOCKING else "warns"
        title = f"{self.checkpoint} {verb}: {', '.join(rules)} ({', '.join(groups)})"
        return Alert(
            title=title,
            text=self.summary(severity),
            severity="error" if severity == BLOCKING else "warning",
            fields={
                "feed": self.feed,
                "batch": self.batch,
                "run": self.run_id,
                "rows checked": f"{self.rows_checked:,}",
                "rows flagged": f"{self.rows_flagged:,}",
            },
        )
