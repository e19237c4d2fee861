"""One more day of landing files, consistent with a generated landing folder.

    python -m benchmarks.extra_day --landing DIR --out DIR

The generator cannot add a day to an existing folder (its output depends on
the whole span), so the new day is derived from the folder's last day: every
row of every feed dated on end_date is copied one day later, with new ids
(orders, items, leads, answers, contacts; customers registered that day) and
new contact details for the new people (same formats, digits substituted, so
the lead gate does not see them as duplicates of yesterday's leads). Orders of
existing customers keep their customer_id: people come back. Spend rows move
to the new date. The result is a day of the same size and shape as the last
one, written as <feed>/<feed>_<YYYY-MM-DD>.<ext> in the formats the feed uses
in its last month (CSV; Parquet for support contacts). Planted bad rows of the
source day stay out (only rows whose timestamp parses are copied).
"""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration.lib.feeds import FEEDS

TS = {
    "customers": ["registered_at"],
    "leads": ["created_at", "qualified_at"],
    "orders": ["ordered_at", "promised_at", "delivered_at"],
    "survey_answers": ["answered_at"],
    "support_contacts": ["contacted_at"],
}
DAY_COLUMN = {
    "customers": "registered_at",
    "leads": "created_at",
    "orders": "ordered_at",
    "survey_answers": "answered_at",
    "support_contacts": "contacted_at",
}


def _ts(col: str) -> str:
    return f"try_cast(left(replace(trim({col}), 'T', ' '), 19) as timestamp)"


def _shift(col: str) -> str:
    """A timestamp text one day later, keeping any offset or fraction after the seconds."""
    return (
        f"case when {_ts(col)} is null then {col} else "
        f"strftime({_ts(col)} + interval 1 day, '%Y-%m-%d %H:%M:%S') || substr(trim({col}), 20) end"
    )


def _new_contact(col: str) -> str:
    """Same format, first digit kept, the other digits substituted: a different person."""
    prefix = f"regexp_extract({col}, '^[^0-9]*[0-9]')"
    return (
        f"case when {col} is null then null when {col} like '%@%' then 'd' || trim({col}) "
        f"else {prefix} || translate(substr({col}, length({prefix}) + 1), '0123456789', '5678901234') end"
    )


def _month_file(landing: Path, feed: str, month: str) -> Path | None:
    for ext in ("csv", "csv.gz", "parquet", "jsonl"):
        p = landing / feed / f"{feed}_{month}.{ext}"
        if p.exists():
            return p
    return None


def _source(con: duckdb.DuckDBPyConnection, path: Path, feed: str) -> str:
    """Register the file as a view of text columns named as in the contract."""
    cols = FEEDS[feed].column_names
    name = f"src_{feed}"
    p = str(path).replace("'", "''")
    if path.name.endswith(".parquet"):
        sel = ", ".join(f"cast({c} as varchar) as {c}" for c in cols)
        con.execute(f"create or replace temp view {name} as select {sel} from read_parquet('{p}')")
    elif path.name.endswith(".jsonl"):
        spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cols) + "}"
        con.execute(
            f"create or replace temp view {name} as select * from read_json('{p}',"
            f" format='newline_delimited', columns={spec}, ignore_errors=true)"
        )
    else:
        con.execute(
            f"create or replace temp view {name} as select * from read_csv('{p}', header=true,"
            " all_varchar=true, ignore_errors=true)"
        )
    return name


