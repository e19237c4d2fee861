"""Every FLYWHEEL_* setting: declared once here, read from the environment only here.

Each field of `Settings` that a variable sets carries its declaration (the
variable's name, a parser, the default, one line of doc, a group), so the
variable, the typed value the code uses and README's settings table cannot
drift apart. `load_settings()` reads the environment once and returns the
frozen object; a bad value stops it with a message naming the variable and
what it expects. No other module reads FLYWHEEL_* variables
(tests/unit/test_settings.py scans for it).

A few variables are read by dbt itself (profiles.yml, dbt_project.yml): they
are declared in `DBT_SETTINGS` for the table, and Python never parses them.

`python -m orchestration.lib.settings` rewrites README's table from these
declarations; `--check` exits 1 when the README is stale.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
README = PROJECT_ROOT / "README.md"

GROUPS = {
    "folders": "Where things are",
    "data": "Your data",
    "gate": "Ingestion and the quality gate",
    "engine": "Engine and resources",
    "alerts": "Alerts",
    "links": "Schedules, links and the explorer",
    # Hooks for tests and hand-offs between processes: declared, not in the user table.
    "internal": "Internal (test hooks and hand-offs)",
}

ON_STALE_CHOICES = ("warn", "block")
ENGINES = ("duckdb", "spark")
_YES = ("1", "true", "yes")


class SettingError(ValueError):
    """A FLYWHEEL_* variable holds a value its setting cannot use."""


# --- parsers: (variable name, stripped non-empty text) -> value ----------------


def _text(name: str, raw: str) -> str:
    return raw


def _upper(name: str, raw: str) -> str:
    return raw.upper()


def _lower(name: str, raw: str) -> str:
    return raw.lower()


def _whole(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a whole number") from None


def _number(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a number") from None


def _path(name: str, raw: str) -> Path:
    return Path(raw)


def _resolved_path(name: str, raw: str) -> Path:
    return Path(raw).resolve()


def _yes(name: str, raw: str) -> bool:
    return raw.lower() in _YES


def _yes_exact(name: str, raw: str) -> bool:
    # Case-sensitive as it always was: "TRUE" is not a yes here.
    return raw in _YES


def _not_zero(name: str, raw: str) -> bool:
    # Only "0" switches it off (anything else, "false" included, keeps it on), as before.
    return raw != "0"


def _addresses(name: str, raw: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in raw.split(",") if a.strip())


def _engine(name: str, raw: str) -> str:
    value = raw.lower()
    if value not in ENGINES:
        raise SettingError(f"{name}={value!r}: expected one of {', '.join(ENGINES)}")
    return value


def _on_stale(name: str, raw: str) -> str:
    value = raw.lower()
    if value not in ON_STALE_CHOICES:
        raise SettingError(
            f"{name}={value!r}: use 'warn' (alert, publish anyway; the default) "
            "or 'block' (a stale source stops the marts and publish); docs/quality-gate.md"
        )
    return value


# --- prefix families: {variable name: raw value} -> value ----------------------

ROUTE_SUFFIXES = ("WEBHOOK_URL", "SMTP_TO")


def _routes(found: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """{ROUTE: {"WEBHOOK_URL": ..., "SMTP_TO": ...}} from FLYWHEEL_ALERT_ROUTE_<ROUTE>_<SUFFIX>."""
    routes: dict[str, dict[str, str]] = {}
    for name, raw in found.items():
        rest = name.removeprefix("FLYWHEEL_ALERT_ROUTE_")
        for suffix in ROUTE_SUFFIXES:
            if rest.endswith("_" + suffix) and raw.strip():
                routes.setdefault(rest[: -len(suffix) - 1], {})[suffix] = raw.strip()
    return routes


def _gate_overrides(found: Mapping[str, str]) -> dict[str, str]:
    # The raw text, unstripped: the gate reports a bad value exactly as it was set.
    return {k: v for k, v in found.items() if k != "FLYWHEEL_GATE_NOW"}


# --- declarations --------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One environment variable: what it sets, how it is read, what README says of it."""

    env: str  # the variable; for a prefix family the pattern, e.g. FLYWHEEL_GATE_<NAME>
    doc: str
    group: str
    parse: Callable[[str, str], Any] = _text
    shown: str | None = None  # the default as README shows it, when str(default) is not it
    prefix: str = ""  # a family: every variable starting with this
    family: Callable[[Mapping[str, str]], Any] | None = None
    load_default: Callable[[], Any] | None = None  # a default computed when loading
    field: str = ""  # the Settings field (filled in below)
    default: Any = None


