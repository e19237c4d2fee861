"""The quality gate: Great Expectations suites between the raw stage and the models.

Plain Python (no Dagster): `run_lead_gate` for leads and `run_suite` for the
lighter suites (orders, survey answers) share one mechanism:

1. The batch is the rows of files registered as 'loaded' since the last gate
   run of the feed (watermark: max file_id checked, in quality.gate_runs).
2. DuckDB prepares a compact, PII-free frame per row: the cross-row facts
   (key occurrences, duplicate of which lead) and normalised contact checks
   are computed in SQL, where they scale; raw emails and phones never leave
   DuckDB.
3. The frame is streamed to pandas in bounded chunks and validated with the
   suite's row expectations (GX pandas datasource). GX decides which rows
   fail: its unexpected_index_list (keyed by the row's rowid) becomes the
   verdicts. GX's SQL datasource on DuckDB is not usable as shipped (GX
   issue 11579), see docs/quality-gate.md.
4. Per-group (channel) and per group x month figures are validated with the
   suite's batch expectations; each rule is blocking or a warning.
5. Verdicts, rule results and the new watermark are written in one
   transaction; Data Docs (static HTML) are built from the merged results.

Suites and thresholds live in expectations/*.json (one file per checkpoint).
"""

from __future__ import annotations

import contextlib
import copy
import csv
import datetime as dt
import json
import logging
import math
import os
import string
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from orchestration.lib.alerts import Alert, scrub_pii
from orchestration.lib.feeds import FEEDS, SCORE_RANGES
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import bootstrap, lowered_memory_limit

log = logging.getLogger(__name__)

# Feed -> checkpoint (the suite file is expectations/<checkpoint>.json).
SUITES = {"leads": "leads_gate", "orders": "orders_suite", "survey_answers": "survey_answers_suite"}
# Feed -> the timestamp that dates a row (freshness, months, "not in the future").
TIMESTAMP_COLUMNS = {"leads": "created_at", "orders": "ordered_at", "survey_answers": "answered_at"}
META_COLUMNS = ["_file_id", "_line", "_ingested_at"]

BLOCKING = "blocking"
WARNING = "warning"

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

# Email shape and phone plausibility, applied in DuckDB. The phone key is the
# last 10 digits, so '+7 912 345-67-89' and '8 (912) 345 67 89' match.
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"


# ---------------------------------------------------------------------------
# Suites and thresholds


@dataclass(frozen=True)
class SuiteSpec:
    """A checkpoint's suite file: row and batch expectations plus thresholds."""

    checkpoint: str
    feed: str
    description: str
    key: str
    group_column: str
    thresholds: dict[str, float]
    row_expectations: list[dict]
    batch_expectations: list[dict]
    path: Path

    def threshold(self, name: str) -> float:
        return self.thresholds[name]


def expectations_dir(settings: Settings) -> Path:
    override = os.environ.get("FLYWHEEL_EXPECTATIONS_DIR", "").strip()
    return Path(override) if override else settings.expectations_dir


def load_suite(checkpoint: str, settings: Settings, env: dict[str, str] | None = None) -> SuiteSpec:
    """Read expectations/<checkpoint>.json; FLYWHEEL_GATE_[<FEED>_]<THRESHOLD> overrides a value."""
    env = dict(os.environ if env is None else env)
    path = expectations_dir(settings) / f"{checkpoint}.json"
    raw = json.loads(path.read_text())
    feed = raw["feed"]
    thresholds: dict[str, float] = {}
    for name, entry in raw.get("thresholds", {}).items():
        value = entry["value"] if isinstance(entry, dict) else entry
        for var in (
            f"FLYWHEEL_GATE_{feed.upper()}_{name.upper()}",
            f"FLYWHEEL_GATE_{name.upper()}",
        ):
            if env.get(var, "").strip():
                try:
                    value = float(env[var])
                except ValueError as exc:
                    raise ValueError(f"{var}={env[var]!r} is not a number ({path})") from exc
                break
        thresholds[name] = float(value)
    names = [e["name"] for e in raw["row_expectations"] + raw["batch_expectations"]]
    batch_expectations = [_stale_severity(e, settings) for e in raw["batch_expectations"]]
    if len(names) != len(set(names)):
        raise ValueError(f"{path}: expectation names must be unique")
    return SuiteSpec(
        checkpoint=raw.get("checkpoint", checkpoint),
        feed=feed,
        description=raw.get("description", ""),
        key=raw["key"],
        group_column=raw["group_column"],
        thresholds=thresholds,
        row_expectations=raw["row_expectations"],
        batch_expectations=batch_expectations,
        path=path,
    )


FRESHNESS_FRAMES = ("freshness_all", "freshness_by_group")


def _stale_severity(expectation: dict, settings: Settings) -> dict:
    """A blocking freshness rule warns unless FLYWHEEL_ON_STALE=block.

    A shop's first load is history whose newest row is months old; blocking on it
    would publish nothing. The suite file keeps saying what blocks when asked to.
    """
    if (
        expectation["frame"] in FRESHNESS_FRAMES
        and expectation["severity"] == BLOCKING
        and settings.on_stale != "block"
    ):
        return {**expectation, "severity": WARNING}
    return expectation


def known_channels(settings: Settings) -> list[str]:
    """Channel codes from seeds/channels.csv (column channel, channel_code or code; else the first)."""
    path = settings.seeds_dir / "channels.csv"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the lead gate needs the channel codes (landing contract, seeds)"
        )
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        col = next((c for c in ("channel", "channel_code", "code") if c in fields), fields[0])
        return sorted({row[col].strip() for row in reader if row.get(col, "").strip()})


