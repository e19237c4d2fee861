"""The landing rules: each staged row gets its first broken rule in one SQL pass.

The rules are declared in the contract, feeds.py: the column rules (required,
type, allowed codes, seed codes) and each feed's own rules (Feed.rules); two
hold for every feed (the reporting currency, the years a timestamp may have).
This module turns them into SQL, checked in the priority order of feeds.RULES,
and loads the seed codes they compare with.
"""

from __future__ import annotations

import csv
from collections.abc import Callable

import duckdb

from orchestration.lib.feeds import (
    RULES,
    SQL_TYPES,
    Bound,
    Feed,
    FeedRule,
    ProductBelow,
    RangeBy,
    RequiredWhen,
)
from orchestration.lib.settings import Settings

# Timestamps outside these years are treated as out of range (typos like 0202 or 9999).
TS_MIN_YEAR, TS_MAX_YEAR = 1990, 2100


def _blank(col: str) -> str:
    return f"({col} is null or trim({col}) = '')"


def _rule_checks(
    feed: Feed, settings: Settings, typed: Callable[[str], str] | None = None
) -> list[tuple[str, str, str]]:
    """(rule, SQL condition that is true when broken, details) in priority order.

    `typed(column)` is the SQL of a non-text column's typed value; by default
    the conversion itself (_typed), validate_stage passes the column it
    computed once per row.
    """
    if typed is None:

        def typed(name: str) -> str:
            return _typed(name, feed.column(name).type, settings)

    checks: list[tuple[str, str, str]] = [
        ("malformed_line", "_malformed is not null", "_malformed")
    ]
    for c in feed.columns:
        if c.required:
            checks.append(("missing_required", _blank(c.name), f"'{c.name} is blank (required)'"))
    for c in feed.columns:
        if c.type != "str":
            checks.append(
                (
                    "wrong_type",
                    f"(not {_blank(c.name)} and {typed(c.name)} is null)",
                    f"'{c.name} = ' || {c.name} || ' is {TYPE_NAMES[c.type]}'",
                )
            )
    for c in feed.columns:
        if c.allowed:
            allowed = ", ".join(f"'{v}'" for v in c.allowed)
            checks.append(
                (
                    "unknown_code",
                    f"(not {_blank(c.name)} and lower(trim({c.name})) not in ({allowed}))",
                    f"'{c.name} = ' || {c.name} || ' is not one of {'/'.join(c.allowed)}'",
                )
            )
    for col, seed in feed.seed_codes.items():
        checks.append(
            (
                "unknown_code",
                f"(not {_blank(col)} and trim({col}) not in (select code from _seed_{seed}))",
                f"'{col} = ' || {col} || ' is not in seeds/{seed}.csv'",
            )
        )
    checks.extend(_feed_rule_check(rule, typed) for rule in feed.rules)
    if "currency" in feed.column_names:
        checks.append(
            (
                "foreign_currency",
                f"(not {_blank('currency')} and upper(trim(currency)) <> '{settings.currency}')",
                f"'currency ' || currency || ' differs from the reporting currency {settings.currency}'",
            )
        )
    for c in feed.columns:
        if c.type == "ts":
            checks.append(
                (
                    "out_of_range",
                    f"coalesce(year({typed(c.name)}) not between {TS_MIN_YEAR} and {TS_MAX_YEAR}, false)",
                    f"'{c.name} = ' || {c.name} || ' is outside {TS_MIN_YEAR}..{TS_MAX_YEAR}'",
                )
            )
    # A row is quarantined under the first rule it breaks, so the order is the
    # contract's (feeds.RULES); the sort is stable, so within one rule the order
    # above stands: a feed's own ranges before the timestamp years.
    priority = list(RULES)
    return sorted(checks, key=lambda check: priority.index(check[0]))


def _feed_rule_check(rule: FeedRule, typed: Callable[[str], str]) -> tuple[str, str, str]:
    """(rule, SQL condition that is true when broken, details) for one of Feed.rules."""
    if isinstance(rule, RequiredWhen):
        when = " or ".join(f"lower(trim({col})) = '{value}'" for col, value in rule.when)
        return rule.rule, f"(({when}) and {_blank(rule.column)})", f"'{rule.details}'"
    if isinstance(rule, Bound):
        col, cond = rule.column, rule.condition
        return (
            rule.rule,
            f"not coalesce({typed(col)} {cond}, true)",
            f"'{col} = ' || {col} || ' must be {cond}'",
        )
    if isinstance(rule, ProductBelow):
        a, b = rule.factors
        return (
            rule.rule,
            f"coalesce(abs(cast({typed(a)} as double) * cast({typed(b)} as double))"
            f" >= {rule.limit:.0f}, false)",
            f"'{a} x {b} = ' || {a} || ' x ' || {b} || "
            f"' exceeds the largest {rule.label}, {rule.limit:,.0f}'",
        )
    if isinstance(rule, RangeBy):
        cases = " ".join(
            f"when '{key}' then {typed(rule.column)} not between {lo} and {hi}"
            for key, (lo, hi) in rule.ranges.items()
        )
        return (
            rule.rule,
            f"coalesce(case lower(trim({rule.by})) {cases} end, false)",
            f"'{rule.column} ' || {rule.column} || ' outside the range of {rule.by} ' || {rule.by}",
        )
    raise TypeError(f"unknown landing rule {rule!r}")


