"""Shared by the integration tests of one session: a small generated landing folder, the
settings of a fresh data folder, and a headless browser that refuses requests leaving
127.0.0.1."""

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


@pytest.fixture(scope="session")
def published_world(generated_landing, tmp_path_factory) -> PublishedWorld:
    """One pipeline run over the generated landing folder, published. Shared (once per
    test process) by the tests that only read its snapshot: the second method and the
    semantic layer. The environment is set for the run only, so it leaks into no test."""
    from orchestration.lib.settings import load_settings
    from tests.integration.pipeline_helpers import copy_landing, run_pipeline

    src, manifest = generated_landing
    tmp = tmp_path_factory.mktemp("world")
    landing = copy_landing(src, tmp / "landing")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FLYWHEEL_DATA_DIR", str(tmp / "data"))
        mp.setenv("FLYWHEEL_LANDING_DIR", str(landing))
        mp.setenv("DAGSTER_HOME", str(tmp))
        mp.setenv("FLYWHEEL_PII_KEY", "test-key-not-secret")
        mp.setenv("FLYWHEEL_GATE_NOW", f"{END_DATE.isoformat()}T23:59:00")
        run_pipeline()
        settings = load_settings()
    return PublishedWorld(landing, manifest, settings)


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
