"""Column makers: stateless per-entity randomness and fast rendering of whole columns.

The hash functions give a customer or SKU the same attributes wherever it
appears; the renderers turn integer arrays into arrow string columns in numpy.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.demo.world import (
    CARD_TEMPLATES,
    DOMAINS,
    DOMAINS_CASED,
    FIRST_NAMES,
    LAST_NAMES,
    PHONE_TEMPLATES,
    TS_OFFSET,
    TS_SPACE,
    TS_TEMPLATES,
)
from orchestration.lib.feeds import FEEDS

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
