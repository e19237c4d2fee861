"""PII canaries: unique emails, phones and loyalty cards planted in customers, leads and
survey answers must appear in clear nowhere BI, logs, Data Docs or alerts can reach.

220 canary rows per feed, each with its own email / phone / card (and the survey
comments repeat the email and phone in free text). After a real pipeline run the
test searches, for every canary (as planted, and the phone also as its last ten
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
        e, p, c = _email("c", i), _phone(931, i), _card("c", i)
        cust.append(f"CNRY-C{i:04d},2026-10-{day:02d} 10:00:00,,{e},{p},{c},Ural")
        canaries += [e, p, c]
        e, p = _email("l", i), _phone(932, i)
        leads.append(
            f"CNRY-L{i:04d},2026-10-{day:02d} 11:00:00,{CHANNELS[i % len(CHANNELS)]},canary,{e},{p},,,"
        )
        canaries += [e, p]
        e, p, c = _email("s", i), _phone(933, i), _card("s", i)
        survey.append(
            f"CNRY-S{i:04d},2026-10-{day:02d} 12:00:00,csi,store_visit,{1 + i % 5},S01,{e},{p},{c},"
            f'"please call me back at {e} or {p}"'
        )
        canaries += [e, p, c]
    (landing / "customers" / "zz_canary_customers.csv").write_text("\n".join(cust) + "\n")
    (landing / "leads" / "zz_canary_leads.csv").write_text("\n".join(leads) + "\n")
    (landing / "survey_answers" / "zz_canary_survey.csv").write_text("\n".join(survey) + "\n")
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
    assert (
        len(set(canaries)) == len(canaries) == N * 8 + N * 3
    )  # 8 planted values per index + 3 digit forms
    s = load_settings()

    result = run_pipeline()
    instance = dg.DagsterInstance.get()
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

    pattern = re.compile("|".join(re.escape(c) for c in sorted(canaries, key=len, reverse=True)))
    found: dict[str, set[str]] = {}

    def scan(where: str, text: str) -> None:
        hits = set(pattern.findall(text))
        if hits:
            found.setdefault(where, set()).update(hits)

    tables = [
        f"marts.{r[0]}"
        for r in pub.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    ]
    scan("published duckdb", "\n".join(_texts_of(pub, tables)))
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
    )
    assert n_found == 0, {k: sorted(v)[:5] for k, v in found.items()}
