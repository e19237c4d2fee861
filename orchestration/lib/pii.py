"""Keyed hashes of contact data (email, phone, loyalty card) inside DuckDB.

Marts carry PII only as HMAC-SHA256 hashes so that BI can count and join on
a person without seeing who it is. The key comes from FLYWHEEL_PII_KEY (or
the demo key file, see settings.pii_key) and must never reach the DuckDB
file, the published snapshot or dbt's artifacts. So it is not a dbt var:
dbt-duckdb loads this module as a plugin (``plugins:`` in profiles.yml) and
it defines *temporary* macros on every connection and cursor. Temporary
macros live in the connection's temp catalog and are never persisted; dbt
only ever sees the call ``pii_hash(x)``, never the key.

HMAC(K, m) = sha256((K' xor opad) || sha256((K' xor ipad) || m)), RFC 2104.
The two 64-byte key blocks are precomputed here, so DuckDB evaluates the
HMAC with its native, vectorised sha256 and unhex. Models that call
pii_hash must be tables (a view would need the macro at read time).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

BLOCK_SIZE = 64  # SHA-256 block size in bytes


def key_blocks(key: bytes) -> tuple[str, str]:
    """The inner and outer padded key blocks of HMAC-SHA256, as hex."""
    if len(key) > BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK_SIZE, b"\x00")
    ipad = bytes(b ^ 0x36 for b in key)
    opad = bytes(b ^ 0x5C for b in key)
    return ipad.hex(), opad.hex()


def hmac_hex(key: bytes, value: str) -> str:
    """Reference implementation (Python's hmac) that the SQL macro must match."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def macro_sql(key: bytes) -> list[str]:
    """The statements that define the temporary hashing macros for one key."""
    ipad, opad = key_blocks(key)
    return [
        # NULL stays NULL so that "no email" does not become one shared hash.
        "create or replace temp macro pii_hash(x) as "
        f"case when x is null then null else sha256(unhex('{opad}') || "
        f"unhex(sha256(unhex('{ipad}') || encode(cast(x as varchar))))) end",
    ]


def load_key() -> bytes:
    """FLYWHEEL_PII_KEY, else the demo key file beside the data (settings.pii_key)."""
    from orchestration.lib.settings import load_settings, pii_key

    return pii_key(load_settings())


class Plugin(BasePlugin):
    """dbt-duckdb plugin: defines pii_hash(x) on each connection and cursor."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        # The key is read once per dbt invocation and held only in memory.
        self._statements = macro_sql(load_key())

    def _define(self, conn: Any) -> None:
        for sql in self._statements:
            conn.execute(sql)

    def configure_connection(self, conn: Any) -> None:
        self._define(conn)

    def configure_cursor(self, cursor: Any) -> None:
        # Each dbt cursor is a separate DuckDB connection with its own temp catalog.
        self._define(cursor)
