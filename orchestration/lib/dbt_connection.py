"""dbt-duckdb plugin: which file dbt's DuckDB connection opens, and with what limits.

dbt keeps a hash of the profile's connection fields (path, config_options, ...)
in its partial-parse state and parses the whole project again when it changes
("Unable to do partial parsing because profile has changed"). With the data
folder in the profile, every run on another folder (each test, each benchmark
scale, a second shop) paid a full parse. So profiles.yml names only the file
(`path: warehouse.duckdb`, which also fixes the database name "warehouse"), and
this plugin, at connect time, points it into the data folder and sets the
resource limits: the same settings object every other writer uses
(orchestration/lib/settings.py). Nothing here changes what dbt parses.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        from orchestration.lib.settings import load_settings

        settings = load_settings()
        creds.path = str(settings.warehouse_path)
        # config, not the profile's settings: settings are SET again on every cursor,
        # and DuckDB refuses to switch temp_directory once it has spilled there. The
        # time zone is the profile's own setting.
        config.update({k: v for k, v in settings.duckdb_config().items() if k != "TimeZone"})
        config["memory_limit"] = settings.duckdb_memory_limit
        config["temp_directory"] = settings.temp_dir or f"{settings.warehouse_path}.tmp"
