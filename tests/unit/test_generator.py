"""The demo-data generator: deterministic, its manifest true to the files, its story findable.

The checks read the files back with their own small reader (csv module,
pyarrow, json) and their own rule predicates, so a manifest that merely agrees
with the generator's bookkeeping would not pass.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from orchestration import demo
from orchestration.demo import MANIFEST_NAME, generate
from orchestration.lib.feeds import FEEDS, RULES, SCORE_RANGES
from orchestration.lib.settings import PROJECT_ROOT

ORDERS = 2000
END = date(2025, 6, 30)


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("landing")
    return path, generate(path, orders=ORDERS, seed=42, end_date=END)


# --------------------------------------------------------------------------- an independent reader


def _seed_codes(name: str, column: str) -> set[str]:
    with open(PROJECT_ROOT / "seeds" / f"{name}.csv", encoding="utf-8") as fh:
        return {row[column] for row in csv.DictReader(fh)}


SEEDS = {
    "channels": _seed_codes("channels", "channel"),
    "stores": _seed_codes("stores", "store_id"),
}


def _str(v: object) -> str | None:
    if v is None:
        return None
    s = str(v)
    return s if s != "" else None


def read_records(path: Path, fmt: str) -> list[tuple[int, dict | None]]:
    """(line, values) per record; values None = malformed line.

    CSV: one record per physical line, except that a line ending inside a quoted
    field is joined with the next line when that gives a record of the right
    width (RFC 4180 line break in a field). Parquet/JSON Lines: 1-based row index.
    """
    if fmt == "parquet":
        return [
            (i + 1, {k: _str(v) for k, v in row.items()})
            for i, row in enumerate(pq.read_table(path).to_pylist())
        ]
    data = path.read_bytes()
    if fmt == "csv.gz":
        data = gzip.decompress(data)
    lines = data.split(b"\n")
    assert lines[-1] == b"", f"{path} does not end with a line break"
    lines = lines[:-1]
    if fmt == "jsonl":
        return [
            (i + 1, {k: _str(v) for k, v in json.loads(line).items()})
            for i, line in enumerate(lines)
        ]
    header = lines[0].decode().split(",")
    out: list[tuple[int, dict | None]] = []
    i = 1
    while i < len(lines):
        try:
            text = lines[i].decode("utf-8")
        except UnicodeDecodeError:
            out.append((i + 1, None))
            i += 1
            continue
        span = 1
        if text.count('"') % 2 == 1 and i + 1 < len(lines):
            joined = text + "\n" + lines[i + 1].decode("utf-8", errors="replace")
            if joined.count('"') % 2 == 0 and len(next(csv.reader(io.StringIO(joined)))) == len(
                header
            ):
                text, span = joined, 2
        rows = list(csv.reader(io.StringIO(text)))
        ok = text.count('"') % 2 == 0 and len(rows) == 1 and len(rows[0]) == len(header)
        out.append(
            (i + 1, dict(zip(header, [_str(v) for v in rows[0]], strict=True)) if ok else None)
        )
        i += span
    return out


def _is_int(v: str) -> bool:
    return re.fullmatch(r"-?\d+", v) is not None


def _is_dec(v: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", v) is not None


def _parses(kind: str, v: str) -> bool:
    try:
        {"ts": datetime.fromisoformat, "date": date.fromisoformat}[kind](v)
        return True
    except ValueError:
        return False


def broken_rules(feed: str, rec: dict | None) -> set[str]:
    """Which contract rules a record breaks (duplicate keys are judged by the caller)."""
    if rec is None:
        return {"malformed_line"}
    spec = FEEDS[feed]
    rules = set()
    if any(rec.get(c) is None for c in spec.required):
        rules.add("missing_required")
    for col in spec.columns:
        v = rec.get(col.name)
        if v is None:
            continue
        ok = {
            "int": _is_int,
            "dec": _is_dec,
            "ts": lambda x: _parses("ts", x),
            "date": lambda x: _parses("date", x),
        }.get(col.type, lambda x: True)(v)
        if not ok:
            rules.add("wrong_type")
        if col.allowed is not None and v not in col.allowed:
            rules.add("unknown_code")
        if col.name in spec.seed_codes and v not in SEEDS[spec.seed_codes[col.name]]:
            rules.add("unknown_code")
    if (
        feed == "orders"
        and rec.get("store_id") is None
        and (rec.get("sales_channel") == "store" or rec.get("fulfilment") == "pickup")
    ):
        rules.add("store_required")
    if rec.get("currency") not in (None, "RUB"):
        rules.add("foreign_currency")
    low = {"quantity": 1, "unit_price": 0, "unit_cost": 0, "spend": 0}
    for col, minimum in low.items():
        v = rec.get(col)
        if col in spec.column_names and v is not None and _is_dec(v) and float(v) < minimum:
            rules.add("out_of_range")
    if (
        feed == "survey_answers"
        and rec.get("survey") in SCORE_RANGES
        and rec.get("score")
        and _is_int(rec["score"])
    ):
        lo, hi = SCORE_RANGES[rec["survey"]]
        if not lo <= int(rec["score"]) <= hi:
            rules.add("out_of_range")
    return rules


@pytest.fixture(scope="module")
def scanned(landing) -> dict[str, list[tuple[int, dict | None, set[str]]]]:
    """Every file (except twice-landed and rejected ones) read back and judged."""
    root, manifest = landing
    skip = {d["path"] for d in manifest["duplicate_files"]} | {
        r["path"] for r in manifest["rejected_files"]
    }
    out = {}
    for f in manifest["files"]:
        if f["path"] in skip:
            continue
        seen: set[tuple] = set()
        judged = []
        for line, rec in read_records(root / f["path"], f["format"]):
            rules = broken_rules(f["feed"], rec)
            if not rules:
                key = tuple(rec[k] for k in FEEDS[f["feed"]].primary_key)
                if key in seen:
                    rules.add("duplicate_key_in_file")
                seen.add(key)
            judged.append((line, rec, rules))
        out[f["path"]] = judged
    return out


# --------------------------------------------------------------------------- determinism and speed


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_inputs_give_identical_bytes(landing, tmp_path):
    root, _ = landing
    again = tmp_path / "again"
    generate(again, orders=ORDERS, seed=42, end_date=END)
    first, second = _tree(root), _tree(again)
    assert sorted(first) == sorted(second)
    assert [p for p in first if first[p] != second[p]] == []


def test_another_seed_gives_other_data(landing, tmp_path):
    root, _ = landing
    other = tmp_path / "other"
    generate(other, orders=ORDERS, seed=43, end_date=END)
    name = "orders/orders_2025-03.csv"
    assert (root / name).read_bytes() != (other / name).read_bytes()


def test_default_end_date_is_yesterday_utc(tmp_path):
    manifest = generate(tmp_path, orders=1000, months=2, plant_bad_input=False)
    assert manifest["end_date"] == (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


# --------------------------------------------------------------------------- manifest vs files


def test_manifest_lists_exactly_the_files_on_disk(landing):
    root, manifest = landing
    on_disk = {p for p in _tree(root) if p != MANIFEST_NAME}
    assert {f["path"] for f in manifest["files"]} == on_disk
    assert json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8")) == manifest
    assert {f["format"] for f in manifest["files"]} == {"csv", "csv.gz", "parquet", "jsonl"}
    for f in manifest["files"]:
        assert f["path"].startswith(f["feed"] + "/") and f["path"].endswith("." + f["format"])


def test_row_and_line_counts(landing):
    root, manifest = landing
    for f in manifest["files"]:
        path = root / f["path"]
        if f["format"] == "parquet":
            assert pq.read_metadata(path).num_rows == f["data_rows"], f["path"]
            assert f["physical_lines"] is None
            continue
        data = gzip.decompress(path.read_bytes()) if f["format"] == "csv.gz" else path.read_bytes()
        if f["format"] == "jsonl":
            assert data.count(b"\n") == f["data_rows"] and f["physical_lines"] is None, f["path"]
            continue
        assert data.count(b"\n") == f["physical_lines"], f["path"]
        # records = physical lines - header - continuation lines of quoted line breaks
        assert len(read_records(path, f["format"])) == f["data_rows"], f["path"]


def test_planted_rows_are_exactly_the_bad_rows(landing, scanned):
    """Every planted row breaks its rule and only it; no generated row breaks any rule."""
    _, manifest = landing
    found = {
        (path, line): rules for path, recs in scanned.items() for line, _, rules in recs if rules
    }
    planted = {(b["path"], b["line"]): {b["rule"]} for b in manifest["bad_rows"]}
    assert found == planted
    assert {b["rule"] for b in manifest["bad_rows"]} == set(RULES)


def test_planted_keys_match_the_lines(landing, scanned):
    _, manifest = landing
    by_line = {(path, line): rec for path, recs in scanned.items() for line, rec, _ in recs}
    for b in manifest["bad_rows"]:
        rec = by_line[(b["path"], b["line"])]
        if rec is None:  # malformed: the key is the first field(s) as written
            continue
        assert b["key"] == {k: rec[k] for k in FEEDS[b["feed"]].primary_key}, b


def test_every_feed_has_a_dedicated_and_an_inline_plant(landing):
    _, manifest = landing
    for feed in FEEDS:
        paths = {b["path"] for b in manifest["bad_rows"] if b["feed"] == feed}
        assert any("planted" in p for p in paths), feed
        assert any("planted" not in p for p in paths), feed
    gz = [b for b in manifest["bad_rows"] if b["path"].endswith(".csv.gz")]
    assert gz


def _physical_line(root: Path, f: dict, line: int) -> bytes:
    data = (root / f["path"]).read_bytes()
    if f["format"] == "csv.gz":
        data = gzip.decompress(data)
    return data.split(b"\n")[line - 1]


def test_unterminated_quote_spoils_only_its_line(landing, scanned):
    """The line after an unterminated quote is a good record of its own, in every file that has one."""
    root, manifest = landing
    files = {f["path"]: f for f in manifest["files"]}
    quotes = [
        b
        for b in manifest["bad_rows"]
        if b["rule"] == "malformed_line"
        and _physical_line(root, files[b["path"]], b["line"]).count(b'"') % 2 == 1
    ]
    assert {b["feed"] for b in quotes} >= {"orders", "leads", "survey_answers"}
    assert any("planted" not in b["path"] for b in quotes)  # one sits inside a normal month file
    for b in quotes:
        after = {line: (rec, rules) for line, rec, rules in scanned[b["path"]]}[b["line"] + 1]
        assert after[0] is not None and after[1] == set(), b


def test_expected_distinct_keys_and_replacements(landing, scanned):
    """Replay ingestion's order (lexical path within a feed, later file wins) on good rows."""
    _, manifest = landing
    for feed, spec in FEEDS.items():
        seen: set[tuple] = set()
        replaced = 0
        for path in sorted(p for p in scanned if p.startswith(feed + "/")):
            for _, rec, rules in scanned[path]:
                if rules:
                    continue
                key = tuple(rec[k] for k in spec.primary_key)
                replaced += key in seen
                seen.add(key)
        assert len(seen) == manifest["expected"][feed]["distinct_good_keys"], feed
        assert replaced == manifest["expected_replacements"][feed], feed


