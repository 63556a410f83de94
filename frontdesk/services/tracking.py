"""The flush hook that makes every change syncable and audited, in the same transaction.

For each inserted or updated row of a synced table it stamps ``created_at``/``updated_at``,
appends a ``sync_outbox`` row (changed fields only, with the version the desk last saw) and a
hash-chained ``audit_events`` row with before and after values. Hard deletes of synced rows are
refused: the product archives, cancels or tombstones instead.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, event, func, insert, inspect, select, update
from sqlalchemy.orm import Session, UOWTransaction

from frontdesk.domain.hlc import HybridClock
from frontdesk.domain.ids import uuid7
from frontdesk.models.base import SyncedMixin
from frontdesk.models.codec import to_json_value
from frontdesk.models.system import AuditEvent, SyncOutbox, SyncState
from frontdesk.services.changes import ChangeCollector

GENESIS_HASH = "0" * 64
TRACKING_KEY = "frontdesk.tracking"


@dataclass
class Tracking:
    """What the hook needs for one transaction; stored in ``session.info``."""

    device_id: str
    now: datetime
    hlc: HybridClock
    actor_id: str | None
    actor_name: str
    action: str
    origin: str  # "local": record outbox and audit; "sync": changes arriving from the server
    collector: ChangeCollector


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def audit_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(payload)).encode("utf-8")).hexdigest()


def audit_payload(row: dict[str, Any]) -> dict[str, Any]:
    """The fields of an audit event that its hash covers."""
    keys = (
        "id", "device_id", "device_seq", "hlc", "at", "staff_user_id", "action", "entity",
        "entity_id", "patient_id", "summary", "before_json", "after_json",
    )  # fmt: skip
    return {k: to_json_value(row.get(k)) for k in keys}


def _column_keys(obj: SyncedMixin) -> list[str]:
    return [attr.key for attr in inspect(obj).mapper.column_attrs]


_SKIP_IN_FIELDS = {"version", "created_at", "updated_at"}


def _changes(obj: SyncedMixin, is_new: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) of the changed columns, as JSON values."""
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in _column_keys(obj):
        if key in _SKIP_IN_FIELDS:
            continue
        if is_new:
            after[key] = to_json_value(getattr(obj, key))
            continue
        hist = state.attrs[key].history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old == new:
                continue
            before[key] = to_json_value(old)
            after[key] = to_json_value(new)
    return before, after


def _patient_of(obj: SyncedMixin) -> str | None:
    if type(obj).__tablename__ == "patients":  # type: ignore[attr-defined]
        return obj.id
    value = getattr(obj, "patient_id", None)
    return value if isinstance(value, str) else None