def warehouse_now(settings: Settings) -> dt.datetime:
    """Now as naive warehouse time, the way timestamps are stored in raw tables.

    FLYWHEEL_GATE_NOW (ISO 8601, warehouse time) pins it: for replaying a past
    batch or a demo whose data ends on a fixed date (freshness, "in the future").
    """
    pinned = os.environ.get("FLYWHEEL_GATE_NOW", "").strip()
    if pinned:
        return dt.datetime.fromisoformat(pinned).replace(tzinfo=None)
    return dt.datetime.now(ZoneInfo(settings.timezone)).replace(tzinfo=None, microsecond=0)


def _parameters(spec: SuiteSpec, settings: Settings, now: dt.datetime) -> dict[str, Any]:
    """Values the suite's {"$PARAMETER": ...} placeholders resolve to."""
    t = spec.thresholds
    params: dict[str, Any] = dict(t)
    latest = now + dt.timedelta(minutes=t.get("future_skew_minutes", 0))
    params["latest_allowed_ts"] = latest
    params["latest_allowed_created_at"] = latest
    params["contract_columns"] = FEEDS[spec.feed].column_names + META_COLUMNS
    for rule, tol in (
        ("qualification", "qualification_rate_tolerance"),
        ("volume", "volume_tolerance"),
    ):
        if tol in t:
            params[f"{rule}_ratio_min"] = 1.0 / (1.0 + t[tol])
            params[f"{rule}_ratio_max"] = 1.0 + t[tol]
    if spec.feed == "leads":
        params["known_channels"] = known_channels(settings)
    return params


# ---------------------------------------------------------------------------
# Results


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


# ---------------------------------------------------------------------------
# Frames (SQL). Identifiers come from feeds.FEEDS and the suite file, never
# from data; values are bound as parameters.


def _batch_cte(feed: str) -> str:
    # $wm: the watermark (max file_id already checked)
    return f"""batch as (
        select r.rowid as _k, r.*
        from raw.{feed} as r
        where r._file_id > $wm
          and r._file_id in (
              select file_id from meta.files where feed = '{feed}' and outcome = 'loaded'
          )
    )"""


def _contact_keys(alias: str) -> str:
    # Keys are 64-bit hashes of the normalised values: the duplicate windows then sort
    # integers, not strings (about half the time at 10M leads). A false duplicate needs
    # a hash collision: odds about 3 in a million across 10M distinct contacts.
    digits = f"regexp_replace(coalesce({alias}.phone, ''), '[^0-9]', '', 'g')"
    return f"""
        case when regexp_full_match(lower(trim({alias}.email)), '{EMAIL_PATTERN}')
             then hash(lower(trim({alias}.email))) end as email_key,
        case when length({digits}) between 10 and 15
              and {digits} <> repeat(left({digits}, 1), length({digits}))
             then hash(right({digits}, 10)) end as phone_key"""


def _occurrences_cte(feed: str, key: str) -> str:
    """Keys that occur more than once in the feed's raw table (the frames left-join it).

    Aggregated over every row rather than restricted with `key in (select key from
    batch)`: DuckDB builds that semi-join in memory without spilling, and a first run,
    whose batch is the whole table, ran out of the gate's memory limit at 50M orders
    (600 MB). The aggregate spills to disk. Its cost on a daily run, measured on 10M and
    50M synthetic orders: +0.4 s and +2.3 s.
    """
    return f"""occ as (
        select {key}, count(*) as n
        from raw.{feed}
        group by {key}
        having count(*) > 1
    )"""


def _leads_frame_sql() -> str:
    """One PII-free row per batch lead; duplicates looked up against the window's history too."""
    return f"""
    with {_batch_cte("leads")},
    keyed as (
        select b._k, b.lead_id, b.created_at, b.channel, b.qualified_at, b.disqualified_reason,
               {_contact_keys("b")}
        from batch as b
    ),
    history as (
        select null::bigint as _k, h.lead_id, h.created_at, {_contact_keys("h")}
        from raw.leads as h
        where h._file_id <= $wm
          and h.created_at >= (select min(created_at) from batch) - to_days($window_days::integer)
    ),
    pool as (
        select _k, lead_id, created_at, email_key, phone_key from keyed
        union all
        select _k, lead_id, created_at, email_key, phone_key from history
    ),
    by_email as (
        select _k, created_at,
               lag(lead_id) over w as prev_id, lag(created_at) over w as prev_at, 'email' as via
        from pool where email_key is not null
        window w as (partition by email_key order by created_at, lead_id)
    ),
    by_phone as (
        select _k, created_at,
               lag(lead_id) over w as prev_id, lag(created_at) over w as prev_at, 'phone' as via
        from pool where phone_key is not null
        window w as (partition by phone_key order by created_at, lead_id)
    ),
    dups as (
        select _k, arg_min(prev_id, prev_at) as duplicate_of, arg_min(via, prev_at) as duplicate_via
        from (
            select * from by_email
            union all
            select * from by_phone
        )
        where _k is not null
          and prev_at >= created_at - to_days($window_days::integer)
        group by _k
    ),
    {_occurrences_cte("leads", "lead_id")}
    select
        k._k,
        k.lead_id,
        k.channel,
        k.created_at,
        k.qualified_at,
        case
            when k.qualified_at is not null and nullif(trim(k.disqualified_reason), '') is not null
                then 'qualified_and_disqualified'
            when k.qualified_at is not null then 'qualified'
            when nullif(trim(k.disqualified_reason), '') is not null then 'disqualified'
            else 'open'
        end as qualification_status,
        (k.email_key is not null or k.phone_key is not null) as is_contactable,
        coalesce(o.n, 1) as lead_id_occurrences,
        d.duplicate_of,
        d.duplicate_via
    from keyed as k
    left join dups as d using (_k)
    left join occ as o using (lead_id)
    """


