"""Settings: one declaration per FLYWHEEL_* variable, read only by orchestration.lib.settings.

The source scan keeps it that way; the README test keeps the table generated;
the parsing tests pin what each kind of value does, worked out by hand.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from orchestration.lib import settings as settings_module
from orchestration.lib.alerts import SmtpTarget, WebhookTarget
from orchestration.lib.metric_alerts import route_targets
from orchestration.lib.settings import (
    DBT_SETTINGS,
    PROJECT_ROOT,
    SETTINGS,
    SettingError,
    Settings,
    load_settings,
    readme_with_table,
)

SETTINGS_MODULE = Path("orchestration/lib/settings.py")
# FLYWHEEL_* names the docs mention that are not settings of the pipeline.
DOCUMENTED_ELSEWHERE: set[str] = set()


# --- the source scan ---------------------------------------------------------


def _is_environ(node: ast.AST, aliases: set[str] = frozenset()) -> bool:
    """os.environ, environ imported from os, or a name bound to (a copy of) either."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and (node.id == "environ" or node.id in aliases)


def _environ_like(node: ast.AST) -> bool:
    """os.environ or a copy of it: dict(os.environ), os.environ.copy(), {**os.environ, ...},
    either side of `a if c else b`."""
    if _is_environ(node):
        return True
    if isinstance(node, ast.IfExp):
        return _environ_like(node.body) or _environ_like(node.orelse)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id == "dict" and node.args:
            return _environ_like(node.args[0])
        return isinstance(func, ast.Attribute) and func.attr == "copy" and _is_environ(func.value)
    if isinstance(node, ast.Dict):
        return any(
            k is None and _environ_like(v) for k, v in zip(node.keys, node.values, strict=True)
        )
    return False


