"""The landing contract as data: feeds, columns, types, keys and value rules.

docs/landing-contract.md is the prose version of this module; keep them in step.
Readers, the quarantine rules, the raw table DDL and the demo generator all
take their columns from here, so a new optional column is added in one place.
A feed's own landing rules (ranges, conditional requirements) are declared
beside its columns as records (Feed.rules); ingest/rules.py turns them into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Contract type -> DuckDB type of the raw table column.
SQL_TYPES = {
    "str": "VARCHAR",
    "int": "BIGINT",
    "dec": "DECIMAL(18,4)",
    "ts": "TIMESTAMP",  # naive, in the warehouse time zone
    "date": "DATE",
}

ALLOWED_EXTENSIONS = (".csv", ".csv.gz", ".parquet", ".jsonl")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    pii: bool = False
    # Allowed values (lower-case) for code columns; None = free text.
    allowed: tuple[str, ...] | None = None


# A feed's own landing rules, beyond what its columns declare. Each record names
# the quarantine rule (a key of RULES) that a row breaking it is quarantined under.


@dataclass(frozen=True)
class RequiredWhen:
    """`column` must not be blank when any (column, value) in `when` holds (values lower-case)."""

    column: str
    when: tuple[tuple[str, str], ...]
    details: str
    rule: str


@dataclass(frozen=True)
class Bound:
    """The typed value of `column` must satisfy `condition`, a comparison such as '>= 0'."""

    column: str
    condition: str
    rule: str = "out_of_range"


@dataclass(frozen=True)
class ProductBelow:
    """The product of the typed `factors` must stay below `limit` in absolute value."""

    factors: tuple[str, str]
    limit: float
    label: str
    rule: str = "out_of_range"


@dataclass(frozen=True)
class RangeBy:
    """The typed value of `column` must lie in the inclusive range that `ranges` gives
    for the value of `by` (lower-case); other values of `by` are not checked."""

    column: str
    by: str
    ranges: dict[str, tuple[int, int]]
    rule: str = "out_of_range"


FeedRule = RequiredWhen | Bound | ProductBelow | RangeBy


@dataclass(frozen=True)
class Feed:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    optional_feed: bool = False
    # Columns whose value must be a code in a seed: column -> seed name.
    seed_codes: dict[str, str] = field(default_factory=dict)
    # Landing rules of this feed only; checked with the column rules in the order of RULES.
    rules: tuple[FeedRule, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def timestamp_column(self) -> str | None:
        """The column that says how recent the feed's data is: its first required ts/date."""
        return next((c.name for c in self.columns if c.required and c.type in ("ts", "date")), None)


ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
SALES_CHANNELS = ("store", "web", "app", "marketplace")
FULFILMENTS = ("in_store", "pickup", "courier", "express", "next_day", "pickup_point")
SURVEYS = ("nps", "csi", "cx")
CONTACT_CHANNELS = ("phone", "chat", "email", "social")

# Score ranges per survey (inclusive).
SCORE_RANGES = {"nps": (0, 10), "csi": (1, 5), "cx": (1, 5)}
# The largest line amount (quantity x unit price or cost) DECIMAL(18,4) holds: 10^14.
MAX_LINE_AMOUNT = 1e14

