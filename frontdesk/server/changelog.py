"""Writing the server's change log: one row per accepted change, numbered in commit order.

Rows are buffered per push chunk (``conn.info["log_buffer"]``) and written with one executemany;
anything that reads the change log flushes the buffer first.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Table, insert

from frontdesk.models.codec import to_json_value
from frontdesk.server import schema as s
from frontdesk.server.store import ServerStore

SERVER_DEVICE = "server"
TABLES = s.data_tables()


def log_change(
    store: ServerStore,
    conn: Connection,
    entity: str,
    row_id: str,
    op: str,
    version: int,
    fields: dict[str, Any],
    device_id: str,
    mutation_id: str | None,
) -> None:
    row = {
        "seq": store.next_seq(conn),
        "entity": entity,
        "row_id": row_id,
        "op": op,
        "version": version,
        "device_id": device_id,
        "mutation_id": mutation_id,
        "fields_json": json.dumps({k: to_json_value(v) for k, v in fields.items()}),
        "at": store.now(),
    }
    buffer = conn.info.get("log_buffer")
    if buffer is None:
        conn.execute(insert(s.change_log), row)
    else:
        buffer.append(row)


def full_row(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """Every column of a new row: the values given, else the column's plain default."""
    out: dict[str, Any] = {}
    for c in table.columns:
        if c.name in values:
            out[c.name] = values[c.name]
        else:
            default = c.default.arg if c.default is not None else None  # type: ignore[attr-defined]
            out[c.name] = None if callable(default) else default
    return out


def flush_log(conn: Connection) -> None:
    """Write buffered change-log rows (before anything reads the change log)."""
    rows = conn.info.get("log_buffer")
    if rows:
        conn.execute(insert(s.change_log), rows)
        rows.clear()