def _setting(env: str, default: Any, doc: str, group: str, parse=_text, **kw) -> Any:
    """A Settings field declared with its variable (dataclasses.field with metadata)."""
    secret = kw.pop("secret", False)
    decl = Setting(env=env, doc=doc, group=group, parse=parse, **kw)
    meta = {"setting": decl}
    # Secrets stay out of repr: a Settings object printed in a log must not leak them.
    if decl.family is not None:
        return field(default_factory=dict, repr=not secret, metadata=meta)
    if decl.load_default is not None:  # required when built by hand (tests pass it)
        return field(metadata=meta)
    return field(default=default, repr=not secret, metadata=meta)


@dataclass(frozen=True)
class Settings:
    landing_dir: Path = _setting(
        "FLYWHEEL_LANDING_DIR", None, "where feeds land (docs/landing-contract.md)", "folders",
        _resolved_path, shown="./landing", load_default=lambda: (Path.cwd() / "landing").resolve(),
    )  # fmt: skip
    data_dir: Path = _setting(
        "FLYWHEEL_DATA_DIR", None,
        "the warehouse, the published file, the restricted file (dbt reads it too)", "folders",
        _resolved_path, shown="./data", load_default=lambda: (Path.cwd() / "data").resolve(),
    )  # fmt: skip
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    dbt_project_dir: Path = PROJECT_ROOT / "dbt_project"
    expectations_dir: Path = _setting(
        "FLYWHEEL_EXPECTATIONS_DIR", PROJECT_ROOT / "expectations",
        "another folder of Great Expectations suites for the gate", "gate", _path,
        shown="expectations/ of the project",
    )  # fmt: skip

    # your data
    timezone: str = _setting(
        "FLYWHEEL_TIMEZONE", "UTC",
        "warehouse time zone; timestamps with offsets are converted to it", "data",
    )  # fmt: skip
    currency: str = _setting(
        "FLYWHEEL_CURRENCY", "RUB",
        "reporting currency (any letter case in the files); rows in another currency are "
        "quarantined", "data", _upper,
    )  # fmt: skip
    pii_secret: str = _setting(
        "FLYWHEEL_PII_KEY", "", "key for keyed hashes of email / phone / loyalty card", "data",
        shown="(demo key file)", secret=True,
    )  # fmt: skip

    # ingestion and the gate
    # What a stale source does (docs/quality-gate.md, "Stale sources"): "warn" alerts and
    # publishes (a shop's first load is history), "block" stops the marts and publish.
    on_stale: str = _setting(
        "FLYWHEEL_ON_STALE", "warn",
        "a source whose newest row is older than its freshness threshold: `warn` alerts and "
        "publishes (a first load of history), `block` stops the marts and publish", "gate",
        _on_stale,
    )  # fmt: skip
    ingest_rehash: bool = _setting(
        "FLYWHEEL_INGEST_REHASH", False,
        "`1`: hash every landing file again instead of skipping those registered with the "
        "same size and modification time", "gate", _yes_exact, shown="(off)",
    )  # fmt: skip
    gzip_max_ratio: int = _setting(
        "FLYWHEEL_GZIP_MAX_RATIO", 100,
        "a .csv.gz that inflates more than this many times its size is refused as a likely "
        "zip bomb", "gate", _whole,
    )  # fmt: skip
    gate_overrides: dict[str, str] = _setting(
        "FLYWHEEL_GATE_<NAME>, FLYWHEEL_GATE_<FEED>_<NAME>", None,
        "override one threshold of expectations/*.json for all suites or one feed's "
        "(docs/quality-gate.md)", "gate", prefix="FLYWHEEL_GATE_", family=_gate_overrides,
        shown="the suite file's",
    )  # fmt: skip

    # engine and resources
    memory_limit: str = _setting(
        "FLYWHEEL_DUCKDB_MEMORY_LIMIT", "", "DuckDB memory limit of every writer, e.g. `4GB`",
        "engine", shown="DuckDB's (80%)",
    )  # fmt: skip
    temp_dir: str = _setting(
        "FLYWHEEL_DUCKDB_TEMP_DIR", "", "where DuckDB spills to disk", "engine",
        shown="DuckDB's",
    )  # fmt: skip
    threads: int = _setting(
        "FLYWHEEL_DUCKDB_THREADS", 0, "DuckDB threads", "engine", _whole, shown="DuckDB's",
    )  # fmt: skip
    lock_timeout_s: float = _setting(
        "FLYWHEEL_LOCK_TIMEOUT_S", 900.0,
        "seconds a run waits for another run holding the warehouse", "engine", _number,
        shown="900",
    )  # fmt: skip
    engine: str = _setting(
        "FLYWHEEL_ENGINE", "duckdb",
        "`spark` builds the dbt project on Spark (docs/scale-out.md; `make run` then installs "
        "the Spark extra)", "engine", _engine,
    )  # fmt: skip
    dbt_target: str = _setting(
        "FLYWHEEL_DBT_TARGET", "",
        "the profiles.yml target dbt builds with, e.g. a Spark cluster", "engine",
        shown="`dev`; `spark` with FLYWHEEL_ENGINE=spark",
    )  # fmt: skip
    spark_mirror_max_rows: int = _setting(
        "FLYWHEEL_SPARK_MIRROR_MAX_ROWS", 50_000_000,
        "Spark outputs above this many rows are not copied into DuckDB; BI reads Parquet",
        "engine", _whole,
    )  # fmt: skip

    # alerts
    alert_webhook_url: str = _setting(
        "FLYWHEEL_ALERT_WEBHOOK_URL", "", "Slack-compatible incoming webhook (the default target)",
        "alerts", secret=True,
    )  # fmt: skip
    alert_smtp_host: str = _setting(
        "FLYWHEEL_ALERT_SMTP_HOST", "", "SMTP server for email alerts", "alerts",
    )  # fmt: skip
    alert_smtp_port: int = _setting(
        "FLYWHEEL_ALERT_SMTP_PORT", 25, "SMTP port", "alerts", _whole,
    )  # fmt: skip
    alert_smtp_from: str = _setting(
        "FLYWHEEL_ALERT_SMTP_FROM", "flywheel@localhost", "sender of email alerts", "alerts",
    )  # fmt: skip
    alert_smtp_to: tuple[str, ...] = _setting(
        "FLYWHEEL_ALERT_SMTP_TO", (), "comma-separated recipients (no email without them)",
        "alerts", _addresses, shown="(none)",
    )  # fmt: skip
    alert_smtp_user: str = _setting(
        "FLYWHEEL_ALERT_SMTP_USER", "", "SMTP login (none: no login)", "alerts",
    )  # fmt: skip
    alert_smtp_password: str = _setting(
        "FLYWHEEL_ALERT_SMTP_PASSWORD", "", "SMTP password", "alerts", secret=True,
    )  # fmt: skip
    alert_smtp_starttls: bool = _setting(
        "FLYWHEEL_ALERT_SMTP_STARTTLS", False, "`true`: STARTTLS before the login", "alerts",
        _yes, shown="false",
    )  # fmt: skip
    alert_timeout_s: float = _setting(
        "FLYWHEEL_ALERT_TIMEOUT_SECONDS", 10.0, "seconds per alert target", "alerts", _number,
        shown="10",
    )  # fmt: skip
    alert_routes: dict[str, dict[str, str]] = _setting(
        "FLYWHEEL_ALERT_ROUTE_<ROUTE>_WEBHOOK_URL, FLYWHEEL_ALERT_ROUTE_<ROUTE>_SMTP_TO", None,
        "a metric owner's own webhook / recipients (routes of seeds/metric_alert_rules.csv; "
        "docs/alerts.md)", "alerts", prefix="FLYWHEEL_ALERT_ROUTE_", family=_routes,
        shown="the default targets", secret=True,
    )  # fmt: skip
    alert_min_severity: str = _setting(
        "FLYWHEEL_ALERT_MIN_SEVERITY", "warn",
        "`error`: alert blocking failures and failed runs only", "alerts", _lower,
    )  # fmt: skip
    alert_lookback_minutes: int = _setting(
        "FLYWHEEL_ALERT_LOOKBACK_MINUTES", 60,
        "how far back the alert sensors look on their first tick", "alerts", _whole,
    )  # fmt: skip
    alert_retry_base_s: float = _setting(
        "FLYWHEEL_ALERT_RETRY_BASE_SECONDS", 30.0,
        "first retry delay of an undelivered alert, doubled each time, at most an hour",
        "alerts", _number, shown="30",
    )  # fmt: skip
    alert_max_quarantine_share: float = _setting(
        "FLYWHEEL_ALERT_MAX_QUARANTINE_SHARE", 0.05,
        "above this share of quarantined rows a feed's metric alerts are withheld", "alerts",
        _number,
    )  # fmt: skip
    alert_outbox: Path | None = _setting(
        "FLYWHEEL_ALERT_OUTBOX", None, "the outbox every alert goes through (SQLite)", "alerts",
        _path, shown="$FLYWHEEL_DATA_DIR/alerts/outbox.sqlite",
    )  # fmt: skip

    # schedules, links, the explorer
    cx_store_cron: str = _setting(
        "FLYWHEEL_CX_STORE_CRON", "*/15 8-21 * * *",
        "cron of the store directors' schedule, in FLYWHEEL_TIMEZONE (docs/cx.md)", "links",
    )  # fmt: skip
    demo_orders: int = _setting(
        "FLYWHEEL_DEMO_ORDERS", 30_000, "orders `make demo` generates", "links", _whole,
    )  # fmt: skip
    explorer_snapshot: Path | None = _setting(
        "FLYWHEEL_EXPLORER_SNAPSHOT", None, "the snapshot `make explore` reads", "links", _path,
        shown="the published file",
    )  # fmt: skip
    explorer_url: str = _setting(
        "FLYWHEEL_EXPLORER_URL", "http://127.0.0.1:8501",
        "base of the explorer links in metric alerts", "links",
    )  # fmt: skip
    dagster_url: str = _setting(
        "FLYWHEEL_DAGSTER_URL", "http://127.0.0.1:3000", "base of the run links in alerts",
        "links",
    )  # fmt: skip
    data_docs_url: str = _setting(
        "FLYWHEEL_DATA_DOCS_URL", "http://127.0.0.1:8502",
        "where the UI links the Great Expectations Data Docs (`make gx-docs` serves them)",
        "links",
    )  # fmt: skip

    # internal
    bench_data: str = _setting(
        "FLYWHEEL_BENCH_DATA", "", "where `make bench` writes its worlds (bench_data/ of the project)",
        "internal",
    )  # fmt: skip
    gate_now: str = _setting(
        "FLYWHEEL_GATE_NOW", "",
        "pins the gate's clock (ISO 8601, warehouse time) to replay a past batch or a demo",
        "internal",
    )  # fmt: skip
    test_kill_at: str = _setting(
        "FLYWHEEL_TEST_KILL_AT", "",
        "kills the run at this publish step (tests/integration/test_crash_recovery.py)",
        "internal",
    )  # fmt: skip
    spark_skip_unit_tests: bool = _setting(
        "FLYWHEEL_SPARK_SKIP_UNIT_TESTS", True,
        "`0`: the Spark build runs dbt unit tests too (they run on DuckDB in `make test`)",
        "internal", _not_zero, shown="on",
    )  # fmt: skip

    extra: dict = field(default_factory=dict)

    @property
    def warehouse_path(self) -> Path:
        """The working DuckDB file: raw feeds, models, registry. Never opened by BI."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def published_path(self) -> Path:
        """The read-only snapshot BI tools open."""
        return self.data_dir / "published" / "flywheel.duckdb"

    @property
    def restricted_path(self) -> Path:
        """Quarantine and callback list: holds PII, never published."""
        return self.data_dir / "restricted" / "restricted.duckdb"

    @property
    def pii_key_path(self) -> Path:
        return self.data_dir / "pii.key"

    @property
    def alert_outbox_path(self) -> Path:
        return self.alert_outbox or self.data_dir / "alerts" / "outbox.sqlite"

    @property
    def explorer_snapshot_path(self) -> Path:
        return self.explorer_snapshot or self.published_path

    @property
    def dbt_target_name(self) -> str:
        """The dbt target of profiles.yml for the engine (FLYWHEEL_DBT_TARGET overrides)."""
        return self.dbt_target or ("spark" if self.engine == "spark" else "dev")

    @property
    def duckdb_memory_limit(self) -> str:
        """The memory_limit every writer runs with: the configured one, or DuckDB's default."""
        return self.memory_limit or "80%"

    def duckdb_config(self) -> dict[str, str]:
        """Connection settings every writer uses: time zone fixed, resources bounded."""
        config: dict[str, str] = {"TimeZone": self.timezone}
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        if self.temp_dir:
            config["temp_directory"] = self.temp_dir
        if self.threads:
            config["threads"] = str(self.threads)
        return config