@event.listens_for(Session, "before_flush")
def _stamp(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    tracking: Tracking | None = session.info.get(TRACKING_KEY)
    for obj in session.deleted:
        if isinstance(obj, SyncedMixin):
            raise RuntimeError(
                f"{type(obj).__name__} rows are never hard-deleted; archive or tombstone them"
            )
    if tracking is None or tracking.origin != "local":
        return
    for obj in session.new:
        if isinstance(obj, SyncedMixin):
            obj.created_at = obj.created_at or tracking.now
            obj.updated_at = tracking.now
            if obj.id is None:
                obj.id = uuid7()
    for obj in session.dirty:
        if isinstance(obj, SyncedMixin) and session.is_modified(obj, include_collections=False):
            obj.updated_at = tracking.now


@event.listens_for(Session, "after_flush")
def _record(session: Session, _ctx: UOWTransaction) -> None:
    tracking: Tracking | None = session.info.get(TRACKING_KEY)
    if tracking is None:
        return
    changed: list[tuple[SyncedMixin, str, dict[str, Any], dict[str, Any]]] = []
    for obj in session.new:
        if isinstance(obj, SyncedMixin):
            before, after = _changes(obj, is_new=True)
            changed.append((obj, "insert", before, after))
    for obj in session.dirty:
        if isinstance(obj, SyncedMixin) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj, is_new=False)
            if after:
                changed.append((obj, "update", before, after))
    # Parents before children, so the server and other desks can apply them in this order.
    changed.sort(key=lambda c: _table_rank().get(type(c[0]).__tablename__, 0))  # type: ignore[attr-defined]
    for obj, _op, _b, _a in changed:
        tracking.collector.add(type(obj).__tablename__, obj.id)  # type: ignore[attr-defined]
    if tracking.origin != "local" or not changed:
        return
    conn = session.connection()
    next_seq = _next_outbox_seq(conn)
    audit_seq, prev_hash = _chain_head(conn, tracking.device_id)
    # What the person had in front of them: the clinic's changes pulled so far (a pull may
    # land between this change and its push; the server must not count it as seen).
    seen = conn.execute(select(SyncState.pull_cursor).where(SyncState.id == 1)).scalar()

    outbox_rows: list[dict[str, Any]] = []
    audit_rows: list[dict[str, Any]] = []
    for obj, op, before, after in changed:
        table = type(obj).__tablename__  # type: ignore[attr-defined]
        stamp = tracking.hlc.tick().encode()
        fields = dict(after)
        if op == "update":
            fields["updated_at"] = to_json_value(obj.updated_at)
        else:
            fields["created_at"] = to_json_value(obj.created_at)
            fields["updated_at"] = to_json_value(obj.updated_at)
        outbox_rows.append(
            {
                "seq": next_seq,
                "mutation_id": uuid7(),
                "entity": table,
                "row_id": obj.id,
                "op": op,
                "fields_json": canonical_json(fields),
                "base_version": obj.version or 0,
                "seen_cursor": seen,
                "hlc": stamp,
                "created_at": tracking.now,
                "state": "pending",
            }
        )
        next_seq += 1
        if not getattr(type(obj), "__audited__", True) or _quiet(obj, op, after):
            continue
        row = {
            "id": uuid7(),
            "device_id": tracking.device_id,
            "device_seq": audit_seq,
            "hlc": stamp,
            "at": tracking.now,
            "staff_user_id": tracking.actor_id,
            "staff_name": tracking.actor_name,
            "action": tracking.action or op,
            "entity": table,
            "entity_id": obj.id,
            "patient_id": _patient_of(obj),
            "summary": "",
            "before_json": canonical_json(_redact(obj, before)) if before else None,
            "after_json": canonical_json(_redact(obj, after)),
        }
        audit_seq, prev_hash = _chain(row, prev_hash, audit_seq)
        audit_rows.append(row)
    # Audit events sync too: give each its own outbox row.
    for row in audit_rows:
        outbox_rows.append(
            {
                "seq": next_seq,
                "mutation_id": uuid7(),
                "entity": "audit_events",
                "row_id": row["id"],
                "op": "insert",
                "fields_json": canonical_json(
                    {k: to_json_value(v) for k, v in _audit_full(row, tracking.now).items()}
                ),
                "base_version": 0,
                "seen_cursor": seen,
                "hlc": row["hlc"],
                "created_at": tracking.now,
                "state": "pending",
            }
        )
        next_seq += 1
        tracking.collector.add("audit_events", row["id"])
    if audit_rows:
        conn.execute(insert(AuditEvent), [_audit_full(r, tracking.now) for r in audit_rows])
    conn.execute(insert(SyncOutbox), outbox_rows)


def _quiet(obj: SyncedMixin, op: str, after: dict[str, Any]) -> bool:
    """An update touching only bookkeeping fields (``__audit_quiet__``, e.g. a sign-in's
    last_sign_in_at) is audited by the service's own event instead of as a row change."""
    quiet: frozenset[str] = getattr(type(obj), "__audit_quiet__", frozenset())
    return op == "update" and bool(quiet) and set(after) <= quiet