FEEDS: dict[str, Feed] = {
    f.name: f
    for f in [
        Feed(
            "customers",
            (
                Column("customer_id", "str", required=True),
                Column("registered_at", "ts", required=True),
                Column("lead_id", "str"),
                Column("email", "str", pii=True),
                Column("phone", "str", pii=True),
                Column("loyalty_card_id", "str", pii=True),
                Column("region", "str"),
            ),
            primary_key=("customer_id",),
        ),
        Feed(
            "leads",
            (
                Column("lead_id", "str", required=True),
                Column("created_at", "ts", required=True),
                Column("channel", "str", required=True),
                Column("campaign", "str"),
                Column("email", "str", pii=True),
                Column("phone", "str", pii=True),
                Column("qualified_at", "ts"),
                Column("disqualified_reason", "str"),
                Column("customer_id", "str"),
            ),
            primary_key=("lead_id",),
            seed_codes={"channel": "channels"},
        ),
        Feed(
            "orders",
            (
                Column("order_id", "str", required=True),
                Column("customer_id", "str", required=True),
                Column("ordered_at", "ts", required=True),
                Column("status", "str", required=True, allowed=ORDER_STATUSES),
                Column("sales_channel", "str", required=True, allowed=SALES_CHANNELS),
                Column("store_id", "str"),
                Column("fulfilment", "str", allowed=FULFILMENTS),
                Column("promised_at", "ts"),
                Column("delivered_at", "ts"),
                Column("currency", "str"),
            ),
            primary_key=("order_id",),
            seed_codes={"store_id": "stores"},
            rules=(
                RequiredWhen(
                    "store_id",
                    when=(("sales_channel", "store"), ("fulfilment", "pickup")),
                    details="store_id is required for store sales and store pickup",
                    rule="store_required",
                ),
            ),
        ),
        Feed(
            "order_items",
            (
                Column("order_id", "str", required=True),
                Column("line_no", "int", required=True),
                Column("sku", "str", required=True),
                Column("category", "str"),
                Column("quantity", "int", required=True),
                Column("unit_price", "dec", required=True),
                Column("unit_cost", "dec", required=True),
            ),
            primary_key=("order_id", "line_no"),
            rules=(
                Bound("quantity", "> 0"),
                Bound("unit_price", ">= 0"),
                Bound("unit_cost", ">= 0"),
                # A line's amount must fit the money type, DECIMAL(18,4): beyond it every
                # model that multiplies them fails, on every later run.
                ProductBelow(("quantity", "unit_price"), MAX_LINE_AMOUNT, "line amount"),
                ProductBelow(("quantity", "unit_cost"), MAX_LINE_AMOUNT, "line amount"),
            ),
        ),
        Feed(
            "marketing_spend",
            (
                Column("spend_date", "date", required=True),
                Column("channel", "str", required=True),
                Column("campaign", "str"),
                Column("spend", "dec", required=True),
                Column("impressions", "int"),
                Column("clicks", "int"),
                Column("currency", "str"),
            ),
            primary_key=("spend_date", "channel", "campaign"),
            seed_codes={"channel": "channels"},
            rules=(
                Bound("spend", ">= 0"),
                Bound("impressions", ">= 0"),
                Bound("clicks", ">= 0"),
            ),
        ),
        Feed(
            "survey_answers",
            (
                Column("answer_id", "str", required=True),
                Column("answered_at", "ts", required=True),
                Column("survey", "str", required=True, allowed=SURVEYS),
                Column("question", "str", required=True),
                Column("score", "int", required=True),
                Column("order_id", "str"),
                Column("store_id", "str"),
                Column("customer_id", "str"),
                Column("email", "str", pii=True),
                Column("phone", "str", pii=True),
                Column("loyalty_card_id", "str", pii=True),
                Column("comment", "str", pii=True),
            ),
            primary_key=("answer_id",),
            seed_codes={"store_id": "stores"},
            rules=(RangeBy("score", by="survey", ranges=SCORE_RANGES),),
        ),
        Feed(
            "support_contacts",
            (
                Column("contact_id", "str", required=True),
                Column("contacted_at", "ts", required=True),
                Column("channel", "str", required=True, allowed=CONTACT_CHANNELS),
                Column("reason", "str"),
                Column("order_id", "str"),
                Column("customer_id", "str"),
            ),
            primary_key=("contact_id",),
            optional_feed=True,
        ),
    ]
}

# Quarantine rule names: stable identifiers that tests, docs and BI refer to. In
# priority order: a row is quarantined under the first rule it breaks.
RULES = {
    "malformed_line": "the line is not valid CSV for this header (quote, column count or encoding)",
    "missing_required": "a required column is blank",
    "wrong_type": "a value does not parse as the column's type",
    "unknown_code": "a code is not in seeds (channel, store) or not an allowed value",
    "store_required": "store sales and store pickups need a store_id",
    "foreign_currency": "currency differs from the reporting currency (no FX in v1)",
    "out_of_range": "score, quantity, price, cost or spend outside its allowed range",
    "duplicate_key_in_file": "the primary key appears earlier in the same file",
}
