"""PII canaries: unique emails, phones and loyalty cards planted in customers, leads and
survey answers must appear in clear nowhere BI, logs, Data Docs or alerts can reach.

220 canary rows per feed, each with its own email / phone / card (and the survey
comments repeat the email and phone in free text). Every free-text column of the
landing contract that is not a PII column (FREE_TEXT: region, campaign, disqualification
reason, category, question, contact reason) also carries, on some rows, a marker word
followed by an email and a phone: the test looks for the marker in the published file
to tell a field that is published (then its PII must have been scrubbed) from one that
is not published at all, and holds that to what the landing contract says. After a real
pipeline run the test searches, for every canary (as planted, and the phone also as its last ten
digits): every text value of the published DuckDB file and of the Parquet export,
every file under DAGSTER_HOME (event log, compute logs), the captured stdout and
stderr of the run, GX Data Docs and validation results, dbt's logs and artifacts
of this run, and the bodies of the alerts the check sensor sends.
"""

import re

import dagster as dg
import duckdb

from orchestration.defs import alerts as alert_defs
from orchestration.defs.transform import DBT_DIR
from orchestration.lib.settings import load_settings
from tests.integration.pipeline_helpers import copy_landing, run_pipeline
from tests.integration.test_gate_dagster import _wait_for, receivers  # noqa: F401  (fixture)
from tests.integration.test_publish_support import open_snapshot

N = 220
CHANNELS = ["paid_search", "paid_social", "display", "email", "organic_search", "referral"]


def _email(kind: str, i: int) -> str:
    return f"canary.{kind}{i:04d}.qz@pii-canary.test"


def _phone(area: int, i: int) -> str:
    return f"+7 ({area}) {i:03d}-{(i * 37) % 100:02d}-{(i * 53) % 100:02d}"


def _card(kind: str, i: int) -> str:
    return f"CNRY{kind.upper()}{i:06d}"


# (feed, column) of every free-text column that is not declared PII nor restricted to a
# list of allowed values (orchestration/lib/feeds.py); ids and codes are not free text.
FREE_TEXT = [
    ("customers", "region"),
    ("leads", "campaign"),
    ("leads", "disqualified_reason"),
    ("order_items", "category"),
    ("marketing_spend", "campaign"),
    ("survey_answers", "question"),
    ("support_contacts", "reason"),
]
EVERY = 20  # one row in EVERY carries a free-text canary (11 rows per field)


def _marker(feed: str, column: str, i: int) -> str:
    return f"fieldmark{FREE_TEXT.index((feed, column))}x{i:04d}"


def _free_text(feed: str, column: str, i: int, area: int) -> tuple[str, list[str]]:
    """A marker word followed by contact data, as a clerk would type it."""
    e, p = _email(f"f{FREE_TEXT.index((feed, column))}", i), _phone(area, i)
    return f"{_marker(feed, column, i)} call {p} or mail {e}", [e, p]


