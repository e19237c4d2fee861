"""The registry of files (meta.files): what each file gave, how to tell a file seen
before, and the per-feed summaries read from the registry and the quarantine.

A file is registered by content hash + size; the same content again is a
no-op. A file registered before under the same path, size and modification
time is skipped without reading it (as rsync's quick check): a daily run does
not re-hash the whole landing history. FLYWHEEL_INGEST_REHASH=1 hashes every
file again (for a source that rewrites files keeping size and time).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.lib.feeds import Feed


@dataclass
class FileReport:
    feed: str
    path: str
    outcome: str  # loaded | duplicate_content | rejected | skipped (already registered)
    reason: str | None = None
    rows_in: int = 0
    rows_loaded: int = 0
    rows_replaced: int = 0
    rows_quarantined: int = 0
    physical_lines: int | None = None
    parser: str | None = None
    extra_columns: list[str] = field(default_factory=list)
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    rows_retracted: int = 0  # a retraction file: rows it removed

    @property
    def reconciled(self) -> bool:
        return self.outcome != "loaded" or self.rows_in == (
            self.rows_loaded + self.rows_quarantined + self.rows_retracted
        )


@dataclass
class FeedReport:
    feed: str
    files: list[FileReport] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # unsafe paths, with the reason

    def total(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def rejected_files(self) -> list[FileReport]:
        return [f for f in self.files if f.outcome == "rejected"]


def content_hash(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _register(
    con,
    report: FileReport,
    file_id: int,
    digest: str,
    size: int,
    fmt: str,
    run_id: str,
    now: datetime,
    mtime_ns: int | None = None,
) -> None:
    con.execute(
        "insert into meta.files (file_id, feed, path, content_sha256, size_bytes, format, outcome,"
        " reason, physical_lines, rows_in, rows_loaded, rows_replaced, rows_quarantined, parser,"
        " extra_columns, run_id, registered_at, mtime_ns, rows_retracted) values ($id, $feed, $path,"
        " $sha, $size, $fmt, $outcome, $reason, $lines, $rin, $rl, $rr, $rq, $parser, $extra, $run,"
        " $now, $mtime, $rt)",
        {
            "id": file_id,
            "feed": report.feed,
            "path": report.path,
            "sha": digest,
            "size": size,
            "fmt": fmt,
            "outcome": report.outcome,
            "reason": report.reason,
            "lines": report.physical_lines,
            "rin": report.rows_in,
            "rl": report.rows_loaded,
            "rr": report.rows_replaced,
            "rq": report.rows_quarantined,
            "parser": report.parser,
            "extra": ", ".join(report.extra_columns) or None,
            "rt": report.rows_retracted,
            "run": run_id,
            "now": now,
            "mtime": mtime_ns,
        },
    )


def _registered_unchanged(
    con, feed: Feed, rel: str, path: Path, rehash: bool = False
) -> tuple[bool, int]:
    """(whether this path is registered with its current size and modification time, mtime_ns).

    rehash (FLYWHEEL_INGEST_REHASH): never trust size and time, hash every file again."""
    st = path.stat()
    if rehash:
        return False, st.st_mtime_ns
    hit = con.execute(
        "select 1 from meta.files where feed = $feed and path = $path and size_bytes = $size"
        " and mtime_ns = $mtime limit 1",
        {"feed": feed.name, "path": rel, "size": st.st_size, "mtime": st.st_mtime_ns},
    ).fetchone()
    return hit is not None, st.st_mtime_ns


def summarise(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Per feed: files by outcome and row counts, over all runs."""
    return con.execute(
        """
        select feed,
               count(*) filter (where outcome = 'loaded') as files_loaded,
               count(*) filter (where outcome = 'duplicate_content') as files_duplicate,
               count(*) filter (where outcome = 'rejected') as files_rejected,
               sum(rows_in) as rows_in, sum(rows_loaded) as rows_loaded,
               sum(rows_replaced) as rows_replaced, sum(rows_quarantined) as rows_quarantined,
               sum(coalesce(rows_retracted, 0)) as rows_retracted
        from meta.files group by feed order by feed
        """
    ).fetchall()


# Rows that loaded but cannot reach the marts because what they refer to is missing:
# feed -> SQL counting them in the warehouse. Order items of an order that never
# loaded, or whose order a suite verdict holds back, drop out of every model.
ORPHAN_SQL = {
    "order_items": """
        select count(*) from raw.order_items i
        where not exists (
            select 1 from raw.orders o
            where o.order_id = i.order_id
              and not exists (
                  select 1 from quality.row_verdicts v
                  where v.feed = 'orders' and v.record_key = o.order_id))
    """,
}


def orphan_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """feed -> loaded rows that refer to a missing (or held back) row of another feed."""
    return {feed: con.execute(sql).fetchone()[0] for feed, sql in ORPHAN_SQL.items()}


def quarantine_by_rule(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select feed, rule, count(*) from meta.quarantine group by all order by feed, rule"
    ).fetchall()