# The declarations, in the order of the class, with their field and default filled in.
SETTINGS: tuple[Setting, ...] = tuple(
    replace(
        f.metadata["setting"],
        field=f.name,
        default=None if f.default is MISSING else f.default,
    )
    for f in fields(Settings)
    if "setting" in f.metadata
)

# Read by dbt from the environment (profiles.yml, dbt_project.yml), never by Python;
# declared for the table. DBT_ENV_SECRET_* are written by orchestration.lib.spark.
DBT_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "FLYWHEEL_DBT_THREADS",
        "dbt models built at the same time (they share DuckDB's memory limit)",
        "engine",
        shown="2; 1 when FLYWHEEL_DUCKDB_MEMORY_LIMIT is set",
    ),
    Setting(
        "FLYWHEEL_SPARK_MASTER", "the local Spark session's master", "engine", shown="local[2]"
    ),
    Setting("FLYWHEEL_SPARK_DRIVER_MEMORY", "local Spark driver memory", "engine", shown="2g"),
    Setting(
        "FLYWHEEL_SPARK_SHUFFLE_PARTITIONS",
        "`spark.sql.shuffle.partitions` (2-4 on a laptop, ~2-3x cores on a cluster)",
        "engine",
        shown="4",
    ),
    Setting(
        "FLYWHEEL_LAKE_DIR",
        "where Spark reads the lake (`spark.flywheel.lake`); set by the pipeline for local "
        "runs, by you for a cluster target",
        "engine",
        shown="$FLYWHEEL_DATA_DIR/lake",
    ),
    Setting(
        "DBT_ENV_SECRET_FLYWHEEL_PII_IPAD, DBT_ENV_SECRET_FLYWHEEL_PII_OPAD",
        "the PII key's HMAC blocks handed to dbt-spark (orchestration.lib.spark.pii_env)",
        "internal",
        shown="from FLYWHEEL_PII_KEY",
    ),
)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from the environment (or `environ`): unset or blank means the default."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for s in SETTINGS:
        if s.family is not None:
            values[s.field] = s.family({k: v for k, v in env.items() if k.startswith(s.prefix)})
            continue
        raw = env.get(s.env, "").strip()
        if raw:
            values[s.field] = s.parse(s.env, raw)
        elif s.load_default is not None:
            values[s.field] = s.load_default()
    return Settings(**values)


