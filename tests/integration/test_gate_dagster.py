"""The gate in Dagster, end to end in-process, with real local alert receivers.

A stub raw/leads asset lands hand-written leads into a DuckDB file; the real
quality/lead_verdicts asset runs the gate; a stub staged-leads asset stands for
the lead-dependent dbt models. A bad batch must stop the staged asset and, via
the sensors, reach a local webhook and a local SMTP server; a failed run is
alerted; a clean batch afterwards passes.
"""

import dataclasses
import datetime as dt
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from dagster._core.events import DagsterEventType

from orchestration.defs import alerts as alert_defs
from orchestration.defs import quality as quality_defs
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.feeds import FEEDS
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import bootstrap, connect
from tests.integration.pipeline_helpers import SmtpInbox, free_port

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")

CHANNELS = ["paid_search", "social", "referral"]
PENDING: list[dict] = []  # the leads the stub raw/leads asset lands on its next run
STAGED_RUNS: list[str] = []
SETTINGS: list[Settings] = []  # the settings of the current test (a seeds folder of its own)


class FixedWarehouse(WarehouseResource):
    """The warehouse resource with the test's settings instead of the environment's."""

    def settings(self) -> Settings:
        return SETTINGS[-1]


RESOURCES = {"warehouse": FixedWarehouse()}


