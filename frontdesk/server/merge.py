"""Applying pushed mutations: validation, per-field merge against the base version, sensitive
conflicts, booking clashes, number-series checks, and the change log (ARCHITECTURE.md Sync 2-6).

Each mutation is applied in its own transaction together with its stored result, so a replay
returns the same answer and a crash between two mutations loses nothing.

Over 400 lines on purpose: the per-mutation transaction (validate, merge, clash, series,
change log) is one sequence of steps that must be read in order.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from frontdesk.domain.hlc import Stamp
from frontdesk.faults import checkpoint
from frontdesk.models import synced_tables
from frontdesk.models.codec import from_json_value
from frontdesk.protocol import (
    APPLIED,
    CLAMP_LEAD_S,
    CONFLICT,
    MAX_CLOCK_LEAD_S,
    MAX_FIELDS_BYTES,
    MAX_PUSH_MUTATIONS,
    MERGED,
    REJECTED,
)
from frontdesk.server import invoice_money, rules, signed, trust
from frontdesk.server import schema as s
from frontdesk.server.changelog import (
    changes_since,
    current_row,
    flush_log,
    flush_rows,
    forget_buffered,
    full_row,
    insert_row,
    log_change,
    prefetch_history,
    prefetch_rows,
    remember_row,
)
from frontdesk.server.store import Device, ServerProblem, ServerStore, row_to_json
from frontdesk.store import privilege

log = logging.getLogger("frontdesk.server.merge")
_TABLES = s.data_tables()
_SENSITIVE = {name: cls.__sensitive__ for name, cls in synced_tables().items()}
_STAMPS = ("created_at", "updated_at")
# Written by the server alone (holds of the integration API): a desk's change is refused.
SERVER_ONLY = frozenset(name for name, cls in synced_tables().items() if cls.__server_only__)


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
    clamped: bool = False
    far_ahead: bool = False  # stamped more than a day ahead of the server's clock
    cursor: int | None = None  # what the desk had pulled when the change was made
    raw_fields: dict[str, Any] | None = None  # as sent: what a proof signs
    proof: dict[str, Any] | None = None
    invalid: ServerProblem | None = None  # a wrong value: this change alone is refused
    unrecorded: bool = False  # its id is another desk's: the answer is not stored


def _bad(message: str) -> ServerProblem:
    return ServerProblem(422, message, code="invalid")


def validate(raw: Any, now: datetime) -> list[Mutation]:
    """Check a whole batch before anything is stored. A batch that cannot be read in order
    (not a list, a change without its number) is refused with 4xx and nothing is applied; a
    change whose values are wrong (unknown table or field, wrong type, NUL character, number
    out of range, too large) is marked and answered "rejected" on its own, so the desk's later
    changes still go through. Stamps ahead of the server's clock are clamped (_check_clock)."""
    if not isinstance(raw, list):
        raise _bad("mutations must be a list")
    if len(raw) > MAX_PUSH_MUTATIONS:
        raise ServerProblem(413, f"at most {MAX_PUSH_MUTATIONS} mutations per push", code="big")
    out: list[Mutation] = []
    for item in raw:
        if not isinstance(item, dict):
            raise _bad("each mutation must be an object")
        try:
            m = Mutation(
                mutation_id=str(item["mutation_id"]),
                seq=item["seq"],
                entity=item["entity"],
                row_id=item["row_id"],
                op=item["op"],
                base_version=item["base_version"],
                hlc=str(item.get("hlc", "")),
                fields=item["fields"],
                raw_fields=item["fields"],
                proof=item.get("proof") if isinstance(item.get("proof"), dict) else None,
            )
        except KeyError as exc:
            raise _bad(f"mutation without {exc.args[0]}") from exc
        if not _whole(m.seq) or m.seq < 1:
            raise _bad("seq must be a positive whole number")
        seen = item.get("cursor")
        if seen is not None and (not _whole(seen) or seen < 0):
            raise _bad("cursor must be a whole number")
        m.cursor = seen
        if len(m.mutation_id) > 36 or "\x00" in m.mutation_id:
            raise _bad("mutation_id must be an id")
        try:
            _check_values(m, now)
        except ServerProblem as exc:
            m.invalid = exc
        out.append(m)
    return out