def _flywheel_name(node: ast.AST) -> bool:
    """A literal (or the literal start of an f-string or a sum) naming a FLYWHEEL_ variable."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.startswith("FLYWHEEL_")
    if isinstance(node, ast.JoinedStr) and node.values:
        return _flywheel_name(node.values[0])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _flywheel_name(node.left)
    return False


def env_reads(source: str) -> list[int]:
    """Line numbers where `source` reads a FLYWHEEL_* variable from the environment.

    Caught: os.environ[...] / .get / .setdefault / .pop, os.getenv, `"FLYWHEEL_..."
    in os.environ`, any `.get("FLYWHEEL_...")` or `["FLYWHEEL_..."]` on a copy of
    the environment, and any loop over os.environ (how a prefix family is read).
    Writing a variable for a subprocess (`os.environ[...] = ...`, a dict literal)
    is not a read.
    """
    tree = ast.parse(source)
    # env = os.environ if e is None else e; env = dict(os.environ): env stands for it
    aliases = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _environ_like(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    lines: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and _flywheel_name(node.args[0]):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("get", "setdefault", "pop"):
                lines.append(node.lineno)  # os.environ.get or env.get on a copy of it
            elif isinstance(func, ast.Attribute) and func.attr == "getenv":
                lines.append(node.lineno)
            elif isinstance(func, ast.Name) and func.id == "getenv":
                lines.append(node.lineno)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if _flywheel_name(node.slice):
                lines.append(node.lineno)
        elif isinstance(node, ast.Compare) and _flywheel_name(node.left):
            if any(isinstance(op, ast.In | ast.NotIn) for op in node.ops) and any(
                _is_environ(c, aliases) for c in node.comparators
            ):
                lines.append(node.lineno)
        elif isinstance(node, ast.For | ast.comprehension):
            it = node.iter
            if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute):
                it = it.func.value  # os.environ.items() / .keys()
            if _is_environ(it, aliases):
                lines.append(it.lineno)
    return sorted(set(lines))


def python_files() -> list[Path]:
    return sorted(
        p.relative_to(PROJECT_ROOT)
        for folder in ("orchestration", "explorer", "benchmarks")
        for p in (PROJECT_ROOT / folder).rglob("*.py")
    )


def test_only_the_settings_module_reads_flywheel_variables():
    found = {
        f"{path}:{line}"
        for path in python_files()
        if path != SETTINGS_MODULE
        for line in env_reads((PROJECT_ROOT / path).read_text())
    }
    assert found == set(), "read these through orchestration.lib.settings instead"


def test_the_scan_sees_the_settings_module():
    # The scan must see what it is there to find: load_settings() loops over
    # os.environ for the prefix families.
    assert env_reads((PROJECT_ROOT / SETTINGS_MODULE).read_text())


def test_the_scan_catches_a_planted_read(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        "import os\n"
        "from os import environ, getenv\n"
        'a = os.environ.get("FLYWHEEL_X")\n'  # line 3
        'b = os.environ["FLYWHEEL_Y"]\n'  # line 4
        'c = getenv(f"FLYWHEEL_{a}_Z")\n'  # line 5
        'd = "FLYWHEEL_W" in environ\n'  # line 6
        "e = {k: v for k, v in os.environ.items() if k.startswith('FLYWHEEL_')}\n"  # line 7
        "env = dict(os.environ)\n"
        'f = env.get("FLYWHEEL_" + "V", "").strip()\n'  # line 9
        "for k in env:\n"  # line 10: a loop over a copy
        "    pass\n"
        'os.environ["FLYWHEEL_DATA_DIR"] = "/x"\n'  # a write: not a read
        'g = {**os.environ, "FLYWHEEL_TIMEZONE": "UTC"}\n'  # an environment for a subprocess
        'h = os.environ.get("DAGSTER_HOME")\n'  # not ours
    )
    assert env_reads(planted.read_text()) == [3, 4, 5, 6, 7, 9, 10]


# --- the declarations and README ------------------------------------------------


def test_every_settings_field_is_declared_once():
    # Fields without a variable: paths inside the project and the free-form extra.
    plain = {"seeds_dir", "dbt_project_dir", "extra"}
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert {s.field for s in SETTINGS} == fields - plain
    names = [n.strip() for s in SETTINGS + DBT_SETTINGS for n in s.env.split(",")]
    assert len(names) == len(set(names))
    assert all(s.doc and s.group in settings_module.GROUPS for s in SETTINGS + DBT_SETTINGS)


def test_readme_table_is_the_generated_one():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert readme_with_table(readme) == readme, "run: python -m orchestration.lib.settings"


def test_the_entry_point_rewrites_a_stale_table(tmp_path):
    readme = tmp_path / "README.md"
    start, end = settings_module.TABLE_START, settings_module.TABLE_END
    readme.write_text(f"# x\n\nprose before\n\n{start}\n| old |\n{end}\n\nprose after\n")
    assert settings_module.main(["--check"], readme=readme) == 1
    assert settings_module.main([], readme=readme) == 0
    assert settings_module.main(["--check"], readme=readme) == 0
    text = readme.read_text()
    assert text.startswith("# x\n\nprose before\n\n") and text.endswith("\n\nprose after\n")
    assert "| `FLYWHEEL_ALERT_SMTP_PORT` | `25` | SMTP port |" in text
    # test hooks are listed apart, not in the user table
    table, internal = text.split("Internal (")
    assert "FLYWHEEL_TEST_KILL_AT" not in table and "`FLYWHEEL_TEST_KILL_AT`" in internal


def _documented_names() -> set[str]:
    pattern = re.compile(
        r"(?<![A-Za-z0-9_])(?:DBT_ENV_SECRET_)?FLYWHEEL_[A-Z0-9_]*(?:<[A-Z]+>[A-Z0-9_]*)*"
    )
    texts = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
    return {m for path in texts for m in pattern.findall(path.read_text())}


def test_every_documented_variable_is_declared():
    declared = {n.strip() for s in SETTINGS + DBT_SETTINGS for n in s.env.split(",")}
    families = [s.prefix for s in SETTINGS if s.prefix]

    def known(name: str) -> bool:
        if name in declared or name in DOCUMENTED_ELSEWHERE:
            return True
        if any(name.startswith(prefix) for prefix in families):
            return True  # FLYWHEEL_GATE_INVALID_SHARE_MAX, FLYWHEEL_ALERT_ROUTE_<ROUTE>_...
        # "FLYWHEEL_ALERT_SMTP_*", "FLYWHEEL_ALERT_*": a group of declared names
        return name.endswith("_") and any(d.startswith(name) for d in declared)

    names = _documented_names()
    assert "FLYWHEEL_LANDING_DIR" in names and "FLYWHEEL_GATE_<NAME>" in names
    assert sorted(n for n in names if not known(n)) == []


# --- defaults and parsing ---------------------------------------------------------


def test_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings({})
    # the folders default to ./landing and ./data of where it runs, made absolute
    assert s.landing_dir == tmp_path.resolve() / "landing"
    assert s.data_dir == tmp_path.resolve() / "data"
    assert s.expectations_dir == PROJECT_ROOT / "expectations"
    assert (s.timezone, s.currency, s.on_stale, s.engine) == ("UTC", "RUB", "warn", "duckdb")
    assert s.dbt_target_name == "dev"
    assert (s.alert_smtp_port, s.alert_timeout_s, s.lock_timeout_s) == (25, 10.0, 900.0)
    assert s.alert_outbox_path == tmp_path.resolve() / "data" / "alerts" / "outbox.sqlite"
    assert s.explorer_snapshot_path == tmp_path.resolve() / "data/published/flywheel.duckdb"
    assert s.cx_store_cron == "*/15 8-21 * * *"
    assert s.spark_skip_unit_tests is True and s.ingest_rehash is False
    assert (s.alert_routes, s.gate_overrides) == ({}, {})
    # a blank value is no value: the default again
    assert load_settings({"FLYWHEEL_TIMEZONE": "  ", "FLYWHEEL_ALERT_SMTP_PORT": ""}) == s


def test_parsing():
    s = load_settings(
        {
            "FLYWHEEL_CURRENCY": " usd ",  # stripped, upper case: USD
            "FLYWHEEL_ENGINE": " Spark ",  # stripped, lower case: spark (target spark)
            "FLYWHEEL_ALERT_SMTP_TO": " a@shop.test, ,b@shop.test ",  # blanks dropped
            "FLYWHEEL_ALERT_SMTP_STARTTLS": "TRUE",  # any case
            "FLYWHEEL_INGEST_REHASH": "TRUE",  # exact 1/true/yes only, as before: off
            "FLYWHEEL_SPARK_SKIP_UNIT_TESTS": "false",  # only "0" turns it off: still on
            "FLYWHEEL_LOCK_TIMEOUT_S": "2.5",
            "FLYWHEEL_ALERT_MIN_SEVERITY": " Error ",
            "FLYWHEEL_ALERT_ROUTE_CX_WEBHOOK_URL": " http://hooks.test/cx ",
            "FLYWHEEL_ALERT_ROUTE_BUSINESS_SMTP_TO": "owner@shop.test",
            "FLYWHEEL_ALERT_ROUTE_GROWTH_WEBHOOK_URL": " ",  # blank: no route of its own
            "FLYWHEEL_GATE_LEADS_INVALID_SHARE_MAX": " 0.1",  # kept as set: the gate parses it
            "FLYWHEEL_GATE_NOW": "2026-05-16T06:00:00",  # its own setting, not a threshold
        }
    )
    assert (s.currency, s.engine, s.dbt_target_name) == ("USD", "spark", "spark")
    assert s.alert_smtp_to == ("a@shop.test", "b@shop.test")
    assert (s.alert_smtp_starttls, s.ingest_rehash, s.spark_skip_unit_tests) == (True, False, True)
    assert (s.lock_timeout_s, s.alert_min_severity) == (2.5, "error")
    assert s.alert_routes == {
        "CX": {"WEBHOOK_URL": "http://hooks.test/cx"},
        "BUSINESS": {"SMTP_TO": "owner@shop.test"},
    }
    assert s.gate_overrides == {"FLYWHEEL_GATE_LEADS_INVALID_SHARE_MAX": " 0.1"}
    assert s.gate_now == "2026-05-16T06:00:00"
    assert load_settings({"FLYWHEEL_INGEST_REHASH": "yes"}).ingest_rehash is True
    assert load_settings({"FLYWHEEL_SPARK_SKIP_UNIT_TESTS": "0"}).spark_skip_unit_tests is False
    assert load_settings({"FLYWHEEL_DBT_TARGET": "cluster"}).dbt_target_name == "cluster"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FLYWHEEL_ALERT_SMTP_PORT", "abc", "FLYWHEEL_ALERT_SMTP_PORT='abc' is not a whole number"),
        ("FLYWHEEL_DUCKDB_THREADS", "2.5", "FLYWHEEL_DUCKDB_THREADS='2.5' is not a whole number"),
        (
            "FLYWHEEL_ALERT_TIMEOUT_SECONDS",
            "ten",
            "FLYWHEEL_ALERT_TIMEOUT_SECONDS='ten' is not a number",
        ),
        (
            "FLYWHEEL_ENGINE",
            "Snowflake",
            "FLYWHEEL_ENGINE='snowflake': expected one of duckdb, spark",
        ),
    ],
)
def test_a_bad_value_names_the_variable(name, value, message):
    with pytest.raises(SettingError) as err:
        load_settings({name: value})
    assert str(err.value) == message


def test_secrets_stay_out_of_repr():
    s = load_settings(
        {
            "FLYWHEEL_PII_KEY": "k-123",
            "FLYWHEEL_ALERT_SMTP_PASSWORD": "pw-456",
            # a Slack-style webhook carries its token in the path
            "FLYWHEEL_ALERT_WEBHOOK_URL": "http://hooks.test/T0/B0/tok-789",
            "FLYWHEEL_ALERT_ROUTE_CX_WEBHOOK_URL": "http://hooks.test/T0/B1/tok-abc",
        }
    )
    assert s.pii_secret == "k-123"
    assert s.alert_routes["CX"]["WEBHOOK_URL"].endswith("tok-abc")
    for secret in ("k-123", "pw-456", "tok-789", "tok-abc"):
        assert secret not in repr(s), secret


def test_route_targets_from_settings():
    s = load_settings(
        {
            "FLYWHEEL_ALERT_WEBHOOK_URL": "http://hooks.test/default",
            "FLYWHEEL_ALERT_SMTP_HOST": "127.0.0.1",
            "FLYWHEEL_ALERT_SMTP_PORT": "2525",
            "FLYWHEEL_ALERT_SMTP_TO": "data@shop.test",
            "FLYWHEEL_ALERT_TIMEOUT_SECONDS": "3",
            "FLYWHEEL_ALERT_ROUTE_CX_WEBHOOK_URL": "http://hooks.test/cx",
            "FLYWHEEL_ALERT_ROUTE_BUSINESS_SMTP_TO": "owner@shop.test, ceo@shop.test",
        }
    )
    # cx: its own webhook only (the default targets are not added)
    assert route_targets("cx", s) == [WebhookTarget(url="http://hooks.test/cx", timeout_s=3.0)]
    # business: the shared server (port 2525) with the route's two recipients
    (mail,) = route_targets("business", s)
    assert isinstance(mail, SmtpTarget)
    assert (mail.host, mail.port, mail.recipients) == (
        "127.0.0.1",
        2525,
        ("owner@shop.test", "ceo@shop.test"),
    )
    # marketing: nothing of its own -> the defaults, webhook and data@ mail
    web, default_mail = route_targets("marketing", s)
    assert web.url == "http://hooks.test/default" and default_mail.recipients == ("data@shop.test",)


def test_a_bad_value_stops_the_cli_with_one_line(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "FLYWHEEL_ALERT_SMTP_PORT": "abc", "FLYWHEEL_DATA_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "summary"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == "flywheel: FLYWHEEL_ALERT_SMTP_PORT='abc' is not a whole number"
