"""Publish in the real pipeline: idempotent, atomic for open readers, restricted kept apart,
and the pipeline under a low DuckDB memory limit (dbt included)."""

import shutil
import stat
from collections import Counter

import dagster as dg
import pytest

from orchestration.cli import headline
from orchestration.lib.settings import load_settings
from tests.integration.conftest import END_DATE
from tests.integration.pipeline_helpers import copy_landing, run_pipeline
from tests.integration.test_publish_support import (
    open_snapshot,
    parquet_checksums,
    published_checksums,
    table_checksums,
)

KEY = b"test-key-not-secret"  # flywheel_env's FLYWHEEL_PII_KEY


def _materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_rerun_and_relanding_change_no_published_number(generated_landing, tmp_path, flywheel_env):
    src, manifest = generated_landing
    landing = copy_landing(src, tmp_path / "landing")
    flywheel_env(landing)
    s = load_settings()
    # on disk (DAGSTER_HOME): the key must not be in the event log either (scanned below)
    instance = dg.DagsterInstance.get()

    first = run_pipeline(instance=instance)
    assert "published/bi_snapshot" in _materialized(first)
    runs1, sums1 = published_checksums(s.published_path)
    pq1 = parquet_checksums(s.published_path.parent / "parquet")
    assert runs1 == {first.run_id}
    # Parquet holds the same tables with the same rows as the DuckDB file.
    assert pq1 == sums1

    # The demo's headline: the data ends on END_DATE, 2026-10-31, the as-of day, which may
    # still be loading (docs/metrics.md, is_complete: the day after the period must be on
    # or before it), so October is open and September 2026 is the last complete month;
    # its figures and changes are metric_values' own.
    con = open_snapshot(s.published_path)
    line = headline(con, "RUB")
    figures = dict(
        (m, (v, c))
        for m, v, c in con.execute(
            "select metric, value, change_pct from marts.metric_values where grain = 'month'"
            " and dimension = 'all' and period_start = date '2026-09-01'"
        ).fetchall()
    )
    con.close()
    assert line.startswith("September 2026, the last complete month: ")
    for metric, label in (
        ("revenue", "revenue"),
        ("gross_margin", "gross margin"),
        ("contribution_margin", "contribution margin"),
    ):
        value, change = figures[metric]
        assert f"{label} {value:,.0f} RUB ({100 * change:+.1f}% on the month before)" in line

    # publish_info: files loaded per feed, counted from the generator's manifest.
    expected_files = Counter(f["feed"] for f in manifest["files"])
    for f in manifest["rejected_files"] + manifest["duplicate_files"]:
        expected_files[f["feed"]] -= 1
    reader = open_snapshot(s.published_path)  # a BI session open across the next publish
    info = {
        r[0]: r[1:]
        for r in reader.execute(
            "select feed, files_loaded, data_newest_at, built_at from marts.publish_info"
        ).fetchall()
    }
    assert {f: v[0] for f, v in info.items()} == dict(expected_files)
    for feed in ("orders", "leads", "customers", "survey_answers"):
        newest = info[feed][1]
        assert newest.date() <= END_DATE and (END_DATE - newest.date()).days <= 7, (feed, newest)
    assert info["order_items"][1] is None  # no timestamp of its own

    # Run again on the same files, and land one file again under a new name.
    some = next(
        f
        for f in manifest["files"]
        if f["feed"] == "orders"
        and f["format"] == "csv"
        and f["path"] not in {r["path"] for r in manifest["rejected_files"]}
    )
    shutil.copy(landing / some["path"], landing / "orders" / "zz_landed_again.csv")
    second = run_pipeline(instance=instance)
    runs2, sums2 = published_checksums(s.published_path)
    assert runs2 == {second.run_id}
    assert sums2 == sums1, [t for t in sums1 if sums1[t] != sums2.get(t)]
    assert parquet_checksums(s.published_path.parent / "parquet") == pq1

    # The reader opened before the second publish still sees the first snapshot, whole.
    assert reader.execute("select distinct run_id from marts.publish_info").fetchall() == [
        (first.run_id,)
    ]
    assert table_checksums(reader) == sums1
    reader.close()

    # The restricted file: owner-only, beside (not inside) published/, with the quarantine.
    r = s.restricted_path
    assert (
        stat.S_IMODE(r.stat().st_mode) == 0o600 and stat.S_IMODE(r.parent.stat().st_mode) == 0o700
    )
    con = open_snapshot(r)
    n_bad = con.execute("select count(*) from restricted.quarantine").fetchone()[0]
    con.close()
    assert n_bad == len(manifest["bad_rows"])
    pub = open_snapshot(s.published_path)
    columns = pub.execute(
        "select table_schema || '.' || table_name, column_name from information_schema.columns"
    ).fetchall()
    pub.close()
    names = {t for t, _ in columns}
    # Neither the restricted tables nor their rows: no callback list, no quarantined row
    # (its raw values, file, line, details); publish_quarantine holds counts only.
    assert not any("callback" in n for n in names), names
    assert not {c for _, c in columns} & {"raw_values", "details", "path", "line"}
    assert {c for t, c in columns if t == "marts.publish_quarantine"} == {
        "feed",
        "rule",
        "quarantined_rows",
        "files",
    }

    # The PII key is in no file the pipeline wrote (DuckDB, Parquet, restricted, logs).
    holders = [
        str(p)
        for root in (s.data_dir, tmp_path / "dagster_home")
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and KEY in p.read_bytes()
    ]
    assert holders == []
    print(f"\nidempotent: {len(sums1)} published tables equal after a rerun and a re-landed file")