_INT_RANGE = range(-(2**63), 2**63)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in _INT_RANGE


def _check_values(m: Mutation, now: datetime) -> None:
    if not _whole(m.base_version) or m.base_version < 0:
        raise _bad("base_version must be a whole number")
    if m.op not in ("insert", "update"):
        raise _bad("op must be insert or update")
    table = _TABLES.get(m.entity) if isinstance(m.entity, str) else None
    if table is None:
        raise _bad(f"unknown entity {str(m.entity)[:60]!r}")
    if m.entity in SERVER_ONLY:
        raise ServerProblem(
            403,
            f"only the clinic server writes {m.entity}; a desk may not create or change them",
            code="server_only",
        )
    if not isinstance(m.row_id, str) or not 1 <= len(m.row_id) <= 36 or "\x00" in m.row_id:
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
        if isinstance(value, str) and "\x00" in value:
            raise _bad(f"{m.entity}.{key} holds a NUL character, which no text may contain")
        if isinstance(value, int) and not isinstance(value, bool) and value not in _INT_RANGE:
            raise _bad(f"{m.entity}.{key} is a number too large to store")
        try:
            decoded[key] = from_json_value(table.c[key], value)
        except (ValueError, TypeError, OverflowError) as exc:
            raise _bad(f"{m.entity}: {exc}") from exc
    if decoded.get("id", m.row_id) != m.row_id:
        raise _bad("fields.id differs from row_id")
    m.clamped = _check_clock(m, decoded, now)
    m.fields = decoded


def _check_clock(m: Mutation, decoded: dict[str, Any], now: datetime) -> bool:
    """Stamps ahead of the server's clock are clamped to its time, however far ahead: a desk
    whose clock ran ahead (a day, a year) keeps syncing, and once its clock is right again its
    waiting changes go through at once. The push answer says when a desk's clock is far off
    (``clock_ahead``), so the desk can tell a person to correct it."""
    try:
        wall = Stamp.decode(m.hlc).wall_ms if m.hlc else 0
    except ValueError as exc:
        raise _bad("hlc stamp is malformed") from exc
    limit = now + timedelta(seconds=MAX_CLOCK_LEAD_S)
    stamp_times = [v for k, v in decoded.items() if k in _STAMPS and v is not None]
    m.far_ahead = wall > limit.timestamp() * 1000 or any(v > limit for v in stamp_times)
    clamp = now + timedelta(seconds=CLAMP_LEAD_S)
    clamped = False
    for key in _STAMPS:
        value = decoded.get(key)
        if value is not None and value > clamp:
            decoded[key] = now
            clamped = True
    return clamped


COMMIT_EVERY = 500


class _NeedsCare(Exception):
    """A chunk run without savepoints hit a rejection: run it again, one savepoint each."""


def push(
    store: ServerStore, device: Device, mutations: list[Mutation], cursor: int
) -> dict[str, Any]:
    """Apply in sequence order, answering each mutation (stored with it, for replays).

    Mutations are committed in chunks. A chunk first runs straight through; if any mutation
    is refused, the chunk is rolled back and run again with a savepoint per mutation, so the
    refused one rolls back alone and is answered "rejected". A server killed mid-batch loses
    at most the uncommitted chunk, which the desk sends again (it never saw those answers)."""
    results: list[dict[str, Any]] = []
    stopped: dict[str, Any] | None = None
    pos = 0
    last = 0
    waited = held = 0.0
    while pos < len(mutations) and stopped is None:
        chunk = mutations[pos : pos + COMMIT_EVERY]
        pos += len(chunk)
        try:
            answered, stopped, last = _run_chunk(store, device, chunk, cursor, careful=False)
        except _NeedsCare:
            times = store.write_times()
            waited, held = waited + times[0], held + times[1]
            answered, stopped, last = _run_chunk(store, device, chunk, cursor, careful=True)
        times = store.write_times()
        waited, held = waited + times[0], held + times[1]
        results.extend(answered)
        if pos < len(mutations):
            checkpoint("server.push.chunk")
    log.info(
        "push device=%s mutations=%d answered=%d stopped=%s waited=%.1fms held=%.1fms",
        device.id,
        len(mutations),
        len(results),
        stopped and stopped["reason"],
        waited * 1000,
        held * 1000,
    )
    if not mutations:  # (the desk's last number as the server holds it, read by the chunk)
        with store.reading() as conn:
            last = int(
                conn.execute(
                    select(s.devices.c.last_seq).where(s.devices.c.id == device.id)
                ).scalar()
                or 0
            )
    answer: dict[str, Any] = {"results": results, "stopped": stopped, "last_seq": last}
    if any(m.far_ahead for m in mutations):
        answer["clock_ahead"] = True
    return answer


