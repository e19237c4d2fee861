"""The dedicated plant files: one file per feed of bad rows, each row breaking one rule.

Every feed's file has the same shape (a good row, then one row per rule it can
break, a duplicate key, malformed lines between good rows), so the files are
a table of cases below and one function writes them all. The order of the
cases is the order of the lines, and the manifest records each bad row by its
line: reordering a table moves the lines the tests look for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from orchestration.demo.vectors import _csv_line, _fmt_sec, phone_e164
from orchestration.demo.world import PLANT_ID, UNKNOWN_PERSON_BASE
from orchestration.demo.writers import _FileWriter, _Raw
from orchestration.lib.feeds import FEEDS

if TYPE_CHECKING:
    from orchestration.demo.build import _Generator


@dataclass(frozen=True)
class _Same:
    """A value taken from another column of the same row (an in-store sale is delivered when ordered)."""

    column: str


@dataclass(frozen=True)
class Planted:
    """One line of a planted file.

    `n` numbers the row (its id is made from it); None repeats the file's first
    row, so that its key comes twice. `changes` overrides columns of the feed's
    base row. A line is written as a row unless one of the last four fields
    says how to spoil it: `surplus` values after the last column, only the
    first `fields` values, the whole line in another `encoding` than UTF-8, or a
    hand-written `text` ({id}, {ts} and {ts_t} filled in).
    """

    n: int | None
    rule: str | None = None
    changes: Mapping[str, object] = field(default_factory=dict)
    surplus: tuple[str, ...] = ()
    fields: int | None = None
    encoding: str | None = None
    text: str | None = None


def add_planted(
    gen: _Generator,
    w: _FileWriter,
    base: Callable[[int], dict],
    cases: tuple[Planted, ...],
    stamps: Mapping[str, str] | None = None,
) -> None:
    """Write `cases` to `w`, recording each one that breaks a rule under its key."""
    first: dict | None = None
    for case in cases:
        values = dict(first) if case.n is None else base(case.n)
        values.update(
            {k: values[v.column] if isinstance(v, _Same) else v for k, v in case.changes.items()}
        )
        if first is None:
            first = values
        if case.text is not None:
            line = case.text.format(id=PLANT_ID + case.n, **(stamps or {})).encode()
        elif case.surplus:
            line = _csv_line(list(values.values()) + list(case.surplus)).encode()
        elif case.fields is not None:
            line = _csv_line(list(values.values())[: case.fields]).encode()
        elif case.encoding is not None:
            line = _csv_line(list(values.values())).encode(case.encoding)
        else:
            key = gen._key(w.feed, values) if case.rule else None
            w.add(_Raw(values, rule=case.rule, key=key))
            continue
        w.add(_Raw(raw=line, rule=case.rule, key=gen._key(w.feed, values)))


# --------------------------------------------------------------------------- base rows


def _order(gen: _Generator, mid: int, n: int) -> dict:
    return {
        "order_id": f"O{PLANT_ID + n}",
        "customer_id": "C00000001",
        "ordered_at": _fmt_sec(mid),
        "status": "delivered",
        "sales_channel": "web",
        "store_id": None,
        "fulfilment": "courier",
        "promised_at": _fmt_sec(mid + 2 * 86400),
        "delivered_at": _fmt_sec(mid + 86400),
        "currency": "RUB",
    }


def _item(gen: _Generator, mid: int, n: int) -> dict:
    return {
        "order_id": f"O{PLANT_ID + n}",
        "line_no": 1,
        "sku": "HM-00042",
        "category": "home",
        "quantity": 1,
        "unit_price": "499.00",
        "unit_cost": "310.50",
    }


def _customer(gen: _Generator, mid: int, n: int) -> dict:
    return {
        "customer_id": f"C{PLANT_ID + n}",
        "registered_at": _fmt_sec(mid),
        "lead_id": None,
        "email": None,
        "phone": phone_e164(UNKNOWN_PERSON_BASE - 3000 - n),
        "loyalty_card_id": None,
        "region": "Central",
    }


def _lead(gen: _Generator, mid: int, n: int) -> dict:
    return {
        "lead_id": f"L{PLANT_ID + n}",
        "created_at": _fmt_sec(mid, "T"),
        "channel": "paid_search",
        "campaign": "search_generic",
        "email": None,
        "phone": phone_e164(UNKNOWN_PERSON_BASE - 4000 - n),
        "qualified_at": None,
        "disqualified_reason": "not_interested",
        "customer_id": None,
    }


def _spend(gen: _Generator, mid: int, n: int) -> dict:
    """Spend rows have no id of their own: `n` is not used."""
    return {
        "spend_date": _fmt_sec(mid)[:10],
        "channel": "paid_search",
        "campaign": "planted_check",
        "spend": "1000.00",
        "impressions": 5000,
        "clicks": 40,
        "currency": None,
    }


def _survey(gen: _Generator, mid: int, n: int) -> dict:
    return gen._survey_row(PLANT_ID + n, gen.inline_month)


def _contact(gen: _Generator, mid: int, n: int) -> dict:
    return {
        "contact_id": f"T{PLANT_ID + n}",
        "contacted_at": datetime.fromtimestamp(mid, UTC).replace(tzinfo=None),
        "channel": "chat",
        "reason": "order_status",
        "order_id": f"O{PLANT_ID + 1}",
        "customer_id": "C00000001",
    }


# --------------------------------------------------------------------------- the files


@dataclass(frozen=True)
class PlantedFile:
    """<feed>/<feed>_planted_bad_rows.<fmt>, and optionally a file missing a required column."""

    feed: str
    base: Callable[[_Generator, int, int], dict]
    cases: tuple[Planted, ...]
    fmt: str = "csv"
    missing_column: str | None = None  # rejected whole: every row of it is lost
    missing_rows: int = 0


MALFORMED = "malformed_line"
DUPLICATE = "duplicate_key_in_file"

# fmt: off
PLANTED_FILES: tuple[PlantedFile, ...] = (
    PlantedFile("orders", _order, (
        Planted(1),
        Planted(2, "missing_required", {"customer_id": None}),
        Planted(3, "missing_required", {"order_id": None}),
        Planted(4, "wrong_type", {"ordered_at": "2025-13-45 10:00:00"}),
        Planted(5, "unknown_code", {"store_id": "S99", "fulfilment": "pickup"}),
        Planted(6, "unknown_code", {"status": "lost"}),
        Planted(7, "unknown_code", {"fulfilment": "drone"}),
        Planted(8, "store_required", {"sales_channel": "store", "fulfilment": "in_store",
                                      "promised_at": None, "delivered_at": _Same("ordered_at")}),
        Planted(9, "store_required", {"fulfilment": "pickup"}),
        Planted(10, "foreign_currency", {"currency": "USD"}),
        Planted(11, "foreign_currency", {"currency": "EUR"}),
        Planted(None, DUPLICATE, {"status": "cancelled", "delivered_at": None}),
        Planted(12),
        Planted(13, MALFORMED, text='O{id},C00000001,{ts},delivered,"web,,courier,,,RUB\n'),
        Planted(14),
        Planted(15, MALFORMED, surplus=("extra", "columns")),
        Planted(16, MALFORMED, fields=6),
        Planted(17),
    ), missing_column="status", missing_rows=3),
    PlantedFile("order_items", _item, (
        Planted(1),
        Planted(1, None, {"line_no": 2, "sku": "EL-00007", "category": "electronics",
                          "unit_price": "15990.00", "unit_cost": "14100.00"}),
        Planted(1, "missing_required", {"line_no": 3, "sku": None}),
        Planted(1, "wrong_type", {"line_no": 4, "quantity": "abc"}),
        Planted(1, "wrong_type", {"line_no": 5, "unit_price": "12,5O"}),
        Planted(1, "out_of_range", {"line_no": 6, "quantity": 0}),
        Planted(1, "out_of_range", {"line_no": 7, "unit_price": "-5.00"}),
        Planted(1, "out_of_range", {"line_no": 8, "unit_cost": "-1.00"}),
        Planted(1, DUPLICATE, {"line_no": 2, "quantity": 5}),
        Planted(12),
        Planted(12, MALFORMED, {"line_no": 2}, surplus=("1", "2")),
        Planted(14),
    )),
    PlantedFile("customers", _customer, (
        Planted(1),
        Planted(2, "missing_required", {"registered_at": None}),
        Planted(3, "wrong_type", {"registered_at": "yesterday"}),
        Planted(4, "missing_required", {"customer_id": None}),
        Planted(None, DUPLICATE, {"region": "Volga"}),
        Planted(5, MALFORMED, surplus=("surplus",)),
        Planted(6),
    )),
    PlantedFile("leads", _lead, (
        Planted(1),
        Planted(2, "missing_required", {"channel": None}),
        Planted(3, "missing_required", {"created_at": None}),
        Planted(4, "wrong_type", {"created_at": "2025-13-45T10:00:00"}),
        Planted(5, "unknown_code", {"channel": "tiktok_ads", "campaign": "tt_spring"}),
        Planted(None, DUPLICATE, {"disqualified_reason": "spam"}),
        # a line exported in Windows-1251: not UTF-8
        Planted(6, MALFORMED, {"campaign": "Весенняя распродажа"}, encoding="cp1251"),
        Planted(7),
        Planted(8, MALFORMED, text='L{id},{ts_t},paid_search,"search_generic,,,,,\n'),
        Planted(9),
    ), missing_column="channel", missing_rows=2),
    PlantedFile("marketing_spend", _spend, (
        Planted(0),
        Planted(0, "unknown_code", {"channel": "tiktok_ads", "campaign": "tt_spring"}),
        Planted(0, "missing_required", {"channel": "paid_social", "campaign": "planted_blank",
                                        "spend": None}),
        Planted(0, "wrong_type", {"channel": "paid_social", "campaign": "planted_abc",
                                  "spend": "abc"}),
        Planted(0, "wrong_type", {"channel": "paid_social", "campaign": "planted_date",
                                  "spend_date": "2025-02-30"}),
        Planted(0, "out_of_range", {"channel": "display", "campaign": "planted_negative",
                                    "spend": "-250.00"}),
        Planted(0, "foreign_currency", {"channel": "display", "campaign": "planted_usd",
                                        "currency": "USD"}),
        Planted(None, DUPLICATE, {"spend": "2000.00"}),
    )),
    # CSV: scores out of range, a quoted comment spanning two lines.
    PlantedFile("survey_answers", _survey, (
        Planted(1),
        Planted(2, "out_of_range", {"score": 11}),
        Planted(3, "out_of_range", {"survey": "csi", "question": "store_visit", "score": 0}),
        Planted(4, "out_of_range", {"survey": "cx", "question": "queue", "score": 6}),
        Planted(5, "unknown_code", {"survey": "ces", "question": "effort", "score": 3}),
        Planted(6, "missing_required", {"score": None}),
        Planted(7, "wrong_type", {"score": "ten"}),
        Planted(8, "wrong_type", {"answered_at": "2025-02-30 10:00:00"}),
        Planted(9, "unknown_code", {"store_id": "S99"}),
        Planted(10, None, {"score": 3, "comment": 'Two lines:\nqueue was long, "one till" open'}),
        Planted(None, DUPLICATE, {"score": 7}),
        Planted(11, MALFORMED, text='A{id},{ts},csi,order,4,,,C00000001,,,,"great service\n'),
        Planted(12),
    )),
    # Parquet: typed, so only null, code and duplicate defects.
    PlantedFile("support_contacts", _contact, (
        Planted(1),
        Planted(2, "missing_required", {"contact_id": None}),
        Planted(3, "missing_required", {"contacted_at": None}),
        Planted(4, "unknown_code", {"channel": "fax"}),
        Planted(None, DUPLICATE, {"reason": "payment"}),
        Planted(5),
    ), fmt="parquet"),
)
# fmt: on


def write_planted_files(gen: _Generator) -> None:
    """The dedicated plant files, in the middle of the inline month (ten days before its end)."""
    mid = gen.plan.month_end_sec(gen.inline_month) - 10 * 86400
    stamps = {"ts": _fmt_sec(mid), "ts_t": _fmt_sec(mid, "T")}
    out = gen.out
    for spec in PLANTED_FILES:

        def base(n: int, spec: PlantedFile = spec) -> dict:
            return spec.base(gen, mid, n)

        w = out.open(spec.feed, f"{spec.feed}_planted_bad_rows", spec.fmt)
        add_planted(gen, w, base, spec.cases, stamps)
        w.close()
        if spec.missing_column is None:
            continue
        cols = [c for c in FEEDS[spec.feed].column_names if c != spec.missing_column]
        body = (
            ",".join(cols)
            + "\n"
            + "".join(_csv_line([base(20 + k)[c] for c in cols]) for k in range(spec.missing_rows))
        )
        rel = f"{spec.feed}/{spec.feed}_planted_missing_{spec.missing_column}.csv"
        (out.root / rel).write_text(body, encoding="utf-8")
        out.files.append(
            {
                "feed": spec.feed,
                "path": rel,
                "format": "csv",
                "data_rows": spec.missing_rows,
                "physical_lines": spec.missing_rows + 1,
            }
        )
        out.rejected.append(
            {
                "feed": spec.feed,
                "path": rel,
                "reason": "missing_required_column",
                "column": spec.missing_column,
            }
        )
