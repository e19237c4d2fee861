"""Running the whole pipeline in-process, and reading the published file."""

import shutil
import socket
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.definitions import defs
from orchestration.lib.settings import load_settings


def run_pipeline(
    expect_success: bool = True, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    """The whole pipeline job, in this process. Its events go to `instance`; by default an
    ephemeral (in-memory) one: the job, its steps and its checks run exactly as they do
    on disk, but each of its 1,250 events is not a SQLite commit of its own (13 s of a
    run of the test world). Tests that read runs back through DAGSTER_HOME (sensors,
    the event log) pass `dg.DagsterInstance.get()`."""
    result = defs.resolve_job_def("pipeline_job").execute_in_process(
        instance=instance or dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert result.success is expect_success
    return result


def copy_landing(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def published() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(load_settings().published_path), read_only=True)


class SmtpInbox:
    """An aiosmtpd handler that keeps every message it receives, as text."""

    def __init__(self):
        self.messages: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd API
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
