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

from orchestration.lib.settings import ENGINES, SettingError, load_settings

__all__ = ["ENGINES", "EngineError", "dbt_target", "engine", "is_spark"]

# A bad FLYWHEEL_ENGINE is reported by load_settings(), naming the variable.
EngineError = SettingError


def engine() -> str:
    """The configured engine; an unknown value is an error, not a silent fallback."""
    return load_settings().engine


def is_spark() -> bool:
    return engine() == "spark"


def dbt_target() -> str:
    """The dbt target of profiles.yml for the engine (FLYWHEEL_DBT_TARGET overrides)."""
    return load_settings().dbt_target_name