def test_file_level_plants(landing, scanned):
    root, manifest = landing
    assert len(manifest["duplicate_files"]) >= 1
    for d in manifest["duplicate_files"]:
        assert (root / d["path"]).read_bytes() == (root / d["duplicate_of"]).read_bytes()
        assert Path(d["path"]).parent == Path(d["duplicate_of"]).parent
    assert manifest["rejected_files"]
    for r in manifest["rejected_files"]:
        header = (root / r["path"]).read_text(encoding="utf-8").splitlines()[0].split(",")
        assert r["column"] in FEEDS[r["feed"]].required and r["column"] not in header
    assert {c["feed"] for c in manifest["corrections"]} >= {"orders"}
    for c in manifest["corrections"]:
        assert c["path"] > c["replaces_path"]
        pk = FEEDS[c["feed"]].primary_key
        old = {
            tuple(r[k] for k in pk): r for _, r, rules in scanned[c["replaces_path"]] if not rules
        }
        new = {tuple(r[k] for k in pk): r for _, r, rules in scanned[c["path"]] if not rules}
        assert c["rows"]
        for row in c["rows"]:
            key = tuple(row["key"][k] for k in pk)
            for col, value in row["changed"].items():
                assert new[key][col] == str(value) != old[key][col]


def test_tz_examples(landing, scanned):
    _, manifest = landing
    assert {e["feed"] for e in manifest["tz_examples"]} >= {"orders", "survey_answers", "leads"}
    rows = {}
    for path, recs in scanned.items():
        feed = path.split("/")[0]
        pk = FEEDS[feed].primary_key[0]
        for _, rec, rules in recs:
            if not rules:
                rows[(feed, rec[pk])] = rec
    for e in manifest["tz_examples"]:
        (key,) = e["key"].values()
        assert rows[(e["feed"], key)][e["column"]] == e["raw"]
        utc = datetime.fromisoformat(e["raw"]).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        assert re.search(r"[+-]\d\d:\d\d$", e["raw"]) and utc == e["expected_utc"]


