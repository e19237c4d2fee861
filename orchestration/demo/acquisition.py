"""Customers, leads and marketing spend, a month at a time."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.demo.vectors import (
    _cards,
    _codes,
    _emails,
    _ids,
    _money,
    _phones,
    _ts_strings,
    _ts_typed,
)
from orchestration.demo.world import (
    CARD_TEMPLATES,
    CH_CODES,
    CHANNELS,
    COLLAPSE_CHANNEL,
    COLLAPSE_SPEND,
    DISQ_P_COLLAPSE,
    DISQ_P_DEFAULT,
    DISQ_P_DISPLAY,
    DISQ_REASONS,
    LEAD_PERSON_BASE,
    NCH,
    OFFSET_SHARE_LEADS,
    ORDER_HOURS,
    PHONE_TEMPLATES,
    REGIONS,
    SLICE_ROWS,
    STORE_REGION,
    TS_OFFSET,
    TS_T,
)


class _AcquisitionSteps:
    """Steps of the generator (build._Generator) that write customers, leads and spend."""

    # ------------------------------------------------------------ customers and leads

    def customers_and_leads(self, m: int) -> None:
        p, cm = self.plan, self.cm
        rng = self.rng("leads", m)
        idx = np.arange(p.cust_start[m], p.cust_start[m + 1], dtype=np.int64)
        chan = cm.channel_of(idx)
        reg = cm.registered(idx)

        # Converted leads: one per customer with a channel, created shortly before registration.
        conv_i = idx[chan > 0]
        conv_c = chan[chan > 0] - 1
        k = np.bincount(conv_c, minlength=NCH)
        n_leads = np.maximum(p.leads[m], k)
        n_nc = n_leads - k
        reg_c = reg[chan > 0]
        d = np.minimum(rng.exponential(2 * 86400, len(conv_i)), 14 * 86400)
        d = np.minimum(d, reg_c - p.start_sec).astype(np.int64)
        created_c = reg_c - d
        cq = np.array([c.conv_if_qualified for c in CHANNELS])
        p_q = p.qual[m][conv_c] * cq[conv_c] / p.conv[m][conv_c]
        q_c = (rng.random(len(conv_i)) < p_q) & (d >= 120)
        qual_c = np.where(
            q_c,
            created_c + 60 + (rng.uniform(0.1, 0.9, len(conv_i)) * (d - 60)).astype(np.int64),
            -1,
        )

        # Leads that never convert.
        nc_c = np.repeat(np.arange(NCH), n_nc)
        n_other = len(nc_c)
        f0, f1 = p.month_first[m], p.month_first[m + 1]
        dw = p.day_w[f0:f1] / p.day_w[f0:f1].sum()
        day = f0 + rng.choice(f1 - f0, n_other, p=dw)
        if m == p.months - 1 and n_other:
            # A few leads on the last day at any scale: lead freshness is judged on it.
            day[rng.choice(n_other, min(3, n_other), replace=False)] = f1 - 1
        created_n = (
            (p.day0 + day) * 86400
            + rng.choice(24, n_other, p=ORDER_HOURS) * 3600
            + rng.integers(0, 3600, n_other)
        )
        target_q = np.clip(
            np.round(p.qual[m] * n_leads).astype(np.int64)
            - np.bincount(conv_c[q_c], minlength=NCH),
            0,
            n_nc,
        )
        order = np.lexsort((rng.random(n_other), nc_c))
        group_start = np.concatenate([[0], np.cumsum(n_nc)[:-1]])
        rank = np.empty(n_other, np.int64)
        rank[order] = np.arange(n_other) - group_start[nc_c[order]]
        q_n = rank < target_q[nc_c]
        qual_n = created_n + np.clip(rng.exponential(30 * 3600, n_other), 600, 10 * 86400).astype(
            np.int64
        )
        q_n &= qual_n <= p.cutoff
        qual_n = np.where(q_n, qual_n, -1)
        recent = created_n > p.cutoff - 3 * 86400
        disq = ~q_n & (rng.random(n_other) >= np.where(recent, 0.7, 0.12))
        reason = np.full(n_other, -1, np.int64)
        for c in range(NCH):
            probs = DISQ_P_DEFAULT
            if CH_CODES[c] == "display":
                probs = DISQ_P_DISPLAY
            if m == p.collapse_month and CH_CODES[c] == COLLAPSE_CHANNEL:
                probs = DISQ_P_COLLAPSE
            sel = disq & (nc_c == c)
            reason[sel] = rng.choice(len(DISQ_REASONS), int(sel.sum()), p=probs)

        # All leads of the month, numbered in a shuffled order.
        n_all = len(conv_i) + n_other
        num = self.next_lead + rng.permutation(n_all)
        self.next_lead += n_all
        lc = np.concatenate([conv_c, nc_c])
        created = np.concatenate([created_c, created_n])
        qualified = np.concatenate([qual_c, qual_n])
        reasons = np.concatenate([np.full(len(conv_i), -1), reason])
        person = np.concatenate([conv_i, LEAD_PERSON_BASE + num[len(conv_i) :]])
        lead_cust = np.concatenate([conv_i, np.full(n_other, -1)])
        # Both attribution paths: customers.lead_id for most, lead.customer_id alone for some.
        cust_has_lead_id = rng.random(len(conv_i)) < 0.75
        lead_has_cust = np.concatenate(
            [~cust_has_lead_id | (rng.random(len(conv_i)) < 0.8), np.zeros(n_other, bool)]
        )
        campaign = np.full(n_all, -1, np.int64)
        camp_names: list[str] = []
        for c, ch in enumerate(CHANNELS):
            sel = np.flatnonzero(lc == c)
            if ch.campaigns and len(sel):
                shares = np.array([s for _, s in ch.campaigns])
                campaign[sel] = len(camp_names) + rng.choice(
                    len(shares), len(sel), p=shares / shares.sum()
                )
            camp_names += [name for name, _ in ch.campaigns]
        contact = rng.choice(3, n_all, p=[0.6, 0.25, 0.15])  # both, phone only, email only
        email_style = rng.choice(3, n_all, p=[0.8, 0.15, 0.05])
        phone_style = rng.choice(len(PHONE_TEMPLATES), n_all, p=[0.3, 0.2, 0.25, 0.15, 0.1])
        ts_style = np.where(rng.random(n_all) < OFFSET_SHARE_LEADS, TS_OFFSET, TS_T)

        o = np.argsort(created, kind="stable")
        lead = {
            "num": num[o],
            "ch": lc[o],
            "created": created[o],
            "qualified": qualified[o],
            "reason": reasons[o],
            "person": person[o],
            "cust": lead_cust[o],
            "has_cust": lead_has_cust[o],
            "campaign": campaign[o],
            "contact": contact[o],
            "email_style": email_style[o],
            "phone_style": phone_style[o],
            "ts_style": ts_style[o],
        }
        cust_lead = np.full(len(idx), -1, np.int64)
        pos = np.flatnonzero(chan > 0)
        cust_lead[pos[cust_has_lead_id]] = num[: len(conv_i)][cust_has_lead_id]
        self._write_customers(m, idx, reg, cust_lead, rng)
        self._write_leads(m, lead, camp_names)

    def _write_customers(
        self, m: int, idx: np.ndarray, reg: np.ndarray, cust_lead: np.ndarray, rng
    ) -> None:
        cm = self.cm
        o = np.argsort(reg, kind="stable")
        idx, reg, cust_lead = idx[o], reg[o], cust_lead[o]
        email_style = rng.choice(3, len(idx), p=[0.85, 0.13, 0.02])
        phone_style = rng.choice(len(PHONE_TEMPLATES), len(idx), p=[0.3, 0.2, 0.25, 0.15, 0.1])
        card_style = rng.choice(len(CARD_TEMPLATES), len(idx), p=[0.7, 0.2, 0.1])
        region = np.where(rng.random(len(idx)) < 0.95, STORE_REGION[cm.home_store(idx)], -1)
        w = self.out.open("customers", f"customers_{self.plan.labels[m]}")
        for s in range(0, max(len(idx), 1), SLICE_ROWS):
            sl = slice(s, s + SLICE_ROWS)
            i = idx[sl]
            has_e = cm.has_email(i)
            emails = pc.replace_with_mask(
                pa.nulls(len(i), pa.string()),
                pa.array(has_e),
                _emails(i[has_e], email_style[sl][has_e]),
            )
            table = pa.table(
                {
                    "customer_id": _ids("C", i + 1),
                    "registered_at": _ts_typed(reg[sl]),
                    "lead_id": _ids("L", cust_lead[sl] + 1, cust_lead[sl] >= 0),
                    "email": emails,
                    "phone": _phones(i, phone_style[sl], cm.has_phone(i)),
                    "loyalty_card_id": _cards(i, card_style[sl], cm.has_card(i)),
                    "region": _codes(REGIONS, region[sl]),
                }
            )
            insert = self._plant_customers_inline if self.plant and m == self.inline_month else None
            w.write(table, insert)
            if m == self.resync_month and s == 0 and table.num_rows:
                self.captured["customers_resync"] = table.slice(
                    0, min(4, table.num_rows)
                ).to_pylist()
        entry = w.close()
        self.counts["customers"] += len(idx)
        if self.plant and m == 0:
            self.captured["customers_copy"] = entry["path"]

    def _write_leads(self, m: int, lead: dict[str, np.ndarray], camp_names: list[str]) -> None:
        p = self.plan
        n = len(lead["num"])
        w = self.out.open("leads", f"leads_{p.labels[m]}")
        for s in range(0, max(n, 1), SLICE_ROWS):
            sl = slice(s, s + SLICE_ROWS)
            x = {k: v[sl] for k, v in lead.items()}
            has_e = x["contact"] != 1
            has_p = x["contact"] != 2
            emails = pc.replace_with_mask(
                pa.nulls(len(x["num"]), pa.string()),
                pa.array(has_e),
                _emails(x["person"][has_e], x["email_style"][has_e]),
            )
            table = pa.table(
                {
                    "lead_id": _ids("L", x["num"] + 1),
                    "created_at": _ts_strings(x["created"], x["ts_style"], 3),
                    "channel": _codes(CH_CODES, x["ch"]),
                    "campaign": _codes(camp_names, x["campaign"]),
                    "email": emails,
                    "phone": _phones(x["person"], x["phone_style"], has_p),
                    "qualified_at": _ts_strings(x["qualified"], TS_T, 3, x["qualified"] >= 0),
                    "disqualified_reason": _codes(DISQ_REASONS, x["reason"]),
                    "customer_id": _ids("C", x["cust"] + 1, x["has_cust"]),
                }
            )
            self._tz_example("leads", table, "created_at", x["created"], x["ts_style"])
            insert = self._plant_leads_inline if self.plant and m == self.inline_month else None
            w.write(table, insert)
        if m == p.months - 1:
            self._story_leads(w, lead)
        w.close()
        self.counts["leads"] += n

    # ------------------------------------------------------------ marketing spend

    def marketing_spend(self, m: int) -> None:
        p = self.plan
        rng = self.rng("marketing", m)
        f0, f1 = p.month_first[m], p.month_first[m + 1]
        dw = p.day_w[f0:f1] / p.day_w[f0:f1].sum()
        years = (f0 + np.arange(f1 - f0)) / 365.25
        cols: dict[str, list] = {k: [] for k in ("day", "ch", "camp", "cents", "imp", "clk", "cur")}
        camp_names = [name for ch in CHANNELS for name, _ in ch.campaigns]
        camp_base = np.cumsum([0] + [len(ch.campaigns) for ch in CHANNELS])
        for c, ch in enumerate(CHANNELS):
            if not ch.is_paid:
                continue
            factor = (
                COLLAPSE_SPEND if (m == p.collapse_month and ch.code == COLLAPSE_CHANNEL) else 1.0
            )
            daily = p.lead_expect[m, c] * dw * ch.cpl * (1 + 0.1 * years) * factor
            fee_share = 0.15 if ch.code == "influencer" else 0.0
            for k, (_, share) in enumerate(ch.campaigns):
                spend = daily * share * (1 - fee_share) * rng.lognormal(0, 0.15, len(dw))
                imp = spend / ch.cpm * 1000 * rng.lognormal(0, 0.1, len(dw))
                cols["day"].append(f0 + np.arange(len(dw)))
                cols["ch"].append(np.full(len(dw), c))
                cols["camp"].append(np.full(len(dw), camp_base[c] + k))
                cols["cents"].append(np.round(spend * 100).astype(np.int64))
                cols["imp"].append(np.round(imp).astype(np.int64))
                cols["clk"].append(
                    np.round(imp * ch.ctr * rng.lognormal(0, 0.1, len(dw))).astype(np.int64)
                )
                cols["cur"].append(np.full(len(dw), 0 if ch.code == "paid_search" else -1))
            if fee_share:  # a monthly agency fee at channel level: blank campaign
                cols["day"].append(np.array([f0]))
                cols["ch"].append(np.array([c]))
                cols["camp"].append(np.array([-1]))
                cols["cents"].append(np.array([round(daily.sum() * fee_share * 100)]))
                cols["imp"].append(np.array([-1]))
                cols["clk"].append(np.array([-1]))
                cols["cur"].append(np.array([-1]))
        x = {k: np.concatenate(v) for k, v in cols.items()}
        o = np.lexsort((x["camp"], x["ch"], x["day"]))
        x = {k: v[o] for k, v in x.items()}
        table = pa.table(
            {
                "spend_date": pa.array((p.day0 + x["day"]).astype(np.int32), pa.date32()),
                "channel": _codes(CH_CODES, x["ch"]),
                "campaign": _codes(camp_names, x["camp"]),
                "spend": _money(x["cents"]),
                "impressions": pa.array(x["imp"], mask=x["imp"] < 0),
                "clicks": pa.array(x["clk"], mask=x["clk"] < 0),
                "currency": _codes(["RUB"], x["cur"]),
            }
        )
        w = self.out.open("marketing_spend", f"marketing_spend_{p.labels[m]}")
        w.write(table, self._plant_spend_inline if self.plant and m == self.inline_month else None)
        entry = w.close()
        self.counts["marketing_spend"] += table.num_rows
        if m == self.resync_month:
            self.captured["spend_restated"] = table.slice(0, min(3, table.num_rows)).to_pylist()
        if self.plant and m == self.gz_month:
            self.captured["spend_copy"] = entry["path"]