def pii_key(settings: Settings) -> bytes:
    """The key for keyed hashes of contact data.

    The settings' FLYWHEEL_PII_KEY (pii_secret) wins. Without it a random demo key is created once in a
    file only the owner can read, beside (not inside) the warehouse, so that
    hashes stay stable between runs. The key never goes into DuckDB or Parquet.
    """
    if settings.pii_secret:
        return settings.pii_secret.encode()
    path = settings.pii_key_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        warnings.warn(
            f"FLYWHEEL_PII_KEY is not set: created a demo key in {path} (mode 600). "
            "Set FLYWHEEL_PII_KEY in production; see docs/runbook.md.",
            stacklevel=2,
        )
    return path.read_text().strip().encode()


# --- README's table ------------------------------------------------------------

TABLE_START = "<!-- settings-table (generated: python -m orchestration.lib.settings) -->"
TABLE_END = "<!-- /settings-table -->"


def _shown_default(s: Setting) -> str:
    if s.shown is not None:
        return s.shown
    if s.default in ("", None, ()):
        return "(none)"
    return f"`{s.default}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _names(s: Setting) -> str:
    return ", ".join(f"`{n.strip()}`" for n in s.env.split(","))


def declared() -> tuple[Setting, ...]:
    """Every declaration, the Python-read ones first, in group order."""
    order = list(GROUPS)
    return tuple(sorted(SETTINGS + DBT_SETTINGS, key=lambda s: order.index(s.group)))