def test_without_bad_input_everything_is_clean(tmp_path):
    manifest = generate(tmp_path, orders=1000, seed=3, end_date=END, plant_bad_input=False)
    assert (
        not manifest["bad_rows"]
        and not manifest["rejected_files"]
        and not manifest["duplicate_files"]
    )
    assert not manifest["corrections"] and not manifest["lead_quality"]
    for f in manifest["files"]:
        recs = read_records(tmp_path / f["path"], f["format"])
        assert not any(broken_rules(f["feed"], rec) for _, rec in recs), f["path"]
    assert manifest["story"]["callback_answers"]


# --------------------------------------------------------------------------- the story


def _good(scanned, feed: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            rec
            for path, recs in scanned.items()
            if path.startswith(feed + "/")
            for _, rec, rules in recs
            if not rules
        ]
    )


def test_volumes_follow_the_scale(landing):
    _, manifest = landing
    rows = manifest["generated_rows"]
    assert rows["orders"] == ORDERS
    assert rows["customers"] == ORDERS // 4
    assert 0.45 <= rows["leads"] / ORDERS <= 0.55
    assert 2.2 <= rows["order_items"] / ORDERS <= 2.9
    assert 0.45 <= rows["survey_answers"] / ORDERS <= 0.75
    assert 0.03 <= rows["support_contacts"] / ORDERS <= 0.08
    assert manifest["start_date"] == "2023-05-01" and manifest["months"] == 26


