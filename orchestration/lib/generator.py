"""Deterministic demo landing data: a retailer's two-plus years, a story to find, bad input to catch.

Why a generator and not fixtures: the pipeline must be exercised at every scale
(1k to 50M orders) with the same story and the same planted defects, so unit
tests, integration tests, the demo and the benchmarks all start here.

How it stays fast and bounded at 50M orders:
- Per-customer attributes (registration time, acquisition channel, home store,
  which contact details exist, the contact details themselves) are pure hash
  functions of the customer number. An order placed two years after its
  customer registered looks the customer up without 12M customers in memory.
- Everything else is drawn from a numpy Generator seeded per (feed, month,
  chunk), so the output depends only on (orders, seed, end_date, months).
- Rows are built as numpy/arrow columns, a month (or <= CHUNK_ORDERS orders)
  at a time, and written with pyarrow (CSV, Parquet) or DuckDB (JSON Lines).
  The only Python loops run over months, chunks, channels and planted rows.

The manifest (landing_dir/_manifest.json, outside the feed folders) tells
tests what ingestion must find: every file, every planted bad row with its
rule, rejected and twice-landed files, corrections, and the number of distinct
keys each raw table should hold afterwards.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from orchestration.lib.feeds import (
    CONTACT_CHANNELS,
    FEEDS,
    FULFILMENTS,
    ORDER_STATUSES,
    RULES,
    SALES_CHANNELS,
)

MANIFEST_NAME = "_manifest.json"
# Orders per chunk: bounds memory (items ~2.5x, answers ~0.6x of it) at any scale.
CHUNK_ORDERS = 400_000
# Customers / leads rows per written slice.
SLICE_ROWS = 500_000
# Ids have 8 digits; planted rows get ids from PLANT_ID up, above any generated id.
MAX_ORDERS = 80_000_000
PLANT_ID = 90_000_000
# Person number spaces (contact details are a bijection of the person number,
# so spaces that do not overlap give contact details that never collide).
LEAD_PERSON_BASE = 100_000_000
UNKNOWN_PERSON_BASE = 300_000_000
LEAD_DUPLICATE_DAYS = 7
OFFSET_SHARE_SURVEYS = 0.2
OFFSET_SHARE_LEADS = 0.05

# --------------------------------------------------------------------------- the demo world


@dataclass(frozen=True)
class ChannelProfile:
    """How leads and customers from a channel behave; seeds/channels.csv has the same codes."""

    code: str
    name: str
    group: str
    is_paid: bool
    lead_share: float  # share of all leads
    qual_rate: float  # qualified / leads
    conv_if_qualified: float  # share of qualified leads that become customers
    cpl: float  # RUB per lead (paid channels)
    cpm: float  # RUB per 1000 impressions
    ctr: float
    campaigns: tuple[tuple[str, float], ...]
    basket: float  # basket value of its customers (1 = average)
    activation: float  # first-month buying, relative
    retention: float  # repeat buying, relative
    mood: float  # satisfaction shift of its customers


# fmt: off
CHANNELS: tuple[ChannelProfile, ...] = (
    ChannelProfile(
        "paid_search", "Paid search", "paid", True, 0.25, 0.35, 0.75, 450, 300, 0.04,
        (("search_brand", 0.3), ("search_generic", 0.5), ("search_shopping", 0.2)),
        1.0, 1.0, 1.0, 0.0,
    ),
    ChannelProfile(
        "paid_social", "Paid social", "paid", True, 0.22, 0.30, 0.75, 350, 150, 0.012,
        (("social_vk_feed", 0.45), ("social_tg_ads", 0.35), ("social_lookalike", 0.2)),
        0.95, 0.9, 0.9, 0.0,
    ),
    ChannelProfile(
        "display", "Display network", "paid", True, 0.18, 0.08, 0.5, 70, 40, 0.003,
        (("display_retargeting", 0.4), ("display_prospecting", 0.6)),
        0.6, 0.5, 0.45, -0.2,
    ),
    ChannelProfile(
        "influencer", "Influencer partnerships", "paid", True, 0.06, 0.55, 0.8, 1800, 250, 0.02,
        (("influencer_beauty", 0.5), ("influencer_tech", 0.5)),
        1.7, 1.3, 1.6, 0.4,
    ),
    ChannelProfile(
        "email", "Email newsletter", "organic", False, 0.08, 0.40, 0.75, 0, 0, 0,
        (("email_weekly", 0.7), ("email_promo", 0.3)),
        1.05, 1.1, 1.2, 0.1,
    ),
    ChannelProfile(
        "organic_search", "Organic search", "organic", False, 0.12, 0.40, 0.75, 0, 0, 0,
        (), 1.0, 1.0, 1.0, 0.0,
    ),
    ChannelProfile(
        "referral", "Refer a friend", "referral", False, 0.05, 0.60, 0.8, 0, 0, 0,
        (("refer_a_friend", 1.0),), 1.2, 1.2, 1.3, 0.3,
    ),
    ChannelProfile(
        "offline_store", "In-store sign-up", "offline", False, 0.04, 0.50, 0.75, 0, 0, 0,
        (), 1.0, 1.1, 1.1, 0.1,
    ),
)
# fmt: on
NCH = len(CHANNELS)
CH_CODES = [c.code for c in CHANNELS]
CONV_IF_UNQUALIFIED = 0.03
# Index 0 of these per-customer arrays is "direct" (no lead), 1.. the channels.
BASKET = np.array([1.0] + [c.basket for c in CHANNELS])
ACTIVATION = np.array([1.0] + [c.activation for c in CHANNELS])
RETENTION = np.array([1.0] + [c.retention for c in CHANNELS])
CH_MOOD = np.array([0.0] + [c.mood for c in CHANNELS])

# The lead-quality collapse: a flood of cheap, unqualified leads in one channel.
COLLAPSE_CHANNEL = "paid_social"
COLLAPSE_VOLUME = 2.5  # leads x2.5
COLLAPSE_SPEND = 1.25  # spend x1.25, so CPL halves
COLLAPSE_QUAL_RATE = 0.05  # from 0.30
COLLAPSE_MONTHS_BEFORE_END = 5

DISQ_REASONS = ("no_budget", "wrong_contact", "not_interested", "duplicate", "spam")
DISQ_P_DEFAULT = (0.30, 0.15, 0.35, 0.10, 0.10)
DISQ_P_DISPLAY = (0.15, 0.30, 0.25, 0.10, 0.20)
DISQ_P_COLLAPSE = (0.05, 0.30, 0.25, 0.05, 0.35)


@dataclass(frozen=True)
class StoreProfile:
    store_id: str
    name: str
    region: str
    city: str
    format: str
    opened_on: str
    utc_offset: int  # hours; the survey tool sometimes exports local time
    mood: float  # CX shift: the two bad stores are clearly below the rest


# fmt: off
STORES: tuple[StoreProfile, ...] = (
    StoreProfile("S01", "Moscow Tverskaya", "Central", "Moscow", "hypermarket", "2015-03-01", 3, 0.2),
    StoreProfile("S02", "Moscow Yasenevo", "Central", "Moscow", "supermarket", "2016-09-15", 3, 0.1),
    StoreProfile("S03", "Khimki Park", "Central", "Khimki", "hypermarket", "2018-04-20", 3, 0.1),
    StoreProfile("S04", "Tula Center", "Central", "Tula", "supermarket", "2019-06-01", 3, 0.0),
    StoreProfile("S05", "St Petersburg Nevsky", "North-West", "Saint Petersburg", "hypermarket", "2014-11-10", 3, 0.2),
    StoreProfile("S06", "St Petersburg Ozerki", "North-West", "Saint Petersburg", "supermarket", "2017-05-12", 3, 0.1),
    StoreProfile("S07", "Petrozavodsk Lenina", "North-West", "Petrozavodsk", "express", "2020-08-01", 3, -0.9),
    StoreProfile("S08", "Kazan Baumana", "Volga", "Kazan", "hypermarket", "2016-02-01", 3, 0.15),
    StoreProfile("S09", "Samara Mall", "Volga", "Samara", "supermarket", "2018-10-10", 4, 0.0),
    StoreProfile("S10", "Nizhny Novgorod Sormovo", "Volga", "Nizhny Novgorod", "supermarket", "2021-03-15", 3, -0.75),
    StoreProfile("S11", "Yekaterinburg Center", "Ural", "Yekaterinburg", "hypermarket", "2017-09-01", 5, 0.1),
    StoreProfile("S12", "Chelyabinsk Kirova", "Ural", "Chelyabinsk", "supermarket", "2021-04-01", 5, 0.0),
)
# fmt: on
BAD_STORES = ("S07", "S10")
# The service dip: in one month (CX_DIP_MONTHS_BEFORE_END before the newest, so
# the last complete one) the two bad stores get worse still, on every answer
# answered in that month, and their unhappy customers answer the survey more
# often: CSI falls, and the bad stores are the reason.
CX_DIP_MONTHS_BEFORE_END = 1
CX_DIP_SHIFT = 2.5  # satisfaction shift (z units) of their answers that month
CX_DIP_RESPONSE = 4.0  # x the response rate of their orders that month
_FORMAT_WEIGHT = {"hypermarket": 1.5, "supermarket": 1.0, "express": 0.6}
STORE_W = np.array([_FORMAT_WEIGHT[s.format] for s in STORES])
STORE_MOOD = np.array([s.mood for s in STORES])
STORE_OFFSET = np.array([s.utc_offset for s in STORES])
STORE_BAD = np.array([s.store_id in BAD_STORES for s in STORES])
REGIONS = sorted({s.region for s in STORES})
STORE_REGION = np.array([REGIONS.index(s.region) for s in STORES])

# Categories: code for SKUs, share of lines, price range (RUB), margin, SKUs.
CATEGORIES = (
    ("electronics", "EL", 0.10, 1500, 60000, 0.12, 400),
    ("home", "HM", 0.15, 200, 8000, 0.35, 800),
    ("apparel", "AP", 0.17, 500, 7000, 0.50, 1200),
    ("beauty", "BT", 0.13, 150, 4000, 0.45, 700),
    ("grocery", "GR", 0.22, 40, 900, 0.20, 1500),
    ("kids", "KD", 0.09, 200, 5000, 0.35, 600),
    ("sports", "SP", 0.08, 300, 15000, 0.35, 500),
    ("books", "BK", 0.06, 150, 1500, 0.30, 900),
)
CAT_P = np.array([c[2] for c in CATEGORIES]) / sum(c[2] for c in CATEGORIES)
CAT_LO = np.array([c[3] for c in CATEGORIES], float)
CAT_HI = np.array([c[4] for c in CATEGORIES], float)
CAT_MARGIN = np.array([c[5] for c in CATEGORIES])
CAT_SKUS = np.array([c[6] for c in CATEGORIES])
GROCERY = 4

# Seasonality: calendar month, weekday (Mon..Sun), hours.
SEASON = np.array([0.88, 0.85, 0.95, 0.97, 1.0, 0.85, 0.80, 0.84, 1.0, 1.05, 1.22, 1.55])
WEEKDAY = np.array([0.92, 0.90, 0.93, 0.97, 1.08, 1.18, 1.02])
GROWTH_PER_YEAR = 0.30  # log growth
ORDER_HOURS = np.array(
    [2, 1, 1, 1, 1, 2, 4, 7, 10, 13, 16, 18, 20, 20, 19, 19, 20, 22, 25, 26, 23, 18, 10, 5], float
)
STORE_HOURS = np.zeros(24)
STORE_HOURS[9:22] = [6, 10, 13, 15, 16, 15, 15, 16, 18, 20, 18, 14, 8]
ORDER_HOURS /= ORDER_HOURS.sum()
STORE_HOURS /= STORE_HOURS.sum()

# Orders: sales channel mix, fulfilment per sales channel, delivery promises.
SC_STORE, SC_WEB, SC_APP, SC_MARKET = (
    SALES_CHANNELS.index(s) for s in ("store", "web", "app", "marketplace")
)
SALES_P = np.zeros(len(SALES_CHANNELS))
SALES_P[[SC_STORE, SC_WEB, SC_APP, SC_MARKET]] = [0.45, 0.28, 0.19, 0.08]
F = {f: FULFILMENTS.index(f) for f in FULFILMENTS}
ONLINE_FULFIL_P = np.zeros(len(FULFILMENTS))
ONLINE_FULFIL_P[[F["pickup"], F["courier"], F["express"], F["next_day"], F["pickup_point"]]] = [
    0.25,
    0.33,
    0.08,
    0.12,
    0.22,
]
MARKET_FULFIL_P = np.zeros(len(FULFILMENTS))
MARKET_FULFIL_P[[F["pickup_point"], F["courier"]]] = [0.55, 0.45]
PROMISE_H = {  # fulfilment: (min hours, max hours, late probability)
    "in_store": (0, 0, 0.0),
    "pickup": (4, 28, 0.04),
    "courier": (24, 72, 0.25),
    "express": (2, 4, 0.03),
    "next_day": (18, 36, 0.03),
    "pickup_point": (48, 120, 0.04),
}
LATE_FULFILMENT = "courier"
PROMISE_LO = np.array([PROMISE_H[f][0] for f in FULFILMENTS], float) * 3600
PROMISE_HI = np.array([PROMISE_H[f][1] for f in FULFILMENTS], float) * 3600
LATE_P = np.array([PROMISE_H[f][2] for f in FULFILMENTS])
CANCEL_P = np.array(
    [{"in_store": 0.01, "pickup": 0.11, "pickup_point": 0.10}.get(f, 0.07) for f in FULFILMENTS]
)
SHIPPED_TYPES = np.array(
    [f in ("courier", "express", "next_day", "pickup_point") for f in FULFILMENTS]
)
ST = {s: ORDER_STATUSES.index(s) for s in ORDER_STATUSES}

# Surveys: (survey, question) and how often each is answered by order type
# (0 store visit, 1 pickup, 2 delivery).
QUESTIONS = (
    ("nps", "recommend", (0.8, 0.8, 0.8), 0.0),
    ("csi", "store_visit", (0.7, 0.0, 0.0), 0.0),
    ("csi", "order", (0.0, 0.7, 0.7), 0.0),
    ("cx", "queue", (0.45, 0.2, 0.0), -0.2),
    ("cx", "prices", (0.45, 0.3, 0.3), -0.4),
    ("cx", "assortment", (0.4, 0.3, 0.3), 0.0),
    ("cx", "staff", (0.45, 0.3, 0.0), 0.1),
    ("cx", "checkout", (0.35, 0.0, 0.1), 0.0),
    ("cx", "delivery", (0.0, 0.0, 0.5), -0.1),
    ("cx", "packaging", (0.0, 0.2, 0.4), 0.1),
    ("cx", "pickup", (0.0, 0.5, 0.0), 0.0),
)
Q_SURVEY = np.array([("nps", "csi", "cx").index(q[0]) for q in QUESTIONS])
Q_P = np.array([q[2] for q in QUESTIONS]).T  # (order type, question)
Q_EFFECT = np.array([q[3] for q in QUESTIONS])
Q_INDEX = {q[1]: i for i, q in enumerate(QUESTIONS)}
RESPONSE_P = 0.19
COMMENTS = (
    "Всё отлично, спасибо!",
    "Долго ждал курьера",
    "Очередь на кассе, работала одна касса",
    "Great prices, will come back",
    'Консультант сказал "нет в наличии", а товар был на полке',
    "Упаковка помята, товар цел",
    "Delivery was late, again",
    "Персонал вежливый, но медленный",
)
SUPPORT_REASONS = (
    "late_delivery",
    "return",
    "cancellation",
    "order_status",
    "payment",
    "product_question",
    "damaged_item",
)

# fmt: off
FIRST_NAMES = (
    "ivan", "petr", "sergey", "dmitry", "alexey", "andrey", "mikhail", "nikolay", "pavel", "oleg",
    "artem", "maxim", "egor", "kirill", "roman", "denis", "anna", "maria", "olga", "elena",
    "natalia", "irina", "tatiana", "svetlana", "ekaterina", "yulia", "daria", "polina", "sofia", "ksenia",
    "vera", "alina", "victoria", "marina", "galina", "lyudmila", "anastasia", "valeria", "igor", "yuri",
)
# fmt: on
# fmt: off
LAST_NAMES = (
    "ivanov", "petrov", "smirnov", "kuznetsov", "popov", "vasiliev", "sokolov", "mikhailov", "novikov",
    "fedorov", "morozov", "volkov", "alekseev", "lebedev", "semenov", "egorov", "pavlov", "kozlov",
    "stepanov", "nikolaev", "orlov", "andreev", "makarov", "nikitin", "zakharov", "zaitsev", "soloviev",
    "borisov", "yakovlev", "grigoriev", "romanov", "vorobiev", "sergeev", "kuzmin", "frolov", "titov",
    "belov", "kiselev", "markov", "gusev", "tarasov", "belyaev", "komarov", "antonov", "filippov",
    "davydov", "medvedev", "ershov", "nikiforov", "sidorov",
)
# fmt: on
DOMAINS = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru", "list.ru", "rambler.ru")
DOMAINS_CASED = ("Mail.RU", "Yandex.ru", "Gmail.com", "BK.ru", "Inbox.Ru", "List.RU", "Rambler.ru")

PHONE_TEMPLATES = (
    b"+7 (###) ###-##-##",
    b"8 ### ### ## ##",
    b"7##########",
    b"+7-###-###-####",
    b"+7##########",
)
CARD_TEMPLATES = (b"2000############", b"2000 #### #### ####", b"2000-####-####-####")
TS_SPACE, TS_T, TS_OFFSET = 0, 1, 2
TS_TEMPLATES = (b"####-##-## ##:##:##", b"####-##-##T##:##:##", b"####-##-##T##:##:##+0#:00")

# Streams for hash-derived customer attributes.
S_CHANNEL, S_REGDAY, S_REGTIME, S_STORE, S_EMAIL, S_PHONE, S_CARD, S_SKU, S_SKU2 = range(1, 10)
FEED_STREAM = {name: i for i, name in enumerate(FEEDS, start=11)}
FEED_STREAM["marketing"] = 30


def channels_seed_rows() -> list[dict[str, str]]:
    """The demo channels as seeds/channels.csv holds them (tests compare the two)."""
    return [
        {
            "channel": c.code,
            "name": c.name,
            "channel_group": c.group,
            "is_paid": str(c.is_paid).lower(),
        }
        for c in CHANNELS
    ]


def stores_seed_rows() -> list[dict[str, str]]:
    """The demo stores as seeds/stores.csv holds them (tests compare the two)."""
    return [
        {
            "store_id": s.store_id,
            "name": s.name,
            "region": s.region,
            "city": s.city,
            "format": s.format,
            "opened_on": s.opened_on,
        }
        for s in STORES
    ]


# --------------------------------------------------------------------------- small helpers

_U64 = np.uint64


def _hash(seed: int, x: np.ndarray, stream: int) -> np.ndarray:
    """splitmix64 of (seed, stream, x): a stateless random number per customer/SKU."""
    with np.errstate(over="ignore"):
        salt = _U64((seed * 0x9E3779B97F4A7C15 + stream * 0xD1B54A32D192ED03) & 0xFFFFFFFFFFFFFFFF)
        z = x.astype(np.uint64) * _U64(0x9E3779B97F4A7C15) + salt
        z ^= z >> _U64(30)
        z *= _U64(0xBF58476D1CE4E5B9)
        z ^= z >> _U64(27)
        z *= _U64(0x94D049BB133111EB)
        z ^= z >> _U64(31)
    return z


def _unif(seed: int, x: np.ndarray, stream: int) -> np.ndarray:
    return (_hash(seed, x, stream) >> _U64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to weights summing exactly to total (largest remainder)."""
    w = np.asarray(weights, float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(w.shape, np.int64)
    exact = (total * w / w.sum()).ravel()
    out = np.floor(exact).astype(np.int64)
    rest = int(total - out.sum())
    out[np.argsort(-(exact - out), kind="stable")[:rest]] += 1
    return out.reshape(w.shape)


def _digits(v: np.ndarray, width: int) -> np.ndarray:
    """(n, width) decimal digits of non-negative integers, zero padded."""
    v = np.asarray(v, np.int64).copy()
    out = np.empty((len(v), width), np.uint8)
    for k in range(width - 1, -1, -1):
        v, r = np.divmod(v, 10)
        out[:, k] = r
    return out


def _render(
    templates: Sequence[bytes],
    style: np.ndarray | int,
    digits: np.ndarray,
    valid: np.ndarray | None = None,
) -> pa.Array:
    """Strings from fixed-width templates ('#' = next digit), one template per row.

    Building the bytes in numpy and wrapping them as an arrow array is ~10x
    faster than per-row formatting, and this is where most rows are made.
    """
    n = len(digits)
    style = np.full(n, style, np.int8) if np.isscalar(style) else np.asarray(style)
    widths = np.array([len(t) for t in templates], np.int64)
    lens = widths[style]
    if valid is not None:
        lens = np.where(valid, lens, 0)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    data = np.empty(int(offsets[-1]), np.uint8)
    for s, tpl in enumerate(templates):
        mask = style == s
        if valid is not None:
            mask &= valid
        rows = np.flatnonzero(mask)
        if not len(rows):
            continue
        t = np.frombuffer(tpl, np.uint8)
        slots = np.flatnonzero(t == ord("#"))
        mat = np.empty((len(rows), len(t)), np.uint8)
        mat[:] = t
        mat[:, slots] = digits[rows][:, : len(slots)] + 48
        if len(rows) == n:
            data[:] = mat.ravel()
        else:
            data[offsets[rows][:, None] + np.arange(len(t))] = mat
    validity = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data), validity
    )


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days since 1970-01-01 -> (year, month, day); H. Hinnant's algorithm, vectorised."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


