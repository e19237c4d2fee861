"""What a person reads after `make demo`: a short run (no dbt line per node, no colour
codes in a pipe), ending with the last complete month's headline and the planted stories."""

import os
import subprocess
import sys

import duckdb

from orchestration.lib.settings import PROJECT_ROOT


def test_demo_output_is_short_plain_and_ends_with_the_headline(tmp_path):
    env = {
        **os.environ,
        "FLYWHEEL_DATA_DIR": str(tmp_path / "data"),
        "FLYWHEEL_LANDING_DIR": str(tmp_path / "landing"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "FLYWHEEL_PII_KEY": "test-key-not-secret",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "demo", "--orders", "3000"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, as a terminal shows it
        text=True,
        timeout=900,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:]
    lines = out.splitlines()
    assert len(lines) < 150, len(lines)
    assert "\x1b[" not in out  # no ANSI colour codes when piped
    assert not [
        line for line in lines if " of 3" in line and " START " in line
    ]  # no dbt node lines
    assert any(line.startswith("dbt build: ") for line in lines)
    # The end: the headline, then each planted story with, indented, what
    # metric_change_explanations found behind it (when a segment stood out).
    # The last line names the explorer (make explore).
    assert lines[-1].startswith("See the tree and why it moved: make explore"), lines[-3:]
    (at,) = [i for i, line in enumerate(lines) if ", the last complete month: revenue " in line]
    headline, tail = lines[at], [line for line in lines[at + 1 : -1] if line]
    stories = [line for line in tail if line.startswith("Planted in the demo: in ")]
    assert len(stories) == 2, tail
    assert all(
        line in stories or line.startswith("  found by marts.metric_change_explanations: ")
        for line in tail
    ), tail
    # The headline's month is the newest complete month of metric_values.
    con = duckdb.connect(str(tmp_path / "data" / "published" / "flywheel.duckdb"), read_only=True)
    (month,) = con.execute(
        "select max(period_start) from marts.metric_values where metric = 'revenue'"
        " and grain = 'month' and dimension = 'all' and is_complete"
    ).fetchone()
    con.close()
    assert headline.startswith(f"{month:%B %Y}, the last complete month")
    # The monthly job wrote that month's report, and the output says where.
    report = tmp_path / "data" / "published" / "reports" / f"flywheel-report-{month:%Y-%m}.html"
    assert report.exists()
    assert f"Monthly report (one offline HTML file): {report}" in lines