def test_lead_quality_collapse(landing, scanned):
    """The collapse month's qualification rate is far below the channel's other months; CPL halves."""
    _, manifest = landing
    collapse = manifest["story"]["collapse"]
    leads = _good(scanned, "leads")
    leads = leads[leads["channel"] == collapse["channel"]]
    month = leads["created_at"].str[:7]
    qualified = leads["qualified_at"].notna()
    inside = qualified[month == collapse["month"]].mean()
    outside = qualified[(month != collapse["month"]) & (month < manifest["end_date"][:7])].mean()
    assert inside < 0.4 * outside, (inside, outside)

    spend = _good(scanned, "marketing_spend")
    spend = spend[spend["channel"] == collapse["channel"]]
    cpl = (
        spend.groupby(spend["spend_date"].str[:7])["spend"].apply(lambda s: s.astype(float).sum())
        / month.value_counts()
    )
    others = cpl.drop(collapse["month"]).median()
    assert cpl[collapse["month"]] < 0.7 * others
    volume = month.value_counts()
    assert volume[collapse["month"]] > 1.8 * volume.drop(collapse["month"]).median()


def test_late_deliveries_and_bad_stores(landing, scanned):
    _, manifest = landing
    orders = _good(scanned, "orders")
    done = orders[orders["status"].isin(["delivered", "returned"]) & orders["promised_at"].notna()]
    late = pd.to_datetime(done["delivered_at"]) > pd.to_datetime(done["promised_at"])
    by_type = late.groupby(done["fulfilment"]).mean()
    worst = manifest["story"]["late_fulfilment"]
    assert by_type.idxmax() == worst and by_type[worst] > 3 * by_type.drop(worst).max()

    answers = _good(scanned, "survey_answers")
    scored = answers[answers["survey"].isin(["csi", "cx"]) & answers["store_id"].notna()]
    bad = scored["store_id"].isin(manifest["story"]["bad_stores"])
    assert scored["score"].astype(int)[bad].mean() < scored["score"].astype(int)[~bad].mean() - 0.3


