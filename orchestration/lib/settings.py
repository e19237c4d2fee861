"""Settings read from the environment, each with a default.

One place for them so that Dagster resources, the CLI, tests and benchmarks
agree on where the warehouse lives and how it behaves.
"""

from __future__ import annotations

import os
import secrets
import warnings
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    data_dir: Path
    timezone: str = "UTC"
    currency: str = "RUB"
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    dbt_project_dir: Path = PROJECT_ROOT / "dbt_project"
    expectations_dir: Path = PROJECT_ROOT / "expectations"
    memory_limit: str = ""
    temp_dir: str = ""
    threads: int = 0
    # What a stale source does (docs/quality-gate.md, "Stale sources"): "warn" alerts and
    # publishes (a shop's first load is history), "block" stops the marts and publish.
    on_stale: str = "warn"
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


ON_STALE_CHOICES = ("warn", "block")


def _on_stale() -> str:
    value = _env("FLYWHEEL_ON_STALE", "warn").lower()
    if value not in ON_STALE_CHOICES:
        raise ValueError(
            f"FLYWHEEL_ON_STALE={value!r}: use 'warn' (alert, publish anyway; the default) "
            "or 'block' (a stale source stops the marts and publish); docs/quality-gate.md"
        )
    return value


def load_settings() -> Settings:
    return Settings(
        landing_dir=Path(_env("FLYWHEEL_LANDING_DIR", str(Path.cwd() / "landing"))).resolve(),
        data_dir=Path(_env("FLYWHEEL_DATA_DIR", str(Path.cwd() / "data"))).resolve(),
        timezone=_env("FLYWHEEL_TIMEZONE", "UTC"),
        currency=_env("FLYWHEEL_CURRENCY", "RUB").upper(),
        memory_limit=_env("FLYWHEEL_DUCKDB_MEMORY_LIMIT", ""),
        temp_dir=_env("FLYWHEEL_DUCKDB_TEMP_DIR", ""),
        threads=int(_env("FLYWHEEL_DUCKDB_THREADS", "0")),
        on_stale=_on_stale(),
    )


def pii_key(settings: Settings) -> bytes:
    """The key for keyed hashes of contact data.

    FLYWHEEL_PII_KEY wins. Without it a random demo key is created once in a
    file only the owner can read, beside (not inside) the warehouse, so that
    hashes stay stable between runs. The key never goes into DuckDB or Parquet.
    """
    from_env = os.environ.get("FLYWHEEL_PII_KEY", "").strip()
    if from_env:
        return from_env.encode()
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
