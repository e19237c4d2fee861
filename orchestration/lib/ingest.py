"""Landing files into DuckDB, with nothing lost.

The path of one file:
  1. safety: only regular files under <landing>/<feed>/ with an allowed
     extension; symlinks that leave the landing folder are refused;
  2. registry: content hash + size; the same content again is a no-op. A file
     registered before under the same path, size and modification time is
     skipped without reading it (as rsync's quick check): a daily run does not
     re-hash the whole landing history. FLYWHEEL_INGEST_REHASH=1 hashes every
     file again (for a source that rewrites files keeping size and time);
  3. header: columns matched case-insensitively; a missing required column
     rejects the whole file with a message naming file and column;
  4. read: DuckDB's own readers into a staging table of text columns. For CSV
     the rows read + rows rejected must equal the file's data lines; if they
     do not (an unterminated quote swallowing lines) or any line was
     rejected, the file is re-read line by line in Python so that every
     physical line is either loaded or quarantined with its line number;
  5. validate: one SQL pass gives each row its first broken rule;
  6. upsert: good rows replace rows with the same primary key (latest file
     wins), bad rows go to meta.quarantine with their raw values.
Each file is one transaction: a crash leaves either all of it or none.
File names and header names are never pasted into SQL: they travel as
bound parameters, and staging columns get positional names (c0, c1, ...).
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import gzip
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib import contact_data
from orchestration.lib.feeds import (
    ALLOWED_EXTENSIONS,
    FEEDS,
    SCORE_RANGES,
    SQL_TYPES,
    Feed,
)
from orchestration.lib.settings import Settings

# Timestamps outside these years are treated as out of range (typos like 0202 or 9999).
TS_MIN_YEAR, TS_MAX_YEAR = 1990, 2100
CSV_FIELD_LIMIT = 10 * 1024 * 1024
# The largest line amount (quantity x unit price or cost) DECIMAL(18,4) holds: 10^14.
MAX_LINE_AMOUNT = 1e14
# A .csv.gz that inflates beyond this ratio (plus a small allowance) is refused
# as a likely zip bomb; real CSV compresses 5-15x.
GZIP_MAX_RATIO = int(os.environ.get("FLYWHEEL_GZIP_MAX_RATIO", "100"))
GZIP_ALLOWANCE = 64 * 1024 * 1024
csv.field_size_limit(CSV_FIELD_LIMIT)  # the fallback parser accepts what read_csv accepts


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


class IngestError(Exception):
    """A file problem the user can fix; the message names file, line and fix."""


# ---------------------------------------------------------------- discovery


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    for ext in sorted(ALLOWED_EXTENSIONS, key=len, reverse=True):
        if name.endswith(ext):
            return ext.lstrip(".")
    return None


def discover(landing_dir: Path, feed: str) -> tuple[list[Path], list[str]]:
    """Files of one feed in processing order (lexical by relative path), and refusals.

    Lexical order makes "latest file wins" predictable: name exports with a
    sortable date (orders_2025-03.csv, orders_2025-03_corrected.csv).
    """
    root = landing_dir.resolve()
    folder = landing_dir / feed
    files: list[Path] = []
    refused: list[str] = []
    if not folder.exists():
        return files, refused
    if folder.is_symlink() or not folder.resolve().is_relative_to(root):
        return files, [f"{feed}/: the feed folder is a symlink out of the landing folder; refused"]
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for name in sorted(filenames):
            if name.startswith((".", "_")):
                continue  # hidden files and in-flight uploads (_tmp, .part)
            path = Path(dirpath) / name
            rel = path.relative_to(landing_dir).as_posix()
            if file_format(path) is None:
                refused.append(
                    f"{rel}: extension not accepted (use {', '.join(ALLOWED_EXTENSIONS)}); skipped"
                )
                continue
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    refused.append(
                        f"{rel}: symlink to {target} outside the landing folder; refused"
                    )
                    continue
            if not path.resolve().is_file():
                refused.append(f"{rel}: not a regular file; refused")
                continue
            files.append(path)
    files.sort(key=lambda p: p.relative_to(landing_dir).as_posix())
    return files, refused


class LandingDirError(ValueError):
    """The landing folder cannot be used at all (missing, unreadable, no feed files)."""


def landing_layout() -> str:
    """The folder layout a landing folder must have, for error messages."""
    exts = " | ".join(f"*{e}" for e in ALLOWED_EXTENSIONS)
    lines = [
        f"  {name}/" + ("   (optional feed)" if f.optional_feed else "")
        for name, f in FEEDS.items()
    ]
    return "\n".join([f"expected layout (any subset of the feeds; files {exts}):", *lines])


def check_landing_dir(landing_dir: Path) -> dict[str, int]:
    """Files per feed folder, or LandingDirError naming the path, the layout and the fix.

    Run before any Dagster run: a wrong FLYWHEEL_LANDING_DIR must fail in seconds,
    not after a pipeline that loads nothing and publishes an empty tree.
    """
    fix = (
        "Set FLYWHEEL_LANDING_DIR to the folder that holds the feed folders "
        "(docs/landing-contract.md, 'Bringing your own data')."
    )
    if not landing_dir.exists():
        raise LandingDirError(
            f"landing folder {landing_dir} does not exist.\n{landing_layout()}\n{fix}"
        )
    if not landing_dir.is_dir():
        raise LandingDirError(
            f"landing folder {landing_dir} is not a folder.\n{landing_layout()}\n{fix}"
        )
    if not os.access(landing_dir, os.R_OK | os.X_OK):
        raise LandingDirError(
            f"landing folder {landing_dir} is not readable by this user (uid {os.getuid()}).\n{fix}"
        )
    counts: dict[str, int] = {}
    for feed in FEEDS:
        folder = landing_dir / feed
        if folder.is_dir() and not os.access(folder, os.R_OK | os.X_OK):
            raise LandingDirError(f"feed folder {folder} is not readable by this user.\n{fix}")
        files, _ = discover(landing_dir, feed)
        counts[feed] = len(files)
    if not any(counts.values()):
        present = sorted(p.name for p in landing_dir.iterdir() if not p.name.startswith("."))[:10]
        raise LandingDirError(
            f"landing folder {landing_dir} holds no feed file"
            + (f" (it holds: {', '.join(present)})" if present else " (it is empty)")
            + f".\n{landing_layout()}\n{fix}"
        )
    return counts


# ---------------------------------------------------------------- file facts


def _open_binary(path: Path, fmt: str):
    return gzip.open(path, "rb") if fmt == "csv.gz" else open(path, "rb")


def content_hash(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def count_lines(path: Path, fmt: str) -> int:
    """Physical lines, counting a last line without a newline.

    For .csv.gz this is also the zip-bomb guard: inflating stops once the
    output exceeds GZIP_MAX_RATIO times the compressed size.
    """
    n = 0
    last = b"\n"
    limit = path.stat().st_size * GZIP_MAX_RATIO + GZIP_ALLOWANCE if fmt == "csv.gz" else None
    inflated = 0
    with _open_binary(path, fmt) as fh:
        while chunk := fh.read(1 << 22):
            n += chunk.count(b"\n")
            last = chunk[-1:]
            inflated += len(chunk)
            if limit is not None and inflated > limit:
                raise IngestError(
                    f"{path.name}: inflates to more than {GZIP_MAX_RATIO}x its compressed size; "
                    "refused as a likely zip bomb (raise FLYWHEEL_GZIP_MAX_RATIO if it is genuine)"
                )
    if last != b"\n":
        n += 1
    return n


def read_header(path: Path, fmt: str, con: duckdb.DuckDBPyConnection) -> list[str]:
    """Column names as the file spells them."""
    if fmt in ("csv", "csv.gz"):
        with _open_binary(path, fmt) as fh:
            first = fh.readline(1 << 20)
        text = first.decode("utf-8-sig", errors="replace").rstrip("\r\n")
        if not text.strip():
            return []
        return next(csv.reader([text]))
    if fmt == "parquet":
        return [
            d[0]
            for d in con.execute(
                "select * from read_parquet($p) limit 0", {"p": str(path)}
            ).description
        ]
    # jsonl: the union of keys over the file's objects, in first-seen order.
    rows = con.execute(
        "select distinct k, min(rn) as first from ("
        " select unnest(json_keys(json)) as k, rn from ("
        "  select json, row_number() over () as rn"
        "  from read_json_objects($p, format='newline_delimited', ignore_errors=true)"
        "  where json_type(json) = 'OBJECT'))"
        " group by k order by first",
        {"p": str(path)},
    ).fetchall()
    return [r[0] for r in rows]


COLUMN_NAME_SHAPE = re.compile(r"[A-Za-z_][A-Za-z0-9_ .-]{0,63}")


def _looks_like_header(header: list[str]) -> bool:
    """Every field is shaped like a column name and holds no contact data. A file
    without a header row has a data row there, which must not be echoed anywhere."""
    return bool(header) and all(
        COLUMN_NAME_SHAPE.fullmatch(h.strip()) and not contact_data.contains_contact_data(h)
        for h in header
    )


def _header_shown(header: list[str]) -> str:
    if not header:
        return "the file has no header row"
    if _looks_like_header(header):
        return f"found: {', '.join(header)}"
    return (
        f"the first line does not look like a header row ({len(header)} fields, values not "
        "shown: they may be customer data); the first line must name the columns"
    )


def match_columns(feed: Feed, header: list[str]) -> tuple[dict[str, int], list[str], list[str]]:
    """Map contract columns to header positions (case-insensitive).

    Returns (contract column -> index, missing required columns, extra columns).
    """
    positions: dict[str, int] = {}
    extra: list[str] = []
    for i, raw in enumerate(header):
        key = raw.strip().lower()
        if key in feed.column_names and key not in positions:
            positions[key] = i
        else:
            extra.append(raw)
    missing = [c for c in feed.required if c not in positions]
    return positions, missing, extra


# ---------------------------------------------------------------- readers into _stage


def _stage_ddl(feed: Feed) -> str:
    cols = ", ".join(f"{c} varchar" for c in feed.column_names)
    return f"create or replace temp table _stage (_line bigint, _malformed varchar, _raw_line varchar, {cols})"


def _stage_select(feed: Feed, positions: dict[str, int], source: str) -> str:
    """Select list from positional columns c<i> to contract names (constants only)."""
    parts = [
        f"c{positions[c]} as {c}" if c in positions else f"null::varchar as {c}"
        for c in feed.column_names
    ]
    return ", ".join(parts) + f" from {source}"


def _read_csv_duckdb(con, feed, path, fmt, header, positions) -> tuple[int, int]:
    """Fast path. Returns (rows read, distinct rejected lines)."""
    columns = {f"c{i}": "VARCHAR" for i in range(len(header))}
    con.execute("drop table if exists _rejects")
    con.execute("drop table if exists _reject_scans")
    source = (
        "read_csv($p, columns=$cols, header=true, auto_detect=false, delim=',', quote='\"',"
        " escape='\"', strict_mode=true, null_padding=false, store_rejects=true,"
        " rejects_table='_rejects', rejects_scan='_reject_scans', max_line_size=$mls,"
        " compression=$comp, encoding='utf-8')"
    )
    con.execute(
        f"insert into _stage select row_number() over () + 1, null, null, {_stage_select(feed, positions, source)}",
        {
            "p": str(path),
            "cols": columns,
            "mls": CSV_FIELD_LIMIT,
            "comp": "gzip" if fmt == "csv.gz" else "none",
        },
    )
    rows = con.execute("select count(*) from _stage").fetchone()[0]
    rejected = con.execute("select count(distinct line) from _rejects").fetchone()[0]
    return rows, rejected


def _iter_csv_lines(path: Path, fmt: str) -> Iterator[tuple[int, str]]:
    with _open_binary(path, fmt) as fh:
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1:
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield lineno, "\x00INVALID_UTF8"
                continue
            yield lineno, text.rstrip("\r\n")


MAX_RECORD_LINES = 50  # a quoted field may span lines (RFC 4180), but not a whole file


def _parse_record(text: str, width: int) -> tuple[list[str] | None, str | None, bool]:
    """(fields, problem, unterminated) for one candidate record."""
    try:
        fields = next(csv.reader([text], strict=True))
    except csv.Error as exc:
        return None, f"CSV syntax: {exc} (check the quotes)", "unexpected end of data" in str(exc)
    except StopIteration:
        return None, "empty record", False
    if len(fields) != width:
        return None, f"expected {width} columns, found {len(fields)}", False
    return fields, None, False


def _csv_records(
    path: Path, fmt: str, width: int
) -> Iterator[tuple[int, list[str] | None, str | None, str]]:
    """(first line, fields, problem, raw text) per record, resynchronising after broken quotes.

    A record whose quote does not close on its line may legitimately continue
    on the next lines (a comment with a line break). It is accepted only if
    the joined lines parse to the header's width and none of the continuation
    lines is itself a complete record; otherwise the quote is taken as broken:
    only the first line is malformed and reading resumes on the next line, so
    an unterminated quote never swallows the rows after it.
    """
    source = _iter_csv_lines(path, fmt)
    ahead: collections.deque[tuple[int, str]] = collections.deque()  # bounded look-ahead

    def peek(k: int) -> tuple[int, str] | None:
        while len(ahead) <= k:
            nxt = next(source, None)
            if nxt is None:
                return None
            ahead.append(nxt)
        return ahead[k]

    while peek(0) is not None:
        lineno, text = ahead.popleft()
        if text == "":
            continue  # blank lines carry no record
        if text == "\x00INVALID_UTF8":
            yield lineno, None, "line is not valid UTF-8", "<invalid UTF-8>"
            continue
        fields, problem, unterminated = _parse_record(text, width)
        if unterminated:
            joined = text
            for k in range(MAX_RECORD_LINES - 1):
                nxt = peek(k)
                if (
                    nxt is None
                    or nxt[1] == "\x00INVALID_UTF8"
                    or _parse_record(nxt[1], width)[0] is not None
                ):
                    break  # the next line stands on its own: the quote was broken
                joined += "\n" + nxt[1]
                f2, _, still_open = _parse_record(joined, width)
                if f2 is not None:
                    fields, problem, text = f2, None, joined
                    for _ in range(k + 1):
                        ahead.popleft()
                    break
                if not still_open:
                    break
        yield lineno, fields, problem, text


def _read_csv_python(con, feed, path, fmt, header, positions) -> int:
    """Slow, exact path: every physical line ends up in a record or as a malformed line.

    Used only when DuckDB's reader rejected lines or the counts did not add up.
    """
    con.execute("delete from _stage")
    names = ["_line", "_malformed", "_raw_line", *feed.column_names]
    batch: dict[str, list] = {n: [] for n in names}
    rows = 0

    def flush():
        if batch["_line"]:
            tbl = pa.table(
                {
                    n: pa.array(v, type=pa.int64() if n == "_line" else pa.string())
                    for n, v in batch.items()
                }
            )
            con.register("_py_batch", tbl)
            con.execute("insert into _stage select * from _py_batch")
            con.unregister("_py_batch")
            for v in batch.values():
                v.clear()

    for lineno, fields, problem, text in _csv_records(path, fmt, len(header)):
        rows += 1
        batch["_line"].append(lineno)
        batch["_malformed"].append(problem)
        batch["_raw_line"].append(text[:2000] if problem else None)  # kept for the quarantine
        for c in feed.column_names:
            ok = fields is not None and c in positions
            batch[c].append((fields[positions[c]] or None) if ok else None)
        if len(batch["_line"]) >= 50_000:
            flush()
    flush()
    return rows


def _read_parquet(con, feed, path, header, positions) -> int:
    cols = [
        f"cast({_quote_ident(header[positions[c]])} as varchar) as {c}"
        if c in positions
        else f"null::varchar as {c}"
        for c in feed.column_names
    ]
    con.execute(
        f"insert into _stage select file_row_number + 1, null, null, {', '.join(cols)}"
        " from read_parquet($p, file_row_number=true)",
        {"p": str(path)},
    )
    return con.execute("select count(*) from _stage").fetchone()[0]


def _jsonl_lines(path: Path) -> Iterator[tuple[int, str | None, str | None]]:
    """(physical line number, text, problem) per non-blank line. Reading the lines here,
    not with read_json_objects, keeps the numbers physical (a blank line is skipped,
    not renumbered) and the text of a line that does not parse."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                yield lineno, None, "line is not valid UTF-8"
                continue
            if text.strip():
                yield lineno, text, None


