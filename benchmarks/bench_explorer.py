"""Time to first render of the explorer's tree page on a published snapshot.

`make explore`'s server (streamlit run explorer/app.py) is started on the snapshot, then
headless Chromium (Debian's) opens the tree page and waits until the root metric's node
is drawn. Measured three ways, each in this run:
- floor: the same server and browser drawing a page that reads nothing (Streamlit's own
  start-up and round trip, what any page costs);
- first render: the tree page, the first time after the server starts (cold: the
  snapshot's file is opened and its first queries run);
- again: the same page reloaded (what a person sees on the next visit).
Reported as seconds and as ratios to the floor; never asserted.

    python -m benchmarks.bench_explorer path/to/published/flywheel.duckdb
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STREAMLIT_FLAGS = [
    "--server.address",
    "127.0.0.1",
    "--server.headless",
    "true",
    "--browser.gatherUsageStats",
    "false",
    "--server.fileWatcherType",
    "none",
    "--client.toolbarMode",
    "viewer",
]
EMPTY_PAGE = 'import streamlit as st\nst.title("floor")\nst.markdown("<svg class=floor></svg>")\n'


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _server(script: Path, snapshot: Path, log: Path):
    port = _port()
    env = {**os.environ, "FLYWHEEL_EXPLORER_SNAPSHOT": str(snapshot)}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(script),
                "--server.port",
                str(port),
                *STREAMLIT_FLAGS,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError):
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=5):
                        break
                time.sleep(0.2)
            yield base
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def _timed_load(page, url: str, selector: str) -> float:
    started = time.perf_counter()
    page.goto(url)
    page.locator(selector).first.wait_for(timeout=600_000)
    return round(time.perf_counter() - started, 2)


def first_render(snapshot: Path, logs: Path) -> dict:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        return {"status": "not run", "reason": "no Chromium (apt-get install -y chromium)"}
    from playwright.sync_api import sync_playwright

    from explorer import model
    from explorer.snapshot import Snapshot

    with Snapshot.open(snapshot) as snap:
        root = model.root_metric(snap)
    logs.mkdir(parents=True, exist_ok=True)
    node = f'.metric-tree g.node[data-metric="{root}"]'
    out: dict = {"snapshot_gb": round(snapshot.stat().st_size / 2**30, 2), "root": root}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        empty = Path(tmp) / "floor.py"
        empty.write_text(EMPTY_PAGE)
        browser = pw.chromium.launch(executable_path=chromium, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        with _server(empty, snapshot, logs / "explorer_floor.log") as base:
            out["floor_s"] = _timed_load(page, base, "h1")
        with _server(ROOT / "explorer" / "app.py", snapshot, logs / "explorer.log") as base:
            out["first_render_s"] = _timed_load(page, base, node)
            out["again_s"] = _timed_load(page, base, node)
        browser.close()
    out["first_vs_floor"] = round(out["first_render_s"] / out["floor_s"], 1)
    out["status"] = "success"
    return out


if __name__ == "__main__":
    result = first_render(Path(sys.argv[1]), Path(tempfile.gettempdir()) / "bench_explorer_logs")
    print(json.dumps(result, indent=1))