def _ts_strings(
    sec: np.ndarray,
    style: np.ndarray | int = TS_SPACE,
    offset_h: np.ndarray | int = 3,
    valid: np.ndarray | None = None,
) -> pa.Array:
    """ISO 8601 strings; TS_OFFSET rows show local time with a +0H:00 offset."""
    sec = np.asarray(sec, np.int64)
    n = len(sec)
    style = np.full(n, style, np.int8) if np.isscalar(style) else np.asarray(style, np.int8)
    off = np.broadcast_to(np.asarray(offset_h, np.int64), (n,))
    local = np.where(style == TS_OFFSET, sec + off * 3600, sec)
    if valid is not None:
        local = np.where(valid, local, 0)
    days, rem = np.divmod(local, 86400)
    y, m, d = _civil(days)
    packed = (
        (((y * 100 + m) * 100 + d) * 100 + rem // 3600) * 100 + rem // 60 % 60
    ) * 100 + rem % 60
    return _render(TS_TEMPLATES, style, _digits(packed * 10 + off, 15), valid)


def _ts_typed(sec: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Naive timestamps; pyarrow's CSV writer prints them as 'YYYY-MM-DD HH:MM:SS'."""
    mask = None if valid is None else ~valid
    return pa.array(np.asarray(sec, np.int64), pa.timestamp("s"), mask=mask)


def _ids(prefix: str, nums: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return _render([prefix.encode() + b"#" * 8], 0, _digits(nums, 8), valid)


def _money(cents: np.ndarray) -> pa.Array:
    """Integer cents -> decimal(18,2): printed with exactly two decimals."""
    cents = np.asarray(cents, np.int64)
    buf = np.empty((len(cents), 2), np.int64)
    buf[:, 0] = cents
    buf[:, 1] = cents >> 63
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(buf)])


def _codes(values: Sequence[str], idx: np.ndarray) -> pa.Array:
    """Code strings by index; negative index = null."""
    idx = np.asarray(idx, np.int64)
    return pc.take(pa.array(list(values), pa.string()), pa.array(np.maximum(idx, 0), mask=idx < 0))


_ARROW_TYPES = {
    "str": pa.string(),
    "int": pa.int64(),
    "dec": pa.decimal128(18, 2),
    "ts": pa.timestamp("s"),
    "date": pa.date32(),
}


def _arrow_schema(feed: str) -> pa.Schema:
    """The typed schema for Parquet files of a feed, from the contract."""
    return pa.schema([(c.name, _ARROW_TYPES[c.type]) for c in FEEDS[feed].columns])


def _fmt_sec(sec: int, sep: str = " ") -> str:
    return datetime.fromtimestamp(int(sec), UTC).strftime(f"%Y-%m-%d{sep}%H:%M:%S")


def _csv_line(values: Sequence[object]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["" if v is None else str(v) for v in values])
    return buf.getvalue()


def _month_add(d: date, months: int) -> date:
    k = d.year * 12 + d.month - 1 + months
    return date(k // 12, k % 12 + 1, 1)


# --------------------------------------------------------------------------- contact details


def _person_mix(p: np.ndarray, a: int, b: int, mod: int) -> np.ndarray:
    """A bijection of [0, mod): distinct persons get distinct contact details."""
    return (np.asarray(p, np.int64) * a + b) % mod


def _emails(p: np.ndarray, style: np.ndarray) -> pa.Array:
    """Email per person. Style 0 lower case, 1 capitalised ('Ivan.Petrov12@Mail.RU'),
    2 upper case with surrounding spaces: all normalise (trim + lower) to style 0."""
    s = _person_mix(p, 387_420_489, 123_456_789, 1_000_000_000)
    s, first = np.divmod(s, len(FIRST_NAMES))
    s, last = np.divmod(s, len(LAST_NAMES))
    suffix, dom = np.divmod(s, len(DOMAINS))
    num = pc.cast(pa.array(suffix), pa.string())
    lower = pc.binary_join_element_wise(
        pc.take(pa.array(FIRST_NAMES), pa.array(first)),
        ".",
        pc.take(pa.array(LAST_NAMES), pa.array(last)),
        num,
        "@",
        pc.take(pa.array(DOMAINS), pa.array(dom)),
        "",
    )
    style = np.asarray(style, np.int8)
    if not (style > 0).any():
        return lower
    caps = pc.binary_join_element_wise(
        pc.take(pa.array([f.capitalize() for f in FIRST_NAMES]), pa.array(first)),
        ".",
        pc.take(pa.array([x.capitalize() for x in LAST_NAMES]), pa.array(last)),
        num,
        "@",
        pc.take(pa.array(DOMAINS_CASED), pa.array(dom)),
        "",
    )
    spaced = pc.binary_join_element_wise(" ", pc.utf8_upper(lower), " ", "")
    return pc.choose(pa.array(style), lower, caps, spaced)


def _phone_digits(p: np.ndarray) -> np.ndarray:
    """The 10 digits after the country code: 9XX XXX XX XX."""
    d = _digits(_person_mix(p, 129_140_163, 987_654_321, 1_000_000_000), 10)
    d[:, 0] = 9  # the number is < 10^9, so this digit was 0
    return d


def _phones(p: np.ndarray, style: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return _render(PHONE_TEMPLATES, style, _phone_digits(p), valid)


def _cards(p: np.ndarray, style: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return _render(
        CARD_TEMPLATES, style, _digits(_person_mix(p, 3_486_784_401, 55_555, 10**12), 12), valid
    )


def phone_e164(p: int) -> str:
    """The normalised phone (11 digits, leading 7) of a person, for tests and plants."""
    return "7" + "".join(str(x) for x in _phone_digits(np.array([p]))[0])


# --------------------------------------------------------------------------- the plan


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


# --------------------------------------------------------------------------- writing files


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


# --------------------------------------------------------------------------- the generator


class _Generator:
    def __init__(self, landing_dir: Path, plan: _Plan, plant: bool):
        self.plan = plan
        self.seed = plan.seed
        self.cm = _Customers(plan)
        self.out = _Landing(landing_dir)
        self.plant = plant
        self.store_response = RESPONSE_P  # generate(store_response=...) may raise it
        self.next_lead = 0
        self.next_order = 0
        self.next_answer = 0
        self.next_contact = 0
        self.pending: dict[str, list[tuple[np.ndarray, pa.Table]]] = {
            "survey_answers": [],
            "support_contacts": [],
        }
        self.tz_examples: list[dict] = []
        self.captured: dict[str, object] = {}
        m = plan.months
        self.inline_month = m // 2
        self.gz_month = 1 if m > 1 else 0
        self.jsonl_months = {0, 1} if m > 2 else {0}
        self.correction_month = max(m - 3, 0)
        self.resync_month = max(m - 2, 0)
        self.counts: Counter[str] = Counter()

    def rng(self, feed: str, m: int, part: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, FEED_STREAM[feed], m, part])

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

    # ------------------------------------------------------------ the story's guaranteed rows

    def _story_leads(self, w: _FileWriter, lead: dict[str, np.ndarray]) -> None:
        """Lead-quality plants: valid for ingestion, flagged by the quality gate later."""
        if not self.plant:
            return
        p = self.plan
        old = lead["created"] <= p.cutoff - 3 * 86400
        items: list[dict] = []
        base = _fmt_sec(p.cutoff - 5 * 86400, "T")

        def row(n: int, **kw: object) -> dict:
            values = {
                "lead_id": f"L{PLANT_ID + n}",
                "created_at": base,
                "channel": "paid_social",
                "campaign": "social_vk_feed",
                "email": None,
                "phone": None,
                "qualified_at": None,
                "disqualified_reason": None,
                "customer_id": None,
            }
            values.update(kw)
            return values

        ghost = UNKNOWN_PERSON_BASE - 1000
        # One or two per channel, so that no channel's invalid share trips the gate at small scale.
        plants = [
            (row(101), "lead_contactable", None),
            (
                row(
                    102,
                    channel="display",
                    campaign="display_prospecting",
                    disqualified_reason="wrong_contact",
                ),
                "lead_contactable",
                None,
            ),
            (
                row(103, channel="paid_search", campaign="search_generic", email="ivan.petrov@"),
                "lead_contactable",
                None,
            ),
            # a mistyped year: in the future for any run within ten years of end_date
            (
                row(
                    104,
                    channel="organic_search",
                    campaign=None,
                    created_at=f"{p.end.year + 10}-01-15T10:00:00",
                    phone=phone_e164(ghost + 4),
                ),
                "created_at_not_future",
                None,
            ),
            (
                row(
                    105,
                    channel="email",
                    campaign="email_weekly",
                    phone=phone_e164(ghost + 5),
                    qualified_at=_fmt_sec(p.cutoff - 7 * 86400, "T"),
                ),
                "qualified_after_created",
                None,
            ),
            (
                row(
                    106,
                    channel="referral",
                    campaign="refer_a_friend",
                    phone=phone_e164(ghost + 6),
                    qualified_at=_fmt_sec(p.cutoff - 4 * 86400, "T"),
                    disqualified_reason="no_budget",
                ),
                "qualified_xor_disqualified",
                None,
            ),
        ]
        with_email = np.flatnonzero(old & (lead["contact"] != 1))
        with_phone = np.flatnonzero(old & (lead["contact"] != 2))
        if len(with_email):
            j = with_email[-1]
            email = _emails(lead["person"][[j]], np.array([2])).to_pylist()[0]
            plants.append(
                (
                    row(107, created_at=_fmt_sec(lead["created"][j] + 2 * 86400, "T"), email=email),
                    "duplicate_lead",
                    f"L{lead['num'][j] + 1:08d}",
                )
            )
        if len(with_phone):
            j = with_phone[-2] if len(with_phone) > 1 else with_phone[-1]
            phone = _phones(lead["person"][[j]], np.array([1])).to_pylist()[0]
            plants.append(
                (
                    row(
                        108,
                        created_at=_fmt_sec(lead["created"][j] + 86400, "T"),
                        phone=phone,
                        channel="display",
                        campaign="display_retargeting",
                    ),
                    "duplicate_lead",
                    f"L{lead['num'][j] + 1:08d}",
                )
            )
        for values, expectation, dup in plants:
            w.add(_Raw(values))
            item = {"lead_id": values["lead_id"], "expectation": expectation}
            if dup:
                item["duplicate_of"] = dup
            items.append(item)
        self.captured["lead_quality"] = items

    def _story_callbacks(self, w: _FileWriter) -> None:
        """Low scores on the last day, one per way of identifying the respondent."""
        p, cm = self.plan, self.cm
        pool = np.arange(min(int(p.cust_start[-1]), 200_000), dtype=np.int64)
        t = p.cutoff - 86400 + 10 * 3600
        found = []
        for mode, flag in (
            ("customer_id", None),
            ("email", cm.has_email),
            ("phone", cm.has_phone),
            ("loyalty_card_id", cm.has_card),
        ):
            cand = pool if flag is None else pool[flag(pool)]
            cand = cand[cm.registered(cand) < t - 86400]
            if not len(cand):
                continue
            i = int(cand[(len(found) * 7919 + self.seed) % len(cand)])
            found.append((mode, i))
        callbacks = []
        for j, (mode, i) in enumerate(found):
            values = {
                "answer_id": f"A{self.next_answer + 1:08d}",
                "answered_at": _fmt_sec(t + j * 1800),
                "survey": "csi" if j % 2 == 0 else "cx",
                "question": "store_visit" if j % 2 == 0 else "queue",
                "score": 1 + j % 2,
                "store_id": BAD_STORES[j % 2],
                "order_id": None,
                "customer_id": None,
                "email": None,
                "phone": None,
                "loyalty_card_id": None,
                "comment": None,
            }
            ii = np.array([i])
            if mode == "customer_id":
                values["customer_id"] = f"C{i + 1:08d}"
                values["comment"] = "Очередь 40 минут, перезвоните мне"
            elif mode == "email":
                values["email"] = _emails(ii, np.array([2])).to_pylist()[0]
            elif mode == "phone":
                values["phone"] = _phones(ii, np.array([1])).to_pylist()[0]
            else:
                values["loyalty_card_id"] = _cards(ii, np.array([1])).to_pylist()[0]
            self.next_answer += 1
            w.add(_Raw(values))
            callbacks.append(
                {
                    "answer_id": values["answer_id"],
                    "identified_by": mode,
                    "customer_id": f"C{i + 1:08d}",
                    "score": values["score"],
                }
            )
        self.captured["callbacks"] = callbacks

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
        rows = [
            (self._survey_row(PLANT_ID + 601, m, score=11), "out_of_range"),
            (
                self._survey_row(PLANT_ID + 602, m, survey="csi", question="order", score="abc"),
                "wrong_type",
            ),
            (self._survey_row(PLANT_ID + 603, m, answer_id=None), "missing_required"),
        ]
        for values, rule in rows:
            w.add(_Raw(values, rule=rule, key={"answer_id": values["answer_id"]}))

    def _capture_corrections(self, table: pa.Table) -> None:
        status = np.asarray(table["status"].to_pylist(), dtype=object)
        rows = np.flatnonzero(status == "delivered")
        rows = rows[rows >= 2][-5:]  # rows 0-1 may be copied by inline plants
        self.captured["orders_correction"] = [self._row_from(table, int(j)) for j in rows]

    # ------------------------------------------------------------ dedicated plant files

    def dedicated_plants(self) -> None:
        p = self.plan
        m = self.inline_month
        mid = p.month_end_sec(m) - 10 * 86400
        ts = _fmt_sec(mid)
        ts_t = _fmt_sec(mid, "T")
        out = self.out

        # orders: one of each row rule, then file-level plants.
        def order(n: int, **kw: object) -> dict:
            values = {
                "order_id": f"O{PLANT_ID + n}",
                "customer_id": "C00000001",
                "ordered_at": ts,
                "status": "delivered",
                "sales_channel": "web",
                "store_id": None,
                "fulfilment": "courier",
                "promised_at": _fmt_sec(mid + 2 * 86400),
                "delivered_at": _fmt_sec(mid + 86400),
                "currency": "RUB",
            }
            values.update(kw)
            return values

        w = out.open("orders", "orders_planted_bad_rows")
        good1 = order(1)
        rows = [
            (good1, None),
            (order(2, customer_id=None), "missing_required"),
            (order(3, order_id=None), "missing_required"),
            (order(4, ordered_at="2025-13-45 10:00:00"), "wrong_type"),
            (order(5, store_id="S99", fulfilment="pickup"), "unknown_code"),
            (order(6, status="lost"), "unknown_code"),
            (order(7, fulfilment="drone"), "unknown_code"),
            (
                order(
                    8,
                    sales_channel="store",
                    fulfilment="in_store",
                    promised_at=None,
                    delivered_at=ts,
                ),
                "store_required",
            ),
            (order(9, fulfilment="pickup"), "store_required"),
            (order(10, currency="USD"), "foreign_currency"),
            (order(11, currency="EUR"), "foreign_currency"),
            (dict(good1, status="cancelled", delivered_at=None), "duplicate_key_in_file"),
            (order(12), None),
        ]
        for values, rule in rows:
            w.add(_Raw(values, rule=rule, key=self._key("orders", values) if rule else None))
        w.add(
            _Raw(
                raw=f'O{PLANT_ID + 13},C00000001,{ts},delivered,"web,,courier,,,RUB\n'.encode(),
                rule="malformed_line",
                key={"order_id": f"O{PLANT_ID + 13}"},
            )
        )
        w.add(_Raw(order(14)))
        w.add(
            _Raw(
                raw=_csv_line(list(order(15).values()) + ["extra", "columns"]).encode(),
                rule="malformed_line",
                key={"order_id": f"O{PLANT_ID + 15}"},
            )
        )
        w.add(
            _Raw(
                raw=_csv_line(list(order(16).values())[:6]).encode(),
                rule="malformed_line",
                key={"order_id": f"O{PLANT_ID + 16}"},
            )
        )
        w.add(_Raw(order(17)))
        w.close()

        # A file without a required column: rejected whole.
        cols = [c for c in FEEDS["orders"].column_names if c != "status"]
        body = (
            ",".join(cols)
            + "\n"
            + "".join(_csv_line([order(20 + k)[c] for c in cols]) for k in range(3))
        )
        rel = "orders/orders_planted_missing_status.csv"
        (out.root / rel).write_text(body, encoding="utf-8")
        out.files.append(
            {"feed": "orders", "path": rel, "format": "csv", "data_rows": 3, "physical_lines": 4}
        )
        out.rejected.append(
            {"feed": "orders", "path": rel, "reason": "missing_required_column", "column": "status"}
        )

        # order_items
        def item(order_n: int, line: int, **kw: object) -> dict:
            values = {
                "order_id": f"O{PLANT_ID + order_n}",
                "line_no": line,
                "sku": "HM-00042",
                "category": "home",
                "quantity": 1,
                "unit_price": "499.00",
                "unit_cost": "310.50",
            }
            values.update(kw)
            return values

        w = out.open("order_items", "order_items_planted_bad_rows")
        rows = [
            (item(1, 1), None),
            (
                item(
                    1,
                    2,
                    sku="EL-00007",
                    category="electronics",
                    unit_price="15990.00",
                    unit_cost="14100.00",
                ),
                None,
            ),
            (item(1, 3, sku=None), "missing_required"),
            (item(1, 4, quantity="abc"), "wrong_type"),
            (item(1, 5, unit_price="12,5O"), "wrong_type"),
            (item(1, 6, quantity=0), "out_of_range"),
            (item(1, 7, unit_price="-5.00"), "out_of_range"),
            (item(1, 8, unit_cost="-1.00"), "out_of_range"),
            (item(1, 2, quantity=5), "duplicate_key_in_file"),
            (item(12, 1), None),
        ]
        for values, rule in rows:
            w.add(_Raw(values, rule=rule, key=self._key("order_items", values) if rule else None))
        w.add(
            _Raw(
                raw=_csv_line(list(item(12, 2).values()) + ["1", "2"]).encode(),
                rule="malformed_line",
                key={"order_id": f"O{PLANT_ID + 12}", "line_no": "2"},
            )
        )
        w.add(_Raw(item(14, 1)))
        w.close()

        # customers
        def customer(n: int, **kw: object) -> dict:
            values = {
                "customer_id": f"C{PLANT_ID + n}",
                "registered_at": ts,
                "lead_id": None,
                "email": None,
                "phone": phone_e164(UNKNOWN_PERSON_BASE - 3000 - n),
                "loyalty_card_id": None,
                "region": "Central",
            }
            values.update(kw)
            return values

        w = out.open("customers", "customers_planted_bad_rows")
        good = customer(1)
        rows = [
            (good, None),
            (customer(2, registered_at=None), "missing_required"),
            (customer(3, registered_at="yesterday"), "wrong_type"),
            (customer(4, customer_id=None), "missing_required"),
            (dict(good, region="Volga"), "duplicate_key_in_file"),
        ]
        for values, rule in rows:
            w.add(_Raw(values, rule=rule, key=self._key("customers", values) if rule else None))
        w.add(
            _Raw(
                raw=_csv_line(list(customer(5).values()) + ["surplus"]).encode(),
                rule="malformed_line",
                key={"customer_id": f"C{PLANT_ID + 5}"},
            )
        )
        w.add(_Raw(customer(6)))
        w.close()

        # leads
        def lead(n: int, **kw: object) -> dict:
            values = {
                "lead_id": f"L{PLANT_ID + n}",
                "created_at": ts_t,
                "channel": "paid_search",
                "campaign": "search_generic",
                "email": None,
                "phone": phone_e164(UNKNOWN_PERSON_BASE - 4000 - n),
                "qualified_at": None,
                "disqualified_reason": "not_interested",
                "customer_id": None,
            }
            values.update(kw)
            return values

        w = out.open("leads", "leads_planted_bad_rows")
        good = lead(1)
        rows = [
            (good, None),
            (lead(2, channel=None), "missing_required"),
            (lead(3, created_at=None), "missing_required"),
            (lead(4, created_at="2025-13-45T10:00:00"), "wrong_type"),
            (lead(5, channel="tiktok_ads", campaign="tt_spring"), "unknown_code"),
            (dict(good, disqualified_reason="spam"), "duplicate_key_in_file"),
        ]
        for values, rule in rows:
            w.add(_Raw(values, rule=rule, key=self._key("leads", values) if rule else None))
        # A line exported in Windows-1251: not UTF-8.
        cp1251 = _csv_line(list(lead(6, campaign="Весенняя распродажа").values())).encode("cp1251")
        w.add(_Raw(raw=cp1251, rule="malformed_line", key={"lead_id": f"L{PLANT_ID + 6}"}))
        w.add(_Raw(lead(7)))
        w.add(
            _Raw(
                raw=f'L{PLANT_ID + 8},{ts_t},paid_search,"search_generic,,,,,\n'.encode(),
                rule="malformed_line",
                key={"lead_id": f"L{PLANT_ID + 8}"},
            )
        )
        w.add(_Raw(lead(9)))
        w.close()

        cols = [c for c in FEEDS["leads"].column_names if c != "channel"]
        body = (
            ",".join(cols)
            + "\n"
            + "".join(_csv_line([lead(20 + k)[c] for c in cols]) for k in range(2))
        )
        rel = "leads/leads_planted_missing_channel.csv"
        (out.root / rel).write_text(body, encoding="utf-8")
        out.files.append(
            {"feed": "leads", "path": rel, "format": "csv", "data_rows": 2, "physical_lines": 3}
        )
        out.rejected.append(
            {"feed": "leads", "path": rel, "reason": "missing_required_column", "column": "channel"}
        )

        # marketing_spend
        day = _fmt_sec(mid)[:10]

        def spend(channel: str, campaign: str | None, **kw: object) -> dict:
            values = {
                "spend_date": day,
                "channel": channel,
                "campaign": campaign,
                "spend": "1000.00",
                "impressions": 5000,
                "clicks": 40,
                "currency": None,
            }
            values.update(kw)
            return values

        w = out.open("marketing_spend", "marketing_spend_planted_bad_rows")
        good = spend("paid_search", "planted_check")
        rows = [
            (good, None),
            (spend("tiktok_ads", "tt_spring"), "unknown_code"),
            (spend("paid_social", "planted_blank", spend=None), "missing_required"),
            (spend("paid_social", "planted_abc", spend="abc"), "wrong_type"),
            (spend("paid_social", "planted_date", spend_date="2025-02-30"), "wrong_type"),
            (spend("display", "planted_negative", spend="-250.00"), "out_of_range"),
            (spend("display", "planted_usd", currency="USD"), "foreign_currency"),
            (dict(good, spend="2000.00"), "duplicate_key_in_file"),
        ]
        for values, rule in rows:
            w.add(
                _Raw(values, rule=rule, key=self._key("marketing_spend", values) if rule else None)
            )
        w.close()

        # survey_answers (CSV): scores out of range, a quoted comment spanning two lines.
        w = out.open("survey_answers", "survey_answers_planted_bad_rows")
        good = self._survey_row(PLANT_ID + 1, m)
        rows = [
            (good, None),
            (self._survey_row(PLANT_ID + 2, m, score=11), "out_of_range"),
            (
                self._survey_row(PLANT_ID + 3, m, survey="csi", question="store_visit", score=0),
                "out_of_range",
            ),
            (
                self._survey_row(PLANT_ID + 4, m, survey="cx", question="queue", score=6),
                "out_of_range",
            ),
            (
                self._survey_row(PLANT_ID + 5, m, survey="ces", question="effort", score=3),
                "unknown_code",
            ),
            (self._survey_row(PLANT_ID + 6, m, score=None), "missing_required"),
            (self._survey_row(PLANT_ID + 7, m, score="ten"), "wrong_type"),
            (self._survey_row(PLANT_ID + 8, m, answered_at="2025-02-30 10:00:00"), "wrong_type"),
            (self._survey_row(PLANT_ID + 9, m, store_id="S99"), "unknown_code"),
            (
                self._survey_row(
                    PLANT_ID + 10, m, score=3, comment='Two lines:\nqueue was long, "one till" open'
                ),
                None,
            ),
            (dict(good, score=7), "duplicate_key_in_file"),
        ]
        for values, rule in rows:
            w.add(
                _Raw(values, rule=rule, key=self._key("survey_answers", values) if rule else None)
            )
        w.add(
            _Raw(
                raw=f'A{PLANT_ID + 11},{ts},csi,order,4,,,C00000001,,,,"great service\n'.encode(),
                rule="malformed_line",
                key={"answer_id": f"A{PLANT_ID + 11}"},
            )
        )
        w.add(_Raw(self._survey_row(PLANT_ID + 12, m)))
        w.close()

        # support_contacts (Parquet): typed, so only null, code and duplicate defects.
        t = datetime.fromtimestamp(mid, UTC).replace(tzinfo=None)

        def contact(n: int, **kw: object) -> dict:
            values = {
                "contact_id": f"T{PLANT_ID + n}",
                "contacted_at": t,
                "channel": "chat",
                "reason": "order_status",
                "order_id": f"O{PLANT_ID + 1}",
                "customer_id": "C00000001",
            }
            values.update(kw)
            return values

        w = out.open("support_contacts", "support_contacts_planted_bad_rows", "parquet")
        good = contact(1)
        rows = [
            (good, None),
            (contact(2, contact_id=None), "missing_required"),
            (contact(3, contacted_at=None), "missing_required"),
            (contact(4, channel="fax"), "unknown_code"),
            (dict(good, reason="payment"), "duplicate_key_in_file"),
            (contact(5), None),
        ]
        for values, rule in rows:
            w.add(
                _Raw(values, rule=rule, key=self._key("support_contacts", values) if rule else None)
            )
        w.close()

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


# --------------------------------------------------------------------------- public API


def generate(
    landing_dir: Path,
    orders: int = 20_000,
    seed: int = 42,
    end_date: date | None = None,
    months: int = 26,
    plant_bad_input: bool = True,
    progress: Callable[[str], None] | None = None,
    collapse_months_before_end: int = COLLAPSE_MONTHS_BEFORE_END,
    store_response: float = RESPONSE_P,
) -> dict:
    """Write a landing folder of demo data and return (and write) its manifest.

    The data spans `months` calendar months ending at `end_date` (default:
    yesterday, UTC), so the newest day is recent enough for freshness checks.
    Volumes scale with `orders`: customers ~orders/4, leads ~orders/2, items
    ~2.5, survey answers ~0.6 and support contacts ~0.05 per order. Meant for
    1,000 to 50,000,000 orders (below ~300 some months are too empty to hold
    every inline plant) and months >= 8 (the collapse sits
    `collapse_months_before_end` months before the end month, 5 by default;
    1 puts it in the last complete month, where the metric alerts look).
    `store_response` is the survey response rate of orders placed in or picked
    up at a store (receipt surveys; the others answer at RESPONSE_P): `make
    demo` raises it so that most stores reach the 30 answers a month a store
    ranking needs; the default keeps every other world as it was.
    Files are overwritten, not removed: give an empty folder (or use the
    CLI's --clean) when an earlier run used other parameters.
    """
    if not 1 <= orders <= MAX_ORDERS:
        raise ValueError(f"orders must be between 1 and {MAX_ORDERS:,}")
    if months < 1:
        raise ValueError("months must be at least 1")
    landing_dir = Path(landing_dir)
    end = end_date or (datetime.now(UTC).date() - timedelta(days=1))
    say = progress or (lambda _msg: None)
    plan = _make_plan(orders, seed, end, months, collapse_months_before_end)
    gen = _Generator(landing_dir, plan, plant_bad_input)
    gen.store_response = store_response
    landing_dir.mkdir(parents=True, exist_ok=True)
    for m in range(months):
        gen.customers_and_leads(m)
        gen.marketing_spend(m)
        gen.orders_month(m)
        say(
            f"{plan.labels[m]}: {gen.counts['orders']:,} orders, {gen.counts['leads']:,} leads so far"
        )
    if plant_bad_input:
        gen.dedicated_plants()
        gen.file_plants()
        say("planted bad input")
    manifest = _manifest(gen)
    (landing_dir / MANIFEST_NAME).write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    return manifest


def _manifest(gen: _Generator) -> dict:
    out, p = gen.out, gen.plan
    excluded = {d["path"] for d in out.duplicates} | {r["path"] for r in out.rejected}
    bad = Counter(b["path"] for b in out.bad_rows)
    good: Counter[str] = Counter({feed: 0 for feed in FEEDS})
    for f in out.files:
        if f["path"] not in excluded:
            good[f["feed"]] += f["data_rows"] - bad[f["path"]]
    files = sorted(out.files, key=lambda f: (f["feed"], f["path"]))
    return {
        "seed": p.seed,
        "orders": p.orders,
        "end_date": p.end.isoformat(),
        "start_date": p.start.isoformat(),
        "months": p.months,
        "files": files,
        "bad_rows": out.bad_rows,
        "rejected_files": out.rejected,
        "duplicate_files": out.duplicates,
        "corrections": out.corrections,
        "expected": {
            feed: {"distinct_good_keys": good[feed] - out.replacements[feed]} for feed in FEEDS
        },
        "expected_replacements": {feed: out.replacements[feed] for feed in FEEDS},
        "lead_quality": gen.captured.get("lead_quality", []),
        "story": {
            "collapse": {
                "channel": COLLAPSE_CHANNEL,
                "month": p.labels[p.collapse_month],
                "lead_volume_factor": COLLAPSE_VOLUME,
                "spend_factor": COLLAPSE_SPEND,
                "qualification_rate": COLLAPSE_QUAL_RATE,
                "usual_qualification_rate": next(
                    c.qual_rate for c in CHANNELS if c.code == COLLAPSE_CHANNEL
                ),
            },
            "cheap_channel": "display",
            "premium_channel": "influencer",
            "late_fulfilment": LATE_FULFILMENT,
            "bad_stores": list(BAD_STORES),
            "cx_dip": {
                "stores": list(BAD_STORES),
                "month": p.labels[p.cx_dip_month],
                "shift": CX_DIP_SHIFT,
                "response_factor": CX_DIP_RESPONSE,
            },
            "store_survey_response": gen.store_response,
            "peak_month": 12,
            "callback_day": p.end.isoformat(),
            "callback_answers": gen.captured.get("callbacks", []),
        },
        "tz_examples": gen.tz_examples,
        "generated_rows": dict(gen.counts),
    }


def _clean(landing_dir: Path) -> None:
    """Remove what a previous run wrote: the feed folders and the manifest, nothing else."""
    for feed in FEEDS:
        shutil.rmtree(landing_dir / feed, ignore_errors=True)
    (landing_dir / MANIFEST_NAME).unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate deterministic demo landing data.")
    parser.add_argument("--out", type=Path, required=True, help="landing directory to write")
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=None,
        help="YYYY-MM-DD (default: yesterday UTC)",
    )
    parser.add_argument("--months", type=int, default=26)
    parser.add_argument(
        "--no-bad-input", action="store_true", help="do not plant bad rows and files"
    )
    parser.add_argument(
        "--clean", action="store_true", help="remove earlier feed folders and manifest first"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def progress(msg: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {msg}", flush=True)

    if args.clean:
        _clean(args.out)
    manifest = generate(
        args.out,
        orders=args.orders,
        seed=args.seed,
        end_date=args.end_date,
        months=args.months,
        plant_bad_input=not args.no_bad_input,
        progress=progress,
    )
    rows = Counter()
    files = Counter()
    for f in manifest["files"]:
        rows[f["feed"]] += f["data_rows"]
        files[f["feed"]] += 1
    print(
        f"\n{args.out}  {manifest['start_date']} .. {manifest['end_date']}  seed {manifest['seed']}"
    )
    for feed in FEEDS:
        print(
            f"  {feed:<17} {files[feed]:>4} files {rows[feed]:>13,} rows  "
            f"{manifest['expected'][feed]['distinct_good_keys']:>13,} distinct good keys"
        )
    print(
        f"  planted: {len(manifest['bad_rows'])} bad rows, {len(manifest['rejected_files'])} rejected files, "
        f"{len(manifest['duplicate_files'])} duplicate files, {len(manifest['corrections'])} corrections"
    )
    print(
        f"  collapse: {manifest['story']['collapse']['channel']} in {manifest['story']['collapse']['month']}"
    )
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
