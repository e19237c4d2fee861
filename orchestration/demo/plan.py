"""The plan: calendar and volumes decided before the first row, and customers as functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from orchestration.demo.vectors import _apportion, _civil, _month_add, _unif
from orchestration.demo.world import (
    CH_CODES,
    CHANNELS,
    COLLAPSE_CHANNEL,
    COLLAPSE_MONTHS_BEFORE_END,
    COLLAPSE_QUAL_RATE,
    COLLAPSE_VOLUME,
    CONV_IF_UNQUALIFIED,
    CX_DIP_MONTHS_BEFORE_END,
    GROWTH_PER_YEAR,
    NCH,
    S_CARD,
    S_CHANNEL,
    S_EMAIL,
    S_PHONE,
    S_REGDAY,
    S_REGTIME,
    S_STORE,
    SEASON,
    STORE_W,
    STORES,
    WEEKDAY,
)


@dataclass
class _Plan:
    """Calendar and volumes: everything decided before the first row is drawn."""

    seed: int
    orders: int
    start: date
    end: date
    months: int
    day0: int  # days since epoch of start
    n_days: int
    day_month: np.ndarray
    month_first: np.ndarray  # (months + 1,) first day index of each month
    labels: list[str]
    day_w: np.ndarray
    day_cum: np.ndarray
    orders_per_day: np.ndarray
    cust_per_month: np.ndarray
    cust_start: np.ndarray
    leads: np.ndarray  # (months, NCH) lead counts
    lead_expect: np.ndarray  # (months, NCH) leads without the collapse (spend basis)
    qual: np.ndarray  # (months, NCH)
    conv: np.ndarray  # (months, NCH)
    chan_cum: np.ndarray  # (months, NCH + 1) customer channel cumulative probabilities
    collapse_month: int
    cx_dip_month: int
    start_sec: int
    cutoff: int  # last second of end_date

    def month_end_sec(self, m: int) -> int:
        return (self.day0 + int(self.month_first[m + 1])) * 86400 - 1

    def month_of_sec(self, sec: np.ndarray) -> np.ndarray:
        day = (np.asarray(sec) // 86400 - self.day0).clip(0, self.n_days)
        ext = np.append(self.day_month, self.months)
        return ext[day]


def _make_plan(
    orders: int,
    seed: int,
    end: date,
    months: int,
    collapse_before_end: int = COLLAPSE_MONTHS_BEFORE_END,
) -> _Plan:
    start = _month_add(end, -(months - 1))
    day0 = (start - date(1970, 1, 1)).days
    n_days = (end - start).days + 1
    days = np.arange(day0, day0 + n_days)
    y, mo, d = _civil(days)
    month_idx = (y * 12 + mo) - (start.year * 12 + start.month)
    month_first = np.searchsorted(month_idx, np.arange(months + 1))
    years = (days - day0) / 365.25
    w = np.exp(GROWTH_PER_YEAR * years) * SEASON[mo - 1] * WEEKDAY[(days + 3) % 7]
    w = (
        w
        * np.where((mo == 12) & (d >= 15) & (d <= 30), 1.2, 1.0)
        * np.where((mo == 1) & (d <= 2), 0.5, 1.0)
    )
    labels = [f"{_month_add(start, k):%Y-%m}" for k in range(months)]
    month_w = np.add.reduceat(w, month_first[:-1])

    cust = _apportion(round(orders / 4), month_w)
    cust[0] = max(cust[0], 1)  # the first month's orders need somebody to buy
    cust_start = np.concatenate([[0], np.cumsum(cust)])

    collapse = months - 1 - collapse_before_end if months >= 8 else months // 2
    share = np.array([c.lead_share for c in CHANNELS])
    lead_w = month_w[:, None] * share[None, :]
    cidx = CH_CODES.index(COLLAPSE_CHANNEL)
    flood = lead_w.copy()
    flood[collapse, cidx] *= COLLAPSE_VOLUME
    total_leads = round(orders / 2)
    leads = _apportion(total_leads, flood)
    lead_expect = total_leads * lead_w / flood.sum()

    qual = np.tile([c.qual_rate for c in CHANNELS], (months, 1))
    qual[collapse, cidx] = COLLAPSE_QUAL_RATE
    cq = np.array([c.conv_if_qualified for c in CHANNELS])
    conv = qual * cq + (1 - qual) * CONV_IF_UNQUALIFIED
    exp_k = leads * conv  # expected converted leads per month and channel
    lead_share = np.minimum(exp_k.sum(1) / np.maximum(cust, 1), 0.85)
    probs = np.zeros((months, NCH + 1))
    probs[:, 0] = 1 - lead_share
    probs[:, 1:] = exp_k / np.maximum(exp_k.sum(1, keepdims=True), 1e-9) * lead_share[:, None]
    chan_cum = np.cumsum(probs, axis=1)
    chan_cum[:, -1] = 1.0

    return _Plan(
        seed=seed,
        orders=orders,
        start=start,
        end=end,
        months=months,
        day0=day0,
        n_days=n_days,
        day_month=month_idx,
        month_first=month_first,
        labels=labels,
        day_w=w,
        day_cum=np.concatenate([[0.0], np.cumsum(w)]),
        orders_per_day=_apportion(orders, w),
        cust_per_month=cust,
        cust_start=cust_start,
        leads=leads,
        lead_expect=lead_expect,
        qual=qual,
        conv=conv,
        chan_cum=chan_cum,
        collapse_month=collapse,
        cx_dip_month=max(months - 1 - CX_DIP_MONTHS_BEFORE_END, 0),
        start_sec=day0 * 86400,
        cutoff=(day0 + n_days) * 86400 - 1,
    )


class _Customers:
    """Customer attributes as pure functions of the customer number (0-based)."""

    def __init__(self, plan: _Plan):
        self.plan = plan
        self.seed = plan.seed
        self.store_cum = np.cumsum(STORE_W / STORE_W.sum())

    def month_of(self, i: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.plan.cust_start, i, side="right") - 1

    def channel_of(self, i: np.ndarray) -> np.ndarray:
        """0 = direct, k = CHANNELS[k - 1]."""
        u = _unif(self.seed, i, S_CHANNEL)
        cum = self.plan.chan_cum[self.month_of(i)]
        return np.minimum((cum[:, :-1] <= u[:, None]).sum(1), NCH)

    def registered(self, i: np.ndarray) -> np.ndarray:
        p = self.plan
        m = self.month_of(i)
        lo = p.day_cum[p.month_first[m]]
        hi = p.day_cum[p.month_first[m + 1]]
        target = lo + _unif(self.seed, i, S_REGDAY) * (hi - lo)
        day = np.searchsorted(p.day_cum, target, side="right") - 1
        day = np.clip(day, p.month_first[m], p.month_first[m + 1] - 1)
        tod = (8 * 3600 + _unif(self.seed, i, S_REGTIME) * 14 * 3600).astype(np.int64)
        return (p.day0 + day) * 86400 + tod

    def home_store(self, i: np.ndarray) -> np.ndarray:
        return np.minimum(
            np.searchsorted(self.store_cum, _unif(self.seed, i, S_STORE)), len(STORES) - 1
        )

    def has_email(self, i: np.ndarray) -> np.ndarray:
        return _unif(self.seed, i, S_EMAIL) < 0.9

    def has_phone(self, i: np.ndarray) -> np.ndarray:
        return _unif(self.seed, i, S_PHONE) < 0.85

    def has_card(self, i: np.ndarray) -> np.ndarray:
        return _unif(self.seed, i, S_CARD) < 0.6