def _read_jsonl(con, feed, path, header) -> int:
    lines: dict[str, list] = {"_line": [], "_text": [], "_problem": []}
    for lineno, text, problem in _jsonl_lines(path):
        lines["_line"].append(lineno)
        lines["_text"].append(text)
        lines["_problem"].append(problem)
    con.register(
        "_jsonl_lines",
        pa.table(
            {
                "_line": pa.array(lines["_line"], type=pa.int64()),
                "_text": pa.array(lines["_text"], type=pa.string()),
                "_problem": pa.array(lines["_problem"], type=pa.string()),
            }
        ),
    )
    # Keys are per object, so one file may spell a column two ways: take the first present.
    params: dict[str, object] = {}
    cols = []
    for c in feed.column_names:
        variants = [k for k in header if k.strip().lower() == c]
        exprs = []
        for j, key in enumerate(variants):
            params[f"k_{c}_{j}"] = '$."' + key.replace('"', '\\"') + '"'
            exprs.append(f"json_extract_string(json, $k_{c}_{j})")
        cols.append(f"coalesce({', '.join(exprs)}) as {c}" if exprs else f"null::varchar as {c}")
    try:
        con.execute(
            "insert into _stage select _line,"
            " case when _problem is not null then _problem"
            "      when json is null then 'unparseable JSON line'"
            "      when json_type(json) <> 'OBJECT' then 'line is not a JSON object' end,"
            " case when _problem is not null then '<invalid UTF-8>'"
            "      when json is null or json_type(json) <> 'OBJECT' then left(_text, 2000) end, "
            + ", ".join(cols)
            + " from (select _line, _text, _problem,"
            " case when json_valid(_text) then json(_text) end as json from _jsonl_lines)",
            params,
        )
    finally:
        con.unregister("_jsonl_lines")
    return len(lines["_line"])


