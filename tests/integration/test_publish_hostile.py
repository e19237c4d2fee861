"""Hostile files landed beside the generated data, through a real pipeline run.

The run must succeed, execute nothing (no SQL from values or file names, no
shell, no Jinja), and account for every file: loaded, quarantined line by line,
rejected or refused. Every expected count is counted by hand from the files below.
"""

import os
from pathlib import Path

import duckdb

from orchestration.lib.settings import load_settings
from tests.integration.pipeline_helpers import copy_landing, run_pipeline
from tests.integration.test_publish_support import ROOT, open_snapshot

VALUES = [
    "'; drop table raw.leads; --",
    'x"); delete from meta.files; --',
    "1 or 1=1",
    "$(touch pwned)",
    "{{ env_var('FLYWHEEL_PII_KEY') }}",
    '=HYPERLINK("http://evil.test","click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
]
CUSTOMER_NAMES = ["'; drop table raw.customers; --.csv", "$(touch pwned).csv"]


def _csv(v: str) -> str:
    return '"' + v.replace('"', '""') + '"'


def _land(landing: Path) -> None:
    rows = [
        f"HX-L{i},2026-10-20 10:00:00,paid_search,{_csv(v)},hx{i}@hostile.test"
        for i, v in enumerate(VALUES)
    ]
    (landing / "leads" / "zz_hostile_values.csv").write_text(
        "lead_id,created_at,channel,campaign,email\n" + "\n".join(rows) + "\n"
    )
    for i, name in enumerate(CUSTOMER_NAMES):
        (landing / "customers" / name).write_text(
            f"customer_id,registered_at,region\nHX-C{i},2026-10-05 10:00:00,Ural\n"
        )
    (landing / "customers" / "zz_bad_utf8.csv").write_bytes(
        b"customer_id,registered_at,region\nHX-C10,2026-10-05 10:00:00,Ural\n"
        b"HX-C11\xff\xfe,2026-10-05 10:00:00,Ural\nHX-C12,2026-10-05 10:00:00,Ural\n"
    )
    (landing / "orders" / "zz_passwd.csv").symlink_to("/etc/passwd")
    (landing / "leads" / "zz_corrupt.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    (landing / "leads" / "zz_semicolon.csv").write_text(
        "lead_id;created_at;channel\nHX-L99;2026-10-20;paid_search\n"
    )


# path -> (outcome, rows_in, rows_loaded, rows_quarantined), counted from the files above
EXPECTED = {
    "leads/zz_hostile_values.csv": ("loaded", 8, 8, 0),
    f"customers/{CUSTOMER_NAMES[0]}": ("loaded", 1, 1, 0),
    f"customers/{CUSTOMER_NAMES[1]}": ("loaded", 1, 1, 0),
    "customers/zz_bad_utf8.csv": ("loaded", 3, 2, 1),  # line 3 is not UTF-8
    "leads/zz_corrupt.parquet": ("rejected", 0, 0, 0),
    "leads/zz_semicolon.csv": (
        "rejected",
        0,
        0,
        0,
    ),  # one column named 'lead_id;created_at;channel'
}


def test_hostile_files_in_a_real_run(generated_landing, tmp_path, flywheel_env, monkeypatch):
    src, _ = generated_landing
    landing = copy_landing(src, tmp_path / "landing")
    flywheel_env(landing)
    monkeypatch.chdir(tmp_path)  # a shell-executed "$(touch pwned)" would create it here
    _land(landing)
    s = load_settings()

    result = run_pipeline()  # succeeds: bad files are accounted for, not fatal

    wh = duckdb.connect(str(s.warehouse_path), read_only=True)
    files = {
        r[0]: tuple(r[1:])
        for r in wh.execute(
            "select path, outcome, rows_in, rows_loaded, rows_quarantined from meta.files"
            " where path in (select unnest($p))",
            {"p": list(EXPECTED)},
        ).fetchall()
    }
    assert files == EXPECTED
    assert wh.execute(
        "select line, rule from meta.quarantine where path = 'customers/zz_bad_utf8.csv'"
    ).fetchall() == [(3, "malformed_line")]
    assert (
        wh.execute("select count(*) from meta.files where path like '%passwd%'").fetchone()[0] == 0
    )
    assert sorted(
        r[0]
        for r in wh.execute(
            "select customer_id from raw.customers where customer_id like 'HX-%'"
        ).fetchall()
    ) == ["HX-C0", "HX-C1", "HX-C10", "HX-C12"]
    # nothing dropped or deleted by the values
    assert {"raw.leads", "raw.customers", "meta.files", "meta.quarantine"} <= {
        r[0]
        for r in wh.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
    }
    wh.close()

    # The symlink out of the landing folder was refused and reported on raw/orders.
    orders_meta = next(
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "raw/orders"
    )
    assert orders_meta["paths_refused"].value == 1

    # The values reach BI verbatim, as text: nothing was executed or rendered.
    pub = open_snapshot(s.published_path)
    campaigns = sorted(
        r[0]
        for r in pub.execute(
            "select campaign from marts.fct_leads where lead_id like 'HX-%'"
        ).fetchall()
    )
    pub.close()
    assert campaigns == sorted(VALUES)
    assert not any(Path(d, "pwned").exists() for d in (tmp_path, ROOT, landing, "/tmp"))
    print(
        f"\nhostile files tried: {len(EXPECTED) + 1} (+1 symlink to /etc/passwd refused); "
        f"all accounted for, nothing executed; run {result.run_id} succeeded"
    )
    assert os.path.islink(landing / "orders" / "zz_passwd.csv")