# Exact shapes of typed values: a value that would only load by rounding or by a
# lenient cast ("2.5" as an int, "1_000", "0x10", "1e3", a fifth decimal place, a
# date with a time of day) is not one and is quarantined as wrong_type. Trailing
# zeros after the point are exact ("1.0" is the integer 1, "2.50000" the decimal 2.5).
EXACT_SHAPES = {
    "int": r"[+-]?[0-9]+(\.0*)?",
    "dec": r"[+-]?([0-9]+(\.[0-9]{0,4}0*)?|\.[0-9]{1,4}0*)",
    "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T]00:00(:00(\.0+)?)?)?",
}
TYPE_NAMES = {
    "int": "not a whole number",
    "dec": "not a decimal number with at most 4 decimal places and 14 digits before the point",
    "date": "not a date YYYY-MM-DD",
    "ts": "not an ISO 8601 timestamp",
}


def _typed(col: str, typ: str, settings: Settings) -> str:
    """SQL that turns a text column into its contract type, NULL when it is not exactly one."""
    if typ == "ts":
        # Offsets are honoured; naive values are read in the session time zone,
        # which is the warehouse time zone. Stored naive, in warehouse time.
        return f"timezone('{settings.timezone}', try_cast(trim({col}) as timestamptz))"
    value = {
        "int": f"regexp_replace(trim({col}), '\\.0*$', '')",
        "date": f"left(trim({col}), 10)",
    }.get(typ, f"trim({col})")
    return (
        f"case when regexp_full_match(trim({col}), '{EXACT_SHAPES[typ]}')"
        f" then try_cast({value} as {SQL_TYPES[typ]}) end"
    )


def _typed_name(col: str) -> str:
    """The column of _checked holding a non-text column's typed value (NULL when it does not parse)."""
    return f"_t_{col}"


def validate_stage(con: duckdb.DuckDBPyConnection, feed: Feed, settings: Settings) -> None:
    """Give every staged row its first broken rule (or NULL) in one pass.

    Each non-text column is converted to its type once (_t_<column>); the
    rules and the upsert read that value instead of converting again. The
    details text is built only for rows that broke a rule.
    """
    checks = _rule_checks(feed, settings, typed=_typed_name)
    rule = "case " + " ".join(f"when {cond} then '{name}'" for name, cond, _ in checks) + " end"
    details = "case " + " ".join(f"when {cond} then {det}" for _, cond, det in checks) + " end"
    typed = "".join(
        f", {_typed(c.name, c.type, settings)} as {_typed_name(c.name)}"
        for c in feed.columns
        if c.type != "str"
    )
    con.execute(
        "create or replace temp table _checked as"
        f" select *, case when _rule is not null then {details} end as _details"
        f" from (select *, {rule} as _rule from (select *{typed} from _stage))"
    )
    # Duplicate keys inside one file: the first good occurrence loads, later ones are quarantined.
    # Keys compare as the values they load as: "1", "01" and "1.0" are one line_no.
    keys = ", ".join(
        _typed_name(k) if feed.column(k).type != "str" else f"trim({k})" for k in feed.primary_key
    )
    repeated = con.execute(
        f"select count(*) from (select {keys} from _checked where _rule is null group by all having count(*) > 1)"
    ).fetchone()[0]
    if not repeated:
        return  # the usual case: no key repeats, nothing to update
    con.execute(
        f"""
        update _checked set _rule = 'duplicate_key_in_file',
            _details = 'primary key repeats line ' || d.first_line
        from (
            select _line, first_value(_line) over (partition by {keys} order by _line) as first_line,
                   row_number() over (partition by {keys} order by _line) as n
            from _checked where _rule is null
        ) d
        where _checked._line = d._line and d.n > 1
        """
    )


def _load_seed_codes(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    for seed, col in (("channels", "channel"), ("stores", "store_id")):
        path = settings.seeds_dir / f"{seed}.csv"
        con.execute(f"create or replace temp table _seed_{seed} (code varchar)")
        if path.exists():
            with open(path, newline="", encoding="utf-8-sig") as fh:
                codes = [r[col].strip() for r in csv.DictReader(fh) if r.get(col)]
            if codes:
                con.executemany(f"insert into _seed_{seed} values (?)", [[c] for c in codes])
