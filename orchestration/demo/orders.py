"""Orders, and what hangs off them: order items, survey answers, support contacts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.demo.vectors import (
    _cards,
    _codes,
    _digits,
    _emails,
    _fmt_sec,
    _ids,
    _money,
    _phones,
    _render,
    _ts_strings,
    _ts_typed,
    _unif,
)
from orchestration.demo.world import (
    ACTIVATION,
    BASKET,
    CANCEL_P,
    CARD_TEMPLATES,
    CAT_HI,
    CAT_LO,
    CAT_MARGIN,
    CAT_P,
    CAT_SKUS,
    CATEGORIES,
    CH_MOOD,
    CHUNK_ORDERS,
    COMMENTS,
    CX_DIP_RESPONSE,
    CX_DIP_SHIFT,
    GROCERY,
    LATE_P,
    MARKET_FULFIL_P,
    OFFSET_SHARE_SURVEYS,
    ONLINE_FULFIL_P,
    ORDER_HOURS,
    PHONE_TEMPLATES,
    PLANT_ID,
    PROMISE_HI,
    PROMISE_LO,
    Q_EFFECT,
    Q_INDEX,
    Q_P,
    Q_SURVEY,
    QUESTIONS,
    RESPONSE_P,
    RETENTION,
    S_SKU,
    S_SKU2,
    SALES_P,
    SC_APP,
    SC_MARKET,
    SC_STORE,
    SC_WEB,
    SHIPPED_TYPES,
    ST,
    STORE_BAD,
    STORE_HOURS,
    STORE_MOOD,
    STORE_OFFSET,
    STORE_W,
    STORES,
    SUPPORT_REASONS,
    TS_OFFSET,
    TS_SPACE,
    UNKNOWN_PERSON_BASE,
    F,
)
from orchestration.demo.writers import _FileWriter, _Raw
from orchestration.lib.feeds import (
    CONTACT_CHANNELS,
    FEEDS,
    FULFILMENTS,
    ORDER_STATUSES,
    SALES_CHANNELS,
)


class _OrderSteps:
    """Steps of the generator (build._Generator) that write orders and the feeds that follow them."""

    # ------------------------------------------------------------ orders and what hangs off them

    def orders_month(self, m: int) -> None:
        p = self.plan
        label = p.labels[m]
        fmt = "csv.gz" if m == self.gz_month else "csv"
        w_orders = self.out.open("orders", f"orders_{label}", fmt)
        w_items = self.out.open("order_items", f"order_items_{label}")
        w_survey = self.out.open(
            "survey_answers",
            f"survey_answers_{label}",
            "jsonl" if m in self.jsonl_months else "csv",
        )
        w_support = self.out.open("support_contacts", f"support_contacts_{label}", "parquet")
        for feed, w in (("survey_answers", w_survey), ("support_contacts", w_support)):
            keep = []
            for month, table in self.pending[feed]:
                now = month == m
                if now.any():
                    w.write(table.filter(pa.array(now)))
                if (~now).any():
                    keep.append((month[~now], table.filter(pa.array(~now))))
            self.pending[feed] = keep
        f0, f1 = p.month_first[m], p.month_first[m + 1]
        counts = p.orders_per_day[f0:f1]
        groups, lo, acc = [], 0, 0
        for d, c in enumerate(counts):
            if acc and acc + c > CHUNK_ORDERS:
                groups.append((lo, d))
                lo, acc = d, 0
            acc += int(c)
        groups.append((lo, len(counts)))
        for part, (a, b) in enumerate(groups):
            rng = self.rng("orders", m, part)
            o = self._orders(m, f0 + a, f0 + b, rng)
            table = self._orders_table(o, rng)
            inline = self.plant and m == self.inline_month and part == 0
            gz = self.plant and m == self.gz_month and part == 0
            insert = (
                self._plant_orders_inline if inline else (self._plant_orders_gz if gz else None)
            )
            self._tz_example("orders", table, "ordered_at", o["ordered"], o["ts_style"])
            w_orders.write(table, insert)
            if self.plant and m == self.correction_month and part == len(groups) - 1:
                self._capture_corrections(table)
            items = self._items(o, m, rng)
            w_items.write(items, self._plant_items_inline if inline else None)
            if self.plant and m == self.correction_month and part == len(groups) - 1:
                self.captured["items_correction"] = items
            self._spill("survey_answers", w_survey, m, *self._surveys(o, rng))
            self._spill("support_contacts", w_support, m, *self._support(o, rng))
            self.counts["orders"] += len(o["num"])
            self.counts["order_items"] += items.num_rows
        if m == p.months - 1:
            self._story_callbacks(w_survey)
        if self.plant and m == self.inline_month:
            w_survey.add(
                _Raw(
                    self._survey_row(PLANT_ID + 90, m, score=11),
                    rule="out_of_range",
                    key={"answer_id": f"A{PLANT_ID + 90}"},
                )
            )
            self._plant_support_inline(w_support, m)
        if self.plant and m == 0:
            self._plant_survey_jsonl(w_survey, m)
        for w in (w_orders, w_items, w_survey, w_support):
            w.close()

    def _spill(self, feed: str, w: _FileWriter, m: int, table: pa.Table, month: np.ndarray) -> None:
        """Rows answered after the month ends go to next month's file."""
        now = month == m
        if now.all():
            w.write(table)
        else:
            w.write(table.filter(pa.array(now)))
            self.pending[feed].append((month[~now], table.filter(pa.array(~now))))
        self.counts[feed] += table.num_rows

    def _pick_customers(self, m: int, t: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        """Who buys: recent cohorts more than old ones, good channels more than cheap ones."""
        p, cm = self.plan, self.cm
        sizes = p.cust_per_month[: m + 1].astype(float)
        age = m - np.arange(m + 1)
        w = sizes * np.where(age == 0, 1.2, 0.35 * np.maximum(age, 1) ** -0.55)
        w /= w.sum()
        n = len(t)
        cust = np.empty(n, np.int64)
        cohort = np.empty(n, np.int64)
        todo = np.arange(n)
        top = max(ACTIVATION.max(), RETENTION.max())
        for attempt in range(40):
            k = rng.choice(m + 1, len(todo), p=w)
            i = p.cust_start[k] + (rng.random(len(todo)) * p.cust_per_month[k]).astype(np.int64)
            ch = cm.channel_of(i)
            ok = rng.random(len(todo)) < np.where(k == m, ACTIVATION[ch], RETENTION[ch]) / top
            if attempt == 39:
                ok[:] = True
            cust[todo[ok]] = i[ok]
            cohort[todo[ok]] = k[ok]
            todo = todo[~ok]
            if not len(todo):
                break
        return cust, cohort

    def _orders(self, m: int, d0: int, d1: int, rng) -> dict[str, np.ndarray]:
        p, cm = self.plan, self.cm
        counts = p.orders_per_day[d0:d1]
        n = int(counts.sum())
        day = np.repeat(np.arange(d0, d1), counts)
        sales = rng.choice(len(SALES_CHANNELS), n, p=SALES_P)
        hour = np.where(
            sales == SC_STORE, rng.choice(24, n, p=STORE_HOURS), rng.choice(24, n, p=ORDER_HOURS)
        )
        t = (p.day0 + day) * 86400 + hour * 3600 + rng.integers(0, 3600, n)
        cust, cohort = self._pick_customers(m, t, rng)
        new = cohort == m
        reg = cm.registered(cust)
        first = np.minimum(
            reg + np.clip(rng.exponential(86400, n), 300, None).astype(np.int64),
            min(p.month_end_sec(m), p.cutoff),
        )
        ordered = np.where(new & (t < reg), first, t)  # nobody buys before registering
        ch = cm.channel_of(cust)
        home = cm.home_store(cust)
        fulfil = np.full(n, F["in_store"])
        web = (sales == SC_WEB) | (sales == SC_APP)
        fulfil[web] = rng.choice(len(FULFILMENTS), int(web.sum()), p=ONLINE_FULFIL_P)
        mk = sales == SC_MARKET
        fulfil[mk] = rng.choice(len(FULFILMENTS), int(mk.sum()), p=MARKET_FULFIL_P)
        needs_store = (sales == SC_STORE) | (fulfil == F["pickup"])
        other_store = rng.choice(len(STORES), n, p=STORE_W / STORE_W.sum())
        store = np.where(needs_store, np.where(rng.random(n) < 0.8, home, other_store), -1)

        in_store = fulfil == F["in_store"]
        promised = ordered + (
            PROMISE_LO[fulfil] + rng.random(n) * (PROMISE_HI[fulfil] - PROMISE_LO[fulfil])
        ).astype(np.int64)
        promised = promised // 900 * 900 + np.where(in_store, 0, 900)
        late_p = np.where(
            (fulfil == F["pickup"]) & STORE_BAD[np.maximum(store, 0)], 0.10, LATE_P[fulfil]
        )
        late = ~in_store & (rng.random(n) < late_p)
        early = (rng.random(n) * 0.8 * (promised - ordered)).astype(np.int64)
        delivered = np.where(
            late,
            promised + rng.integers(1800, 36 * 3600, n),
            np.maximum(promised - early, ordered + 600),
        )
        delivered = np.where(in_store, ordered, delivered)
        cancelled = rng.random(n) < CANCEL_P[fulfil]
        returned = ~cancelled & (rng.random(n) < np.where(in_store, 0.03, 0.045) + 0.06 * late)
        status = np.where(
            cancelled, ST["cancelled"], np.where(returned, ST["returned"], ST["delivered"])
        )
        open_ = ~cancelled & (delivered > p.cutoff)
        shipped = open_ & SHIPPED_TYPES[fulfil] & (ordered < p.cutoff - 6 * 3600)
        status = np.where(
            open_,
            np.where(
                shipped, ST["shipped"], np.where(rng.random(n) < 0.7, ST["paid"], ST["placed"])
            ),
            status,
        )
        has_delivered = (status == ST["delivered"]) | (status == ST["returned"])
        has_promise = ~in_store & ~(has_delivered & (rng.random(n) < 0.02))
        late &= has_delivered
        num = self.next_order + np.arange(n)
        self.next_order += n
        o = np.argsort(ordered, kind="stable")  # order ids rise with time, as in a shop system
        return {
            k: v[o] if k != "num" else v
            for k, v in {
                "num": num,
                "cust": cust,
                "ch": ch,
                "ordered": ordered,
                "sales": sales,
                "fulfil": fulfil,
                "store": store,
                "promised": promised,
                "has_promise": has_promise,
                "delivered": delivered,
                "has_delivered": has_delivered,
                "status": status,
                "late": late,
                "currency": np.where(rng.random(n) < 0.3, 0, -1),
                # marketplace exports carry Moscow time with its offset
                "ts_style": np.where(mk, TS_OFFSET, TS_SPACE),
            }.items()
        }

    def _orders_table(self, o: dict[str, np.ndarray], rng) -> pa.Table:
        return pa.table(
            {
                "order_id": _ids("O", o["num"] + 1),
                "customer_id": _ids("C", o["cust"] + 1),
                "ordered_at": _ts_strings(o["ordered"], o["ts_style"], 3),
                "status": _codes(ORDER_STATUSES, o["status"]),
                "sales_channel": _codes(SALES_CHANNELS, o["sales"]),
                "store_id": _codes([s.store_id for s in STORES], o["store"]),
                "fulfilment": _codes(FULFILMENTS, o["fulfil"]),
                "promised_at": _ts_typed(o["promised"], o["has_promise"]),
                "delivered_at": _ts_typed(o["delivered"], o["has_delivered"]),
                "currency": _codes(["RUB"], o["currency"]),
            }
        )

    def _items(self, o: dict[str, np.ndarray], m: int, rng) -> pa.Table:
        v = BASKET[o["ch"]]
        k = np.minimum(1 + rng.poisson(1.5 * v), 10)
        total = int(k.sum())
        oi = np.repeat(np.arange(len(k)), k)
        line = np.arange(total) - np.repeat(np.cumsum(k) - k, k) + 1
        cat = rng.choice(len(CATEGORIES), total, p=CAT_P)
        u = rng.random(total) ** (1 / v[oi])
        sku = np.minimum((u * CAT_SKUS[cat]).astype(np.int64), CAT_SKUS[cat] - 1)
        sku_key = cat * 100_000 + sku
        pos = (sku + _unif(self.seed, sku_key, S_SKU)) / CAT_SKUS[cat]
        base = CAT_LO[cat] * (CAT_HI[cat] / CAT_LO[cat]) ** pos
        month = int(self.plan.labels[m][5:])
        promo = 2.0 if month in (11, 12) else 1.0
        disc = rng.choice(
            [0.0, 0.1, 0.2, 0.3],
            total,
            p=np.array([1 - 0.25 * promo, 0.12 * promo, 0.08 * promo, 0.05 * promo]),
        )
        price = np.round(base * (1 - disc) * 100).astype(np.int64)
        margin = CAT_MARGIN[cat] * (0.85 + 0.3 * _unif(self.seed, sku_key, S_SKU2))
        cost = np.minimum(np.round(base * (1 - margin) * 100), np.floor(price * 0.97)).astype(
            np.int64
        )
        r = rng.random(total)
        qty = np.where(cat == GROCERY, 1 + rng.poisson(0.8, total), 1 + (r < 0.12) + (r < 0.03))
        sku_digits = _digits(sku, 5)
        return pa.table(
            {
                "order_id": _ids("O", o["num"][oi] + 1),
                "line_no": pa.array(line),
                "sku": _render([c[1].encode() + b"-#####" for c in CATEGORIES], cat, sku_digits),
                "category": _codes([c[0] for c in CATEGORIES], cat),
                "quantity": pa.array(qty.astype(np.int64)),
                "unit_price": _money(price),
                "unit_cost": _money(cost),
            }
        )

    def _surveys(self, o: dict[str, np.ndarray], rng) -> tuple[pa.Table, np.ndarray]:
        p, cm = self.plan, self.cm
        status = o["status"]
        cancelled = status == ST["cancelled"]
        eligible = o["has_delivered"] | (cancelled & (rng.random(len(status)) < 0.5))
        at_bad_store = (o["store"] >= 0) & STORE_BAD[np.maximum(o["store"], 0)]
        dip_orders = at_bad_store & (p.month_of_sec(o["ordered"]) == p.cx_dip_month)
        base_p = np.where(o["store"] >= 0, self.store_response, RESPONSE_P)
        response_p = np.minimum(1.0, np.where(dip_orders, base_p * CX_DIP_RESPONSE, base_p))
        ri = np.flatnonzero(eligible & (rng.random(len(status)) < response_p))
        nr = len(ri)
        fulfil = o["fulfil"][ri]
        otype = np.where(
            fulfil == F["in_store"],
            0,
            np.where((fulfil == F["pickup"]) | (fulfil == F["pickup_point"]), 1, 2),
        )
        inc = rng.random((nr, len(QUESTIONS))) < Q_P[otype]
        inc[~inc.any(1), 0] = True
        r, q = np.nonzero(inc)
        store = o["store"][ri]
        bad = (store >= 0) & STORE_BAD[np.maximum(store, 0)]
        late = o["late"][ri]
        z = (
            rng.normal(0, 0.9, nr)
            + np.where(store >= 0, STORE_MOOD[np.maximum(store, 0)], 0.0)
            + CH_MOOD[o["ch"][ri]]
            - 1.6 * late
            - 1.2 * (status[ri] == ST["cancelled"])
            - 0.8 * (status[ri] == ST["returned"])
        )
        zq = z[r] + Q_EFFECT[q] + rng.normal(0, 0.6, len(r))
        zq -= 1.5 * ((q == Q_INDEX["delivery"]) & late[r])
        zq -= 0.9 * ((q == Q_INDEX["queue"]) & bad[r]) + 0.6 * ((q == Q_INDEX["staff"]) & bad[r])
        base = np.where(o["has_delivered"][ri], o["delivered"][ri], o["ordered"][ri])
        answered_r = base + rng.integers(3600, 72 * 3600, nr)
        answered = answered_r[r] + np.arange(len(r)) % 7 * 11
        zq -= CX_DIP_SHIFT * (bad[r] & (p.month_of_sec(answered) == p.cx_dip_month))
        score = np.where(
            Q_SURVEY[q] == 0,
            np.clip(np.round(8.2 + 1.7 * zq), 0, 10),
            np.clip(np.round(4.0 + 0.75 * zq), 1, 5),
        )
        keep = answered <= p.cutoff
        # Who answered: customer_id for most; the rest only an email, a phone or a card.
        cust = o["cust"][ri]
        mode = np.searchsorted([0.60, 0.75, 0.87, 0.97], rng.random(nr), side="right")
        mode = np.where((mode == 1) & ~cm.has_email(cust), 0, mode)
        mode = np.where((mode == 2) & ~cm.has_phone(cust), 0, mode)
        mode = np.where((mode == 3) & ~cm.has_card(cust), 0, mode)
        with_order = np.where(
            mode == 0, rng.random(nr) < 0.92, np.where(mode == 4, False, rng.random(nr) < 0.5)
        )
        comment = np.where(rng.random(nr) < 0.03, rng.integers(0, len(COMMENTS), nr), -1)
        offset_r = rng.random(nr) < OFFSET_SHARE_SURVEYS
        r, q, score, answered = r[keep], q[keep], score[keep], answered[keep]
        n = len(r)
        num = self.next_answer + np.arange(n)
        self.next_answer += n
        mr, cr, sr = mode[r], cust[r], store[r]
        unknown = UNKNOWN_PERSON_BASE + num
        e_mask = (mr == 1) | ((mr == 4) & (num % 2 == 0))
        p_mask = (mr == 2) | ((mr == 4) & (num % 2 == 1))
        person = np.where(mr == 4, unknown, cr)
        emails = pc.replace_with_mask(
            pa.nulls(n, pa.string()),
            pa.array(e_mask),
            _emails(person[e_mask], rng.choice(3, int(e_mask.sum()), p=[0.4, 0.3, 0.3])),
        )
        first_row = np.concatenate([[True], r[1:] != r[:-1]]) if n else np.zeros(0, bool)
        ts_style = np.where(offset_r[r], TS_OFFSET, TS_SPACE)
        offset_h = np.where(sr >= 0, STORE_OFFSET[np.maximum(sr, 0)], 3)
        table = pa.table(
            {
                "answer_id": _ids("A", num + 1),
                "answered_at": _ts_strings(answered, ts_style, offset_h),
                "survey": _codes(("nps", "csi", "cx"), Q_SURVEY[q]),
                "question": _codes([x[1] for x in QUESTIONS], q),
                "score": pa.array(score.astype(np.int64)),
                "order_id": _ids("O", o["num"][ri][r] + 1, with_order[r]),
                "store_id": _codes([s.store_id for s in STORES], sr),
                "customer_id": _ids("C", cr + 1, mr == 0),
                "email": emails,
                "phone": _phones(person, rng.choice(len(PHONE_TEMPLATES), n), p_mask),
                "loyalty_card_id": _cards(cr, rng.choice(len(CARD_TEMPLATES), n), mr == 3),
                "comment": _codes(COMMENTS, np.where(first_row, comment[r], -1)),
            }
        )
        self._tz_example("survey_answers", table, "answered_at", answered, ts_style)
        return table, p.month_of_sec(answered)

    def _support(self, o: dict[str, np.ndarray], rng) -> tuple[pa.Table, np.ndarray]:
        p = self.plan
        n = len(o["num"])
        status = o["status"]
        returned = status == ST["returned"]
        cancelled = status == ST["cancelled"]
        prob = 0.02 + 0.25 * o["late"] + 0.10 * cancelled + 0.20 * returned
        k = (rng.random(n) < prob).astype(np.int64) * (1 + (rng.random(n) < 0.2))
        oi = np.repeat(np.arange(n), k)
        m = len(oi)
        late, ret, can = o["late"][oi], returned[oi], cancelled[oi]
        reason = np.where(
            late, 0, np.where(ret, 1, np.where(can, 2, rng.integers(3, len(SUPPORT_REASONS), m)))
        )
        base = np.where(
            late, o["promised"][oi], np.where(ret, o["delivered"][oi], o["ordered"][oi])
        )
        contacted = base + rng.integers(1800, 96 * 3600, m)
        keep = contacted <= p.cutoff
        oi, reason, contacted = oi[keep], reason[keep], contacted[keep]
        m = len(oi)
        num = self.next_contact + np.arange(m)
        self.next_contact += m
        table = pa.table(
            {
                "contact_id": _ids("T", num + 1),
                "contacted_at": _ts_typed(contacted),
                "channel": _codes(
                    CONTACT_CHANNELS, rng.choice(len(CONTACT_CHANNELS), m, p=[0.4, 0.35, 0.15, 0.1])
                ),
                "reason": _codes(SUPPORT_REASONS, reason),
                "order_id": _ids("O", o["num"][oi] + 1, rng.random(m) < 0.9),
                "customer_id": _ids("C", o["cust"][oi] + 1, rng.random(m) < 0.85),
            }
        )
        return table, p.month_of_sec(contacted)

    def _tz_example(
        self, feed: str, table: pa.Table, column: str, sec: np.ndarray, style: np.ndarray
    ) -> None:
        """Keep two rows per feed whose timestamp carries an offset, with different offsets if any."""
        have = [e for e in self.tz_examples if e["feed"] == feed]
        rows = np.flatnonzero(np.asarray(style) == TS_OFFSET)
        if len(have) >= 2 or not len(rows):
            return
        raws = table[column].take(pa.array(rows)).to_pylist()
        seen = {e["raw"][-6:] for e in have}
        picked = [j for j, r in enumerate(raws) if r[-6:] not in seen and not seen.add(r[-6:])]
        picked += [j for j in range(len(raws)) if j not in picked]
        pk = FEEDS[feed].primary_key[0]
        for j in picked[: 2 - len(have)]:
            self.tz_examples.append(
                {
                    "feed": feed,
                    "key": {pk: table[pk][int(rows[j])].as_py()},
                    "column": column,
                    "raw": raws[j],
                    "expected_utc": _fmt_sec(sec[rows[j]]),
                }
            )
