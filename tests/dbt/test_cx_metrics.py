"""CX metrics, identity resolution, store rating, top problems and the callback
list on hand-written survey answers (the base fixture's customers and orders,
plus the answers below). Every expected number is worked out in the comment
next to it. Built with --vars cx_min_respondents: 5 so a threshold can be
crossed with a handful of rows.
"""

from __future__ import annotations

import os
from pathlib import Path

import dbt_fixture as fixture
import duckdb
import pytest

from orchestration.lib.feeds import FEEDS
from orchestration.lib.warehouse import bootstrap

T = fixture.T
MIN_RESPONDENTS = 5


def _a(
    aid,
    at,
    survey,
    question,
    score,
    store,
    customer=None,
    email=None,
    phone=None,
    card=None,
    order=None,
):
    # answer_id, answered_at, survey, question, score, order_id, store_id, customer_id,
    # email, phone, loyalty_card_id, comment
    return (aid, T(at), survey, question, score, order, store, customer, email, phone, card, None)


# fmt: off
ANSWERS = [
    # S1, January 2024, nps: 10, 9 promoters (9 is the promoter bound); 8, 7 passives (both
    # bounds); 6 detractor (the detractor bound).
    _a("N1", "2024-01-21 10:00", "nps", "recommend", 10, "S1", customer="C1"),
    _a("N2", "2024-01-21 11:00", "nps", "recommend", 9, "S1", customer="C2"),
    _a("N3", "2024-01-22 11:00", "nps", "recommend", 9, "S1"),
    _a("N4", "2024-01-22 12:00", "nps", "recommend", 8, "S1"),
    _a("N5", "2024-01-22 13:00", "nps", "recommend", 7, "S1"),
    _a("N6", "2024-01-23 09:00", "nps", "recommend", 6, "S1", customer="C5"),
    # S1 csi: 5, 4 (csat), 3 (not csat, not low: the low bound), 2 (low)
    _a("K1", "2024-01-22 10:00", "csi", "store_visit", 5, "S1"),
    _a("K2", "2024-01-22 10:01", "csi", "store_visit", 4, "S1"),
    _a("K3", "2024-01-22 10:02", "csi", "store_visit", 3, "S1"),
    _a("K4", "2024-01-22 10:03", "csi", "store_visit", 2, "S1"),
    # S1 cx: the detractor C5's response (same store, same day as N6) and a promoter's answer
    _a("X1", "2024-01-23 09:01", "cx", "queue", 1, "S1", customer="C5"),
    _a("X2", "2024-01-23 09:02", "cx", "prices", 2, "S1", customer="C5"),
    _a("X3", "2024-01-23 09:03", "cx", "staff", 4, "S1", customer="C5"),
    _a("X4", "2024-01-21 10:01", "cx", "queue", 3, "S1", customer="C1"),
    # S2 January nps: five 10s and a 3 -> 6 answers
    *[_a(f"M{i}", f"2024-01-1{i} 10:00", "nps", "recommend", 10, "S2") for i in range(1, 6)],
    _a("M6", "2024-01-16 10:00", "nps", "recommend", 3, "S2"),
    # S3 January: two 10s -> nps 100, below the 5-answer threshold
    _a("Z1", "2024-01-20 10:00", "nps", "recommend", 10, "S3"),
    _a("Z2", "2024-01-20 11:00", "nps", "recommend", 10, "S3"),
    # February: S1 five 10s, S2 five 0s
    *[_a(f"F{i}", f"2024-02-0{i} 10:00", "nps", "recommend", 10, "S1") for i in range(1, 6)],
    *[_a(f"G{i}", f"2024-02-0{i} 10:00", "nps", "recommend", 0, "S2") for i in range(1, 6)],
    # March 4th (the last day): identity resolution in every format, and callbacks
    _a("R1", "2024-03-04 09:00", "csi", "store_visit", 1, "S2", customer="C2"),
    _a("R2", "2024-03-04 09:10", "cx", "queue", 2, "S2", email="  Anna@Example.COM "),
    _a("R3", "2024-03-04 09:20", "csi", "store_visit", 1, "S2", phone="8 (912) 333-44-55"),
    _a("R4", "2024-03-04 09:30", "csi", "store_visit", 3, "S2", phone="+7 912 000-11-22"),
    _a("R5", "2024-03-04 09:40", "cx", "staff", 2, "S2", card="ab 123"),
    _a("R6", "2024-03-04 09:50", "csi", "store_visit", 1, "S2", email="nobody@example.com"),
    _a("R7", "2024-03-04 10:00", "csi", "store_visit", 4, "S2",
       email="dana@example.com", phone="9123334455"),
    _a("R8", "2024-03-04 10:10", "nps", "recommend", 0, "S2", customer="C3"),
    _a("R9", "2024-03-03 18:00", "csi", "store_visit", 1, "S2", customer="C4"),
    # R2's respondent also scored prices low in the same response
    _a("R10", "2024-03-04 09:11", "cx", "prices", 1, "S2", email="anna@example.com"),
]
# fmt: on


