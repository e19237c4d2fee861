"""Reading one file into the _stage table: header, line counts and the readers.

DuckDB's own readers fill a staging table of text columns. For CSV the rows
read + rows rejected must equal the file's data lines; if they do not (an
unterminated quote swallowing lines) or any line was rejected, the file is
re-read line by line in Python so that every physical line is either loaded
or quarantined with its line number. File names and header names are never
pasted into SQL: they travel as bound parameters, and staging columns get
positional names (c0, c1, ...).
"""

from __future__ import annotations

import collections
import csv
import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib import contact_data
from orchestration.lib.feeds import Feed

CSV_FIELD_LIMIT = 10 * 1024 * 1024
# A .csv.gz that inflates beyond this ratio (plus a small allowance) is refused
# as a likely zip bomb; real CSV compresses 5-15x.
GZIP_ALLOWANCE = 64 * 1024 * 1024
csv.field_size_limit(CSV_FIELD_LIMIT)  # the fallback parser accepts what read_csv accepts


class IngestError(Exception):
    """A file problem the user can fix; the message names file, line and fix."""


# ---------------------------------------------------------------- file facts


def _open_binary(path: Path, fmt: str):
    return gzip.open(path, "rb") if fmt == "csv.gz" else open(path, "rb")


def count_lines(path: Path, fmt: str, gzip_max_ratio: int) -> int:
    """Physical lines, counting a last line without a newline.

    For .csv.gz this is also the zip-bomb guard: inflating stops once the
    output exceeds gzip_max_ratio (FLYWHEEL_GZIP_MAX_RATIO) times the compressed size.
    """
    n = 0
    last = b"\n"
    limit = path.stat().st_size * gzip_max_ratio + GZIP_ALLOWANCE if fmt == "csv.gz" else None
    inflated = 0
    with _open_binary(path, fmt) as fh:
        while chunk := fh.read(1 << 22):
            n += chunk.count(b"\n")
            last = chunk[-1:]
            inflated += len(chunk)
            if limit is not None and inflated > limit:
                raise IngestError(
                    f"{path.name}: inflates to more than {gzip_max_ratio}x its compressed size; "
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