def test_callback_list_of_the_last_day(landing, scanned):
    _, manifest = landing
    answers = _good(scanned, "survey_answers")
    last_day = answers[
        (answers["answered_at"].str[:10] == manifest["end_date"])
        & answers["survey"].isin(["csi", "cx"])
        & (answers["score"].astype(int) < 3)
    ]
    ids = set(last_day["answer_id"])
    assert {c["answer_id"] for c in manifest["story"]["callback_answers"]} <= ids
    assert {c["identified_by"] for c in manifest["story"]["callback_answers"]} == {
        "customer_id",
        "email",
        "phone",
        "loyalty_card_id",
    }


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _utc(s: str) -> datetime:
    """Naive UTC from an ISO 8601 string with or without an offset."""
    t = datetime.fromisoformat(s)
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def _norm_phone(v: str) -> str:
    digits = re.sub(r"\D", "", v)
    return "7" + digits[1:] if len(digits) == 11 and digits[0] in "78" else digits


def test_contact_details_resolve_to_customers(landing, scanned):
    """Respondents known only by email, phone or card mostly match a customer; a few match nobody."""
    customers = _good(scanned, "customers").drop_duplicates("customer_id", keep="last")
    emails = set(customers["email"].dropna().str.strip().str.lower())
    phones = set(customers["phone"].dropna().map(_norm_phone))
    cards = set(customers["loyalty_card_id"].dropna().str.replace(r"\D", "", regex=True))
    assert all(len(p) == 11 and p.startswith("7") for p in phones)
    assert len(phones) == customers["phone"].notna().sum()  # one phone per person
    assert len(emails) == customers["email"].notna().sum()
    assert len(cards) == customers["loyalty_card_id"].notna().sum()
    answers = _good(scanned, "survey_answers")
    anon = answers[answers["customer_id"].isna()]
    matched = (
        anon["email"].fillna("").str.strip().str.lower().isin(emails)
        | anon["phone"].fillna("").map(_norm_phone).isin(phones)
        | anon["loyalty_card_id"].fillna("").str.replace(r"\D", "", regex=True).isin(cards)
    )
    assert 0.8 < matched.mean() < 1.0
    assert 0.5 < answers["customer_id"].notna().mean() < 0.7
    for col in ("email", "phone", "loyalty_card_id"):
        assert anon[col].notna().sum() > 10, col
    assert anon["email"].dropna().str.contains(r"^\s|[A-Z]").any()  # varied case and spaces


def test_both_attribution_paths(landing, scanned):
    customers = _good(scanned, "customers")
    leads = _good(scanned, "leads")
    via_lead_id = customers["lead_id"].notna()
    linked_from_lead = customers["customer_id"].isin(leads["customer_id"].dropna())
    assert (via_lead_id & ~linked_from_lead).any()
    assert (~via_lead_id & linked_from_lead).any()
    assert (via_lead_id & linked_from_lead).any()
    assert (~via_lead_id & ~linked_from_lead).mean() > 0.2  # direct customers