def _keyed_frame_sql(feed: str, key: str, columns: list[str], extra: str = "") -> str:
    cols = ", ".join(f"b.{c}" for c in columns)
    return f"""
    with {_batch_cte(feed)},
    {_occurrences_cte(feed, key)}
    select b._k, {cols}, coalesce(o.n, 1) as key_occurrences{extra}
    from batch as b
    left join occ as o using ({key})
    """


def _orders_frame_sql() -> str:
    return _keyed_frame_sql(
        "orders",
        "order_id",
        ["order_id", "customer_id", "ordered_at", "status", "sales_channel", "delivered_at"],
    )


def _survey_frame_sql() -> str:
    cases = " ".join(
        f"when '{s}' then b.score between {lo} and {hi}" for s, (lo, hi) in SCORE_RANGES.items()
    )
    return _keyed_frame_sql(
        "survey_answers",
        "answer_id",
        ["answer_id", "answered_at", "survey", "score"],
        extra=f",\n        case lower(b.survey) {cases} end as score_in_range",
    )


FRAME_SQL = {
    "leads": _leads_frame_sql,
    "orders": _orders_frame_sql,
    "survey_answers": _survey_frame_sql,
}


# ---------------------------------------------------------------------------
# Great Expectations


class _Gx:
    """One ephemeral GX context per gate run: suites, a pandas datasource, Data Docs."""

    def __init__(self, spec: SuiteSpec, docs_dir: Path | None):
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        self.spec = spec
        self.ctx = gx.get_context(mode="ephemeral")
        self.ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.docs_dir = docs_dir
        self.new_results: list = []
        if docs_dir is not None:
            docs_dir.mkdir(parents=True, exist_ok=True)
            # Results are kept as JSON beside the site so the index lists past runs too.
            self.ctx.add_store(
                "flywheel_results",
                {
                    "class_name": "ValidationResultsStore",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs_dir.parent / "gx_validation_results"),
                    },
                },
            )
            self.ctx.variables.validation_results_store_name = "flywheel_results"
            self.ctx.add_data_docs_site(
                "flywheel",
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs_dir),
                    },
                    # Each feed's gate has a context of its own: GX's index builder would
                    # delete the pages of the other feeds' suites (their links then 404).
                    "site_index_builder": {
                        "module_name": "orchestration.lib.data_docs",
                        "class_name": "KeepingSiteIndexBuilder",
                    },
                },
            )
        ds = self.ctx.data_sources.add_pandas("flywheel")
        self.batch_definition = ds.add_dataframe_asset(
            spec.feed
        ).add_batch_definition_whole_dataframe("frame")

    def suite(self, name: str, expectations: list[dict]):
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        suite = self.gx.ExpectationSuite(name=name, meta={"notes": self.spec.description})
        for e in expectations:
            meta = {k: e[k] for k in ("name", "description", "severity", "threshold") if k in e}
            suite.add_expectation_configuration(
                ExpectationConfiguration(
                    type=e["type"], kwargs=copy.deepcopy(e["kwargs"]), meta=meta
                )
            )
        return self.ctx.suites.add(suite)

    def validate(
        self, suite, df: pd.DataFrame, params: dict, index_columns: list[str], exclude_values=False
    ):
        from great_expectations.validator.v1_validator import Validator

        result_format: dict[str, Any] = {
            "result_format": "COMPLETE",
            "partial_unexpected_count": 20,
            "exclude_unexpected_values": exclude_values,
        }
        if index_columns:
            result_format["unexpected_index_column_names"] = index_columns
        # The validator Batch.validate builds, made directly: Batch.validate loads (and
        # fingerprints) the frame twice, which costs ~1 s per million rows.
        validator = Validator(
            batch_definition=self.batch_definition,
            batch_parameters={"dataframe": df},
            result_format=result_format,
        )
        return validator.validate_expectation_suite(suite, expectation_parameters=params)

    def store(self, result, run_id: str, batch_label: str, now: dt.datetime) -> None:
        if self.docs_dir is None:
            return
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        key = ValidationResultIdentifier(
            ExpectationSuiteIdentifier(name=result.suite_name),
            RunIdentifier(run_name=run_id, run_time=now.replace(tzinfo=dt.UTC)),
            batch_label.replace(" ", "_").replace("/", "_"),
        )
        self.ctx.validation_results_store.set(key, result)
        self.new_results.append(key)

    def build_docs(self) -> str | None:
        """Render this run's results and the suites into the site, then its index.

        Only the new pages are rendered: rendering every stored result again
        would make each run slower than the last as results accumulate.
        """
        if self.docs_dir is None:
            return None
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
        )

        suites = [ExpectationSuiteIdentifier(name=s.name) for s in self.ctx.suites.all()]
        started = time.time() - 1  # file times may be rounded to the second
        urls = self.ctx.build_data_docs(
            site_names=["flywheel"], resource_identifiers=suites + self.new_results
        )
        from orchestration.lib import data_docs  # imports GX: only when docs are built

        data_docs.localise(self.docs_dir, since=started)  # offline: shipped CSS/JS, no CDN
        return urls.get("flywheel")