def _run_chunk(
    store: ServerStore, device: Device, chunk: list[Mutation], cursor: int, *, careful: bool
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, int]:
    """The chunk's answers, why it stopped (if it did), and this desk's last number the
    server holds after it."""
    results: list[dict[str, Any]] = []
    stopped: dict[str, Any] | None = None
    with store.writing() as conn:
        last_seq = int(
            conn.execute(
                select(s.devices.c.last_seq).where(s.devices.c.id == device.id)
            ).scalar_one()
        )
        # Stored answers are this desk's own: a change id another desk used gets no answer of
        # that desk's; it is refused (and, its id being taken, not stored).
        mr = s.mutation_results.c
        answered = conn.execute(
            select(mr.mutation_id, mr.device_id, mr.result_json).where(
                mr.mutation_id.in_([m.mutation_id for m in chunk])
            )
        ).all()
        known = {r.mutation_id: r.result_json for r in answered if r.device_id == device.id}
        others = {r.mutation_id for r in answered if r.device_id != device.id}
        for m in chunk:
            if m.mutation_id in others:
                m.invalid = _bad("this change's id is already used by another desk")
                m.unrecorded = True
        conn.info["log_buffer"] = []
        conn.info["result_buffer"] = []
        conn.info["settle_queue"] = {}
        if not careful:
            fresh = [m for m in chunk if m.mutation_id not in known and m.invalid is None]
            prefetch_rows(conn, fresh)
            prefetch_history(conn, fresh)
            conn.info["clash_queue"] = {}
        for m in chunk:
            stored = known.get(m.mutation_id)
            if stored is not None:
                results.append(json.loads(stored))
                continue
            if m.seq != last_seq + 1:
                stopped = {
                    "reason": "gap" if m.seq > last_seq else "seq_reused",
                    "expected_seq": last_seq + 1,
                }
                break
            if careful:
                results.append(_apply_one(store, conn, device, m, cursor))
            else:
                try:
                    result = _apply(store, conn, device, m, cursor)
                except (IntegrityError, ServerProblem) as exc:
                    raise _NeedsCare from exc
                if result["status"] == REJECTED:
                    raise _NeedsCare
                _remember(store, conn, device, m, result)
                results.append(result)
            last_seq = m.seq
        try:
            flush_rows(conn)
        except IntegrityError as exc:
            raise _NeedsCare from exc
        _check_queued_clashes(store, conn, device, cursor)
        invoice_money.settle(store, conn, list(conn.info.pop("settle_queue")))
        trust.flush_heads(store, conn)
        conn.info.pop("row_cache", None)
        conn.info.pop("insert_buffer", None)
        flush_log(conn)
        if conn.info["result_buffer"]:
            conn.execute(insert(s.mutation_results), conn.info["result_buffer"])
        conn.execute(
            update(s.devices)
            .where(s.devices.c.id == device.id)
            .values(last_seq=last_seq, last_seen_at=store.now(), pull_cursor=cursor)
        )
        store.publish_newest(conn)
    return results, stopped, last_seq


