"""One file, one feed: the per-file transaction, the upsert into raw.<feed>, the
quarantine and retraction files.

Good rows replace rows with the same primary key (latest file wins), bad rows
go to meta.quarantine with their raw values. Each file is one transaction: a
crash leaves either all of it or none.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.feeds import FEEDS, Feed
from orchestration.lib.ingest.landing import discover, file_format
from orchestration.lib.ingest.readers import (
    IngestError,
    _header_shown,
    _looks_like_header,
    _read_csv_duckdb,
    _read_csv_python,
    _read_jsonl,
    _read_parquet,
    _stage_ddl,
    count_lines,
    match_columns,
    read_header,
)
from orchestration.lib.ingest.registry import (
    FeedReport,
    FileReport,
    _register,
    _registered_unchanged,
    content_hash,
)
from orchestration.lib.ingest.rules import _load_seed_codes, _typed_name, validate_stage
from orchestration.lib.settings import Settings


def _apply(
    con, feed: Feed, settings: Settings, file_id: int, rel: str, run_id: str, now: datetime
) -> tuple[int, int, int, dict[str, int]]:
    """Move checked rows: good ones into raw.<feed>, bad ones into meta.quarantine."""

    # Typed values as validate_stage computed them (text columns: trimmed, blank = NULL).
    def value(name: str) -> str:
        typ = feed.column(name).type
        return f"{_typed_name(name) if typ != 'str' else f'nullif(trim({name}), {chr(39)}{chr(39)})'} as {name}"

    typed_cols = ", ".join(value(c) for c in feed.column_names)
    # A required key column is never NULL among good rows (a blank one broke missing_required,
    # an unparseable one wrong_type) nor, therefore, in raw: plain equality, which DuckDB can
    # push into the scan of raw as a filter. Optional key columns (campaign) match NULLs.
    # DELETE and INSERT return their row counts: no second pass to count.
    good = f"select {typed_cols}, _line from _checked where _rule is null"
    on = " and ".join(
        f"r.{k} = g.{k}" if feed.column(k).required else f"r.{k} is not distinct from g.{k}"
        for k in feed.primary_key
    )
    keys = ", ".join(value(k) for k in feed.primary_key)
    replaced = con.execute(
        f"delete from raw.{feed.name} r using (select {keys} from _checked where _rule is null) g where {on}"
    ).fetchone()[0]
    cols = ", ".join(feed.column_names)
    loaded = con.execute(
        f"insert into raw.{feed.name} ({cols}, _file_id, _line, _ingested_at)"
        f" select {cols}, $fid, _line, $now from ({good})",
        {"fid": file_id, "now": now},
    ).fetchone()[0]
    _quarantine_checked(con, feed, feed.name, file_id, rel, run_id, now)
    by_rule = dict(
        con.execute(
            "select _rule, count(*) from _checked where _rule is not null group by 1"
        ).fetchall()
    )
    return loaded, replaced, sum(by_rule.values()), by_rule


def _quarantine_checked(
    con, feed: Feed, feed_name: str, file_id: int, rel: str, run_id: str, now: datetime
) -> int:
    """Rows of _checked that broke a rule into meta.quarantine, with their raw values."""
    raw_json = (
        "case when _raw_line is not null then json_object('_line_text', _raw_line) else json_object("
        + ", ".join(f"'{c}', {c}" for c in feed.column_names)
        + ") end"
    )
    return con.execute(
        f"insert into meta.quarantine select $feed, $fid, $path, _line, _rule, _details,"
        f" {raw_json}, $run, $now from _checked where _rule is not null",
        {"feed": feed_name, "fid": file_id, "path": rel, "run": run_id, "now": now},
    ).fetchone()[0]


def ingest_file(
    con: duckdb.DuckDBPyConnection, settings: Settings, feed: Feed, path: Path, run_id: str
) -> FileReport:
    rel = path.relative_to(settings.landing_dir).as_posix()
    fmt = file_format(path)
    assert fmt is not None
    unchanged, mtime_ns = _registered_unchanged(con, feed, rel, path, settings.ingest_rehash)
    if unchanged:
        return FileReport(feed.name, rel, "skipped", "already registered (same size and time)")
    digest, size = content_hash(path)
    seen = con.execute(
        "select path, outcome from meta.files where content_sha256 = $sha and feed = $feed order by file_id",
        {"sha": digest, "feed": feed.name},
    ).fetchall()
    if any(p == rel for p, _ in seen):
        return FileReport(feed.name, rel, "skipped", "already registered with this content")
    now = datetime.now(UTC).replace(tzinfo=None)
    report = FileReport(feed.name, rel, "loaded")
    con.execute("begin transaction")
    try:
        file_id = con.execute("select nextval('meta.file_id_seq')").fetchone()[0]
        if seen:
            report.outcome, report.reason = (
                "duplicate_content",
                f"same content as {seen[0][0]}; nothing loaded",
            )
        elif size == 0:
            report.outcome, report.reason = (
                "rejected",
                f"{rel}: the file is empty (no header); land it again with a header row",
            )
        else:
            _ingest_content(con, settings, feed, path, fmt, rel, file_id, run_id, now, report)
        _register(con, report, file_id, digest, size, fmt, run_id, now, mtime_ns)
        con.execute("commit")
    except (duckdb.Error, IngestError, OSError, EOFError, csv.Error, UnicodeError) as exc:
        # The file cannot be read as a whole (corrupt gzip or Parquet, ...): keep
        # nothing of it, list it as rejected with the reason, go on with the next.
        con.execute("rollback")
        report = FileReport(
            feed.name,
            rel,
            "rejected",
            f"{rel}: could not be read ({type(exc).__name__}: {str(exc)[:300]}); fix or re-export it",
        )
        con.execute("begin transaction")
        file_id = con.execute("select nextval('meta.file_id_seq')").fetchone()[0]
        _register(con, report, file_id, digest, size, fmt, run_id, now, mtime_ns)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return report


def is_retraction(path: Path) -> bool:
    """A file whose name contains 'retract' lists keys of rows to remove, not rows."""
    return "retract" in path.name.lower()


def key_feed(feed: Feed) -> Feed:
    """The feed as a retraction file has it: its primary-key columns (a blank optional
    key, a channel-level spend's campaign, is blank here too). Renamed, and without the
    full feed's own rules (store_required, ranges): they read columns a key file lacks."""
    columns = tuple(c for c in feed.columns if c.name in feed.primary_key)
    return dataclasses.replace(
        feed,
        name=f"{feed.name}__retraction",
        columns=columns,
        seed_codes={k: v for k, v in feed.seed_codes.items() if k in feed.primary_key},
        rules=(),
    )


def _apply_retraction(
    con, feed: Feed, keys: Feed, file_id: int, rel: str, run_id: str, now: datetime
) -> tuple[int, int, dict[str, int]]:
    """Remove the rows of raw.<feed> whose keys the checked file lists; a key with no row
    is quarantined as unknown_key (nothing is silently ignored). Asks for a full dbt
    refresh: incremental models cannot see a row that is gone."""

    def typed(k: str) -> str:
        return _typed_name(k) if keys.column(k).type != "str" else f"nullif(trim({k}), '')"

    match = " and ".join(
        f"r.{k} = {typed(k)}"
        if feed.column(k).required
        else f"r.{k} is not distinct from {typed(k)}"
        for k in feed.primary_key
    )
    con.execute(
        f"""update _checked set _rule = 'unknown_key',
               _details = 'no row of raw.{feed.name} has this key (never loaded, or retracted before)'
            where _rule is null
              and not exists (select 1 from raw.{feed.name} r where {match})"""
    )
    retracted = con.execute(
        f"delete from raw.{feed.name} r where exists"
        f" (select 1 from _checked where _rule is null and {match})"
    ).fetchone()[0]
    quarantined = _quarantine_checked(con, keys, feed.name, file_id, rel, run_id, now)
    if retracted:
        con.execute(
            "insert into meta.full_refresh_requests values ($now, $why)",
            {"now": now, "why": f"{rel}: {retracted} row(s) of {feed.name} retracted"},
        )
    by_rule = dict(
        con.execute(
            "select _rule, count(*) from _checked where _rule is not null group by 1"
        ).fetchall()
    )
    return retracted, quarantined, by_rule


def _ingest_content(
    con, settings, feed, path, fmt, rel, file_id, run_id, now, report: FileReport
) -> None:
    full_feed = feed
    if is_retraction(path):
        feed = key_feed(feed)
    header = read_header(path, fmt, con)
    positions, missing, extra = match_columns(feed, header)
    if fmt == "jsonl":
        extra = [k for k in header if k.strip().lower() not in feed.column_names]
    report.extra_columns = extra
    if missing:
        report.outcome = "rejected"
        report.reason = (
            f"{rel}: required column(s) {', '.join(missing)} missing from the header; "
            f"add them and land the file again ({_header_shown(header)})"
        )
        if not _looks_like_header(header):
            report.extra_columns = []  # data values, not column names: never recorded
        return
    con.execute(_stage_ddl(feed))
    if fmt in ("csv", "csv.gz"):
        try:
            report.physical_lines = count_lines(path, fmt, settings.gzip_max_ratio)
        except (IngestError, OSError, EOFError) as exc:  # zip bomb, corrupt gzip
            report.outcome, report.reason = "rejected", f"{rel}: {exc}"
            return
        data_lines = report.physical_lines - 1
        read, rejected = _read_csv_duckdb(con, feed, path, fmt, header, positions)
        report.parser = "duckdb"
        if rejected or read != data_lines:
            # Lines were rejected or swallowed (e.g. an unterminated quote): re-read exactly.
            read = _read_csv_python(con, feed, path, fmt, header, positions)
            report.parser = "python-fallback"
        report.rows_in = read
    elif fmt == "parquet":
        report.rows_in = _read_parquet(con, feed, path, header, positions)
        report.parser = "duckdb"
    else:
        report.rows_in = _read_jsonl(con, feed, path, header)
        report.parser = "duckdb"
    validate_stage(con, feed, settings)
    if feed is not full_feed:
        retracted, quarantined, by_rule = _apply_retraction(
            con, full_feed, feed, file_id, rel, run_id, now
        )
        report.rows_retracted, report.rows_quarantined = retracted, quarantined
        report.quarantined_by_rule = by_rule
        report.parser = f"{report.parser} (retraction)"
        if not report.reconciled:
            raise IngestError(
                f"{rel}: {report.rows_in} keys read but {retracted} retracted + {quarantined} "
                "quarantined; nothing from this file was kept. Please report this as a bug."
            )
        return
    loaded, replaced, quarantined, by_rule = _apply(con, feed, settings, file_id, rel, run_id, now)
    report.rows_loaded, report.rows_replaced, report.rows_quarantined = (
        loaded,
        replaced,
        quarantined,
    )
    report.quarantined_by_rule = by_rule
    if not report.reconciled:
        raise IngestError(
            f"{rel}: {report.rows_in} rows read but {loaded} loaded + {quarantined} quarantined; "
            "nothing from this file was kept. Please report this as a bug."
        )


def ingest_feed(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    feed_name: str,
    run_id: str,
    log: Callable[[str], None] = print,
    detail: Callable[[str], None] | None = None,
) -> FeedReport:
    """Ingest every new file of one feed, in order: a line per file to `detail` (`log`
    when not given), then one line for the feed to `log`."""
    detail = detail or log
    feed = FEEDS[feed_name]
    _load_seed_codes(con, settings)
    files, refused = discover(settings.landing_dir, feed_name)
    report = FeedReport(feed_name, refused=refused)
    for msg in refused:
        log(f"[{feed_name}] REFUSED {msg}")
    for i, path in enumerate(files, start=1):
        fr = ingest_file(con, settings, feed, path, run_id)
        report.files.append(fr)
        if fr.outcome == "skipped":
            continue
        detail(
            f"[{feed_name}] file {i}/{len(files)} {fr.path}: {fr.outcome}"
            + (f" ({fr.reason})" if fr.reason else "")
            + (
                f"; rows in {fr.rows_in:,} = loaded {fr.rows_loaded:,} + quarantined {fr.rows_quarantined:,}"
                f" (replaced {fr.rows_replaced:,}; parser {fr.parser})"
                if fr.outcome == "loaded"
                else ""
            )
        )
    new = [f for f in report.files if f.outcome != "skipped"]
    outcomes = collections.Counter(f.outcome for f in new)
    log(
        f"[{feed_name}] {len(new)} new file(s) of {len(files)}"
        + "".join(f", {n} {outcome}" for outcome, n in sorted(outcomes.items()))
        + f"; rows in {report.total('rows_in'):,} = loaded {report.total('rows_loaded'):,}"
        f" + quarantined {report.total('rows_quarantined'):,}"
        f" + retracted {report.total('rows_retracted'):,}"
        f" (replaced {report.total('rows_replaced'):,})"
    )
    return report
