"""Reading the published snapshot: read-only, the file as it is now, one query at a time.

A publish replaces the file with a rename. A connection opened before keeps reading the
old file (consistent, never half-written); `Snapshot.current()` notices the new file by
its inode and modification time, so a page reload shows the new snapshot.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib.publish import connect_bi
from orchestration.lib.settings import load_settings

# A reader of the snapshot needs little memory: every page reads filtered rows.
READER_CONFIG = {"memory_limit": "1GB", "threads": "2"}


class SnapshotMissing(Exception):
    """No snapshot published yet (or not at the path the settings name)."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    identity: tuple[int, int]  # (inode, mtime_ns): a new publish is a new file

    @classmethod
    def current(cls, path: Path | None = None) -> Snapshot:
        path = Path(path or os.environ.get("FLYWHEEL_EXPLORER_SNAPSHOT") or _published_path())
        try:
            st = path.stat()
        except FileNotFoundError:
            raise SnapshotMissing(
                f"No published snapshot at {path}. Run `make demo` (demo data) or "
                "`FLYWHEEL_LANDING_DIR=... make run` (your data) first."
            ) from None
        return cls(path, (st.st_ino, st.st_mtime_ns))


def _published_path() -> Path:
    return load_settings().published_path


_lock = threading.Lock()
_open: dict[tuple[Path, tuple[int, int]], duckdb.DuckDBPyConnection] = {}


def connection(snap: Snapshot) -> duckdb.DuckDBPyConnection:
    """One read-only connection per snapshot file; the previous one is closed on a swap."""
    key = (snap.path, snap.identity)
    with _lock:
        con = _open.get(key)
        if con is None:
            for old in [k for k in _open if k[0] == snap.path]:
                _open.pop(old).close()
            con = connect_bi(snap.path, READER_CONFIG)
            _open[key] = con
        return con


def query(snap: Snapshot, sql: str, params: dict | None = None) -> pd.DataFrame:
    """Rows of one query, as a DataFrame (a cursor per call: pages run in threads)."""
    cur = connection(snap).cursor()
    try:
        cur.execute("use flywheel")  # a cursor starts in the in-memory catalog (connect_bi)
        return cur.execute(sql, params or {}).df()
    finally:
        cur.close()


def has_table(snap: Snapshot, table: str) -> bool:
    df = query(
        snap,
        "select count(*) as n from information_schema.tables"
        " where table_schema = 'marts' and table_name = $t",
        {"t": table},
    )
    return bool(df["n"].iloc[0])
