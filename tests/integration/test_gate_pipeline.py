"""The lead gate in the real pipeline: warnings on the planted collapse, a blocking batch stops
dbt and publish (BI keeps the last snapshot) and is alerted, a clean batch publishes again."""

import hashlib

import dagster as dg

from orchestration.defs import alerts as alert_defs
from orchestration.lib.settings import load_settings
from tests.integration.conftest import END_DATE
from tests.integration.pipeline_helpers import copy_landing, published, run_pipeline
from tests.integration.test_gate_dagster import _wait_for, receivers  # noqa: F401  (fixture)

LEADS_HEADER = (
    "lead_id,created_at,channel,campaign,email,phone,qualified_at,disqualified_reason,customer_id"
)


def _batch(prefix: str, n: int, uncontactable: int) -> str:
    """n paid_search leads on END_DATE; the first `uncontactable` have neither email nor phone."""
    rows = []
    for i in range(n):
        email = "" if i < uncontactable else f"{prefix.lower()}{i}@customer.example"
        rows.append(f"{prefix}{i:04d},{END_DATE} 10:{i % 60:02d}:00,paid_search,brand,{email},,,,")
    return LEADS_HEADER + "\n" + "\n".join(rows) + "\n"


def _file_digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_gate_in_the_pipeline(generated_landing, tmp_path, flywheel_env, receivers):  # noqa: F811
    hooks, mails = receivers
    src, manifest = generated_landing
    landing = copy_landing(src, tmp_path / "landing")
    flywheel_env(landing)
    instance = dg.DagsterInstance.get()
    snapshot = load_settings().published_path

    # 1. The generated history: publishes; the planted collapse is a warning, alerted.
    first = run_pipeline(instance=instance)
    assert "published/bi_snapshot" in _materialized(first)
    collapse = manifest["story"]["collapse"]
    ctx = dg.build_sensor_context(instance=instance)
    alert_defs.quality_check_alerts(ctx)
    _wait_for(hooks, 1)
    warning_texts = [h["text"] for h in hooks]
    assert any(collapse["channel"] in t and collapse["month"] in t for t in warning_texts), (
        warning_texts
    )
    digest_before = _file_digest(snapshot)
    con = published()
    (run_before,) = con.execute("select distinct run_id from marts.publish_info").fetchone()
    con.close()
    assert run_before == first.run_id

    # 2. A batch of 40 paid_search leads, 30 without contact: 75% invalid > 5% threshold.
    (landing / "leads" / "zz_batch_bad.csv").write_text(_batch("BAD", 40, 30))
    n_hooks, n_mails = len(hooks), len(mails)
    bad = run_pipeline(expect_success=False, instance=instance)
    done = _materialized(bad)
    assert "quality/lead_verdicts" in done
    assert "published/bi_snapshot" not in done
    assert not any(k.startswith("marts/") for k in done)  # no mart was rebuilt
    assert _file_digest(snapshot) == digest_before  # BI keeps the last good snapshot
    ctx = dg.build_sensor_context(instance=instance, cursor=ctx.cursor)
    alert_defs.quality_check_alerts(ctx)
    _wait_for(mails, n_mails + 1)
    new = [h["text"] for h in hooks[n_hooks:]]
    blocking = [t for t in new if "invalid_share" in t]
    assert blocking, new
    # 30 of 40 = 75.0% against 5.0%, for channel paid_search
    assert "paid_search" in blocking[0] and "75.0%" in blocking[0] and "5.0%" in blocking[0]
    assert any("paid_search" in m and "75.0%" in m for m in mails[n_mails:])
    assert "@customer.example" not in "".join(new) + "".join(mails)  # no PII in alerts

    # 3. A clean batch afterwards passes and publishes a new snapshot.
    (landing / "leads" / "zz_batch_clean.csv").write_text(_batch("OK", 40, 0))
    good = run_pipeline(instance=instance)
    assert "published/bi_snapshot" in _materialized(good)
    con = published()
    assert (
        con.execute("select distinct run_id from marts.publish_info").fetchone()[0] == good.run_id
    )
    con.close()
