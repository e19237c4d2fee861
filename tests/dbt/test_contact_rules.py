"""One notion of "the same person": the quality gate's duplicate keys and dbt's
identity resolution normalise emails and phones by the same rule. dbt's macros
(macros/pii.sql) and contact_data's DuckDB renderings run here on the same
values, and both give the hand-written answers."""

import duckdb

from orchestration.lib import contact_data
from tests.dbt.dbt_fixture import dbt_env, prepare_project, run_dbt

# value -> the normalised form, by hand
PHONES = {
    "+7 912 345-67-89": "79123456789",  # digits only
    "8 (912) 345 67 89": "79123456789",  # 11 digits starting 8 -> 7
    "912 345 67 89": "79123456789",  # 10 digits: the country prefix 7
    "+44 20 7946 0958": "442079460958",  # 12 digits stay as they are
    "+1 212 555 0100": "12125550100",  # 11 digits not starting 8 stay
    "": None,  # blank is no phone
    "n/a": None,
}
EMAILS = {" Anna@Mail.RU ": "anna@mail.ru", "bob@example.com": "bob@example.com", "  ": None}


def test_dbt_and_the_gate_normalise_alike(tmp_path, monkeypatch):
    project = prepare_project(tmp_path)
    for k, v in dbt_env(tmp_path / "data").items():
        monkeypatch.setenv(k, v)
    (tmp_path / "data").mkdir()
    inline = (
        "select v, {{ flywheel.normalise_phone('v') }} as phone,"
        " {{ flywheel.normalise_email('v') }} as email from values_to_check"
    )
    result = run_dbt(project, ["compile", "--inline", inline])
    assert result.success, result.exception
    dbt_sql = result.result.results[0].node.compiled_code

    con = duckdb.connect()
    values = list(PHONES) + list(EMAILS)
    con.execute("create table values_to_check (v varchar)")
    con.executemany("insert into values_to_check values (?)", [[v] for v in values])
    by_dbt = {v: (p, e) for v, p, e in con.execute(dbt_sql).fetchall()}
    ours = (
        f"select v, {contact_data.normalised_phone_sql('v')},"
        f" {contact_data.normalised_email_sql('v')} from values_to_check"
    )
    by_gate = {v: (p, e) for v, p, e in con.execute(ours).fetchall()}

    assert by_gate == by_dbt
    assert {v: by_dbt[v][0] for v in PHONES} == PHONES
    assert {v: by_dbt[v][1] for v in EMAILS} == EMAILS