# --- receivers ---------------------------------------------------------------


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receivers(monkeypatch):
    handler = type("Hook", (_Hook,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    inbox = SmtpInbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    monkeypatch.setenv(
        "FLYWHEEL_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_address[1]}/hook"
    )
    monkeypatch.setenv("FLYWHEEL_ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FLYWHEEL_ALERT_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("FLYWHEEL_ALERT_SMTP_FROM", "flywheel@shop.test")
    monkeypatch.setenv("FLYWHEEL_ALERT_SMTP_TO", "data@shop.test")
    yield handler.received, inbox.messages
    controller.stop()
    server.shutdown()
    server.server_close()


def _wait_for(items: list, n: int) -> list:
    for _ in range(100):
        if len(items) >= n:
            break
        time.sleep(0.05)
    return items


# --- warehouse and assets ----------------------------------------------------


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "channels.csv").write_text(
        "channel,name,group,is_paid\n" + "".join(f"{c},{c},paid,true\n" for c in CHANNELS)
    )
    monkeypatch.setenv("FLYWHEEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FLYWHEEL_LANDING_DIR", str(tmp_path / "landing"))
    s = dataclasses.replace(
        Settings(landing_dir=tmp_path / "landing", data_dir=tmp_path / "data"), seeds_dir=seeds
    )
    SETTINGS[:] = [s]
    PENDING.clear()
    STAGED_RUNS.clear()
    return s


def _lead(i: int, now: dt.datetime, **kw) -> dict:
    row = {
        "lead_id": f"L{i:05d}",
        "created_at": now - dt.timedelta(hours=2, minutes=i),
        "channel": CHANNELS[i % 3],
        "email": f"lead{i}@example.com",
        "phone": None,
        "qualified_at": None,
        "disqualified_reason": None,
    }
    row.update(kw)
    return row


def _make_raw_leads(settings: Settings):
    @dg.asset(key=["raw", "leads"], group_name="ingest")
    def raw_leads() -> None:
        con = connect(settings)
        try:
            bootstrap(con)
            file_id = con.execute("select nextval('meta.file_id_seq')").fetchall()[0][0]
            con.execute(
                "insert into meta.files (file_id, feed, path, content_sha256, size_bytes, format,"
                " outcome, run_id, registered_at) values (?, 'leads', ?, ?, 0, 'csv', 'loaded',"
                " 'test', now()::timestamp)",
                [file_id, f"leads/f{file_id}.csv", f"sha{file_id}"],
            )
            cols = FEEDS["leads"].column_names
            df = pd.DataFrame([{c: r.get(c) for c in cols} for r in PENDING], columns=cols)
            df["_file_id"] = file_id
            df["_line"] = range(2, len(df) + 2)
            df["_ingested_at"] = pd.Timestamp.now()
            con.register("_land", df)
            con.execute("insert into raw.leads by name select * from _land")
        finally:
            con.close()

    return raw_leads


@dg.asset(key=["staging", "stg_crm__leads"], deps=[quality_defs.LEAD_VERDICTS])
def stg_leads(context: dg.AssetExecutionContext) -> None:
    STAGED_RUNS.append(context.run_id)


@dg.asset
def broken_asset() -> None:
    raise ValueError("upstream export broke for anna.k@example.com")


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def test_blocking_failure_alerts_then_clean_batch_passes(settings, receivers, tmp_path):
    hooks, mails = receivers
    instance = dg.DagsterInstance.ephemeral()
    assets = [_make_raw_leads(settings), *quality_defs.assets, stg_leads]
    now = _now()

    # Bad batch: 60 leads, 12 of the 20 'social' leads without any contact -> 60% invalid
    # for social (threshold 5%) and 12/60 = 20% for the whole batch.
    PENDING[:] = [
        _lead(i, now, email=None, phone="n/a") if i % 3 == 1 and i < 36 else _lead(i, now)
        for i in range(60)
    ]
    bad = dg.materialize(assets, instance=instance, resources=RESOURCES, raise_on_error=False)
    assert not bad.success
    assert STAGED_RUNS == []  # the lead-dependent model was stopped
    evals = {e.check_name: e for e in bad.get_asset_check_evaluations()}
    assert not evals["lead_gate_blocking"].passed
    assert evals["lead_gate_warnings"].passed
    figures = evals["lead_gate_blocking"].metadata["invalid_share_by_group"].value
    assert figures["social"] == pytest.approx(0.6) and figures["all"] == pytest.approx(0.2)

    # The check sensor turns the failed blocking check into one alert per target.
    ctx = dg.build_sensor_context(instance=instance)
    alert_defs.quality_check_alerts(ctx)
    _wait_for(mails, 1)
    assert len(hooks) == 1 and len(mails) == 1
    text = hooks[0]["text"]
    assert "invalid_share" in text and "social" in text and "60.0%" in text and "5.0%" in text
    assert "files 1..1" in text and "quality.lead_verdicts" in text
    assert "social" in mails[0] and "60.0%" in mails[0]
    assert "@example.com" not in text + mails[0]

    # The run failed because of that check only: the run-failure sensor does not repeat it.
    failure = instance.get_records_for_run(bad.run_id, of_type=DagsterEventType.RUN_FAILURE)
    run_ctx = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alerts",
        dagster_event=failure.records[0].event_log_entry.dagster_event,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(bad.run_id),
    ).for_run_failure()
    alert_defs.run_failure_alerts(run_ctx)
    time.sleep(0.3)
    assert len(hooks) == 1

    # Any other failed run is alerted (and the exception's email is masked).
    broken = dg.materialize([broken_asset], instance=instance, raise_on_error=False)
    failure = instance.get_records_for_run(broken.run_id, of_type=DagsterEventType.RUN_FAILURE)
    run_ctx = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alerts",
        dagster_event=failure.records[0].event_log_entry.dagster_event,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(broken.run_id),
    ).for_run_failure()
    alert_defs.run_failure_alerts(run_ctx)
    _wait_for(mails, 2)
    assert len(hooks) == 2 and "broken_asset" in hooks[1]["text"]
    assert "anna.k@" not in hooks[1]["text"] and "[email redacted]" in hooks[1]["text"]

    # A clean batch afterwards passes and reaches the staged model; no new check alert.
    PENDING[:] = [_lead(100 + i, now) for i in range(60)]
    good = dg.materialize(assets, instance=instance, resources=RESOURCES, raise_on_error=False)
    assert good.success
    assert STAGED_RUNS == [good.run_id]
    ctx2 = dg.build_sensor_context(instance=instance, cursor=ctx.cursor)
    alert_defs.quality_check_alerts(ctx2)
    time.sleep(0.3)
    assert len(hooks) == 2


def test_definitions_load_with_sensors_and_checks():
    defs = dg.Definitions(
        assets=quality_defs.assets,
        asset_checks=quality_defs.asset_checks,
        sensors=alert_defs.sensors,
        resources={"warehouse": WarehouseResource()},
    )
    repo = defs.get_repository_def()
    assert {s.name for s in repo.sensor_defs} == {
        "quality_check_alerts",
        "run_failure_alerts",
        "metric_alerts",
    }
    assert all(s.minimum_interval_seconds <= 30 for s in repo.sensor_defs)
    check_keys = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    assert {
        "lead_gate_blocking",
        "lead_gate_warnings",
        "orders_suite",
        "survey_answers_suite",
    } <= check_keys