def _quote_ident(name: str) -> str:
    """Parquet column names cannot be bound; quote them as identifiers."""
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------- validation


def _blank(col: str) -> str:
    return f"({col} is null or trim({col}) = '')"


def _rule_checks(
    feed: Feed, settings: Settings, typed: Callable[[str], str] | None = None
) -> list[tuple[str, str, str]]:
    """(rule, SQL condition that is true when broken, details) in priority order.

    `typed(column)` is the SQL of a non-text column's typed value; by default
    the conversion itself (_typed), validate_stage passes the column it
    computed once per row.
    """
    if typed is None:

        def typed(name: str) -> str:
            return _typed(name, feed.column(name).type, settings)

    checks: list[tuple[str, str, str]] = [
        ("malformed_line", "_malformed is not null", "_malformed")
    ]
    for c in feed.columns:
        if c.required:
            checks.append(("missing_required", _blank(c.name), f"'{c.name} is blank (required)'"))
    for c in feed.columns:
        if c.type != "str":
            checks.append(
                (
                    "wrong_type",
                    f"(not {_blank(c.name)} and {typed(c.name)} is null)",
                    f"'{c.name} = ' || {c.name} || ' is {TYPE_NAMES[c.type]}'",
                )
            )
    for c in feed.columns:
        if c.allowed:
            allowed = ", ".join(f"'{v}'" for v in c.allowed)
            checks.append(
                (
                    "unknown_code",
                    f"(not {_blank(c.name)} and lower(trim({c.name})) not in ({allowed}))",
                    f"'{c.name} = ' || {c.name} || ' is not one of {'/'.join(c.allowed)}'",
                )
            )
    for col, seed in feed.seed_codes.items():
        checks.append(
            (
                "unknown_code",
                f"(not {_blank(col)} and trim({col}) not in (select code from _seed_{seed}))",
                f"'{col} = ' || {col} || ' is not in seeds/{seed}.csv'",
            )
        )
    if feed.name == "orders":
        checks.append(
            (
                "store_required",
                f"((lower(trim(sales_channel)) = 'store' or lower(trim(fulfilment)) = 'pickup') and {_blank('store_id')})",
                "'store_id is required for store sales and store pickup'",
            )
        )
    if "currency" in feed.column_names:
        checks.append(
            (
                "foreign_currency",
                f"(not {_blank('currency')} and upper(trim(currency)) <> '{settings.currency}')",
                f"'currency ' || currency || ' differs from the reporting currency {settings.currency}'",
            )
        )
    ranges = {
        "order_items": [("quantity", "> 0"), ("unit_price", ">= 0"), ("unit_cost", ">= 0")],
        "marketing_spend": [("spend", ">= 0"), ("impressions", ">= 0"), ("clicks", ">= 0")],
    }.get(feed.name, [])
    for col, cond in ranges:
        checks.append(
            (
                "out_of_range",
                f"not coalesce({typed(col)} {cond}, true)",
                f"'{col} = ' || {col} || ' must be {cond}'",
            )
        )
    if feed.name == "order_items":
        # A line's amount (quantity x price or cost) must fit the money type, DECIMAL(18,4):
        # beyond it every model that multiplies them fails, on every later run.
        for price in ("unit_price", "unit_cost"):
            checks.append(
                (
                    "out_of_range",
                    f"coalesce(abs(cast({typed('quantity')} as double) * cast({typed(price)} as double))"
                    f" >= {MAX_LINE_AMOUNT:.0f}, false)",
                    f"'quantity x {price} = ' || quantity || ' x ' || {price} || "
                    f"' exceeds the largest line amount, {MAX_LINE_AMOUNT:,.0f}'",
                )
            )
    if feed.name == "survey_answers":
        cases = " ".join(
            f"when '{s}' then {typed('score')} not between {lo} and {hi}"
            for s, (lo, hi) in SCORE_RANGES.items()
        )
        checks.append(
            (
                "out_of_range",
                f"coalesce(case lower(trim(survey)) {cases} end, false)",
                "'score ' || score || ' outside the range of survey ' || survey",
            )
        )
    for c in feed.columns:
        if c.type == "ts":
            checks.append(
                (
                    "out_of_range",
                    f"coalesce(year({typed(c.name)}) not between {TS_MIN_YEAR} and {TS_MAX_YEAR}, false)",
                    f"'{c.name} = ' || {c.name} || ' is outside {TS_MIN_YEAR}..{TS_MAX_YEAR}'",
                )
            )
    return checks


