"""Which engine builds the models: FLYWHEEL_ENGINE=duckdb (default) or spark.

Ingestion, the quality gate, the file registry and the quarantine always run on
DuckDB (they are per-file work on one machine). The engine decides where dbt
builds staging -> intermediate -> marts and where publish reads the marts from:

- duckdb: dbt-duckdb in the working warehouse file (the default, unchanged).
- spark:  the validated raw feeds are exported as Parquet to the lake
          ($FLYWHEEL_DATA_DIR/lake), dbt-spark builds on Spark (target `spark`
          of dbt_project/profiles.yml), publish reads Spark's Parquet tables.
          See docs/scale-out.md.
"""

from __future__ import annotations

import os

ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"


class EngineError(ValueError):
    pass


def engine() -> str:
    """The configured engine; an unknown value is an error, not a silent fallback."""
    value = os.environ.get("FLYWHEEL_ENGINE", "").strip().lower() or DEFAULT_ENGINE
    if value not in ENGINES:
        raise EngineError(f"FLYWHEEL_ENGINE={value!r}: expected one of {', '.join(ENGINES)}")
    return value


def is_spark() -> bool:
    return engine() == "spark"


def dbt_target() -> str:
    """The dbt target of profiles.yml for the engine (FLYWHEEL_DBT_TARGET overrides)."""
    override = os.environ.get("FLYWHEEL_DBT_TARGET", "").strip()
    if override:
        return override
    return "spark" if is_spark() else "dev"
