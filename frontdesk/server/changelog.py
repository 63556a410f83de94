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
    proof: str | None = None,
) -> None:
    """Append a change. ``exact``: the row now holds exactly what the desk sent, so that desk
    only needs the new version number back, not the fields. ``proof``: a privileged change's
    signature and what it signed (server/signed.py)."""
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
        "proof_json": proof,
    }
    buffer = conn.info.get("log_buffer")
    if buffer is None:
        conn.execute(insert(s.change_log), row)
    else:
        index = _log_index(conn)
        buffer.append(row)
        index.setdefault((entity, row_id), []).append(row)
        conn.info["log_indexed"] = len(buffer)


def _log_index(conn: Connection) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The buffered change-log rows by record (rebuilt if the buffer changed behind it)."""
    buffer = conn.info.get("log_buffer") or []
    index: dict[tuple[str, str], list[dict[str, Any]]] | None = conn.info.get("log_index")
    if index is None or conn.info.get("log_indexed") != len(buffer):
        index = {}
        for r in buffer:
            index.setdefault((r["entity"], r["row_id"]), []).append(r)
        conn.info["log_index"] = index
        conn.info["log_indexed"] = len(buffer)
    return index


def forget_buffered(conn: Connection, keep: int) -> None:
    """Drop buffered change-log rows after the first ``keep`` (a rolled-back mutation)."""
    del conn.info["log_buffer"][keep:]
    conn.info.pop("log_index", None)


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
    conn.info.pop("log_index", None)
    conn.info.pop("history_cache", None)  # written rows are no longer only in the buffer


def buffered(conn: Connection, entity: str, row_id: str) -> list[dict[str, Any]]:
    """Change-log rows for one record still in this chunk's buffer, oldest first."""
    if not conn.info.get("log_buffer"):
        return []
    return list(_log_index(conn).get((entity, row_id), ()))


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
    history = conn.info.get("history_cache") or {}
    known = history.get((entity, row_id))
    if known is not None and version >= known[0]:
        return [r for r in known[1] if r["version"] > version] + mine
    rows = conn.execute(
        select(s.change_log.c.version, s.change_log.c.device_id, s.change_log.c.fields_json).where(
            s.change_log.c.entity == entity,
            s.change_log.c.row_id == row_id,
            s.change_log.c.version > version,
        )
    ).mappings()
    return [dict(r) for r in rows] + mine


def prefetch_history(conn: Connection, mutations: list[Any]) -> None:
    """Load the written change-log rows that the merges of a chunk will read (the record's
    changes after the mutation's base version), one query per table. Call after
    ``prefetch_rows``; the change log is not written again until the chunk ends."""
    cache = conn.info.get("row_cache") or {}
    base: dict[tuple[str, str], int] = {}
    for m in mutations:
        row = cache.get((m.entity, m.row_id))
        if row is not None and m.base_version < int(row["version"]):
            key = (m.entity, m.row_id)
            base[key] = min(base.get(key, m.base_version), m.base_version)
    history: dict[tuple[str, str], tuple[int, list[dict[str, Any]]]] = {
        key: (v, []) for key, v in base.items()
    }
    by_entity: dict[str, list[str]] = {}
    for entity, row_id in base:
        by_entity.setdefault(entity, []).append(row_id)
    c = s.change_log.c
    for entity, ids in by_entity.items():
        lowest = min(base[(entity, rid)] for rid in ids)
        for start in range(0, len(ids), 500):
            rows = conn.execute(
                select(c.row_id, c.version, c.device_id, c.fields_json).where(
                    c.entity == entity, c.row_id.in_(ids[start : start + 500]), c.version > lowest
                )
            ).all()
            for r in rows:
                floor, kept = history[(entity, r.row_id)]
                if r.version > floor:
                    kept.append(
                        {
                            "version": r.version,
                            "device_id": r.device_id,
                            "fields_json": r.fields_json,
                        }
                    )
    conn.info["history_cache"] = history


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
