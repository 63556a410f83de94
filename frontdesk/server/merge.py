"""Applying pushed mutations: validation, per-field merge against the base version, sensitive
conflicts, booking clashes, number-series checks, and the change log (ARCHITECTURE.md Sync 2-6).

Each mutation is applied in its own transaction together with its stored result, so a replay
returns the same answer and a crash between two mutations loses nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from frontdesk.domain.hlc import Stamp
from frontdesk.domain.ids import uuid7
from frontdesk.models import synced_tables
from frontdesk.models.codec import from_json_value, to_json_value
from frontdesk.server import schema as s
from frontdesk.server.store import Device, ServerProblem, ServerStore
from frontdesk.sync.protocol import (
    APPLIED,
    CLAMP_LEAD_S,
    CONFLICT,
    MAX_CLOCK_LEAD_S,
    MAX_FIELDS_BYTES,
    MAX_PUSH_MUTATIONS,
    MERGED,
    REJECTED,
    number_prefix,
)

log = logging.getLogger("frontdesk.server.merge")
_TABLES = s.data_tables()
_SENSITIVE = {name: cls.__sensitive__ for name, cls in synced_tables().items()}
SERVER_DEVICE = "server"
_STAMPS = ("created_at", "updated_at")


@dataclass
class Mutation:
    mutation_id: str
    seq: int
    entity: str
    row_id: str
    op: str
    base_version: int
    hlc: str
    fields: dict[str, Any]


def _bad(message: str) -> ServerProblem:
    return ServerProblem(422, message, code="invalid")


def validate(raw: Any, now: datetime) -> list[Mutation]:
    """Check a whole batch before anything is stored: unknown tables or fields, wrong types,
    oversized values and clocks far ahead are refused with 4xx; nothing is applied."""
    if not isinstance(raw, list):
        raise _bad("mutations must be a list")
    if len(raw) > MAX_PUSH_MUTATIONS:
        raise ServerProblem(413, f"at most {MAX_PUSH_MUTATIONS} mutations per push", code="big")
    tables = _TABLES
    out: list[Mutation] = []
    for item in raw:
        if not isinstance(item, dict):
            raise _bad("each mutation must be an object")
        try:
            m = Mutation(
                mutation_id=str(item["mutation_id"]), seq=item["seq"], entity=item["entity"],
                row_id=item["row_id"], op=item["op"], base_version=item["base_version"],
                hlc=str(item.get("hlc", "")), fields=item["fields"],
            )  # fmt: skip
        except KeyError as exc:
            raise _bad(f"mutation without {exc.args[0]}") from exc
        if not isinstance(m.seq, int) or isinstance(m.seq, bool) or m.seq < 1:
            raise _bad("seq must be a positive whole number")
        if not isinstance(m.base_version, int) or m.base_version < 0:
            raise _bad("base_version must be a whole number")
        if m.op not in ("insert", "update") or len(m.mutation_id) > 36:
            raise _bad("op must be insert or update")
        table = tables.get(m.entity) if isinstance(m.entity, str) else None
        if table is None:
            raise _bad(f"unknown entity {str(m.entity)[:60]!r}")
        if not isinstance(m.row_id, str) or not 1 <= len(m.row_id) <= 36:
            raise _bad("row_id must be an id")
        if not isinstance(m.fields, dict) or not m.fields:
            raise _bad("fields must be a non-empty object")
        if len(json.dumps(m.fields)) > MAX_FIELDS_BYTES:
            raise ServerProblem(413, "a mutation's fields are too large", code="big")
        decoded: dict[str, Any] = {}
        for key, value in m.fields.items():
            if key == "version":  # the server owns row versions
                continue
            if key not in table.c:
                raise _bad(f"unknown field {m.entity}.{str(key)[:60]}")
            if value is None and not table.c[key].nullable:
                raise _bad(f"{m.entity}.{key} cannot be empty")
            try:
                decoded[key] = from_json_value(table.c[key], value)
            except (ValueError, TypeError) as exc:
                raise _bad(f"{m.entity}: {exc}") from exc
        if decoded.get("id", m.row_id) != m.row_id:
            raise _bad("fields.id differs from row_id")
        _check_clock(m, decoded, now)
        m.fields = decoded
        out.append(m)
    return out


def _check_clock(m: Mutation, decoded: dict[str, Any], now: datetime) -> None:
    limit = now + timedelta(seconds=MAX_CLOCK_LEAD_S)
    try:
        wall = Stamp.decode(m.hlc).wall_ms if m.hlc else 0
    except ValueError as exc:
        raise _bad("hlc stamp is malformed") from exc
    stamp_times = [v for k, v in decoded.items() if k in _STAMPS and v is not None]
    if wall > limit.timestamp() * 1000 or any(v > limit for v in stamp_times):
        raise ServerProblem(
            422,
            "This desk's clock is more than a day ahead of the clinic server. Correct the "
            "computer's date and time, then sync again.",
            code="clock_ahead",
        )
    clamp = now + timedelta(seconds=CLAMP_LEAD_S)
    for key in _STAMPS:
        value = decoded.get(key)
        if value is not None and value > clamp:
            decoded[key] = now


COMMIT_EVERY = 200


def push(store: ServerStore, device: Device, mutations: list[Mutation], cursor: int) -> dict[str, Any]:
    """Apply in sequence order. Each mutation runs in its own savepoint (a bad one rolls back
    alone and is answered "rejected"); its result is stored with it; commits happen every
    COMMIT_EVERY mutations, so a server killed mid-batch loses at most the uncommitted tail,
    which the desk sends again (it never saw those answers)."""
    results: list[dict[str, Any]] = []
    stopped: dict[str, Any] | None = None
    pos = 0
    while pos < len(mutations) and stopped is None:
        chunk = mutations[pos : pos + COMMIT_EVERY]
        pos += len(chunk)
        with store.writing() as conn:
            last_seq = int(conn.execute(
                select(s.devices.c.last_seq).where(s.devices.c.id == device.id)).scalar_one())  # fmt: skip
            known = dict(conn.execute(
                select(s.mutation_results.c.mutation_id, s.mutation_results.c.result_json)
                .where(s.mutation_results.c.mutation_id.in_([m.mutation_id for m in chunk]))
            ).all())  # fmt: skip
            conn.info["log_buffer"] = []
            conn.info["result_buffer"] = []
            for m in chunk:
                stored = known.get(m.mutation_id)
                if stored is not None:
                    results.append(json.loads(stored))
                    continue
                if m.seq != last_seq + 1:
                    stopped = {"reason": "gap" if m.seq > last_seq else "seq_reused",
                               "expected_seq": last_seq + 1}  # fmt: skip
                    break
                results.append(_apply_one(store, conn, device, m, cursor))
                last_seq = m.seq
            _flush_log(conn)
            if conn.info["result_buffer"]:
                conn.execute(insert(s.mutation_results), conn.info["result_buffer"])
            conn.execute(
                update(s.devices).where(s.devices.c.id == device.id)
                .values(last_seq=last_seq, last_seen_at=store.now())
            )  # fmt: skip
            store.latest_seq = store._max_seq(conn)
    log.info("push device=%s mutations=%d answered=%d stopped=%s", device.id, len(mutations),
             len(results), stopped and stopped["reason"])  # fmt: skip
    with store.reading() as conn:
        last = conn.execute(select(s.devices.c.last_seq).where(s.devices.c.id == device.id)).scalar()
    return {"results": results, "stopped": stopped, "last_seq": int(last or 0)}


def _apply_one(store: ServerStore, conn: Connection, device: Device, m: Mutation, cursor: int) -> dict[str, Any]:
    next_seq = conn.info.get("next_seq")
    buffered = len(conn.info["log_buffer"])
    conn.exec_driver_sql("SAVEPOINT mutation")
    try:
        result = _apply(store, conn, device, m, cursor)
        conn.exec_driver_sql("RELEASE SAVEPOINT mutation")
    except (IntegrityError, ServerProblem) as exc:
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT mutation")
        conn.exec_driver_sql("RELEASE SAVEPOINT mutation")
        conn.info["next_seq"] = next_seq  # rolled-back change-log rows free their numbers
        del conn.info["log_buffer"][buffered:]
        reason = exc.user_message if isinstance(exc, ServerProblem) else (
            "it clashes with a record already on the server (a duplicate number or a missing "
            "linked record)")  # fmt: skip
        result = _result(m, REJECTED, reason)
    conn.info["result_buffer"].append({
        "mutation_id": m.mutation_id, "device_id": device.id, "seq": m.seq,
        "status": result["status"], "result_json": json.dumps(result), "at": store.now(),
    })  # fmt: skip
    return result


def _flush_log(conn: Connection) -> None:
    """Write buffered change-log rows (before anything reads the change log)."""
    rows = conn.info.get("log_buffer")
    if rows:
        conn.execute(insert(s.change_log), rows)
        rows.clear()


def _result(m: Mutation, status: str, reason: str = "", version: int = 0) -> dict[str, Any]:
    return {"mutation_id": m.mutation_id, "seq": m.seq, "status": status, "reason": reason,
            "version": version}  # fmt: skip


def _log(store: ServerStore, conn: Connection, entity: str, row_id: str, op: str, version: int,
         fields: dict[str, Any], device_id: str, mutation_id: str | None) -> None:  # fmt: skip
    row = {
        "seq": store.next_seq(conn), "entity": entity, "row_id": row_id, "op": op,
        "version": version, "device_id": device_id, "mutation_id": mutation_id,
        "fields_json": json.dumps({k: to_json_value(v) for k, v in fields.items()}),
        "at": store.now(),
    }  # fmt: skip
    buffer = conn.info.get("log_buffer")
    if buffer is None:
        conn.execute(insert(s.change_log), row)
    else:
        buffer.append(row)


def _apply(store: ServerStore, conn: Connection, device: Device, m: Mutation, cursor: int) -> dict[str, Any]:
    table = _TABLES[m.entity]
    sensitive = _SENSITIVE[m.entity]
    row = conn.execute(select(table).where(table.c.id == m.row_id)).mappings().first()
    if m.entity in ("invoices", "credit_notes") and "number" in m.fields:
        _check_series(conn, device, m.entity, str(m.fields["number"]))
    _ensure_series_rows(conn, m.entity, m.fields)
    if row is None:
        if m.op != "insert":
            return _result(m, REJECTED, "the record it changes is not on the server")
        values = dict(m.fields)
        values["id"] = m.row_id
        values["version"] = 1
        conn.execute(insert(table), values)
        _log(store, conn, m.entity, m.row_id, "insert", 1, _full(table, values), device.id,
             m.mutation_id)  # fmt: skip
        _after(store, conn, device, m, cursor)
        return _result(m, APPLIED, version=1)
    version = int(row["version"])
    changed_since = _fields_changed_since(conn, m, version)
    apply: dict[str, Any] = {}
    kept: dict[str, Any] = {}
    status = APPLIED
    for key, value in m.fields.items():
        if key == "id":
            continue
        if key not in changed_since or row[key] == value or key in _STAMPS:
            apply[key] = value
        elif key in sensitive:
            kept[key] = row[key]
            status = CONFLICT
            _record_conflict(store, conn, m, key, value, row[key])
        else:
            apply[key] = value
            if status == APPLIED:
                status = MERGED
    new_version = version + 1
    conn.execute(update(table).where(table.c.id == bindparam("b_id")),
                 {"b_id": m.row_id, "version": new_version, **apply})  # fmt: skip
    _log(store, conn, m.entity, m.row_id, "update", new_version, {**apply, **kept}, device.id,
         m.mutation_id)  # fmt: skip
    _after(store, conn, device, m, cursor)
    reason = "kept both values for a person to choose" if status == CONFLICT else ""
    return _result(m, status, reason, new_version)


def _fields_changed_since(conn: Connection, m: Mutation, current: int) -> set[str]:
    """Fields changed on the server after the desk's base version (all, if history is gone)."""
    if m.base_version >= current:
        return set()
    _flush_log(conn)
    rows = conn.execute(
        select(s.change_log.c.version, s.change_log.c.fields_json).where(
            s.change_log.c.entity == m.entity, s.change_log.c.row_id == m.row_id,
            s.change_log.c.version > m.base_version,
        )
    ).all()  # fmt: skip
    versions = {r.version for r in rows}
    if len(versions) < current - m.base_version:
        return set(m.fields)
    out: set[str] = set()
    for r in rows:
        out.update(json.loads(r.fields_json))
    return out