# Exact shapes of typed values: a value that would only load by rounding or by a
# lenient cast ("2.5" as an int, "1_000", "0x10", "1e3", a fifth decimal place, a
# date with a time of day) is not one and is quarantined as wrong_type. Trailing
# zeros after the point are exact ("1.0" is the integer 1, "2.50000" the decimal 2.5).
EXACT_SHAPES = {
    "int": r"[+-]?[0-9]+(\.0*)?",
    "dec": r"[+-]?([0-9]+(\.[0-9]{0,4}0*)?|\.[0-9]{1,4}0*)",
    "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T]00:00(:00(\.0+)?)?)?",
}
TYPE_NAMES = {
    "int": "not a whole number",
    "dec": "not a decimal number with at most 4 decimal places and 14 digits before the point",
    "date": "not a date YYYY-MM-DD",
    "ts": "not an ISO 8601 timestamp",
}


def _typed(col: str, typ: str, settings: Settings) -> str:
    """SQL that turns a text column into its contract type, NULL when it is not exactly one."""
    if typ == "ts":
        # Offsets are honoured; naive values are read in the session time zone,
        # which is the warehouse time zone. Stored naive, in warehouse time.
        return f"timezone('{settings.timezone}', try_cast(trim({col}) as timestamptz))"
    value = {
        "int": f"regexp_replace(trim({col}), '\\.0*$', '')",
        "date": f"left(trim({col}), 10)",
    }.get(typ, f"trim({col})")
    return (
        f"case when regexp_full_match(trim({col}), '{EXACT_SHAPES[typ]}')"
        f" then try_cast({value} as {SQL_TYPES[typ]}) end"
    )


