"""Writing the server's change log: one row per accepted change, numbered in commit order.

Rows are buffered per push chunk (``conn.info["log_buffer"]``) and written with one executemany;
anything that reads the change log flushes the buffer first.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Table, insert, select

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
    *,
    exact: bool = False,
) -> None:
    """Append a change. ``exact``: the row now holds exactly what the desk sent, so that desk
    only needs the new version number back, not the fields."""
    row = {
        "seq": store.next_seq(conn),
        "entity": entity,
        "row_id": row_id,
        "op": op,
        "version": version,
        "device_id": device_id,
        "mutation_id": mutation_id,
        "exact": exact,
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


def buffered(conn: Connection, entity: str, row_id: str) -> list[dict[str, Any]]:
    """Change-log rows for one record still in this chunk's buffer, oldest first."""
    return [
        r
        for r in conn.info.get("log_buffer") or ()
        if r["row_id"] == row_id and r["entity"] == entity
    ]


def last_change(
    conn: Connection, entity: str, row_id: str, *, skip_device: str = ""
) -> tuple[int, str] | None:
    """(seq, device) of the newest change to a record, buffered or written, leaving out the
    changes of ``skip_device``."""
    mine = [r for r in buffered(conn, entity, row_id) if r["device_id"] != skip_device]
    if mine:
        return int(mine[-1]["seq"]), str(mine[-1]["device_id"])
    row = conn.execute(
        select(s.change_log.c.seq, s.change_log.c.device_id)
        .where(
            s.change_log.c.entity == entity,
            s.change_log.c.row_id == row_id,
            s.change_log.c.device_id != skip_device,
        )
        .order_by(s.change_log.c.seq.desc())
        .limit(1)
    ).first()
    return (int(row.seq), str(row.device_id)) if row else None


def changes_since(conn: Connection, entity: str, row_id: str, version: int) -> list[dict[str, Any]]:
    """Change-log rows (version, device_id, fields_json) of a record after ``version``."""
    mine = [r for r in buffered(conn, entity, row_id) if r["version"] > version]
    lowest = min((r["version"] for r in mine), default=None)
    if lowest == version + 1:
        return mine
    rows = conn.execute(
        select(s.change_log.c.version, s.change_log.c.device_id, s.change_log.c.fields_json).where(
            s.change_log.c.entity == entity,
            s.change_log.c.row_id == row_id,
            s.change_log.c.version > version,
        )
    ).mappings()
    return [dict(r) for r in rows] + mine


# -- rows known in this chunk, and inserts not yet written ------------------------------------
def prefetch_rows(conn: Connection, mutations: list[Any]) -> None:
    """Load the current server rows that a chunk of mutations touches, one query per table."""
    wanted: dict[str, list[str]] = {}
    for m in mutations:
        wanted.setdefault(m.entity, []).append(m.row_id)
    cache: dict[tuple[str, str], dict[str, Any] | None] = {}
    for entity, ids in wanted.items():
        table = TABLES[entity]
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            for rid in part:
                cache[(entity, rid)] = None
            for row in conn.execute(select(table).where(table.c.id.in_(part))).mappings():
                cache[(entity, row["id"])] = dict(row)
    conn.info["row_cache"] = cache
    conn.info["insert_buffer"] = {}


def current_row(conn: Connection, entity: str, row_id: str) -> dict[str, Any] | None:
    cache = conn.info.get("row_cache")
    if cache is not None and (entity, row_id) in cache:
        return cache[(entity, row_id)]  # type: ignore[no-any-return]
    table = TABLES[entity]
    row = conn.execute(select(table).where(table.c.id == row_id)).mappings().first()
    return dict(row) if row is not None else None


def remember_row(conn: Connection, entity: str, row: dict[str, Any]) -> None:
    cache = conn.info.get("row_cache")
    if cache is not None:
        cache[(entity, row["id"])] = row


def insert_row(conn: Connection, entity: str, values: dict[str, Any]) -> None:
    """Insert now (careful mode) or at the next flush of this table (fast mode)."""
    buffer = conn.info.get("insert_buffer")
    if buffer is None:
        conn.execute(insert(TABLES[entity]), values)
    else:
        buffer.setdefault(entity, []).append(values)


def flush_rows(conn: Connection, entity: str | None = None) -> None:
    """Write buffered inserts before anything reads or updates ``entity``. All tables are
    written, parents first, so that links between the buffered rows hold."""
    buffer: dict[str, list[dict[str, Any]]] | None = conn.info.get("insert_buffer")
    if not buffer or (entity is not None and entity not in buffer):
        return
    for table in s.all_data_tables():
        if buffer.get(table.name):
            rows = buffer.pop(table.name)
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for r in rows:
                groups.setdefault(tuple(sorted(r)), []).append(r)
            for group in groups.values():
                conn.execute(insert(table), group)
