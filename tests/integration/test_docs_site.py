"""`make docs`: dbt's documentation site built offline, as one HTML file a browser opens
from disk (the manifest and catalog inside it, no server, nothing fetched)."""

import json
import os
import re
import subprocess
import sys

from orchestration.lib.settings import PROJECT_ROOT, load_settings
from tests.integration.pipeline_helpers import run_pipeline
from tests.integration.test_own_data import land


def test_docs_site_is_one_offline_file_describing_every_mart_column(
    tmp_path, flywheel_env, monkeypatch
):
    flywheel_env(land(tmp_path, ["orders", "order_items"]))
    monkeypatch.setenv("FLYWHEEL_GATE_NOW", "2026-05-16T06:00:00")
    run_pipeline()
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "docs"],
        cwd=PROJECT_ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = load_settings().data_dir / "dbt_docs" / "static_index.html"
    assert str(page) in proc.stdout
    html = page.read_text(encoding="utf-8")
    # Nothing is loaded from the network: no script, stylesheet or image by URL.
    assert not re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=[\"']https?://", html)
    # The manifest is inside: every published mart, each column described.
    manifest = json.loads((page.parent / "manifest.json").read_text())
    marts = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"].get("schema") == "marts"
    ]
    assert len(marts) >= 13
    for node in marts:
        assert node["description"], node["name"]
        for name, col in node["columns"].items():
            assert col["description"], (node["name"], name)
        assert node["unique_id"] in html
    # The catalog too: the warehouse's real column types, e.g. metric_values.value
    catalog = json.loads((page.parent / "catalog.json").read_text())
    values = catalog["nodes"]["model.flywheel.mart_metric_values"]["columns"]
    assert values["value"]["type"].upper() == "DOUBLE"