def test_lead_quality_plants(landing, scanned):
    _, manifest = landing
    leads = _good(scanned, "leads").set_index("lead_id")
    plants = manifest["lead_quality"]
    assert {p["expectation"] for p in plants} == {
        "lead_contactable",
        "created_at_not_future",
        "qualified_after_created",
        "qualified_xor_disqualified",
        "duplicate_lead",
    }
    for p in plants:
        row = leads.loc[p["lead_id"]]
        kind = p["expectation"]
        if kind == "lead_contactable":
            assert pd.isna(row["phone"]) and (
                pd.isna(row["email"]) or not EMAIL.fullmatch(row["email"].strip())
            )
        elif kind == "created_at_not_future":
            assert datetime.fromisoformat(row["created_at"]) > datetime.now() + timedelta(days=365)
        elif kind == "qualified_after_created":
            assert row["qualified_at"] < row["created_at"]
        elif kind == "qualified_xor_disqualified":
            assert pd.notna(row["qualified_at"]) and pd.notna(row["disqualified_reason"])
        else:
            orig = leads.loc[p["duplicate_of"]]
            same_email = (
                pd.notna(row["email"])
                and pd.notna(orig["email"])
                and (row["email"].strip().lower() == orig["email"].strip().lower())
            )
            same_phone = (
                pd.notna(row["phone"])
                and pd.notna(orig["phone"])
                and (_norm_phone(row["phone"]) == _norm_phone(orig["phone"]))
            )
            gap = datetime.fromisoformat(row["created_at"]) - datetime.fromisoformat(
                orig["created_at"]
            )
            assert (same_email or same_phone) and timedelta(0) < gap <= timedelta(days=7)
    # Generated leads are clean: only the plants break these expectations.
    clean = leads.drop(index=[p["lead_id"] for p in plants])
    assert (clean["email"].notna() | clean["phone"].notna()).all()
    assert clean["email"].dropna().str.strip().map(EMAIL.fullmatch).all()
    assert not (clean["qualified_at"].notna() & clean["disqualified_reason"].notna()).any()
    q = clean[clean["qualified_at"].notna()]
    assert (q["qualified_at"].map(_utc) > q["created_at"].map(_utc)).all()
    assert (
        clean["created_at"].map(_utc) <= datetime(END.year, END.month, END.day, 23, 59, 59)
    ).all()
    # ...and no two leads share a contact detail, so duplicates are only the planted ones.
    assert clean["email"].dropna().str.strip().str.lower().is_unique
    assert clean["phone"].dropna().map(_norm_phone).is_unique
    assert (clean["created_at"].map(_utc).dt.date == END).any()  # fresh on the last day


def test_seeds_match_the_generator():
    for name, rows in (
        ("channels", demo.channels_seed_rows()),
        ("stores", demo.stores_seed_rows()),
    ):
        with open(PROJECT_ROOT / "seeds" / f"{name}.csv", encoding="utf-8") as fh:
            assert list(csv.DictReader(fh)) == rows, name
    with open(PROJECT_ROOT / "seeds" / "channels.csv", encoding="utf-8") as fh:
        groups = {row["channel_group"] for row in csv.DictReader(fh)}
    assert groups == {"paid", "organic", "referral", "offline"}


def _nps_rows_by_store_link(root: Path, manifest: dict) -> tuple[int, int]:
    """NPS answer rows of orders with a store, and of orders without one."""
    at_store = elsewhere = 0
    for f in manifest["files"]:
        if f["feed"] != "survey_answers":
            continue
        for _, rec in read_records(root / f["path"], f["format"]):
            if rec and rec.get("survey") == "nps":
                if _str(rec.get("store_id")):
                    at_store += 1
                else:
                    elsewhere += 1
    return at_store, elsewhere


def test_store_response_raises_only_the_stores_answers(tmp_path):
    # Same world twice, once with the demo's receipt surveys: 0.8 of store orders answer
    # instead of RESPONSE_P = 0.19, so about 0.8 / 0.19 = 4.2x the store answers; orders
    # without a store answer at 0.19 in both (their count moves only by sampling noise).
    kw = dict(orders=2000, seed=5, end_date=date(2026, 6, 30), months=10, plant_bad_input=False)
    base = generate(tmp_path / "a", **kw)
    demo = generate(tmp_path / "b", **kw, store_response=0.8)
    store_a, other_a = _nps_rows_by_store_link(tmp_path / "a", base)
    store_b, other_b = _nps_rows_by_store_link(tmp_path / "b", demo)
    assert 3.4 <= store_b / store_a <= 5.0, (store_a, store_b)
    assert 0.75 <= other_b / other_a <= 1.3, (other_a, other_b)
    assert demo["story"]["store_survey_response"] == 0.8
    assert base["story"]["store_survey_response"] == 0.19
    # the orders themselves do not change
    assert base["generated_rows"]["orders"] == demo["generated_rows"]["orders"]
