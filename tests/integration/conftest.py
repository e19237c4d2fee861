"""Shared by the integration tests of one session: a small generated landing folder, the
settings of a fresh data folder, and a headless browser that refuses requests leaving
127.0.0.1."""

import fcntl
import os
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest

from orchestration.demo import generate
from orchestration.lib.settings import Settings

# Fixed end date: the generated data (and every figure derived from it) is the same on every machine.
END_DATE = date(2026, 10, 31)
ORDERS = 3000


@pytest.fixture(scope="session")
def generated_landing(tmp_path_factory) -> tuple[Path, dict]:
    landing = tmp_path_factory.mktemp("landing")
    manifest = generate(landing, orders=ORDERS, seed=7, end_date=END_DATE)
    return landing, manifest


@dataclass
class PublishedWorld:
    landing: Path
    manifest: dict
    settings: Settings
    env: dict[str, str]


@pytest.fixture(scope="session")
def published_world(generated_landing, tmp_path_factory, worker_id) -> PublishedWorld:
    """One pipeline run over the generated landing folder, published, for the whole test
    run: the first test process that needs it runs the pipeline, under a file lock, and
    the others (pytest-xdist workers) wait for it and read the same files. Shared by the
    tests that only read its snapshot (the second method, the semantic layer, the
    explorer); none of them writes to it but the explorer's monthly report, into
    published/reports. The environment is set for the run only, so it leaks into no test."""
    from orchestration.lib.settings import load_settings
    from tests.integration.pipeline_helpers import copy_landing, run_pipeline

    src, manifest = generated_landing  # the same files in every process: a fixed seed
    # Under xdist the base temp folder is one per worker inside one per test run.
    run_dir = tmp_path_factory.getbasetemp()
    shared = run_dir if worker_id == "master" else run_dir.parent
    root = shared / "published_world"
    env = {
        "FLYWHEEL_DATA_DIR": str(root / "data"),
        "FLYWHEEL_LANDING_DIR": str(root / "landing"),
        "DAGSTER_HOME": str(root),
        "FLYWHEEL_PII_KEY": "test-key-not-secret",
        "FLYWHEEL_GATE_NOW": f"{END_DATE.isoformat()}T23:59:00",
    }
    with (shared / "published_world.lock").open("w") as lock, pytest.MonkeyPatch.context() as mp:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        for key, value in env.items():
            mp.setenv(key, value)
        built = root / "world_built"  # written last, once the world is published
        if not built.exists():
            root.mkdir(exist_ok=True)
            copy_landing(src, root / "landing")
            run_pipeline()
            built.write_text("published by a test process\n")
        settings = load_settings()
    return PublishedWorld(root / "landing", manifest, settings, env)


@pytest.fixture
def flywheel_env(tmp_path, monkeypatch):
    """Point every setting at fresh folders; returns a function to set the landing folder."""
    data = tmp_path / "data"
    monkeypatch.setenv("FLYWHEEL_DATA_DIR", str(data))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    monkeypatch.setenv("FLYWHEEL_PII_KEY", "test-key-not-secret")
    # The gate's freshness rules compare with the clock: pin it to the morning after END_DATE.
    monkeypatch.setenv("FLYWHEEL_GATE_NOW", f"{END_DATE + timedelta(days=1)}T06:00:00")

    def use_landing(path: Path) -> None:
        monkeypatch.setenv("FLYWHEEL_LANDING_DIR", str(path))

    return use_landing


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Chromium is missing: make test installs it (apt-get install -y chromium)"
    return path


@pytest.fixture
def browser_page():
    """Headless Chromium (Debian's) with every request that would leave 127.0.0.1 refused
    and recorded: yields (page, the refused URLs)."""
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})

        def guard(route):
            host = urlparse(route.request.url).hostname
            local = route.request.url.startswith(("data:", "blob:", "file:"))
            if local or host in ("127.0.0.1", None, ""):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", guard)
        yield page, outside
        browser.close()


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.slow)


os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