def _plant(landing) -> list[str]:
    canaries: list[str] = []
    cust = ["customer_id,registered_at,lead_id,email,phone,loyalty_card_id,region"]
    leads = [
        "lead_id,created_at,channel,campaign,email,phone,qualified_at,disqualified_reason,customer_id"
    ]
    survey = [
        "answer_id,answered_at,survey,question,score,store_id,email,phone,loyalty_card_id,comment"
    ]
    for i in range(N):
        day = 1 + i % 28
        free = i % EVERY == 0
        e, p, c = _email("c", i), _phone(931, i), _card("c", i)
        region, extra = _free_text("customers", "region", i, 941) if free else ("Ural", [])
        cust.append(f'CNRY-C{i:04d},2026-10-{day:02d} 10:00:00,,{e},{p},{c},"{region}"')
        canaries += [e, p, c, *extra]
        e, p = _email("l", i), _phone(932, i)
        campaign, reason, extra = "canary", "", []
        if free:
            campaign, extra_c = _free_text("leads", "campaign", i, 942)
            reason, extra_r = _free_text("leads", "disqualified_reason", i, 943)
            extra = extra_c + extra_r
        leads.append(
            f"CNRY-L{i:04d},2026-10-{day:02d} 11:00:00,{CHANNELS[i % len(CHANNELS)]},"
            f'"{campaign}",{e},{p},,"{reason}",'
        )
        canaries += [e, p, *extra]
        e, p, c = _email("s", i), _phone(933, i), _card("s", i)
        question, extra = (
            _free_text("survey_answers", "question", i, 944) if free else ("store_visit", [])
        )
        survey.append(
            f'CNRY-S{i:04d},2026-10-{day:02d} 12:00:00,csi,"{question}",{1 + i % 5},S01,{e},{p},{c},'
            f'"please call me back at {e} or {p}"'
        )
        canaries += [e, p, c, *extra]
    (landing / "customers" / "zz_canary_customers.csv").write_text("\n".join(cust) + "\n")
    (landing / "leads" / "zz_canary_leads.csv").write_text("\n".join(leads) + "\n")
    (landing / "survey_answers" / "zz_canary_survey.csv").write_text("\n".join(survey) + "\n")
    # Orders of canary customers whose one line has a canary category, spend rows with a
    # canary campaign, support contacts with a canary reason.
    orders = [
        "order_id,customer_id,ordered_at,status,sales_channel,store_id,fulfilment,promised_at,delivered_at,currency"
    ]
    items = ["order_id,line_no,sku,category,quantity,unit_price,unit_cost"]
    spend = ["spend_date,channel,campaign,spend,impressions,clicks,currency"]
    contacts = ["contact_id,contacted_at,channel,reason,order_id,customer_id"]
    for i in range(0, N, EVERY):
        day = 1 + i % 28
        orders.append(
            f"CNRY-O{i:04d},CNRY-C{i:04d},2026-10-{day:02d} 13:00:00,paid,web,,courier,,,RUB"
        )
        category, extra_i = _free_text("order_items", "category", i, 945)
        items.append(f'CNRY-O{i:04d},1,CNRY-SKU,"{category}",1,100.00,60.00')
        campaign, extra_s = _free_text("marketing_spend", "campaign", i, 946)
        spend.append(f'2026-10-{day:02d},paid_search,"{campaign}",10.00,100,5,RUB')
        reason, extra_r = _free_text("support_contacts", "reason", i, 947)
        contacts.append(
            f'CNRY-T{i:04d},2026-10-{day:02d} 14:00:00,phone,"{reason}",CNRY-O{i:04d},CNRY-C{i:04d}'
        )
        canaries += extra_i + extra_s + extra_r
    for feed, lines in (
        ("orders", orders),
        ("order_items", items),
        ("marketing_spend", spend),
        ("support_contacts", contacts),
    ):
        (landing / feed / f"zz_canary_{feed}.csv").write_text("\n".join(lines) + "\n")
    phones_digits = [re.sub(r"\D", "", x)[-10:] for x in canaries if x.startswith("+7")]
    return canaries + phones_digits


def _texts_of(con: duckdb.DuckDBPyConnection, relations: list[str]) -> list[str]:
    out = []
    for rel in relations:
        cols = [
            r[0]
            for r in con.execute(f"describe select * from {rel}").fetchall()
            if r[1] == "VARCHAR"
        ]
        for c in cols:
            out += [
                r[0]
                for r in con.execute(
                    f'select distinct "{c}"::varchar from {rel} where "{c}" is not null'
                ).fetchall()
            ]
    return out


