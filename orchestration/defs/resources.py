"""The one resource every DuckDB-writing asset uses: where things are, and how to connect."""


import dataclasses
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.lib.settings import Settings, load_settings
from orchestration.lib.warehouse import bootstrap, connect

# Every asset that writes the working DuckDB file runs in this pool; dagster.yaml
# (written by `python -m orchestration.cli prepare-home`) limits it to 1, so a
# schedule and a manual run queue up instead of fighting over the file lock.
DUCKDB_POOL = "duckdb_writer"


class WarehouseResource(dg.ConfigurableResource):
    """Settings come from FLYWHEEL_* environment variables; these fields override them."""

    landing_dir: str = ""
    data_dir: str = ""

    def settings(self) -> Settings:
        s = load_settings()
        changes = {}
        if self.landing_dir:
            changes["landing_dir"] = Path(self.landing_dir).resolve()
        if self.data_dir:
            changes["data_dir"] = Path(self.data_dir).resolve()
        return dataclasses.replace(s, **changes) if changes else s

    def connect(self) -> duckdb.DuckDBPyConnection:
        con = connect(self.settings())
        bootstrap(con)
        return con
