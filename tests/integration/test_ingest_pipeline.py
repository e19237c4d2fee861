"""The Dagster ingest job on a generated landing folder, checked against the generator's manifest."""

import shutil
from collections import Counter

import dagster as dg
import duckdb
import pytest

from orchestration.definitions import defs
from orchestration.lib.settings import load_settings


def _norm(v):
    """Compare decimals by value (518.0100 == 518.01), everything else as text."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


def run_ingest() -> dg.ExecuteInProcessResult:
    result = defs.resolve_job_def("ingest_job").execute_in_process(
        instance=dg.DagsterInstance.get()
    )
    assert result.success
    return result


def table_snapshot(con) -> dict:
    return {
        feed: con.execute(
            f"select count(*), sum(hash(t)) from (select * exclude (_ingested_at, _file_id) from raw.{feed}) t"
        ).fetchone()
        for feed in (
            "customers",
            "leads",
            "orders",
            "order_items",
            "marketing_spend",
            "survey_answers",
            "support_contacts",
        )
    }


@pytest.fixture
def landing_copy(generated_landing, tmp_path, flywheel_env):
    src, manifest = generated_landing
    dst = tmp_path / "landing"
    shutil.copytree(src, dst, symlinks=True)
    flywheel_env(dst)
    return dst, manifest


def test_ingest_matches_manifest(landing_copy):
    landing, manifest = landing_copy
    run_ingest()
    con = duckdb.connect(str(load_settings().warehouse_path), read_only=True)

    # Every planted bad row is quarantined at its file and line, with the planted rule.
    got = {
        (r[0], r[1], r[2]): r[3]
        for r in con.execute("select feed, path, line, rule from meta.quarantine").fetchall()
    }
    planted = {(b["feed"], b["path"], b["line"]): b["rule"] for b in manifest["bad_rows"]}
    assert {k: got.get(k) for k in planted} == planted
    # ...and nothing else is quarantined: no good row lost.
    assert set(got) == set(planted)

    # No good row lost: distinct keys per feed as the manifest counted them independently.
    for feed, exp in manifest["expected"].items():
        (n,) = con.execute(f"select count(*) from raw.{feed}").fetchone()
        assert n == exp["distinct_good_keys"], feed
    replaced = dict(
        con.execute("select feed, sum(rows_replaced) from meta.files group by feed").fetchall()
    )
    for feed, n in manifest["expected_replacements"].items():
        assert replaced.get(feed, 0) == n, feed

    # Files: the rejected one names its column, the doubled one is a duplicate.
    files = {
        r[0]: r[1:] for r in con.execute("select path, outcome, reason from meta.files").fetchall()
    }
    for rej in manifest["rejected_files"]:
        outcome, reason = files[rej["path"]]
        assert outcome == "rejected" and rej["column"] in reason and rej["path"] in reason
    for dup in manifest["duplicate_files"]:
        assert files[dup["path"]][0] == "duplicate_content"

    # Every loaded file reconciles: rows in = loaded + quarantined; for CSV the rows equal
    # the physical data lines the generator wrote.
    listed = {f["path"]: f for f in manifest["files"]}
    for path, outcome, rows_in, loaded, quarantined, lines in con.execute(
        "select path, outcome, rows_in, rows_loaded, rows_quarantined, physical_lines from meta.files"
    ).fetchall():
        if outcome != "loaded":
            continue
        assert rows_in == loaded + quarantined, path
        assert rows_in == listed[path]["data_rows"], path
        if listed[path]["physical_lines"] is not None:
            assert lines == listed[path]["physical_lines"], path

    # The corrected re-export replaced the earlier values.
    for corr in manifest["corrections"]:
        feed = corr["feed"]
        for row in corr["rows"]:
            where = " and ".join(f"{k} = ?" for k in row["key"])
            cols = ", ".join(row["changed"])
            got_row = con.execute(
                f"select {cols} from raw.{feed} where {where}", list(row["key"].values())
            ).fetchone()
            assert [_norm(v) for v in got_row] == [_norm(v) for v in row["changed"].values()]

    # Offsets were converted to the warehouse time zone (UTC here).
    for ex in manifest["tz_examples"]:
        feed = ex["feed"]
        ts_col = {
            "orders": "ordered_at",
            "leads": "created_at",
            "survey_answers": "answered_at",
            "customers": "registered_at",
            "support_contacts": "contacted_at",
        }[feed]
        where = " and ".join(f"{k} = ?" for k in ex["key"])
        (ts,) = con.execute(
            f"select strftime({ts_col}, '%Y-%m-%d %H:%M:%S') from raw.{feed} where {where}",
            list(ex["key"].values()),
        ).fetchone()
        assert ts == ex["expected_utc"]
    con.close()


def test_rerun_and_doubled_file_change_nothing(landing_copy):
    landing, manifest = landing_copy
    run_ingest()
    settings = load_settings()
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    before = table_snapshot(con)
    files_before = con.execute("select count(*) from meta.files").fetchone()[0]
    q_before = con.execute("select count(*) from meta.quarantine").fetchone()[0]
    con.close()

    run_ingest()  # the same landing folder again: a no-op
    # land one more copy of an already loaded file under a new name
    some = next(f for f in manifest["files"] if f["feed"] == "orders" and f["format"] == "csv")
    shutil.copy(landing / some["path"], landing / "orders" / "zz_landed_again.csv")
    run_ingest()

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert table_snapshot(con) == before
    assert con.execute("select count(*) from meta.quarantine").fetchone()[0] == q_before
    outcomes = Counter(
        r[0]
        for r in con.execute(
            "select outcome from meta.files order by file_id offset ?", [files_before]
        ).fetchall()
    )
    assert outcomes == {"duplicate_content": 1}
    con.close()
