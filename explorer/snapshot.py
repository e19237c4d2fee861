"""Reading the published snapshot: read-only, one file per page render, one query at a time.

A publish replaces the file with a rename. Each page render opens the file as it is at
that moment (`Snapshot.open`) and reads every query of the render from that one
connection, so a page never mixes two snapshots, and a connection is closed only by the
render that opened it. A render that started before a publish finishes on the old
file; the next render (a reload) reads the new one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib.publish import connect_bi
from orchestration.lib.settings import load_settings

# A reader of the snapshot needs little memory: every page reads filtered rows.
READER_CONFIG = {"memory_limit": "1GB", "threads": "2"}


class SnapshotMissing(Exception):
    """No snapshot published yet (or not at the path the settings name)."""


def snapshot_path() -> Path:
    """FLYWHEEL_EXPLORER_SNAPSHOT, else the published file of the settings."""
    return load_settings().explorer_snapshot_path


@dataclass
class Snapshot:
    path: Path
    con: duckdb.DuckDBPyConnection = field(repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, path: Path | None = None) -> Snapshot:
        path = Path(path or snapshot_path())
        if not path.exists():
            raise SnapshotMissing(
                f"No published snapshot at {path}. Run `make demo` (demo data) or "
                "`FLYWHEEL_LANDING_DIR=... make run` (your data) first."
            )
        return cls(path, connect_bi(path, READER_CONFIG))

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def query(snap: Snapshot, sql: str, params: dict | None = None) -> pd.DataFrame:
    """Rows of one query, as a DataFrame."""
    with snap._lock:  # one render, one thread; the lock only guards against misuse
        return snap.con.execute(sql, params or {}).df()


def has_table(snap: Snapshot, table: str) -> bool:
    df = query(
        snap,
        "select count(*) as n from information_schema.tables"
        " where table_schema = 'marts' and table_name = $t",
        {"t": table},
    )
    return bool(df["n"].iloc[0])