def _key_expr(feed: Feed, alias: str = "") -> list[str]:
    p = f"{alias}." if alias else ""
    return [f"{p}{k}" for k in feed.primary_key]


def _typed_name(col: str) -> str:
    """The column of _checked holding a non-text column's typed value (NULL when it does not parse)."""
    return f"_t_{col}"


def validate_stage(con: duckdb.DuckDBPyConnection, feed: Feed, settings: Settings) -> None:
    """Give every staged row its first broken rule (or NULL) in one pass.

    Each non-text column is converted to its type once (_t_<column>); the
    rules and the upsert read that value instead of converting again. The
    details text is built only for rows that broke a rule.
    """
    checks = _rule_checks(feed, settings, typed=_typed_name)
    rule = "case " + " ".join(f"when {cond} then '{name}'" for name, cond, _ in checks) + " end"
    details = "case " + " ".join(f"when {cond} then {det}" for _, cond, det in checks) + " end"
    typed = "".join(
        f", {_typed(c.name, c.type, settings)} as {_typed_name(c.name)}"
        for c in feed.columns
        if c.type != "str"
    )
    con.execute(
        "create or replace temp table _checked as"
        f" select *, case when _rule is not null then {details} end as _details"
        f" from (select *, {rule} as _rule from (select *{typed} from _stage))"
    )
    # Duplicate keys inside one file: the first good occurrence loads, later ones are quarantined.
    # Keys compare as the values they load as: "1", "01" and "1.0" are one line_no.
    keys = ", ".join(
        _typed_name(k) if feed.column(k).type != "str" else f"trim({k})" for k in feed.primary_key
    )
    repeated = con.execute(
        f"select count(*) from (select {keys} from _checked where _rule is null group by all having count(*) > 1)"
    ).fetchone()[0]
    if not repeated:
        return  # the usual case: no key repeats, nothing to update
    con.execute(
        f"""
        update _checked set _rule = 'duplicate_key_in_file',
            _details = 'primary key repeats line ' || d.first_line
        from (
            select _line, first_value(_line) over (partition by {keys} order by _line) as first_line,
                   row_number() over (partition by {keys} order by _line) as n
            from _checked where _rule is null
        ) d
        where _checked._line = d._line and d.n > 1
        """
    )


