"""The tools a user opens, opened as a user does: `make ui` and `make gx-docs` after a
CLI run, in headless Chromium (Debian's), with every request that would leave
127.0.0.1 refused and recorded. Screenshots are kept in test-artifacts/.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from orchestration.lib.settings import PROJECT_ROOT
from tests.integration.test_own_data import land

ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=5):
                return
        time.sleep(1)
    raise AssertionError(f"{url} did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def make_target(target: str, env: dict, **variables):
    args = ["make", "--no-print-directory", target, *(f"{k}={v}" for k, v in variables.items())]
    log = open(ARTIFACTS / f"{target}.log", "w")
    proc = subprocess.Popen(
        args,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def after_a_cli_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui")
    landing = land(root, ["customers", "leads", "orders", "order_items", "survey_answers"])
    env = {
        **os.environ,
        "FLYWHEEL_LANDING_DIR": str(landing),
        "FLYWHEEL_DATA_DIR": str(root / "data"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "FLYWHEEL_PII_KEY": "test-key-not-secret",
        "FLYWHEEL_GATE_NOW": "2026-05-16T06:00:00",
    }
    run = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    run_id = next(
        line.split()[2] for line in run.stdout.splitlines() if line.startswith("Dagster run ")
    )
    ARTIFACTS.mkdir(exist_ok=True)
    return env, run_id, root


def test_dagster_ui_lists_the_cli_run_under_its_job_and_describes_assets(
    after_a_cli_run, browser_page
):
    env, run_id, _ = after_a_cli_run
    page, outside = browser_page
    port = free_port()
    with make_target("ui", env, UI_PORT=port):
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/server_info")
        page.goto(f"{base}/locations/orchestration.definitions/jobs/pipeline_job/runs")
        page.get_by_text(run_id[:8]).first.wait_for(timeout=120_000)
        page.screenshot(path=str(ARTIFACTS / "dagster_job_runs.png"), full_page=True)

        page.goto(f"{base}/assets/marts/fct_orders")
        page.get_by_text("One row per order", exact=False).first.wait_for(timeout=120_000)
        page.get_by_text("Row count", exact=False).first.wait_for(timeout=60_000)
        text = page.inner_text("body")
        assert "Raw SQL" not in text
        page.screenshot(path=str(ARTIFACTS / "dagster_asset_fct_orders.png"), full_page=True)
    assert outside == []


def test_gx_data_docs_render_styled_offline_and_list_the_validations(after_a_cli_run, browser_page):
    env, run_id, root = after_a_cli_run
    page, outside = browser_page
    port = free_port()
    with make_target("gx-docs", env, GX_DOCS_PORT=port):
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/index.html")
        page.goto(f"{base}/index.html")
        # bootstrap-table draws the list of validation results from the page's data
        page.locator("table tbody tr a", has_text="orders_suite").first.wait_for(timeout=60_000)
        # Bootstrap's stylesheet applied: its primary button colour and its font stack
        link = page.locator("a.btn-primary").first
        colour = link.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour == "rgb(0, 123, 255)"  # Bootstrap 4's $primary, #007bff
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert "HKGrotesk" in font or "apple-system" in font
        page.screenshot(path=str(ARTIFACTS / "gx_data_docs_index.png"), full_page=True)

        page.locator("table tbody tr a", has_text="orders_suite").first.click()
        page.wait_for_load_state("load")
        assert "orders_suite" in page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "gx_data_docs_validation.png"), full_page=True)
    assert outside == []
    assert Path(root / "data" / "gx_data_docs" / "static" / "vendor" / "jquery.min.js").exists()


def test_dbt_docs_site_opens_from_disk_in_the_browser(after_a_cli_run, browser_page):
    env, _, root = after_a_cli_run
    page, outside = browser_page
    done = subprocess.run(
        ["make", "--no-print-directory", "docs"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    index = root / "data" / "dbt_docs" / "static_index.html"
    page.goto(f"file://{index}#!/model/model.flywheel.mart_metric_tree")
    # the model page, drawn by dbt's app from the manifest inside the file
    page.get_by_text("availability", exact=True).first.wait_for(timeout=60_000)
    assert "not delivered" in page.inner_text("body")  # the column's description
    page.screenshot(path=str(ARTIFACTS / "dbt_docs_metric_tree.png"), full_page=True)
    assert outside == []
