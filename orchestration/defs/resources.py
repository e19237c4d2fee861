"""The one resource every DuckDB-writing asset uses: where things are, and how to connect."""

import contextlib
from collections.abc import Iterator

import dagster as dg
import duckdb

from orchestration.lib.settings import Settings, load_settings
from orchestration.lib.warehouse import bootstrap, connect, writer_lock

# Every asset that writes the working DuckDB file runs in this pool; dagster.yaml
# (written by `python -m orchestration.cli prepare-home`) limits it to 1, so a
# schedule and a manual run queue up instead of fighting over the file lock.
DUCKDB_POOL = "duckdb_writer"


class WarehouseResource(dg.ConfigurableResource):
    """The one place assets, checks and ops get their settings, and their connection.

    It has no config fields of its own: every setting is a FLYWHEEL_* environment
    variable, declared and read in orchestration.lib.settings (dbt, the CLI and the
    explorer read the same ones), so the UI and the environment cannot disagree.
    Sensors and schedules, which Dagster evaluates without asset resources, call
    load_settings() themselves.
    """

    def settings(self) -> Settings:
        return load_settings()

    def connect(self) -> duckdb.DuckDBPyConnection:
        con = connect(self.settings())
        bootstrap(con)
        return con

    @contextlib.contextmanager
    def session(self, log=print) -> Iterator[duckdb.DuckDBPyConnection]:
        """The writer lock, then a bootstrapped connection; both released on exit."""
        settings = self.settings()
        with writer_lock(settings, log=log):
            con = connect(settings)
            try:
                bootstrap(con)
                yield con
            finally:
                con.close()

    @contextlib.contextmanager
    def lock(self, log=print) -> Iterator[None]:
        """The writer lock alone, for work done by another process (dbt)."""
        with writer_lock(self.settings(), log=log):
            yield
