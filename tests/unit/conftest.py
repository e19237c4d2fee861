"""Fixtures of the unit tests: a settings object on tmp folders and an in-memory DuckDB."""

import dataclasses
import textwrap
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.settings import load_settings
from orchestration.lib.warehouse import bootstrap, configure


@pytest.fixture
def env(tmp_path):
    landing = tmp_path / "landing"
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "channels.csv").write_text(
        "channel,name,channel_group,is_paid\npaid_search,Paid search,paid,true\n"
    )
    (seeds / "stores.csv").write_text(
        "store_id,name,region,city,format,opened_on\nS1,One,North,Town,mall,2020-01-01\n"
    )
    settings = dataclasses.replace(
        load_settings(), landing_dir=landing, data_dir=tmp_path / "data", seeds_dir=seeds
    )
    con = duckdb.connect()
    configure(con, settings)
    bootstrap(con)
    return settings, con


def write(settings, rel: str, text: str) -> Path:
    path = settings.landing_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path
