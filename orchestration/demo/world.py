"""The demo world: channels, stores, categories, seasons, questions, names, id spaces.

Everything the generator draws from, as constants; the story's levers (the
lead-quality collapse, the bad stores' service dip) are named here too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.lib.feeds import FEEDS, FULFILMENTS, ORDER_STATUSES, SALES_CHANNELS

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