def make_extra_day(landing: Path, out: Path) -> dict:
    """Write the day after the landing folder's end_date into out/<feed>/; returns a summary."""
    manifest = json.loads((landing / "_manifest.json").read_text())
    src_day = date.fromisoformat(manifest["end_date"])
    new_day = src_day + timedelta(days=1)
    month = f"{src_day:%Y-%m}"
    suffix = f"-{new_day:%Y%m%d}"
    con = duckdb.connect()
    src = {}
    for feed in FEEDS:
        path = _month_file(landing, feed, month)
        if path is None:
            raise FileNotFoundError(f"no {feed} file for {month} in {landing}")
        src[feed] = (path, _source(con, path, feed))

    def day_rows(feed: str) -> str:
        return f"select * from {src[feed][1]} where cast({_ts(DAY_COLUMN[feed])} as date) = DATE '{src_day}'"

    # Who is new today: customers registered, leads created and orders placed on the source day.
    con.execute(
        f"create temp table new_customers as select distinct customer_id from ({day_rows('customers')})"
    )
    con.execute(
        f"create temp table new_leads as select distinct lead_id from ({day_rows('leads')})"
    )
    con.execute(
        f"create temp table new_orders as select distinct order_id from ({day_rows('orders')})"
    )

    def remap(col: str, table: str) -> str:
        return f"case when {col} in (select {col} from {table}) then {col} || '{suffix}' else {col} end"

    def person(col: str) -> str:
        return f"case when customer_id in (select customer_id from new_customers) then {_new_contact(col)} else {col} end"

    exprs: dict[str, dict[str, str]] = {
        "customers": {
            "customer_id": f"customer_id || '{suffix}'",
            "lead_id": remap("lead_id", "new_leads"),
            "email": _new_contact("email"),
            "phone": _new_contact("phone"),
            "loyalty_card_id": _new_contact("loyalty_card_id"),
        },
        "leads": {
            "lead_id": f"lead_id || '{suffix}'",
            "email": _new_contact("email"),
            "phone": _new_contact("phone"),
            "customer_id": remap("customer_id", "new_customers"),
        },
        "orders": {
            "order_id": f"order_id || '{suffix}'",
            "customer_id": remap("customer_id", "new_customers"),
        },
        "order_items": {"order_id": f"order_id || '{suffix}'"},
        "survey_answers": {
            "answer_id": f"answer_id || '{suffix}'",
            "order_id": remap("order_id", "new_orders"),
            "email": person("email"),
            "phone": person("phone"),
            "loyalty_card_id": person("loyalty_card_id"),
            "customer_id": remap("customer_id", "new_customers"),
        },
        "support_contacts": {
            "contact_id": f"contact_id || '{suffix}'",
            "order_id": remap("order_id", "new_orders"),
            "customer_id": remap("customer_id", "new_customers"),
        },
        "marketing_spend": {
            "spend_date": "strftime(try_cast(trim(spend_date) as date) + interval 1 day, '%Y-%m-%d')",
        },
    }
    where = {
        "order_items": f"select * from {src['order_items'][1]} where order_id in (select order_id from new_orders)",
        "marketing_spend": f"select * from {src['marketing_spend'][1]} where try_cast(trim(spend_date) as date) = DATE '{src_day}'",
    }
    summary: dict[str, dict] = {}
    for feed, spec in FEEDS.items():
        cols = []
        for c in spec.column_names:
            e = exprs[feed].get(c)
            if e is None and c in TS.get(feed, []):
                e = _shift(c)
            cols.append(f"{e or c} as {c}")
        body = where.get(feed) or day_rows(feed)
        fmt = "parquet" if src[feed][0].name.endswith(".parquet") else "csv"
        target = out / feed / f"{feed}_{new_day}.{fmt}"
        target.parent.mkdir(parents=True, exist_ok=True)
        options = "(format parquet)" if fmt == "parquet" else "(format csv, header true)"
        tpath = str(target).replace("'", "''")
        con.execute(f"copy (select {', '.join(cols)} from ({body})) to '{tpath}' {options}")
        n = con.execute(f"select count(*) from ({body})").fetchone()[0]
        summary[feed] = {"path": target.relative_to(out).as_posix(), "rows": n}
    con.close()
    return {"source_day": str(src_day), "new_day": str(new_day), "files": summary}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--landing", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    print(json.dumps(make_extra_day(args.landing, args.out), indent=1))


if __name__ == "__main__":
    main()