def _plain(value: Any) -> Any:
    """GX result values -> JSON-able, PII-scrubbed values for Data Docs and details."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return None if pd.isna(value) else value.isoformat(sep=" ")
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            return str(value)
        return _plain(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, str):
        return scrub_pii(value)
    return value


class _RowMerger:
    """Merges per-chunk validation results into one result for the whole batch.

    Counts are summed; partial unexpected lists keep the first values seen;
    the full index lists are consumed (they become verdicts) and dropped.
    """

    def __init__(self) -> None:
        self.first = None
        self.counts: list[dict[str, Any]] = []

    def add(self, result, samples: dict[str, list] | None = None) -> None:
        if self.first is None:
            self.first = result
            self.counts = [
                {
                    "element_count": 0,
                    "unexpected_count": 0,
                    "missing_count": 0,
                    "partial": [],
                    "success": True,
                }
                for _ in result.results
            ]
        for acc, er in zip(self.counts, result.results, strict=True):
            r = er.result or {}
            acc["element_count"] += int(r.get("element_count") or 0)
            acc["unexpected_count"] += int(r.get("unexpected_count") or 0)
            acc["missing_count"] += int(r.get("missing_count") or 0)
            acc["success"] = acc["success"] and bool(er.success)
            room = 20 - len(acc["partial"])
            name = er.expectation_config.meta.get("name")
            sample = (samples or {}).get(name) or list(r.get("partial_unexpected_list") or [])
            if room > 0:
                acc["partial"].extend(_plain(sample[:room]))

    def merged(self):
        if self.first is None:
            return None
        result = self.first
        ok = 0
        for acc, er in zip(self.counts, result.results, strict=True):
            n, u, m = acc["element_count"], acc["unexpected_count"], acc["missing_count"]
            nonmissing = n - m
            mostly = (er.expectation_config.kwargs or {}).get("mostly")
            pct_nonmissing = 100.0 * u / nonmissing if nonmissing else 0.0
            success = (u == 0) if not mostly else pct_nonmissing <= 100.0 * (1 - mostly)
            if "unexpected_count" not in (er.result or {}):
                success = acc["success"]
            er.success = success
            er.result = {
                "element_count": n,
                "unexpected_count": u,
                "unexpected_percent": 100.0 * u / n if n else 0.0,
                "missing_count": m,
                "missing_percent": 100.0 * m / n if n else 0.0,
                "unexpected_percent_nonmissing": pct_nonmissing,
                "partial_unexpected_list": acc["partial"],
            }
            ok += int(success)
        total = len(result.results)
        result.success = ok == total
        result.statistics = {
            "evaluated_expectations": total,
            "successful_expectations": ok,
            "unsuccessful_expectations": total - ok,
            "success_percent": 100.0 * ok / total if total else 100.0,
        }
        return result


# ---------------------------------------------------------------------------
# The gate


def _watermark(con: duckdb.DuckDBPyConnection, feed: str) -> int:
    row = con.execute(
        "select coalesce(max(to_file_id), 0) from quality.gate_runs where feed = ?", [feed]
    ).fetchall()[0]
    return int(row[0])


def _new_watermark(con: duckdb.DuckDBPyConnection, feed: str, wm: int) -> int:
    row = con.execute(
        f"""select greatest(
                (select coalesce(max(file_id), 0) from meta.files where feed = ? and outcome = 'loaded'),
                (select coalesce(max(_file_id), 0) from raw.{feed}),
                ?)""",
        [feed, wm],
    ).fetchall()[0]
    return int(row[0])


def _validate_rows(
    con: duckdb.DuckDBPyConnection,
    gxr: _Gx,
    spec: SuiteSpec,
    params: dict,
    wm: int,
) -> tuple[pd.DataFrame, Any, int]:
    """Stream the frame in chunks through the row suite; return flags, merged result, rows."""
    suite = gxr.suite(f"{spec.checkpoint}.rows", spec.row_expectations)
    by_name = {e["name"]: e for e in spec.row_expectations}
    sql_params: dict[str, Any] = {"wm": wm}
    if spec.feed == "leads":
        sql_params["window_days"] = int(spec.threshold("duplicate_window_days"))
    chunk_rows = int(spec.thresholds.get("chunk_rows", 1_000_000))
    reader = con.sql(FRAME_SQL[spec.feed](), params=sql_params).to_arrow_reader(chunk_rows)
    merger = _RowMerger()
    flags: list[pd.DataFrame] = []
    rows = 0
    for record_batch in reader:
        df = record_batch.to_pandas()
        if df.empty:
            continue
        rows += len(df)
        # GX compares datetimes vectorised only at ns precision (us falls back to a Python map).
        for col in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[col]):
                df[col] = df[col].astype("datetime64[ns]")
        # A named index + exclude_unexpected_values: GX returns the failing row keys as one
        # list per expectation, cheap even when many rows fail.
        df = df.set_index("_k")
        result = gxr.validate(suite, df, params, ["_k"], exclude_values=True)
        samples: dict[str, list] = {}
        for er in result.results:
            name = er.expectation_config.meta.get("name") or er.expectation_config.type
            keys: list[int] = []
            for entry in (er.result or {}).get("unexpected_index_list") or []:
                keys.extend(entry.get("_k", []) if isinstance(entry, dict) else [entry])
            if keys:
                failing = df.loc[keys]
                flags.append(_flag_rows(failing, name, by_name.get(name, {}), spec))
                samples[name] = _sample_values(failing, er.expectation_config.kwargs)
        merger.add(result, samples)
        del df, result
    cols = ["_k", "expectation", "is_duplicate", "duplicate_of", "details"]
    flag_df = pd.concat(flags, ignore_index=True) if flags else pd.DataFrame(columns=cols)
    flag_df = flag_df[cols].astype({"_k": "int64", "is_duplicate": "bool"})
    return flag_df, merger.merged(), rows


def _sample_values(failing: pd.DataFrame, kwargs: dict) -> list:
    """Up to 20 failing values of the expectation's column(s), for Data Docs (no PII columns
    exist in the frame; strings are scrubbed again by _plain)."""
    head = failing.head(20)
    if "column" in kwargs and kwargs["column"] in head:
        return list(head[kwargs["column"]])
    if "column_A" in kwargs:
        return [
            list(p) for p in zip(head[kwargs["column_A"]], head[kwargs["column_B"]], strict=True)
        ]
    return []


def _render(template: str, rows: pd.DataFrame, extra: dict[str, Any]) -> pd.Series:
    """Vectorised str.format of a details template over the failing rows.

    String values from the data are scrubbed of anything that looks like
    contact data (they should hold codes and ids only).
    """
    out = pd.Series("", index=rows.index, dtype=object)
    for literal, field_name, _spec, _conv in string.Formatter().parse(template):
        out = out + literal
        if field_name is None:
            continue
        if field_name in rows.columns:
            col = rows[field_name]
            if pd.api.types.is_datetime64_any_dtype(col):
                text = col.dt.strftime("%Y-%m-%d %H:%M:%S")
            else:
                text = col.astype(object).where(col.notna(), None)
                uniques = {v: scrub_pii(str(v)) for v in pd.unique(text.dropna())}
                text = text.map(uniques)
            out = out + text.fillna("null").astype(str)
        elif field_name in extra:
            out = out + str(extra[field_name])
        else:
            out = out + "?"
    return out


def _flag_rows(failing: pd.DataFrame, name: str, spec_e: dict, spec: SuiteSpec) -> pd.DataFrame:
    is_dup = bool(spec_e.get("duplicate", False))
    extra = {k: (int(v) if float(v).is_integer() else v) for k, v in spec.thresholds.items()}
    rows = failing.reset_index()
    return pd.DataFrame(
        {
            "_k": rows["_k"].to_numpy(),
            "expectation": name,
            "is_duplicate": is_dup,
            "duplicate_of": rows["duplicate_of"].to_numpy()
            if is_dup and "duplicate_of" in rows
            else None,
            "details": _render(spec_e.get("details", name), rows, extra).to_numpy(),
        }
    )


def _write_verdicts(
    con: duckdb.DuckDBPyConnection, spec: SuiteSpec, run_id: str, now: dt.datetime, wm: int
) -> None:
    feed, key = spec.feed, spec.key
    batch = _batch_cte(feed)
    blank = (
        f"coalesce(cast(r.{key} as varchar), '(blank: file ' || r._file_id || ' line ' "
        "|| coalesce(cast(r._line as varchar), '?') || ')')"
    )
    if feed == "leads":
        # A reloaded lead is judged afresh: its old verdicts go.
        con.execute(
            f"with {batch} delete from quality.lead_verdicts where lead_id in (select lead_id from batch)",
            {"wm": wm},
        )
        con.execute(
            f"""insert into quality.lead_verdicts
                (lead_id, expectation, is_duplicate, duplicate_of, details, checked_at)
            select {blank}, f.expectation, f.is_duplicate, f.duplicate_of, f.details, $now
            from _gate_flags as f
            join raw.leads as r on r.rowid = f._k""",
            {"now": now},
        )
    else:
        con.execute(
            f"with {batch} delete from quality.row_verdicts where feed = $feed and record_key in (select cast({key} as varchar) from batch)",
            {"wm": wm, "feed": feed},
        )
        con.execute(
            f"""insert into quality.row_verdicts
                (feed, record_key, expectation, details, run_id, checked_at)
            select $feed, {blank}, f.expectation, f.details, $run_id, $now
            from _gate_flags as f
            join raw.{feed} as r on r.rowid = f._k""",
            {"feed": feed, "run_id": run_id, "now": now},
        )


def _frame_by_group(con, spec: SuiteSpec, wm: int) -> pd.DataFrame:
    g = spec.group_column
    min_rows = int(spec.thresholds.get("min_rows_for_share", 0))
    df = con.execute(
        f"""
        with {_batch_cte(spec.feed)},
        f as (
            select _k, bool_or(not is_duplicate) as invalid, bool_or(is_duplicate) as dup
            from _gate_flags group by _k
        ),
        per as (
            select coalesce(cast(b.{g} as varchar), '(blank)') as grp,
                   count(*) as n,
                   count(*) filter (where f.invalid) as n_invalid,
                   count(*) filter (where f.dup) as n_dup
            from batch as b left join f using (_k)
            group by all
        )
        select grp as {g}, n, n_invalid, n_dup from per
        union all
        select 'all', sum(n), sum(n_invalid), sum(n_dup) from per having count(*) > 0
        """,
        {"wm": wm},
    ).df()
    df["n"] = df["n"].astype("int64")
    share_ok = (df["n"] >= min_rows) | (df[g] == "all")
    df["invalid_share"] = (df["n_invalid"] / df["n"]).where(share_ok)
    df["duplicate_share"] = (df["n_dup"] / df["n"]).where(share_ok)
    return df


def _frame_freshness(con, spec: SuiteSpec, now: dt.datetime, per_group: bool) -> pd.DataFrame:
    g, ts = spec.group_column, TIMESTAMP_COLUMNS[spec.feed]
    latest = now + dt.timedelta(minutes=spec.thresholds.get("future_skew_minutes", 0))
    group_expr = f"coalesce(cast({g} as varchar), '(blank)')" if per_group else "'all'"
    df = con.execute(
        f"""
        select {group_expr} as {g}, count(*) as n,
               date_diff('second', max({ts}), $now) / 3600.0 as hours_since_newest
        from raw.{spec.feed}
        where {ts} <= $latest
        group by all
        """,
        {"now": now, "latest": latest},
    ).df()
    if per_group and "trailing_months" in spec.thresholds:
        # Only channels active within the trailing window: an ended campaign is not stale.
        active_hours = spec.threshold("trailing_months") * 31 * 24
        df = df[df["hours_since_newest"] <= active_hours]
    return df.reset_index(drop=True)


def _frame_by_group_month(con, spec: SuiteSpec, wm: int, now: dt.datetime) -> pd.DataFrame:
    """Leads per channel x month (clean: no quarantined leads, duplicates counted once)
    for the months in the batch, against the trailing months before each."""
    t = spec.thresholds
    k = int(t["trailing_months"])
    df = con.execute(
        f"""
        with {_batch_cte("leads")},
        clean as (
            select r.channel, date_trunc('month', r.created_at) as m, r.qualified_at is not null as q
            from raw.leads as r
            where r.created_at is not null and r.created_at <= $now
              and not exists (select 1 from quality.lead_verdicts as v where v.lead_id = r.lead_id)
        ),
        monthly as (
            select channel, m, count(*) as n, count(*) filter (where q) as nq from clean group by all
        ),
        targets as (
            select distinct channel, date_trunc('month', created_at) as m
            from batch where created_at is not null and created_at <= $now and channel is not null
        ),
        trail as (
            select t.channel, t.m, count(h.m) as k_found,
                   median(h.n) as trailing_leads, median(h.nq / h.n) as trailing_rate
            from targets as t
            left join monthly as h
              on h.channel = t.channel and h.m >= t.m - to_months($k::integer) and h.m < t.m
            group by all
        )
        select tr.channel, strftime(tr.m, '%Y-%m') as month,
               coalesce(c.n, 0) as leads, coalesce(c.nq, 0) as qualified,
               tr.k_found, tr.trailing_leads, tr.trailing_rate,
               case when tr.m = date_trunc('month', $now)
                    then epoch($now) - epoch(tr.m) else null end as open_seconds,
               epoch(tr.m + interval 1 month) - epoch(tr.m) as month_seconds
        from trail as tr
        left join monthly as c on c.channel = tr.channel and c.m = tr.m
        order by tr.channel, tr.m
        """,
        {"wm": wm, "now": now, "k": k},
    ).df()
    if df.empty:
        return pd.DataFrame(columns=["channel", "month", "qualification_ratio", "volume_ratio"])
    enough = df["k_found"] >= int(t["min_trailing_months"])
    is_open = df["open_seconds"].notna()
    fraction = (df["open_seconds"] / df["month_seconds"]).where(is_open, 1.0).astype(float)
    # Trailing values are medians of the previous months: robust to one odd month
    # (a past flood must not make the months after it look like a rebound).
    trailing_leads = df["trailing_leads"].astype(float)
    df["expected_leads"] = (trailing_leads * fraction).where(enough)
    # An open month is judged on volume only once a quarter of it has passed.
    df["volume_ratio"] = (df["leads"] / df["expected_leads"]).where(
        enough
        & (fraction >= 0.25)
        & (trailing_leads >= t.get("min_trailing_leads", 0))
        & (df["expected_leads"] > 0)
    )
    df["qualification_rate"] = (df["qualified"] / df["leads"]).where(df["leads"] > 0)
    df["trailing_rate"] = df["trailing_rate"].astype(float).where(enough)
    df["qualification_ratio"] = (df["qualification_rate"] / df["trailing_rate"]).where(
        ~is_open & (df["leads"] >= t["min_leads_for_rate"]) & (df["trailing_rate"] > 0)
    )
    return df.astype({"volume_ratio": "float64", "qualification_ratio": "float64"})


def _pct(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _message(
    spec: SuiteSpec,
    e: dict,
    row: pd.Series,
    batch: str,
    flagged: dict[str, int],
    params: dict,
    now: dt.datetime,
) -> tuple[str, float | None, float | None, float | None, int | None, str | None]:
    """(message, observed, threshold, reference, rows, month) for one frame row of a batch rule."""
    g = spec.group_column
    rule, frame = e["name"], e["frame"]
    grp = row.get(g, "all")
    thr = spec.thresholds.get(e.get("threshold", ""), None)
    top = ", ".join(f"{k} {v:,}" for k, v in sorted(flagged.items(), key=lambda kv: -kv[1])[:3])
    if frame == "by_group":
        col = e["kwargs"]["column"]
        obs = _num(row[col])
        count_col = "n_invalid" if col == "invalid_share" else "n_dup"
        kind = "failed a row expectation" if col == "invalid_share" else "are duplicates"
        msg = (
            f"{rule}: {g} {grp}, {batch}: {_pct(obs)} of {int(row['n']):,} rows {kind} "
            f"({int(row[count_col]):,}); threshold {_pct(thr)}"
        )
        if col == "invalid_share" and top:
            msg += f"; most failed: {top}"
        return msg, obs, thr, None, int(row["n"]), None
    if frame in ("freshness_all", "freshness_by_group"):
        obs = _num(row["hours_since_newest"])
        as_of = (
            (now - dt.timedelta(hours=obs)).strftime("%Y-%m-%d %H:%M") if obs is not None else "?"
        )
        verdict = "blocks the run" if e["severity"] == BLOCKING else "published anyway"
        msg = (
            f"{rule}: {g} {grp}: newest {spec.feed} row is {obs:,.1f} h old at check time "
            f"(data as of {as_of}); allowed {thr:,.0f} h: the source is stale, or this is a "
            f"first load of history ({verdict}; FLYWHEEL_ON_STALE=warn|block, docs/quality-gate.md)"
        )
        return msg, obs, thr, None, int(row["n"]), None
    if frame == "by_group_month":
        month = row["month"]
        if e["kwargs"]["column"] == "volume_ratio":
            obs, ref = _num(row["volume_ratio"]), _num(row["expected_leads"])
            msg = (
                f"{rule}: {g} {grp}, month {month}: {int(row['leads']):,} leads vs "
                f"{ref or 0:,.0f} expected from the median of the {int(row['k_found'])} months before "
                f"(x{obs:.2f}; allowed x{params['volume_ratio_min']:.2f}..x{params['volume_ratio_max']:.2f})"
            )
            return msg, obs, thr, ref, int(row["leads"]), month
        obs, ref = _num(row["qualification_ratio"]), _num(row["trailing_rate"])
        msg = (
            f"{rule}: {g} {grp}, month {month}: qualification rate {_pct(_num(row['qualification_rate']))} "
            f"of {int(row['leads']):,} leads vs {_pct(ref)} (median of the months before; x{obs:.2f}, allowed "
            f"x{params['qualification_ratio_min']:.2f}..x{params['qualification_ratio_max']:.2f})"
        )
        return msg, obs, thr, ref, int(row["leads"]), month
    return f"{rule}: {grp}", None, thr, None, None, None


def _validate_batch(
    con,
    gxr: _Gx,
    spec: SuiteSpec,
    params: dict,
    wm: int,
    now: dt.datetime,
    batch: str,
    flagged: dict[str, int],
    run_id: str,
    rows_checked: int,
) -> list[RuleOutcome]:
    g = spec.group_column
    outcomes: list[RuleOutcome] = []
    by_frame: dict[str, list[dict]] = {}
    for e in spec.batch_expectations:
        by_frame.setdefault(e["frame"], []).append(e)
    for frame_name, expectations in by_frame.items():
        if frame_name == "schema":
            cols = [r[0] for r in con.execute(f"describe raw.{spec.feed}").fetchall()]
            df = pd.DataFrame(columns=cols)
            index_cols: list[str] = []
        elif frame_name == "by_group":
            if rows_checked == 0:
                continue
            df = _frame_by_group(con, spec, wm)
            index_cols = [g]
        elif frame_name == "freshness_all":
            df = _frame_freshness(con, spec, now, per_group=False)
            index_cols = [g]
        elif frame_name == "freshness_by_group":
            df = _frame_freshness(con, spec, now, per_group=True)
            index_cols = [g]
        elif frame_name == "by_group_month":
            if rows_checked == 0:
                continue
            df = _frame_by_group_month(con, spec, wm, now)
            index_cols = [g, "month"]
        else:
            raise ValueError(f"{spec.path}: unknown frame {frame_name!r}")
        if df.empty and frame_name != "schema":
            continue
        suite = gxr.suite(f"{spec.checkpoint}.{frame_name}", expectations)
        result = gxr.validate(suite, df, params, index_cols)
        gxr.store(result, run_id, batch, now)
        by_name = {e["name"]: e for e in expectations}
        for er in result.results:
            e = by_name[er.expectation_config.meta["name"]]
            if frame_name == "schema":
                contract = set(params["contract_columns"])
                missing = sorted(contract - set(df.columns))
                unexpected = sorted(set(df.columns) - contract)
                msg = (
                    f"schema_drift: raw.{spec.feed} columns differ from the landing contract: "
                    f"missing {missing or 'none'}, unexpected {unexpected or 'none'}"
                )
                outcomes.append(
                    RuleOutcome(
                        e["name"],
                        e["severity"],
                        "all",
                        batch,
                        None,
                        float(len(missing) + len(unexpected)),
                        0.0,
                        bool(er.success),
                        msg,
                    )
                )
                continue
            failed = {
                tuple(_plain(entry.get(c)) for c in index_cols)
                for entry in (er.result or {}).get("unexpected_index_list") or []
            }
            col = e["kwargs"].get("column")
            for _, row in df.iterrows():
                if col is not None and _num(row.get(col)) is None:
                    continue  # not judged (too few rows or no trailing months)
                key = tuple(_plain(row[c]) for c in index_cols)
                msg, obs, thr, ref, n, month = _message(spec, e, row, batch, flagged, params, now)
                outcomes.append(
                    RuleOutcome(
                        e["name"],
                        e["severity"],
                        str(row.get(g, "all")),
                        batch,
                        month,
                        obs,
                        thr,
                        key not in failed,
                        msg,
                        ref,
                        n,
                    )
                )
    return outcomes


def _gate_batch(
    con,
    gxr: _Gx,
    spec: SuiteSpec,
    params: dict,
    wm: int,
    new_wm: int,
    now: dt.datetime,
    batch: str,
    run_id: str,
):
    """Row validation, verdicts, batch rules and the new watermark (one transaction)."""
    feed = spec.feed
    flags, row_result, rows_checked = _validate_rows(con, gxr, spec, params, wm)
    flagged = flags.groupby("expectation")["_k"].count().to_dict() if len(flags) else {}
    rows_flagged = int(flags["_k"].nunique()) if len(flags) else 0

    con.register("_gate_flags", flags)
    try:
        con.execute("begin transaction")
        _write_verdicts(con, spec, run_id, now, wm)
        outcomes = _validate_batch(
            con, gxr, spec, params, wm, now, batch, flagged, run_id, rows_checked
        )
        if outcomes:
            con.executemany(
                """insert into quality.gate_results values
                   (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    [
                        run_id,
                        feed,
                        spec.checkpoint,
                        o.rule,
                        o.severity,
                        o.channel,
                        o.month,
                        o.batch,
                        o.observed,
                        o.threshold,
                        o.reference,
                        o.rows,
                        o.passed,
                        o.message,
                        now,
                    ]
                    for o in outcomes
                ],
            )
        blocking = sum(1 for o in outcomes if not o.passed and o.severity == BLOCKING)
        warns = sum(1 for o in outcomes if not o.passed and o.severity == WARNING)
        con.execute(
            "insert into quality.gate_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                feed,
                spec.checkpoint,
                run_id,
                wm,
                new_wm,
                rows_checked,
                rows_flagged,
                blocking,
                warns,
                blocking == 0,
                now,
            ],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_gate_flags")

    return flags, row_result, rows_checked, outcomes