def render_table() -> str:
    """README's settings table: one row per user setting, grouped; then the internal list."""
    lines = ["| variable | default | what it does |", "|---|---|---|"]
    internal: list[str] = []
    group = ""
    for s in declared():
        if s.group == "internal":
            internal.append(f"- {_names(s)}: {s.doc}")
            continue
        if s.group != group:
            group = s.group
            lines.append(f"| **{GROUPS[group]}** | | |")
        lines.append(f"| {_cell(_names(s))} | {_cell(_shown_default(s))} | {_cell(s.doc)} |")
    return "\n".join(
        [
            *lines,
            "",
            "Internal (tests and hand-offs between processes, not for users):",
            "",
            *internal,
        ]
    )


def readme_with_table(text: str) -> str:
    """`text` (README.md) with the block between the markers replaced by the generated table."""
    pattern = re.compile(re.escape(TABLE_START) + r".*?" + re.escape(TABLE_END), re.S)
    if not pattern.search(text):
        raise SettingError(f"README.md has no {TABLE_START} ... {TABLE_END} block")
    block = f"{TABLE_START}\n{render_table()}\n{TABLE_END}"
    return pattern.sub(lambda _: block, text, count=1)


def main(argv: list[str] | None = None, readme: Path = README) -> int:
    """python -m orchestration.lib.settings [--check]: rewrite (or check) README's table."""
    args = list(sys.argv[1:] if argv is None else argv)
    text = readme.read_text()
    wanted = readme_with_table(text)
    if "--check" in args:
        if wanted != text:
            print("README.md's settings table is stale: python -m orchestration.lib.settings")
            return 1
        return 0
    if wanted != text:
        readme.write_text(wanted)
        print("README.md: settings table rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
