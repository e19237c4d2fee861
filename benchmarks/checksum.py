"""Order-independent checksums of every published table, to compare two builds.

A table's checksum is its row count and the sum of a hash of each row. Left
out of the hash, because they record *when* a row was loaded or built and not
what it says: columns whose name starts with "_" (_ingested_at), columns of
type TIMESTAMP WITH TIME ZONE (event times are stored naive, in warehouse
time; a time-zoned column is a build time such as aggregated_at =
current_timestamp) and the publish_info and publish_checks tables (build and check times, run id). DOUBLE columns are hashed as text
with 12 significant digits: sums of doubles may differ in the last bits when
DuckDB adds them in another order (threads), which is not a difference of
results.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

SKIP_TABLES = {"publish_info", "publish_checks"}


def volatile(col: str, typ: str) -> bool:
    """A column that records when a row was loaded or built, not what it says."""
    return col.startswith("_") or typ.upper() in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")


def _expr(col: str, typ: str) -> str:
    q = '"' + col.replace('"', '""') + '"'
    if typ in ("DOUBLE", "FLOAT", "REAL"):
        return f"printf('%.12g', {q})"
    return q


def table_checksums(path: Path, schema: str = "marts") -> dict[str, dict]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        cols: dict[str, list[tuple[str, str]]] = {}
        for table, col, typ in con.execute(
            "select table_name, column_name, data_type from information_schema.columns"
            " where table_schema = $s order by table_name, ordinal_position",
            {"s": schema},
        ).fetchall():
            cols.setdefault(table, []).append((col, typ))
        out: dict[str, dict] = {}
        for table, columns in sorted(cols.items()):
            if table in SKIP_TABLES:
                continue
            used = [(c, t) for c, t in columns if not volatile(c, t)]
            row = ", ".join(_expr(c, t) for c, t in used)
            n, s = con.execute(
                f'select count(*), coalesce(sum(hash({row})), 0)::varchar from {schema}."{table}"'
            ).fetchone()
            out[table] = {
                "rows": n,
                "checksum": s,
                "excluded_columns": [c for c, t in columns if volatile(c, t)],
            }
        return out
    finally:
        con.close()


def compare(a: dict[str, dict], b: dict[str, dict]) -> list[str]:
    """Human-readable differences; empty when equal."""
    problems = []
    for t in sorted(set(a) | set(b)):
        if t not in a or t not in b:
            problems.append(f"{t}: only in {'first' if t in a else 'second'}")
        elif (a[t]["rows"], a[t]["checksum"]) != (b[t]["rows"], b[t]["checksum"]):
            problems.append(
                f"{t}: rows {a[t]['rows']} vs {b[t]['rows']}, checksum {a[t]['checksum']} vs {b[t]['checksum']}"
            )
    return problems


def diff_rows(
    path_a: Path, path_b: Path, table: str, schema: str = "marts", limit: int = 5
) -> dict:
    """Rows of one table in a but not in b and vice versa (volatile columns left out)."""
    con = duckdb.connect()
    try:
        con.execute("attach $p as a (read_only)", {"p": str(path_a)})
        con.execute("attach $p as b (read_only)", {"p": str(path_b)})
        cols = [
            (c, t)
            for c, t in con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_catalog = 'a' and table_schema = $s and table_name = $t"
                " order by ordinal_position",
                {"s": schema, "t": table},
            ).fetchall()
            if not volatile(c, t)
        ]
        sel = ", ".join(f'{_expr(c, t)} as "{c}"' for c, t in cols)
        out = {}
        for x, y in (("a", "b"), ("b", "a")):
            q = f'select {sel} from {x}.{schema}."{table}" except all select {sel} from {y}.{schema}."{table}"'
            out[f"only_in_{x}"] = con.execute(f"select count(*) from ({q})").fetchone()[0]
            out[f"sample_only_in_{x}"] = [
                list(map(str, r)) for r in con.execute(f"{q} limit {limit}").fetchall()
            ]
        return out
    finally:
        con.close()