def write_warehouse(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    rows = dict(fixture.ROWS, survey_answers=ANSWERS)
    try:
        bootstrap(con)
        loaded = T("2024-03-05 01:00")
        for feed, feed_rows in rows.items():
            cols = FEEDS[feed].column_names
            marks = ", ".join(["?"] * (len(cols) + 3))
            sql = f"insert into raw.{feed} ({', '.join(cols)}, _file_id, _line, _ingested_at) values ({marks})"
            for line, row in enumerate(feed_rows, start=2):
                con.execute(sql, [*row, 1, line, loaded])
        for verdict in fixture.LEAD_VERDICTS:
            con.execute(
                "insert into quality.lead_verdicts values (?, ?, ?, ?, ?, ?)", list(verdict)
            )
    finally:
        con.close()


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("dbt_cx")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in fixture.dbt_env(workdir / "data").items():
            mp.setenv(key, value)
        write_warehouse(workdir / "data" / "warehouse.duckdb")
        project = fixture.prepare_project(workdir)
        stores = workdir / "seeds" / "stores.csv"
        stores.write_text(
            stores.read_text().rstrip("\n")
            + "\nS3,Store Three,North,Northcity,express,2022-01-01\n"
        )
        result = fixture.run_dbt(
            project, ["build", "--vars", f"{{cx_min_respondents: {MIN_RESPONDENTS}}}"]
        )
        assert result.success, result.exception
        assert fixture.unexpected_outcomes(result) == []
        c = duckdb.connect(str(workdir / "data" / "warehouse.duckdb"))
        yield c
        c.close()
    os.environ.pop("FLYWHEEL_PII_KEY", None)


def mv(con, metric, value, period="2024-01-01", dimension="store", grain="month"):
    return con.execute(
        "select value, sample_size, is_small_sample from marts.metric_values where metric = ? and grain = ? "
        "and period_start = cast(? as date) and dimension = ? and dimension_value = ?",
        [metric, grain, period, dimension, value],
    ).fetchone()


def test_nps_bounds(con):
    # S1 January: promoters 10, 9 (N1, N2) and 9 (N3) -> 3; passives 8, 7 -> 2; detractor 6 -> 1
    # nps = 100 x (3 - 1) / 6
    assert mv(con, "nps", "S1") == (pytest.approx(100 * 2 / 6), 6, False)
    assert mv(con, "promoter_share", "S1")[0] == pytest.approx(3 / 6)
    assert mv(con, "passive_share", "S1")[0] == pytest.approx(2 / 6)
    assert mv(con, "detractor_share", "S1")[0] == pytest.approx(1 / 6)
    # S2: five 10s and a 3 -> 100 x (5 - 1) / 6
    assert mv(con, "nps", "S2")[0] == pytest.approx(100 * 4 / 6)
    # S3: two 10s -> 100, flagged: 2 answers < 5
    assert mv(con, "nps", "S3") == (pytest.approx(100.0), 2, True)


def test_csi_csat_low_score_share(con):
    # csi 5, 4, 3, 2 -> 14 / 4; csat (>= 4): 5, 4 -> 2 / 4
    assert mv(con, "csi", "S1") == (pytest.approx(3.5), 4, True)
    assert mv(con, "csat", "S1")[0] == pytest.approx(0.5)
    # low (< 3) among csi + cx: K4 2, X1 1, X2 2 (K3 = 3 and X4 = 3 are not low) -> 3 / 8
    assert mv(con, "low_score_share", "S1") == (pytest.approx(3 / 8), 8, False)
    # cx queue at S1: X1 1, X4 3 -> 2
    assert mv(con, "cx_score_queue", "S1")[0] == pytest.approx(2.0)
    # region North = S1 + S3 (S3 has no csi): same csi; nps (3 + 2 - 1) x 100 / 8 = 50
    assert mv(con, "nps", "North", dimension="region")[0] == pytest.approx(50.0)


def test_store_rating_threshold_and_rank_change(con):
    rows = {
        (r[0], str(r[1])): r[2:]
        for r in con.execute(
            "select store_id, month, nps, nps_respondents, nps_rank, nps_rank_change, nps_is_small_sample "
            "from marts.store_rating"
        ).fetchall()
    }
    # January: S2 66.7 > S1 33.3 ranked 1, 2; S3's 100 from 2 answers is not ranked
    assert rows[("S2", "2024-01-01")] == (pytest.approx(400 / 6), 6, 1, None, False)
    assert rows[("S1", "2024-01-01")] == (pytest.approx(200 / 6), 6, 2, None, False)
    assert rows[("S3", "2024-01-01")] == (pytest.approx(100.0), 2, None, None, True)
    # February: S1 five 10s -> 100 rank 1 (up 2 -> 1: +1); S2 five 0s -> -100 rank 2 (1 -> 2: -1)
    assert rows[("S1", "2024-02-01")] == (pytest.approx(100.0), 5, 1, 1, False)
    assert rows[("S2", "2024-02-01")] == (pytest.approx(-100.0), 5, 2, -1, False)


def test_top_problems(con):
    rows = con.execute(
        "select question, detractor_answers, low_score_answers, low_score_share, problem_rank "
        "from marts.store_top_problems where store_id = 'S1' and month = date '2024-01-01' order by question"
    ).fetchall()
    # The one detractor (C5, N6 on 23 Jan) answered queue 1, prices 2, staff 4: queue and prices are
    # low (share 1, tied rank 1), staff is not (share 0, rank 3). X4 is a promoter's: left out.
    assert rows == [("prices", 1, 1, 1.0, 1), ("queue", 1, 1, 1.0, 1), ("staff", 1, 0, 0.0, 3)]


def test_identity_resolution(con):
    got = dict(
        con.execute(
            "select answer_id, customer_id || ' ' || resolution_method from int_survey_respondents_resolved "
            "where answer_id like 'R%'"
        ).fetchall()
    )
    # R6's email matches nobody: unresolved, no customer
    unresolved = con.execute(
        "select customer_id, resolution_method from int_survey_respondents_resolved where answer_id = 'R6'"
    ).fetchone()
    assert unresolved == (None, "unresolved")
    assert (
        got
        == {
            "R1": "C2 customer_id",
            "R2": "C1 email",  # '  Anna@Example.COM ' = C1's ' Anna@Example.COM ' once trimmed and lower-cased
            "R3": "C3 phone",  # 8 (912) 333-44-55 -> 79123334455 = C3's 9123334455 with prefix 7
            "R4": "C2 phone",  # +7 912 000-11-22 -> 79120001122 = C2's '+7 912 000 11 22'
            "R5": "C1 loyalty_card",  # 'ab 123' -> AB123 = C1's 'ab-123'
            "R6": None,
            "R7": "C4 email",  # email (C4) is trusted before phone (C3)
            "R8": "C3 customer_id",
            "R9": "C4 customer_id",
            "R10": "C1 email",
        }
    )


def test_callback_list(con):
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "select answer_id, callback_day, customer_id, email, phone, loyalty_card_id, contact_source, low_questions "
            "from restricted.callback_list"
        ).fetchall()
    }
    # last day 2024-03-04; csi/cx below 3: R1 1, R2 2, R3 1, R5 2, R6 1, R10 1.
    # Not: R4 (3 is not low), R7 (4), R8 (nps), R9 (3 March: outside the 1-day window).
    assert sorted(rows) == ["R1", "R10", "R2", "R3", "R5", "R6"]
    assert {str(r[0]) for r in rows.values()} == {"2024-03-04"}
    # R1 gave only a customer id: contact details come from C2's record
    assert rows["R1"][1:6] == ("C2", "bob@example.com", "79120001122", None, "customer")
    # R6 is unresolved but left an email: callable
    assert rows["R6"][1:6] == (None, "nobody@example.com", None, None, "answer")
    # R2 and R10 are one response (same email, same day): both low questions listed
    assert rows["R2"][6] == "prices=1, queue=2"
    # nothing of it is in marts
    assert (
        con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts' and table_name like '%callback%'"
        ).fetchone()[0]
        == 0
    )


def test_store_live_matches_metric_values(con):
    # Second method: the live cut's month row for S2 (March so far, as of 4 March) equals
    # metric_values' March value computed by the catalog chain: csi R1 1, R3 1, R4 3, R6 1, R7 4
    # (R9 on 3 March too) -> (1 + 1 + 3 + 1 + 4 + 1) / 6
    live = con.execute(
        "select as_of_date, csi, csi_respondents, nps, nps_respondents from marts.cx_store_live "
        "where store_id = 'S2' and grain = 'month'"
    ).fetchone()
    assert str(live[0]) == "2024-03-04"
    assert live[1] == pytest.approx(11 / 6)
    assert live[2] == 6
    assert live[1] == pytest.approx(mv(con, "csi", "S2", period="2024-03-01")[0])
    # R8 nps 0 is the only March nps answer at S2 -> -100
    assert (live[3], live[4]) == (pytest.approx(-100.0), 1)