def _redact(obj: SyncedMixin, values: dict[str, Any]) -> dict[str, Any]:
    """Secrets (password and PIN hashes) sync like any field but the audit shows only that they
    changed: ``__audit_redact__`` on the model names them."""
    hidden: frozenset[str] = getattr(type(obj), "__audit_redact__", frozenset())
    return {k: ("(changed)" if k in hidden and v is not None else v) for k, v in values.items()}


def _next_outbox_seq(conn: Connection) -> int:
    """The next gapless outbox number (the write transaction holds the database lock)."""
    return int(conn.execute(select(func.coalesce(func.max(SyncOutbox.seq), 0))).scalar_one()) + 1


def renumber_pending(session: Session, first: int) -> int:
    """Give the changes still waiting in the outbox the numbers from ``first`` on, keeping
    their order (after a restore: the server already holds this desk's changes up to
    ``first - 1``). Returns the shift applied."""
    outbox = SyncOutbox.__table__
    assert isinstance(outbox, Table)
    pending = outbox.c.state == "pending"
    low = session.scalar(select(func.min(outbox.c.seq)).where(pending))
    if low is None:
        return 0
    shift = first - int(low)
    # Two steps, so no number is ever held twice mid-statement.
    session.execute(update(outbox).where(pending).values(seq=-(outbox.c.seq + shift)))
    session.execute(update(outbox).where(outbox.c.seq < 0).values(seq=-outbox.c.seq))
    return shift


def _chain_head(conn: Connection, device_id: str) -> tuple[int, str]:
    """(next audit sequence number, hash of the newest event) for this desk's chain."""
    last = conn.execute(
        select(AuditEvent.device_seq, AuditEvent.hash)
        .where(AuditEvent.device_id == device_id)
        .order_by(AuditEvent.device_seq.desc())
        .limit(1)
    ).first()
    return (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)


_RANK: dict[str, int] = {}


def _table_rank() -> dict[str, int]:
    if not _RANK:
        from frontdesk.models.base import Base

        _RANK.update({tb.name: i for i, tb in enumerate(Base.metadata.sorted_tables)})
    return _RANK


def _chain(row: dict[str, Any], prev_hash: str, seq: int) -> tuple[int, str]:
    row["prev_hash"] = prev_hash
    row["hash"] = audit_hash(prev_hash, audit_payload(row))
    return seq + 1, row["hash"]


def _audit_full(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    full = dict(row)
    full.setdefault("version", 0)
    full["created_at"] = now
    full["updated_at"] = now
    full["deleted_at"] = None
    return full


def record_event(
    session: Session,
    action: str,
    *,
    summary: str = "",
    entity: str = "event",
    entity_id: str | None = None,
    patient_id: str | None = None,
) -> None:
    """Audit something that is not a row change: a sign-in, a failed sign-in, a print, an export.

    Written as an AuditEvent row through the session, so it flushes with the transaction."""
    tracking: Tracking = session.info[TRACKING_KEY]
    session.flush()
    conn = session.connection()
    seq, prev_hash = _chain_head(conn, tracking.device_id)
    stamp = tracking.hlc.tick().encode()
    row: dict[str, Any] = {
        "id": uuid7(),
        "device_id": tracking.device_id,
        "device_seq": seq,
        "hlc": stamp,
        "at": tracking.now,
        "staff_user_id": tracking.actor_id,
        "staff_name": tracking.actor_name,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "patient_id": patient_id,
        "summary": summary,
        "before_json": None,
        "after_json": None,
    }
    _chain(row, prev_hash, seq)
    full = _audit_full(row, tracking.now)
    conn.execute(insert(AuditEvent), [full])
    next_seq = _next_outbox_seq(conn)
    conn.execute(
        insert(SyncOutbox),
        [
            {
                "seq": next_seq,
                "mutation_id": uuid7(),
                "entity": "audit_events",
                "row_id": row["id"],
                "op": "insert",
                "fields_json": canonical_json({k: to_json_value(v) for k, v in full.items()}),
                "base_version": 0,
                "hlc": stamp,
                "created_at": tracking.now,
                "state": "pending",
            }
        ],
    )
    tracking.collector.add("audit_events", row["id"])
