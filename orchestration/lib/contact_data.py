"""Contact data (emails, phone numbers, card numbers): one detector, one normalisation.

The patterns live once, in dbt_project.yml (vars.contact_data_patterns), because three
places apply them and must agree:
- dbt's macro scrub_contact_data replaces them with a marker in every published
  free-text column (a disqualification reason, a region, a campaign name, a contact
  reason);
- the publish audit searches for them inside every text value of a new snapshot and
  refuses to publish one it finds (publish.audit_snapshot);
- alert texts are masked with them (alerts.scrub_pii).

Phones and cards match only between non-alphanumeric characters (or the ends of the
text): '+7 912 345-67-89' inside 'asked not to call: +7 912 345-67-89' is a phone, the
SKU '4607-0017-7001-9', an order number 'O-2026-000123', a date or an amount is not.
A bare run of digits is a phone only in the shape of a Russian mobile number (11
digits starting 79 or 89); other bare digits are ids, not phones.
"""

from __future__ import annotations

import functools
import re

import yaml

from orchestration.lib.settings import PROJECT_ROOT

MARKERS = {"email": "[email redacted]", "phone": "[phone redacted]", "card": "[card redacted]"}
# Characters a phone or card number may not touch: letters and digits (an SKU's next
# group, a word). '+' may not precede either, so '+7 912...' is matched from its '+'.
BEFORE = "(^|[^0-9A-Za-z+])"
AFTER = "([^0-9A-Za-z]|$)"


@functools.cache
def patterns() -> dict[str, str]:
    """kind -> regular expression (RE2 / Java / Python syntax), from dbt_project.yml."""
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text())
    found = project["vars"]["contact_data_patterns"]
    return {kind: found[kind] for kind in MARKERS}


def bounded(kind: str) -> str:
    """The pattern of one kind with its boundaries: group 1 before, group 2 after."""
    pattern = patterns()[kind]
    if kind == "email":
        return f"(){pattern}()"
    return f"{BEFORE}(?:{pattern}){AFTER}"


@functools.cache
def _compiled() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(bounded(kind)), rf"\g<1>{MARKERS[kind]}\g<2>") for kind in MARKERS]


def scrub(text: str) -> str:
    """Replace every email, phone and card number in a text by its marker.

    Twice: a match consumes the character after it, which may be the one before the
    next phone of a list ('+7 912 ... , +7 913 ...').
    """
    if not text:
        return text
    out = text
    for _ in range(2):
        for regex, marker in _compiled():
            out = regex.sub(marker, out)
    return out


def contains_contact_data(text: str | None) -> bool:
    return bool(text) and any(regex.search(text) for regex, _ in _compiled())


def sql_contains(column: str) -> str:
    """DuckDB SQL, true when the text column holds contact data (the audit's test)."""
    return "(" + " or ".join(f"regexp_matches({column}, '{bounded(k)}')" for k in MARKERS) + ")"


# --- the same person: how contact data is normalised before it is compared or hashed ---
# The rule is dbt's (macros/pii.sql: normalise_email, normalise_phone), which keys
# identity resolution and the published *_hash columns; the quality gate's duplicate
# check uses these renderings of it in DuckDB, so "the same phone" means one thing.
# tests/dbt/test_contact_rules.py runs both on the same values.


def normalised_email_sql(column: str) -> str:
    """' Anna@Mail.RU ' and 'anna@mail.ru' are one email; blank is none."""
    return f"nullif(lower(trim({column})), '')"


def phone_digits_sql(column: str) -> str:
    """The digits of a phone, '' when there is none."""
    return f"regexp_replace(coalesce({column}, ''), '[^0-9]', '', 'g')"


def normalised_phone_sql(column: str) -> str:
    """Digits only; 8XXXXXXXXXX becomes 7XXXXXXXXXX and a 10-digit national number
    gets the country prefix 7, so '+7 912 345-67-89', '8 (912) 345 67 89' and
    '912 345 67 89' are one phone; blank is none."""
    digits = phone_digits_sql(column)
    return (
        f"nullif(case when length({digits}) = 11 and substr({digits}, 1, 1) = '8'"
        f" then concat('7', substr({digits}, 2))"
        f" when length({digits}) = 10 then concat('7', {digits}) else {digits} end, '')"
    )
