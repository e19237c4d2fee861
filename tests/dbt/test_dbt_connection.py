"""dbt's DuckDB connection: the profile names only the file, the plugin
orchestration.lib.dbt_connection puts it in FLYWHEEL_DATA_DIR with the
FLYWHEEL_DUCKDB_* limits, so a change of data folder keeps dbt's partial parse."""

import duckdb

from tests.dbt.dbt_fixture import dbt_env, prepare_project, run_dbt


def _use(monkeypatch, data_dir, **extra):
    for k, v in {**dbt_env(data_dir), **extra}.items():
        monkeypatch.setenv(k, v)


def test_connection_opens_the_data_folders_file_with_its_limits(tmp_path, monkeypatch):
    project = prepare_project(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    spill = tmp_path / "spill"
    _use(
        monkeypatch,
        data,
        FLYWHEEL_DUCKDB_MEMORY_LIMIT="300MB",
        FLYWHEEL_DUCKDB_TEMP_DIR=str(spill),
        FLYWHEEL_DUCKDB_THREADS="1",
    )
    sql = (
        "select current_database() as db, current_setting('memory_limit') as mem,"
        " current_setting('temp_directory') as tmp, current_setting('threads') as threads,"
        " (select path from duckdb_databases() where database_name = current_database()) as path"
    )
    result = run_dbt(project, ["show", "--inline", sql])
    assert result.success, result.exception
    row = result.result.results[0].agate_table.rows[0]
    assert row["db"] == "warehouse"
    assert row["path"] == str(data / "warehouse.duckdb")
    # DuckDB reports 300MB as 286.1 MiB (300 * 10^6 / 2^20)
    assert row["mem"] == "286.1 MiB"
    assert row["tmp"] == str(spill)
    assert row["threads"] == 1  # FLYWHEEL_DUCKDB_THREADS (DuckDB's default is every core: 2)
    assert not (project / "warehouse.duckdb").exists()
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select 1").fetchone() == (1,)


def test_partial_parse_survives_a_new_data_folder(tmp_path, monkeypatch):
    project = prepare_project(tmp_path)
    log = project / "logs" / "dbt.log"
    _use(monkeypatch, tmp_path / "data_a")
    assert run_dbt(project, ["parse"]).success
    first = log.read_text()
    assert "Unable to do partial parsing because saved manifest not found" in first
    _use(monkeypatch, tmp_path / "data_b", FLYWHEEL_DUCKDB_MEMORY_LIMIT="1GB")
    assert run_dbt(project, ["parse"]).success
    second = log.read_text()[len(first) :]
    assert "Unable to do partial parsing" not in second, second[-2000:]
    # dbt read its saved state (0.6 s here, against 4 s for the full parse of the first
    # call); at most the one model whose hook reads FLYWHEEL_DUCKDB_MEMORY_LIMIT is re-read
    assert "Partial parsing enabled: 0 files deleted, 0 files added" in second, second[-2000:]