def _check_queued_clashes(
    store: ServerStore, conn: Connection, device: Device, cursor: int
) -> None:
    """Clash checks of a fast chunk, once its rows are written (each booking once)."""
    queue: dict[str, int] = conn.info.pop("clash_queue", None) or {}
    by_cursor: dict[int, list[dict[str, Any]]] = {}
    for appt_id, seen in queue.items():
        me = current_row(conn, "appointments", appt_id)
        if me is not None:
            by_cursor.setdefault(seen, []).append(me)
    for seen, bookings in by_cursor.items():
        rules.check_clashes(store, conn, device, bookings, seen)


def _remember(
    store: ServerStore, conn: Connection, device: Device, m: Mutation, result: dict[str, Any]
) -> None:
    if m.unrecorded:
        return
    conn.info["result_buffer"].append(
        {
            "mutation_id": m.mutation_id,
            "device_id": device.id,
            "seq": m.seq,
            "status": result["status"],
            "result_json": json.dumps(result),
            "at": store.now(),
        }
    )


def _apply_one(
    store: ServerStore, conn: Connection, device: Device, m: Mutation, cursor: int
) -> dict[str, Any]:
    next_seq = conn.info.get("next_seq")
    buffered = len(conn.info["log_buffer"])
    heads = trust.snapshot_heads(conn)
    conn.exec_driver_sql("SAVEPOINT mutation")
    try:
        result = _apply(store, conn, device, m, cursor)
        conn.exec_driver_sql("RELEASE SAVEPOINT mutation")
    except (IntegrityError, ServerProblem) as exc:
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT mutation")
        conn.exec_driver_sql("RELEASE SAVEPOINT mutation")
        conn.info["next_seq"] = next_seq  # rolled-back change-log rows free their numbers
        forget_buffered(conn, buffered)
        trust.restore_heads(conn, heads)
        reason = (
            exc.user_message
            if isinstance(exc, ServerProblem)
            else "it clashes with a record already on the server (a duplicate number or a "
            "missing linked record)"
        )
        result = _result(m, REJECTED, reason)
        if isinstance(exc, ServerProblem):
            result["code"] = exc.code
            if exc.code in trust.TRUST_CODES:
                trust.record_refusal(store, conn, device, m, exc.user_message)
        known = m.entity in _TABLES and isinstance(m.row_id, str)
        if known and m.op == "update" and (row := current_row(conn, m.entity, m.row_id)):
            # The desk puts the row back as the clinic has it; the refusal stays listed.
            result["row"] = row_to_json(row, _TABLES[m.entity])
            result["version"] = int(row["version"])
    _remember(store, conn, device, m, result)
    return result


def _result(m: Mutation, status: str, reason: str = "", version: int = 0) -> dict[str, Any]:
    return {
        "mutation_id": m.mutation_id,
        "seq": m.seq,
        "status": status,
        "reason": reason,
        "version": version,
    }


