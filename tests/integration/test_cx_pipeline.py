"""The CX branch end to end on the generated landing folder (orders=3000):
the callback list and its CSV, canaries that must never leave the restricted
side, idempotence on re-landing, and the 15-minute store run.

Expected sets are worked out independently: the callback list is compared
with the generator's manifest (story -> callback_answers), with the canaries
planted here, and with a plain-Python filter over raw.survey_answers.
"""

import contextlib
import csv
import logging
import os
import re
import shutil
import stat
import sys
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.integration.conftest import END_DATE

CANARIES = 1000


def canary_email(i: int) -> str:
    return f"canary{i:04d}.zq@leak-test.invalid"


def canary_phone(i: int) -> str:
    return f"7999{i:07d}"  # normalised form; landed as +7 (999) ... below


def write_canaries(folder: Path, name: str, comment: str) -> list[str]:
    """1,000 low csi answers on the last day, each with a unique email and phone."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    with open(folder / name, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "answer_id",
                "answered_at",
                "survey",
                "question",
                "score",
                "order_id",
                "store_id",
                "customer_id",
                "email",
                "phone",
                "loyalty_card_id",
                "comment",
            ]
        )
        for i in range(CANARIES):
            aid = f"CANARY{i:05d}"
            ids.append(aid)
            p = canary_phone(i)
            w.writerow(
                [
                    aid,
                    f"{END_DATE} 12:{i % 60:02d}:{i % 60:02d}",
                    "csi",
                    "store_visit",
                    1 + i % 2,
                    "",
                    "S01",
                    "",
                    canary_email(i).upper(),
                    f"+7 ({p[1:4]}) {p[4:7]}-{p[7:9]}-{p[9:]}",
                    "",
                    f"{comment} {canary_email(i)}",
                ]
            )
    return ids


def defs():
    from orchestration.definitions import defs as base
    from orchestration.defs import cx

    return dg.Definitions.merge(
        base, dg.Definitions(assets=cx.assets, jobs=cx.jobs, schedules=cx.schedules)
    )


@contextmanager
def captured_fds(path: Path):
    """Everything the run prints or logs into one file: fd 1 and 2 (subprocesses), sys.stdout /
    sys.stderr (dbt's in-process output, which pytest swaps) and every Python log record
    (Dagster's console and event logs, GX)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    root = logging.getLogger()
    with open(path, "a", encoding="utf-8") as fh:
        handler = logging.StreamHandler(fh)
        handler.setLevel(logging.INFO)
        root.addHandler(handler)
        old_level = root.level
        root.setLevel(logging.INFO)
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            with contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
                yield
        finally:
            fh.flush()
            root.removeHandler(handler)
            root.setLevel(old_level)
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def run(job: str, log: Path) -> dg.ExecuteInProcessResult:
    with captured_fds(log):
        result = (
            defs()
            .resolve_job_def(job)
            .execute_in_process(instance=dg.DagsterInstance.get(), raise_on_error=False)
        )
    assert result.success, job
    return result


@pytest.fixture(scope="module")
def cx_env(generated_landing, tmp_path_factory):
    src, manifest = generated_landing
    root = tmp_path_factory.mktemp("cx")
    landing = root / "landing"
    shutil.copytree(src, landing, symlinks=True)
    canaries = write_canaries(landing / "survey_answers", "survey_answers_zz_canary.csv", "call me")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FLYWHEEL_DATA_DIR", str(root / "data"))
        mp.setenv("FLYWHEEL_LANDING_DIR", str(landing))
        mp.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        (root / "dagster_home").mkdir()
        mp.setenv("FLYWHEEL_PII_KEY", "test-key-not-secret")
        mp.setenv("FLYWHEEL_GATE_NOW", f"{END_DATE + timedelta(days=1)}T06:00:00")
        log = root / "captured.log"
        result = run("pipeline_job", log)
        yield {
            "root": root,
            "data": root / "data",
            "landing": landing,
            "manifest": manifest,
            "canaries": canaries,
            "log": log,
            "run_ids": [result.run_id],
        }


def warehouse(env, read_only=True):
    return duckdb.connect(str(env["data"] / "warehouse.duckdb"), read_only=read_only)


def expected_callbacks(env) -> set[str]:
    """Second method: csi/cx answers scoring below 3 answered on the last day, filtered in Python."""
    con = warehouse(env)
    rows = con.execute(
        "select answer_id, answered_at, survey, score from raw.survey_answers"
    ).fetchall()
    con.close()
    return {
        a
        for a, at, survey, score in rows
        if survey.strip().lower() in ("csi", "cx") and score < 3 and at.date() == END_DATE
    }


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_callback_list_holds_the_planted_low_scores(cx_env):
    story = cx_env["manifest"]["story"]
    planted = {c["answer_id"]: c for c in story["callback_answers"]}
    assert story["callback_day"] == END_DATE.isoformat()
    assert len(planted) == 4  # one per identification: customer_id, email, phone, loyalty card
    expected = expected_callbacks(cx_env)
    # the generator plants the only natural low scores of the last day: its story plus our canaries
    assert expected == set(planted) | set(cx_env["canaries"])

    csv_path = cx_env["data"] / "restricted" / f"callbacks_{END_DATE}.csv"
    assert stat.S_IMODE(csv_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(csv_path.parent.stat().st_mode) == 0o700
    rows = read_csv(csv_path)
    ids = [r["answer_id"] for r in rows]
    assert len(ids) == len(set(ids)) and set(ids) == expected

    by_id = {r["answer_id"]: r for r in rows}
    for aid, c in planted.items():
        r = by_id[aid]
        # resolved to the customer the generator chose, by the method it planted
        assert r["customer_id"] == c["customer_id"]
        assert r["resolution_method"] == c["identified_by"].replace(
            "loyalty_card_id", "loyalty_card"
        )
        assert int(r["score"]) == c["score"]
        assert r["email"] or r["phone"] or r["loyalty_card_id"], aid
    # the canaries' contact details, normalised: lower-case email, 11-digit phone starting with 7
    assert by_id["CANARY00007"]["email"] == canary_email(7)
    assert by_id["CANARY00007"]["phone"] == canary_phone(7)

    restricted = duckdb.connect(
        str(cx_env["data"] / "restricted" / "restricted.duckdb"), read_only=True
    )
    n = restricted.execute("select count(*) from restricted.restricted.callback_list").fetchone()[0]
    restricted.close()
    assert n == len(expected)


def _needles(env) -> list[str]:
    return [canary_email(i) for i in range(CANARIES)] + [canary_phone(i) for i in range(CANARIES)]


# Every canary email and phone matches this pattern (canary_email, canary_phone).
CANARY_SHAPE = r"canary\d{4}\.zq@leak-test\.invalid|7999\d{7}"


def _varchar_hits(
    con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]], needle_table: str
) -> list:
    """(relation, column, values holding a needle): one regular-expression pass per column
    finds the canary-shaped values, then each of those is searched for every needle."""
    needles = [r[0] for r in con.execute(f"select v from {needle_table}").fetchall()]
    hits = []
    for relation, column in tables:
        shaped = con.execute(
            f'select distinct lower(t."{column}") from {relation} t'
            f' where regexp_matches(lower(t."{column}"), $p)',
            {"p": CANARY_SHAPE},
        ).fetchall()
        n = sum(1 for (v,) in shaped if any(needle in v for needle in needles))
        if n:
            hits.append((relation, column, n))
    return hits


def test_canaries_never_leave_the_restricted_side(cx_env):
    needles = _needles(cx_env)
    published = cx_env["data"] / "published"
    # the published file and the live file: every table, every VARCHAR column
    for db in (published / "flywheel.duckdb", published / "cx_store_live.duckdb"):
        con = duckdb.connect(str(db), read_only=True)
        con.execute("create temp table needles as select unnest($n) as v", {"n": needles})
        cols = con.execute(
            "select table_schema || '.' || table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_catalog = current_database()"
        ).fetchall()
        assert cols
        assert _varchar_hits(con, cols, "needles") == [], db
        con.close()
    # the Parquet export
    con = duckdb.connect()
    con.execute("create temp table needles as select unnest($n) as v", {"n": needles})
    files = sorted((published / "parquet").glob("*.parquet"))
    assert any(f.name == "store_top_problems.parquet" for f in files)
    for f in files:
        cols = [
            (f"read_parquet('{f}')", name)
            for name, typ, *_ in con.execute(
                f"describe select * from read_parquet('{f}')"
            ).fetchall()
            if typ == "VARCHAR"
        ]
        assert _varchar_hits(con, cols, "needles") == [], f
    con.close()
    # logs: captured stdout/stderr of the run (Dagster console, dbt), the event log, every file
    # under DAGSTER_HOME (compute logs, storage), and the GX Data Docs
    instance = dg.DagsterInstance.get()
    texts = [cx_env["log"].read_bytes()]
    for run_id in cx_env["run_ids"]:
        texts.append(
            "\n".join(
                str(e.user_message) + str(e.dagster_event) for e in instance.all_logs(run_id)
            ).encode()
        )
    for folder in (
        cx_env["root"] / "dagster_home",
        cx_env["data"] / "gx_data_docs",
        cx_env["data"] / "gx_validation_results",
        Path("dbt_project") / "logs",
    ):
        texts += (
            [p.read_bytes() for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
        )
    # the logs are really there: the run logged the export and dbt's model names
    assert b"callback export" in texts[0] and b"restricted_callback_list" in texts[0]
    blob = b"\n".join(texts).lower()
    # one pass for all 2,000 needles: every canary email and phone matches this pattern
    pattern = re.compile(CANARY_SHAPE.encode())
    leaked = sorted({m.decode() for m in pattern.findall(blob)} & set(needles))
    assert leaked == []


def test_relanded_file_keeps_each_answer_once(cx_env):
    # the same answers landed again under a new name with changed comments: raw keeps the
    # latest version, and the CSV and ledger still hold each answer once
    write_canaries(
        cx_env["landing"] / "survey_answers", "survey_answers_zz_canary_resent.csv", "resent"
    )
    run("ingest_job", cx_env["log"])
    cx_env["run_ids"].append(run("cx_region_job", cx_env["log"]).run_id)
    rows = read_csv(cx_env["data"] / "restricted" / f"callbacks_{END_DATE}.csv")
    ids = [r["answer_id"] for r in rows]
    assert len(ids) == len(set(ids)) and set(ids) == expected_callbacks(cx_env)
    assert {r["comment"].split()[0] for r in rows if r["answer_id"].startswith("CANARY")} == {
        "resent"
    }
    con = warehouse(cx_env)
    dup = con.execute(
        "select count(*) - count(distinct answer_id) from restricted.callback_exports"
    ).fetchone()[0]
    con.close()
    assert dup == 0
    assert list((cx_env["data"] / "restricted").glob("callbacks_*.csv")) == [
        cx_env["data"] / "restricted" / f"callbacks_{END_DATE}.csv"
    ]


def store_days(cx_env) -> dict:
    """(store_id, answered_on) -> (nps_answers, promoters, detractors, csi_answers, csi_score_sum, aggregated_at)."""
    con = warehouse(cx_env)
    try:
        return {
            (r[0], r[1]): r[2:]
            for r in con.execute(
                "select store_id, answered_on, nps_answers, promoters, detractors, csi_answers, csi_score_sum, "
                "aggregated_at from int_cx_store_days_aggregated"
            ).fetchall()
        }
    finally:
        con.close()


def test_store_run_picks_up_new_answers_and_updates_only_what_changed(cx_env):
    before = store_days(cx_env)
    key = ("S02", END_DATE)
    old = before.get(key, (0, 0, 0, 0, 0, None))
    folder = cx_env["landing"] / "survey_answers"
    with open(folder / "survey_answers_zz_live.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["answer_id", "answered_at", "survey", "question", "score", "store_id"])
        # nps 10, 9 (promoters), 0 (detractor) and a csi 5 at S02 on the last day
        for aid, survey, q, score in (
            ("LIVE1", "nps", "recommend", 10),
            ("LIVE2", "nps", "recommend", 9),
            ("LIVE3", "nps", "recommend", 0),
            ("LIVE4", "csi", "store_visit", 5),
        ):
            w.writerow([aid, f"{END_DATE} 20:00:00", survey, q, score, "S02"])
    live_file = cx_env["data"] / "published" / "cx_store_live.duckdb"
    mtime = live_file.stat().st_mtime
    cx_env["run_ids"].append(run("cx_store_job", cx_env["log"]).run_id)

    after = store_days(cx_env)
    # the touched store-day: +3 nps answers, +2 promoters, +1 detractor, +1 csi answer scoring 5
    new = after[key]
    assert new[:5] == (old[0] + 3, old[1] + 2, old[2] + 1, old[3] + 1, old[4] + 5)
    # The canaries re-landed by the previous test (same 1,000 answers, new comments) were ingested
    # since the last aggregate run, so S01's last day is recomputed too: same counts (1,000 csi
    # answers scoring 1 and 2 alternately -> sum 1,500), replaced rather than added.
    relanded = ("S01", END_DATE)
    assert after[relanded][:5] == before[relanded][:5] == (0, 0, 0, 1000, 1500)
    # every other store-day is untouched, down to when it was computed
    changed = {key, relanded}
    assert {k: v for k, v in after.items() if k not in changed} == {
        k: v for k, v in before.items() if k not in changed
    }

    assert live_file.stat().st_mtime > mtime
    live = duckdb.connect(str(live_file), read_only=True)
    row = live.execute(
        "select as_of_date, nps_respondents, nps from marts.cx_store_live where store_id = 'S02' and grain = 'day'"
    ).fetchone()
    live.close()
    promoters, detractors, n = new[1], new[2], new[0]
    assert row[0] == END_DATE and row[1] == n
    assert row[2] == pytest.approx(100 * (promoters - detractors) / n)