def _load_seed_codes(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    for seed, col in (("channels", "channel"), ("stores", "store_id")):
        path = settings.seeds_dir / f"{seed}.csv"
        con.execute(f"create or replace temp table _seed_{seed} (code varchar)")
        if path.exists():
            with open(path, newline="", encoding="utf-8-sig") as fh:
                codes = [r[col].strip() for r in csv.DictReader(fh) if r.get(col)]
            if codes:
                con.executemany(f"insert into _seed_{seed} values (?)", [[c] for c in codes])


# ---------------------------------------------------------------- upsert


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


# ---------------------------------------------------------------- one file, one feed


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


def _registered_unchanged(con, feed: Feed, rel: str, path: Path) -> tuple[bool, int]:
    """(whether this path is registered with its current size and modification time, mtime_ns)."""
    st = path.stat()
    if os.environ.get("FLYWHEEL_INGEST_REHASH", "").strip() in ("1", "true", "yes"):
        return False, st.st_mtime_ns
    hit = con.execute(
        "select 1 from meta.files where feed = $feed and path = $path and size_bytes = $size"
        " and mtime_ns = $mtime limit 1",
        {"feed": feed.name, "path": rel, "size": st.st_size, "mtime": st.st_mtime_ns},
    ).fetchone()
    return hit is not None, st.st_mtime_ns


def ingest_file(
    con: duckdb.DuckDBPyConnection, settings: Settings, feed: Feed, path: Path, run_id: str
) -> FileReport:
    rel = path.relative_to(settings.landing_dir).as_posix()
    fmt = file_format(path)
    assert fmt is not None
    unchanged, mtime_ns = _registered_unchanged(con, feed, rel, path)
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
    key, a channel-level spend's campaign, is blank here too). Renamed so that the rules
    of the full feed (store_required, ranges) do not apply."""
    columns = tuple(c for c in feed.columns if c.name in feed.primary_key)
    return dataclasses.replace(
        feed,
        name=f"{feed.name}__retraction",
        columns=columns,
        seed_codes={k: v for k, v in feed.seed_codes.items() if k in feed.primary_key},
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
            report.physical_lines = count_lines(path, fmt)
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


__all__ = [
    "FeedReport",
    "FileReport",
    "IngestError",
    "content_hash",
    "count_lines",
    "discover",
    "ingest_feed",
    "ingest_file",
    "match_columns",
    "quarantine_by_rule",
    "summarise",
]