def _record_conflict(store: ServerStore, conn: Connection, m: Mutation, key: str, mine: Any,
                     theirs: Any) -> None:  # fmt: skip
    table = _TABLES["sync_conflicts"]
    now = store.now()
    values = {
        "id": uuid7(), "version": 1, "created_at": now, "updated_at": now, "kind": "field",
        "entity": m.entity, "row_id": m.row_id, "field": key,
        "local_value_json": json.dumps(to_json_value(mine)),
        "remote_value_json": json.dumps(to_json_value(theirs)),
        "detail": f"{key.replace('_', ' ')} was changed on two desks",
    }  # fmt: skip
    conn.execute(insert(table).values(**values))
    _log(store, conn, "sync_conflicts", values["id"], "insert", 1, _full(table, values),
         SERVER_DEVICE, None)  # fmt: skip


def _full(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """Every column of a new row: the values given, else the column's plain default."""
    out: dict[str, Any] = {}
    for c in table.columns:
        if c.name in values:
            out[c.name] = values[c.name]
        else:
            default = c.default.arg if c.default is not None else None  # type: ignore[attr-defined]
            out[c.name] = None if callable(default) else default
    return out


def _after(store: ServerStore, conn: Connection, device: Device, m: Mutation, cursor: int) -> None:
    if m.entity == "appointments":
        _check_clash(store, conn, device, m.row_id, cursor)


def _check_clash(store: ServerStore, conn: Connection, device: Device, appt_id: str, cursor: int) -> None:
    """Overlapping bookings for one practitioner or room that this desk could not have seen:
    keep both, flag both, and record a clash for a person to sort out."""
    appts = _TABLES["appointments"]
    _flush_log(conn)
    me = conn.execute(select(appts).where(appts.c.id == appt_id)).mappings().one()
    if me["status"] == "cancelled" or me["deleted_at"] is not None:
        return
    same_place = appts.c.practitioner_id == me["practitioner_id"]
    if me["room_id"] is not None:
        same_place = or_(same_place, appts.c.room_id == me["room_id"])
    others = conn.execute(
        select(appts.c.id, appts.c.practitioner_id).where(
            appts.c.id != appt_id, appts.c.status != "cancelled", appts.c.deleted_at.is_(None),
            appts.c.starts_at < me["ends_at"], appts.c.ends_at > me["starts_at"], same_place,
        )
    ).all()  # fmt: skip
    for other in others:
        last = conn.execute(
            select(s.change_log.c.seq, s.change_log.c.device_id)
            .where(s.change_log.c.entity == "appointments", s.change_log.c.row_id == other.id)
            .order_by(s.change_log.c.seq.desc()).limit(1)
        ).first()  # fmt: skip
        if last is None or last.seq <= cursor or last.device_id == device.id:
            continue  # the desk saw that booking before making this one: its own choice
        if _open_clash_exists(conn, appt_id, other.id):
            continue
        for aid in (appt_id, other.id):
            _flag(store, conn, aid)
        table = _TABLES["sync_conflicts"]
        now = store.now()
        what = "practitioner" if other.practitioner_id == me["practitioner_id"] else "room"
        values = {
            "id": uuid7(), "version": 1, "created_at": now, "updated_at": now, "kind": "clash",
            "entity": "appointments", "row_id": appt_id, "other_row_id": other.id,
            "detail": f"Two bookings overlap for the same {what}, made on different desks.",
        }  # fmt: skip
        conn.execute(insert(table).values(**values))
        _log(store, conn, "sync_conflicts", values["id"], "insert", 1, _full(table, values),
             SERVER_DEVICE, None)  # fmt: skip


def _open_clash_exists(conn: Connection, a: str, b: str) -> bool:
    c = _TABLES["sync_conflicts"].c
    pair = or_(and_(c.row_id == a, c.other_row_id == b), and_(c.row_id == b, c.other_row_id == a))
    found = conn.execute(
        select(func.count()).where(c.kind == "clash", c.resolved_at.is_(None), pair)
    ).scalar()
    return bool(found)


def _flag(store: ServerStore, conn: Connection, appt_id: str) -> None:
    appts = _TABLES["appointments"]
    row = conn.execute(select(appts.c.version, appts.c.clash_flagged).where(appts.c.id == appt_id)).one()
    if row.clash_flagged:
        return
    version = int(row.version) + 1
    now = store.now()
    conn.execute(update(appts).where(appts.c.id == appt_id)
                 .values(clash_flagged=True, version=version, updated_at=now))  # fmt: skip
    _log(store, conn, "appointments", appt_id, "update", version,
         {"clash_flagged": True, "updated_at": now}, SERVER_DEVICE, None)  # fmt: skip


def _check_series(conn: Connection, device: Device, entity: str, number: str) -> None:
    """A desk numbers invoices only from its own series; the prefix of any other desk is
    refused. A prefix nobody holds yet (a desk's series from before enrolment) is claimed."""
    prefix = number_prefix(number)
    owner = conn.execute(
        select(s.series_registry.c.device_id).where(s.series_registry.c.prefix == prefix)
    ).scalar()
    if owner is None:
        kind = "invoice" if entity == "invoices" else "credit_note"
        conn.execute(insert(s.series_registry).values(prefix=prefix, kind=kind, device_id=device.id))
    elif owner != device.id:
        raise ServerProblem(409, f"number {number} belongs to another desk's series")


def _ensure_series_rows(conn: Connection, entity: str, fields: dict[str, Any]) -> None:
    """Invoices refer to the issuing desk's number series; keep a placeholder row for it."""
    series_id = fields.get("series_id")
    if entity not in ("invoices", "credit_notes") or not series_id:
        return
    from frontdesk.models import NumberSeries

    t = NumberSeries.__table__
    if conn.execute(select(t.c.id).where(t.c.id == series_id)).first() is None:  # type: ignore[attr-defined]
        conn.execute(insert(t).values(  # type: ignore[attr-defined]
            id=series_id, kind="invoice" if entity == "invoices" else "credit_note",
            prefix=f"~{series_id[-11:]}", width=6, next_value=1, active=False,
            created_at=fields.get("created_at") or datetime.now(UTC),
        ))  # fmt: skip