def test_no_canary_in_clear_anywhere(generated_landing, tmp_path, flywheel_env, receivers, capfd):  # noqa: F811
    hooks, mails = receivers
    src, _ = generated_landing
    landing = copy_landing(src, tmp_path / "landing")
    flywheel_env(landing)
    canaries = _plant(landing)
    free_rows = len(range(0, N, EVERY))  # 11
    # 8 planted values per index + 2 per free-text canary (7 fields), plus the digit forms
    # of every phone (3 per index, 1 per free-text canary)
    assert len(set(canaries)) == len(canaries) == N * 8 + N * 3 + 7 * free_rows * 3
    s = load_settings()

    # on disk (DAGSTER_HOME): the alert sensor reads the run, the scan below its event log
    instance = dg.DagsterInstance.get()
    result = run_pipeline(instance=instance)
    alert_defs.quality_check_alerts(dg.build_sensor_context(instance=instance))
    _wait_for(mails, len(hooks))
    out, err = capfd.readouterr()

    # The canaries went through: loaded and hashed (not quarantined, not dropped).
    wh = duckdb.connect(str(s.warehouse_path), read_only=True)
    loaded = [
        wh.execute(f"select count(*) from raw.{t} where {k} like 'CNRY-%'").fetchone()[0]
        for t, k in (
            ("customers", "customer_id"),
            ("leads", "lead_id"),
            ("survey_answers", "answer_id"),
        )
    ]
    wh.close()
    assert loaded == [N, N, N]
    pub = open_snapshot(s.published_path)
    hashed = pub.execute(
        "select count(*) from marts.dim_customers where customer_id like 'CNRY-%' and email_hash is not null"
        " and phone_hash is not null and loyalty_card_hash is not null"
    ).fetchone()[0]
    assert hashed == N

    # Every canary has one of four shapes (_email, _phone, _card, and a phone's last ten
    # digits): one pass finds every substring of those shapes, overlapping ten-digit runs
    # included, and the canaries are the ones among them: what an alternation of the
    # 2,651 canaries themselves finds, without trying each of them at every character.
    canary_set = set(canaries)
    shapes = re.compile(
        r"(?=(canary\.[a-z0-9]+\.qz@pii-canary\.test|CNRY[A-Z]+\d{6}"
        r"|\+7 \(\d{3}\) \d{3}-\d{2}-\d{2}|\d{10}))"
    )
    assert all(shapes.match(c)[1] == c for c in canaries)  # each canary is one whole shape
    # and the scan finds them inside other text: an email, a phone, a card, digits
    probe = [canaries[0], canaries[1], canaries[2], canaries[-1]]
    assert set(shapes.findall("log: " + "; x7".join(probe) + ".")) & canary_set == set(probe)
    found: dict[str, set[str]] = {}

    def scan(where: str, text: str) -> None:
        hits = set(shapes.findall(text)) & canary_set
        if hits:
            found.setdefault(where, set()).update(hits)

    tables = [
        f"marts.{r[0]}"
        for r in pub.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    ]
    published_text = "\n".join(_texts_of(pub, tables))
    scan("published duckdb", published_text)
    # Each free-text field: published (its marker is there, so its contact data must have
    # been scrubbed: the scan above) or not published at all.
    verdicts = {
        f"{feed}.{column}": (
            "published, scrubbed"
            if _marker(feed, column, 0) in published_text.lower()
            else "not published"
        )
        for feed, column in FREE_TEXT
    }
    pub.close()
    pq = duckdb.connect()
    parquet_files = sorted((s.published_path.parent / "parquet").glob("*.parquet"))
    scan("parquet", "\n".join(_texts_of(pq, [f"read_parquet('{p}')" for p in parquet_files])))
    pq.close()
    for p in (tmp_path / "dagster_home").rglob("*"):
        if p.is_file():
            scan(f"dagster home {p.name}", p.read_bytes().decode("utf-8", "replace"))
    scan("run stdout", out)
    scan("run stderr", err)
    for folder in ("gx_data_docs", "gx_validation_results"):
        for p in (s.data_dir / folder).rglob("*"):
            if p.is_file():
                scan(f"{folder}/{p.name}", p.read_bytes().decode("utf-8", "replace"))
    dbt_files = [p for p in (DBT_DIR / "target").glob(f"*{result.run_id[:7]}*/**/*") if p.is_file()]
    dbt_files += [p for p in (DBT_DIR / "logs").glob("*.log") if p.is_file()]
    for p in dbt_files:
        scan(f"dbt {p.name}", p.read_bytes().decode("utf-8", "replace"))
    alerts = [h["text"] + str(h.get("blocks")) for h in hooks] + list(mails)
    scan("alerts", "\n".join(alerts))

    n_found = sum(len(v) for v in found.values())
    print(
        f"\nPII canaries planted: {len(canaries)} (emails {3 * N}, phones {3 * N} + {3 * N} digit forms, "
        f"cards {2 * N}); places searched: published, parquet ({len(parquet_files)} files), dagster home, "
        f"stdout/stderr, GX docs, dbt ({len(dbt_files)} files), alerts ({len(alerts)}); canaries found: {n_found}"
        f"\nfree-text fields: {verdicts}"
    )
    assert n_found == 0, {k: sorted(v)[:5] for k, v in found.items()}
    # What the landing contract says (docs/landing-contract.md, "Contact data in free
    # text"): every free-text field is published with its contact data scrubbed, except
    # the support contact reason, which no mart carries. A field that stopped reaching
    # BI (or a canary row that got quarantined) would make the scan above prove nothing.
    assert verdicts == {
        f"{feed}.{column}": (
            "not published"
            if (feed, column) == ("support_contacts", "reason")
            else "published, scrubbed"
        )
        for feed, column in FREE_TEXT
    }
