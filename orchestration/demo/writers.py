"""Landing files as they are written, and the manifest facts gathered on the way."""

from __future__ import annotations

import gzip
import json
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from orchestration.demo.vectors import _arrow_schema, _csv_line
from orchestration.lib.feeds import FEEDS, RULES


@dataclass
class _Raw:
    """One planted record: values by column (rendered as CSV/JSON/Parquet) or a raw line."""

    values: dict[str, object] | None = None
    raw: bytes | None = None
    rule: str | None = None
    key: dict[str, object] | None = None


class _FileWriter:
    """One landing file; counts records and physical lines as they are written."""

    def __init__(self, landing: _Landing, feed: str, rel: str, fmt: str):
        self.landing, self.feed, self.rel, self.fmt = landing, feed, rel, fmt
        self.columns = FEEDS[feed].column_names
        self.path = landing.root / rel
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rows = 0
        self.lines = 0
        self.tables: list[pa.Table] = []
        self.extra: list[bytes] = []
        self._inserted = False
        self.fh = None
        if fmt in ("csv", "csv.gz"):
            raw = open(self.path, "wb")  # closed in close()
            self._raw = raw
            self.fh = (
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
                if fmt == "csv.gz"
                else raw
            )
            self._write_bytes((",".join(self.columns) + "\n").encode())

    def _write_bytes(self, b: bytes) -> None:
        self.fh.write(b)
        self.lines += b.count(b"\n")

    def write(
        self, table: pa.Table, insert: Callable[[pa.Table], list[_Raw]] | None = None
    ) -> None:
        """Append rows; `insert` plants records after the first rows of the first table."""
        assert table.column_names == self.columns, (self.rel, table.column_names)
        if insert is not None and not self._inserted and table.num_rows:
            self._inserted = True
            k = max(1, min(table.num_rows // 2, 500))
            plants = insert(table)
            self.write(table.slice(0, k))
            for r in plants:
                self.add(r)
            table = table.slice(k)
        if table.num_rows == 0:
            return
        if self.fh is not None:
            out = pa.BufferOutputStream()
            pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=False))
            self.fh.write(out.getvalue())
            self.lines += table.num_rows  # generated values never contain line breaks
        else:
            assert not self.extra, "jsonl: planted rows go after all generated rows"
            self.tables.append(table)
        self.rows += table.num_rows

    def add(self, r: _Raw) -> None:
        """Append one planted record and record it in the manifest when it breaks a rule."""
        line = self.lines + 1 if self.fh is not None else self.rows + 1
        if self.fh is not None:
            data = (
                r.raw
                if r.raw is not None
                else _csv_line([r.values.get(c) for c in self.columns]).encode()
            )
            self._write_bytes(data)
        elif self.fmt == "jsonl":
            data = (
                r.raw
                if r.raw is not None
                else json.dumps(
                    {c: r.values.get(c) for c in self.columns}, ensure_ascii=False
                ).encode()
                + b"\n"
            )
            self.extra.append(data)
        else:
            schema = self.tables[0].schema if self.tables else _arrow_schema(self.feed)
            self.tables.append(
                pa.Table.from_pylist([{c: r.values.get(c) for c in self.columns}], schema)
            )
        self.rows += 1
        if r.rule is not None:
            assert r.rule in RULES, r.rule
            self.landing.bad_rows.append(
                {"feed": self.feed, "path": self.rel, "line": line, "rule": r.rule, "key": r.key}
            )

    def close(self) -> dict:
        if self.fh is not None:
            self.fh.close()
            if self.fh is not self._raw:
                self._raw.close()
        elif self.fmt == "parquet":
            tables = self.tables or [_arrow_schema(self.feed).empty_table()]
            pq.write_table(pa.concat_tables(tables), self.path, compression="zstd")
        else:
            self.landing.write_jsonl(self.tables, self.path)
            if self.extra:
                with open(self.path, "ab") as fh:
                    fh.write(b"".join(self.extra))
        entry = {
            "feed": self.feed,
            "path": self.rel,
            "format": self.fmt,
            "data_rows": self.rows,
            "physical_lines": self.lines if self.fh is not None else None,
        }
        self.landing.files.append(entry)
        return entry


class _Landing:
    """The landing folder being written, and the manifest facts gathered on the way."""

    def __init__(self, root: Path):
        self.root = root
        self.files: list[dict] = []
        self.bad_rows: list[dict] = []
        self.rejected: list[dict] = []
        self.duplicates: list[dict] = []
        self.corrections: list[dict] = []
        self.replacements: Counter[str] = Counter()
        self._duck = None

    def open(self, feed: str, name: str, fmt: str = "csv") -> _FileWriter:
        return _FileWriter(self, feed, f"{feed}/{name}.{fmt}", fmt)

    def write_jsonl(self, tables: list[pa.Table], path: Path) -> None:
        import duckdb

        if not tables:
            path.write_bytes(b"")
            return
        if self._duck is None:
            self._duck = duckdb.connect(config={"threads": "1"})
        self._duck.register("rows_to_write", pa.concat_tables(tables))
        target = path.as_posix().replace("'", "''")
        self._duck.execute(f"COPY rows_to_write TO '{target}' (FORMAT json)")
        self._duck.unregister("rows_to_write")

    def copy_file(self, feed: str, src_rel: str, dst_name: str) -> None:
        """A file landed twice: identical bytes under a second name."""
        src = next(f for f in self.files if f["path"] == src_rel)
        dst_rel = f"{feed}/{dst_name}"
        shutil.copyfile(self.root / src_rel, self.root / dst_rel)
        self.files.append({**src, "path": dst_rel})
        self.duplicates.append({"feed": feed, "path": dst_rel, "duplicate_of": src_rel})