def run_suite(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    feed: str,
    run_id: str,
    now: dt.datetime | None = None,
    spec: SuiteSpec | None = None,
    build_docs: bool = True,
) -> GateResult:
    """Validate the new batch of a feed with its suite; record verdicts and rule results.

    The watermark advances whether or not the batch passes: a blocked batch's
    bad rows stay quarantined (verdicts), and the next batch is judged on its
    own. Re-checking everything: delete the feed's rows in quality.gate_runs.
    """
    spec = spec or load_suite(SUITES[feed], settings)
    bootstrap(con)
    con.execute(GATE_DDL)
    now = now or warehouse_now(settings)
    params = _parameters(spec, settings, now)
    wm = _watermark(con, feed)
    new_wm = _new_watermark(con, feed, wm)
    batch = f"files {wm + 1}..{new_wm}" if new_wm > wm else f"no new files (after file {wm})"
    docs_dir = settings.data_dir / "gx_data_docs" if build_docs else None
    gxr = _Gx(spec, docs_dir)

    limit_mb = int(spec.thresholds.get("duckdb_memory_limit_mb", 0))
    # The duplicate windows sort the whole batch: bound DuckDB (it spills to disk) so that
    # DuckDB plus the pandas chunks stay within the gate's memory budget, and never above
    # the limit set for the whole warehouse (FLYWHEEL_DUCKDB_MEMORY_LIMIT).
    bounded = (
        lowered_memory_limit(con, limit_mb, settings.duckdb_memory_limit, log=log.warning)
        if limit_mb
        else contextlib.nullcontext()
    )
    with bounded:
        flags, row_result, rows_checked, outcomes = _gate_batch(
            con, gxr, spec, params, wm, new_wm, now, batch, run_id
        )
    flagged = flags.groupby("expectation")["_k"].count().to_dict() if len(flags) else {}
    rows_flagged = int(flags["_k"].nunique()) if len(flags) else 0
    if row_result is not None:
        gxr.store(row_result, run_id, batch, now)
    docs = None
    try:
        docs = gxr.build_docs()
    except Exception as exc:  # docs are for the engineer; the gate's verdict stands
        log.warning("Data Docs build failed: %s", exc)
    verdict_table = "quality.lead_verdicts" if feed == "leads" else "quality.row_verdicts"
    where = (
        f"Where to look: quality.gate_results (run_id '{run_id}'), {verdict_table}"
        + (f", Data Docs {docs}" if docs else "")
        + f"; thresholds in {spec.path.name}."
    )
    return GateResult(
        feed=feed,
        checkpoint=spec.checkpoint,
        run_id=run_id,
        batch=batch,
        from_file_id=wm,
        to_file_id=new_wm,
        rows_checked=rows_checked,
        rows_flagged=rows_flagged,
        flagged_by_expectation={k: int(v) for k, v in flagged.items()},
        outcomes=outcomes,
        checked_at=now,
        data_docs_index=docs,
        where_to_look=where,
    )


def run_lead_gate(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    now: dt.datetime | None = None,
    build_docs: bool = True,
) -> GateResult:
    """The lead quality gate: quarantine bad leads, flag duplicates, judge the batch."""
    return run_suite(con, settings, "leads", run_id, now=now, build_docs=build_docs)