@pytest.mark.heavy  # make test-heavy: a whole run on one thread under a 512MB limit
def test_pipeline_under_low_memory_limit(generated_landing, tmp_path, flywheel_env, monkeypatch):
    src, _ = generated_landing
    landing = copy_landing(src, tmp_path / "landing")
    flywheel_env(landing)
    spill = tmp_path / "spill"
    # 512MB: marts.metric_change_explanations joins 125k segment values with each other
    # (2.5M rows even on this small world). While it counted distinct values there (an
    # aggregate DuckDB cannot spill) it ran out of memory under 256MB once in a fresh
    # clone and under 512MB once here; it counts plain rows now. Making that join
    # smaller is left to the speed issue; this test is about the limit being honoured.
    monkeypatch.setenv("FLYWHEEL_DUCKDB_MEMORY_LIMIT", "512MB")
    monkeypatch.setenv("FLYWHEEL_DUCKDB_TEMP_DIR", str(spill))
    # The gate sets its own limit while it runs (expectations/*.json duckdb_memory_limit_mb, 600):
    # keep it within the budget too.
    monkeypatch.setenv("FLYWHEEL_GATE_DUCKDB_MEMORY_LIMIT_MB", "256")
    result = run_pipeline()
    assert "published/bi_snapshot" in _materialized(result)

    # dbt's profile honours the same settings: ask dbt's own DuckDB connection.
    from dbt.cli.main import dbtRunner

    from orchestration.defs.transform import DBT_DIR

    res = dbtRunner().invoke(
        [
            "show",
            "--inline",
            "select current_setting('memory_limit') as m, current_setting('temp_directory') as t",
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(tmp_path / "dbt_target"),
            "--log-path",
            str(tmp_path / "dbt_logs"),
            "--quiet",
        ]
    )
    assert res.success
    row = res.result.results[0].agate_table.rows[0]
    # 512 MB = 512e6 bytes = 488.28 MiB; DuckDB prints it cut to one decimal: 488.2 MiB
    assert (row[0], row[1]) == (f"{int(512e6 / 2**20 * 10) / 10:.1f} MiB", str(spill))
    print(
        f"\nlow memory: pipeline published under memory_limit=512MB; dbt sees {row[0]}, temp {row[1]}"
    )
