"""Bad input planted inside normal files, and the file-level plants (copies, corrections)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa

from orchestration.demo.planted_files import Planted, add_planted
from orchestration.demo.vectors import _fmt_sec, phone_e164
from orchestration.demo.world import PLANT_ID, UNKNOWN_PERSON_BASE
from orchestration.demo.writers import _FileWriter, _Raw
from orchestration.lib.feeds import FEEDS

JSONL_SURVEY_PLANTS = (
    Planted(601, "out_of_range", {"score": 11}),
    Planted(602, "wrong_type", {"survey": "csi", "question": "order", "score": "abc"}),
    Planted(603, "missing_required", {"answer_id": None}),
)


class _PlantSteps:
    """Bad rows among generated ones, then copies and corrections of whole files."""

    # ------------------------------------------------------------ inline plants (normal files)

    @staticmethod
    def _key(feed: str, values: dict) -> dict:
        return {
            k: (None if values.get(k) in (None, "") else str(values[k]))
            for k in FEEDS[feed].primary_key
        }

    def _row_from(self, table: pa.Table, j: int) -> dict:
        return {
            k: (None if v is None else str(v)) for k, v in table.slice(j, 1).to_pylist()[0].items()
        }

    def _plant_orders_inline(self, table: pa.Table) -> list[_Raw]:
        first = self._row_from(table, 0)
        dup = dict(first, status="cancelled" if first["status"] != "cancelled" else "delivered")
        t = self._row_from(table, min(1, table.num_rows - 1))
        oid = f"O{PLANT_ID + 201}"
        quote = (
            f'{oid},{t["customer_id"]},{t["ordered_at"]},delivered,"web,,courier,'
            f"{t['promised_at'] or ''},{t['delivered_at'] or ''},RUB\n"
        ).encode()
        bad_store = dict(
            t,
            order_id=f"O{PLANT_ID + 202}",
            store_id="S99",
            sales_channel="store",
            fulfilment="in_store",
            promised_at=None,
        )
        return [  # the unterminated quote comes last: the generated rows after it must load
            _Raw(dup, rule="duplicate_key_in_file", key=self._key("orders", dup)),
            _Raw(bad_store, rule="unknown_code", key=self._key("orders", bad_store)),
            _Raw(raw=quote, rule="malformed_line", key={"order_id": oid}),
        ]

    def _plant_orders_gz(self, table: pa.Table) -> list[_Raw]:
        t = self._row_from(table, 0)
        usd = dict(t, order_id=f"O{PLANT_ID + 211}", currency="USD")
        return [_Raw(usd, rule="foreign_currency", key=self._key("orders", usd))]

    def _plant_items_inline(self, table: pa.Table) -> list[_Raw]:
        first = self._row_from(table, 0)
        dup = dict(first, quantity="2" if first["quantity"] != "2" else "3")
        abc = dict(first, line_no="99", quantity="abc")
        return [
            _Raw(abc, rule="wrong_type", key=self._key("order_items", abc)),
            _Raw(dup, rule="duplicate_key_in_file", key=self._key("order_items", dup)),
        ]

    def _plant_customers_inline(self, table: pa.Table) -> list[_Raw]:
        first = self._row_from(table, 0)
        blank = dict(
            first,
            customer_id=f"C{PLANT_ID + 301}",
            registered_at=None,
            lead_id=None,
            email=None,
            phone=None,
            loyalty_card_id=None,
        )
        return [_Raw(blank, rule="missing_required", key=self._key("customers", blank))]

    def _plant_leads_inline(self, table: pa.Table) -> list[_Raw]:
        first = self._row_from(table, 0)
        tik = dict(
            first,
            lead_id=f"L{PLANT_ID + 401}",
            channel="tiktok_ads",
            campaign="tt_spring",
            customer_id=None,
            email=None,
            phone=phone_e164(UNKNOWN_PERSON_BASE - 2000),
        )
        return [_Raw(tik, rule="unknown_code", key=self._key("leads", tik))]

    def _plant_spend_inline(self, table: pa.Table) -> list[_Raw]:
        first = self._row_from(table, 0)
        tik = dict(first, channel="tiktok_ads", campaign="tt_spring")
        return [_Raw(tik, rule="unknown_code", key=self._key("marketing_spend", tik))]

    def _plant_support_inline(self, w: _FileWriter, m: int) -> None:
        t = datetime.fromtimestamp(self.plan.month_end_sec(m) - 86400 * 3, UTC).replace(tzinfo=None)
        values = {
            "contact_id": f"T{PLANT_ID + 501}",
            "contacted_at": t,
            "channel": "pigeon_post",
            "reason": "other",
            "order_id": None,
            "customer_id": "C00000001",
        }
        w.add(_Raw(values, rule="unknown_code", key={"contact_id": values["contact_id"]}))

    def _survey_row(self, n: int, m: int, **kw: object) -> dict:
        values = {
            "answer_id": f"A{n}",
            "answered_at": _fmt_sec(self.plan.month_end_sec(m) - 86400 * 2),
            "survey": "nps",
            "question": "recommend",
            "score": 9,
            "order_id": None,
            "store_id": "S01",
            "customer_id": "C00000001",
            "email": None,
            "phone": None,
            "loyalty_card_id": None,
            "comment": None,
        }
        values.update(kw)
        return values

    def _plant_survey_jsonl(self, w: _FileWriter, m: int) -> None:
        """Typed formats carry typed defects: a null key, a score out of range, a string score."""
        add_planted(self, w, lambda n: self._survey_row(PLANT_ID + n, m), JSONL_SURVEY_PLANTS)

    def _capture_corrections(self, table: pa.Table) -> None:
        status = np.asarray(table["status"].to_pylist(), dtype=object)
        rows = np.flatnonzero(status == "delivered")
        rows = rows[rows >= 2][-5:]  # rows 0-1 may be copied by inline plants
        self.captured["orders_correction"] = [self._row_from(table, int(j)) for j in rows]

    def file_plants(self) -> None:
        """Twice-landed files, corrected re-exports and plain re-sends."""
        out, p = self.out, self.plan
        for feed, key in (("customers", "customers_copy"), ("marketing_spend", "spend_copy")):
            src = self.captured[key]
            out.copy_file(feed, src, Path(src).name.replace(".csv", "_copy.csv"))

        label = p.labels[self.correction_month]
        src_rel = f"orders/orders_{label}" + (
            ".csv.gz" if self.correction_month == self.gz_month else ".csv"
        )
        w = out.open("orders", f"orders_{label}_corrected")
        changes = []
        for values in self.captured["orders_correction"]:
            new = dict(values, status="returned")
            w.add(_Raw(new))
            changes.append({"key": self._key("orders", new), "changed": {"status": "returned"}})
        w.close()
        out.corrections.append(
            {"feed": "orders", "path": w.rel, "replaces_path": src_rel, "rows": changes}
        )
        out.replacements["orders"] += len(changes)

        items: pa.Table = self.captured["items_correction"]
        w = out.open("order_items", f"order_items_{label}_corrected")
        changes = []
        for j in range(max(items.num_rows - 3, 0), items.num_rows):
            values = self._row_from(items, j)
            price = (Decimal(values["unit_price"]) * Decimal("0.9")).quantize(Decimal("0.01"))
            new = dict(values, unit_price=str(price))
            w.add(_Raw(new))
            changes.append(
                {"key": self._key("order_items", new), "changed": {"unit_price": str(price)}}
            )
        w.close()
        out.corrections.append(
            {
                "feed": "order_items",
                "path": w.rel,
                "replaces_path": f"order_items/order_items_{label}.csv",
                "rows": changes,
            }
        )
        out.replacements["order_items"] += len(changes)

        # Same rows sent again (no change): latest wins, counted as replacements.
        label = p.labels[self.resync_month]
        for feed, key, name in (
            ("customers", "customers_resync", f"customers_{label}_resync"),
            ("marketing_spend", "spend_restated", f"marketing_spend_{label}_resent"),
        ):
            w = out.open(feed, name)
            for values in self.captured[key]:
                w.add(_Raw({k: (None if v is None else str(v)) for k, v in values.items()}))
            w.close()
            out.replacements[feed] += w.rows