def _apply(
    store: ServerStore, conn: Connection, device: Device, m: Mutation, cursor: int
) -> dict[str, Any]:
    if m.invalid is not None:
        raise m.invalid
    table = _TABLES[m.entity]
    sensitive = _SENSITIVE[m.entity]
    row = current_row(conn, m.entity, m.row_id)
    if m.entity == trust.AUDIT:
        trust.check_audit_entry(conn, device, m, row)
    elif m.entity in privilege.PRIVILEGED:
        signed.check(conn, m, row)
    rules.check_finalised(conn, m.entity, m.fields, row)
    invoice_money.check_credit(conn, m.entity, m.fields, row)
    number = m.fields.get(rules.NUMBERED.get(m.entity, ""))
    if number is not None:  # a draft has no number yet: there is no series to check
        rules.check_series(conn, device, m.entity, str(number))
    rules.ensure_series_rows(conn, m.entity, m.fields)
    if row is None:
        if m.op != "insert":
            return _result(m, REJECTED, "the record it changes is not on the server")
        values = dict(m.fields)
        values["id"] = m.row_id
        values["version"] = 1
        insert_row(conn, m.entity, values)
        remember_row(conn, m.entity, full_row(table, values))
        log_change(
            store,
            conn,
            m.entity,
            m.row_id,
            "insert",
            1,
            full_row(table, values),
            device.id,
            m.mutation_id,
            exact=not m.clamped,
            proof=signed.logged_proof(m),
        )
        _after(store, conn, device, m, cursor, values)
        return _result(m, APPLIED, version=1)
    version = int(row["version"])
    changed_since = _fields_changed_since(conn, m, version, device.id)
    apply: dict[str, Any] = {}
    kept: dict[str, Any] = {}
    status = APPLIED
    late = rules.late_withdrawal(m.entity, m.fields, row, changed_since)
    for key, value in m.fields.items():
        if key == "id":
            continue
        if key in late:
            kept[key] = row[key]
            if status == APPLIED:
                status = MERGED
        elif key not in changed_since or row[key] == value or key in _STAMPS:
            apply[key] = value
        elif key in sensitive:
            kept[key] = row[key]
            status = CONFLICT
            rules.record_conflict(store, conn, m, key, value, row[key])
        else:
            apply[key] = value
            if status == APPLIED:
                status = MERGED
    new_version = version + 1
    flush_rows(conn, m.entity)
    remember_row(conn, m.entity, {**row, **apply, "version": new_version})
    conn.execute(
        update(table).where(table.c.id == bindparam("b_id")),
        {"b_id": m.row_id, "version": new_version, **apply},
    )
    log_change(
        store,
        conn,
        m.entity,
        m.row_id,
        "update",
        new_version,
        {**apply, **kept},
        device.id,
        m.mutation_id,
        exact=status in (APPLIED, MERGED) and not kept and not m.clamped,
        proof=signed.logged_proof(m),
    )
    _after(store, conn, device, m, cursor, {**row, **apply, "version": new_version})
    reason = "kept both values for a person to choose" if status == CONFLICT else ""
    return _result(m, status, reason, new_version)


def _fields_changed_since(conn: Connection, m: Mutation, current: int, device: str) -> set[str]:
    """Fields another desk changed after this desk's base version (all, if history is gone).
    The desk's own earlier changes are not concurrent with this one and do not count."""
    if m.base_version >= current:
        return set()
    rows = changes_since(conn, m.entity, m.row_id, m.base_version)
    if len({r["version"] for r in rows}) < current - m.base_version:
        return set(m.fields)
    out: set[str] = set()
    for r in rows:
        if r["device_id"] != device:
            out.update(json.loads(r["fields_json"]))
    return out


_MONEY_ON_INVOICES = frozenset({"invoices", "payment_allocations", "credit_notes"})
_CLASH_FIELDS = frozenset(
    {"starts_at", "ends_at", "practitioner_id", "room_id", "status", "deleted_at"}
)


def _after(
    store: ServerStore,
    conn: Connection,
    device: Device,
    m: Mutation,
    cursor: int,
    me: dict[str, Any],
) -> None:
    invoice_id = me["id"] if m.entity == "invoices" else me.get("invoice_id")
    settle = conn.info["settle_queue"]  # checked once the chunk is written
    if m.entity in _MONEY_ON_INVOICES and invoice_id:
        settle[("invoice", str(invoice_id))] = None
    if m.entity == "payment_allocations" and me.get("payment_id"):
        settle[("payment", str(me["payment_id"]))] = None
    if m.entity == "payments" and me.get("kind") == "refund":
        settle[("refund", me.get("patient_id"), me.get("payer_funder_id"))] = None
    if m.entity == "appointments" and _CLASH_FIELDS & set(m.fields):
        # What the desk had seen when the person made this change (older desks: at push).
        seen = cursor if m.cursor is None else min(m.cursor, cursor)
        queue = conn.info.get("clash_queue")
        if queue is None:
            rules.check_clash(store, conn, device, me, seen)
        else:  # checked once the chunk is written, as of the booking's latest change
            queue[m.row_id] = seen
