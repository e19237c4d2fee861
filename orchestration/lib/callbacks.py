"""The contact centre's callback export, and the store directors' live file.

The callback list (dbt model restricted_callback_list, table
restricted.callback_list in the working warehouse) holds clear contact data,
so everything here keeps it inside owner-only files: the CSV is created with
mode 600 in the restricted folder (itself 700) and nothing that names a
person is ever returned, logged or put in metadata: callers get counts only.

Idempotence: restricted.callback_exports remembers which CSV day first listed
each answer. An answer is written to exactly one CSV, however often its file
is re-landed or the export re-run; re-running a day rewrites that day's file
with the same rows (plus answers that arrived late for it).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration.lib.settings import Settings

CALLBACK_COLUMNS = (
    "answer_id",
    "answered_at",
    "survey",
    "question",
    "score",
    "low_questions",
    "comment",
    "store_id",
    "store_name",
    "order_id",
    "customer_id",
    "resolution_method",
    "email",
    "phone",
    "loyalty_card_id",
    "contact_source",
)
LEDGER = "restricted.callback_exports"
LIVE_TABLES = ("cx_store_live",)


@dataclass
class CallbackExport:
    """What was exported, without any contact data (safe to log)."""

    path: Path | None
    callback_day: date | None
    rows: int
    already_exported_earlier: int
    without_contact: int


# A cell a spreadsheet would read as a formula (OWASP, CSV injection): one starting
# with =, +, -, @, a tab or a carriage return. Survey comments and contact fields
# are written by customers; the contact centre opens this file in a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A cell value that a spreadsheet shows as text: a leading ' before a formula trigger.

    Phone numbers like '+7 912 ...' get the quote too; a spreadsheet shows them
    as typed (the quote is not displayed) and never evaluates them.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def callback_csv_path(settings: Settings, day: date) -> Path:
    return settings.restricted_path.parent / f"callbacks_{day.isoformat()}.csv"


def export_callbacks(con: duckdb.DuckDBPyConnection, settings: Settings) -> CallbackExport:
    """Write restricted/callbacks_<day>.csv (mode 600) from restricted.callback_list."""
    con.execute("create schema if not exists restricted")
    con.execute(
        f"create table if not exists {LEDGER} ("
        " answer_id varchar primary key, callback_day date not null, exported_at timestamp not null)"
    )
    day = con.execute("select max(callback_day) from restricted.callback_list").fetchone()[0]
    if day is None:
        return CallbackExport(None, None, 0, 0, 0)
    # Answers first listed for an earlier day stay in that day's file only.
    earlier = con.execute(
        f"select count(*) from restricted.callback_list l join {LEDGER} e using (answer_id)"
        " where e.callback_day < l.callback_day"
    ).fetchone()[0]
    cols = ", ".join(f"l.{c}" for c in CALLBACK_COLUMNS)
    rows = con.execute(
        f"select {cols} from restricted.callback_list l left join {LEDGER} e using (answer_id)"
        " where e.answer_id is null or e.callback_day >= l.callback_day"
        " order by l.store_id, l.answered_at, l.answer_id"
    ).fetchall()
    folder = settings.restricted_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    target = callback_csv_path(settings, day)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CALLBACK_COLUMNS)
        writer.writerows([spreadsheet_safe(v) for v in row] for row in rows)
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute(
        f"insert into {LEDGER} select answer_id, callback_day, $now from restricted.callback_list l"
        f" where not exists (select 1 from {LEDGER} e where e.answer_id = l.answer_id)",
        {"now": now},
    )
    idx = CALLBACK_COLUMNS.index
    without_contact = sum(
        1
        for r in rows
        if r[idx("email")] is None and r[idx("phone")] is None and r[idx("loyalty_card_id")] is None
    )
    return CallbackExport(target, day, len(rows), earlier, without_contact)


def live_path(settings: Settings) -> Path:
    """The store directors' small live file, beside the published snapshot."""
    return settings.published_path.parent / "cx_store_live.duckdb"


def publish_live(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str) -> dict[str, int]:
    """Copy the live store cut into its own read-only file, swapped in atomically.

    Republishing the whole BI snapshot every 15 minutes would copy every mart;
    the live cut is a few hundred rows, so it gets its own file (the daily
    snapshot carries the same table too).
    """
    from orchestration.lib.publish import STORAGE_VERSION

    target = live_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{run_id}.tmp")
    tmp.unlink(missing_ok=True)
    con.execute(f"attach $p as live (storage_version '{STORAGE_VERSION}')", {"p": str(tmp)})
    counts = {}
    try:
        con.execute("create schema live.marts")
        for t in LIVE_TABLES:
            con.execute(f"create table live.marts.{t} as select * from marts.{t}")
            counts[t] = con.execute(f"select count(*) from live.marts.{t}").fetchone()[0]
    finally:
        con.execute("detach live")
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return counts
