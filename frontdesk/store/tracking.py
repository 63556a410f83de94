"""The flush hook that makes every change syncable and audited, in the same transaction.

For each inserted or updated row of a synced table it stamps ``created_at``/``updated_at``,
appends an outbox row (``store/outbox.py``: changed fields only, with the version the desk last
saw) and a hash-chained ``audit_events`` row with before and after values. Hard deletes of
synced rows are refused: the product archives, cancels or tombstones instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Select, bindparam, event, insert, inspect, select
from sqlalchemy.orm import Session, UOWTransaction

from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.hlc import HybridClock
from frontdesk.domain.ids import uuid7
from frontdesk.models.base import SyncedMixin
from frontdesk.models.codec import to_json_value
from frontdesk.models.system import AuditEvent
from frontdesk.store import outbox, privilege
from frontdesk.store.changes import ChangeCollector
from frontdesk.store.order import table_rank
from frontdesk.store.outbox import canonical_json, outbox_row

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
    # (staff id, key) of the signed-in staff member who can sign privileged changes.
    signer: tuple[str, Ed25519PrivateKey] | None = None


def audit_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(payload)).encode("utf-8")).hexdigest()


# The fields an audit event's hash covers. Entries written before version 2 of the chain did not
# cover the staff member's name; they keep their hash (rewriting them would itself be tampering),
# and only for them does the check fall back to the older set of fields.
_LEGACY_HASHED = (
    "id", "device_id", "device_seq", "hlc", "at", "staff_user_id", "action", "entity",
    "entity_id", "patient_id", "summary", "before_json", "after_json",
)  # fmt: skip
_HASHED = (*_LEGACY_HASHED, "staff_name")


def audit_payload(row: dict[str, Any]) -> dict[str, Any]:
    """The fields of an audit event that its hash covers (every field a person reads)."""
    return {k: to_json_value(row.get(k)) for k in _HASHED}


def audit_hash_matches(prev_hash: str, row: dict[str, Any], digest: str | None) -> bool:
    """Whether ``digest`` is this event's hash after ``prev_hash``: the current field set, or
    the one before the staff member's name was covered (entries written by older versions)."""
    if digest == audit_hash(prev_hash, audit_payload(row)):
        return True
    legacy = {k: to_json_value(row.get(k)) for k in _LEGACY_HASHED}
    return digest == audit_hash(prev_hash, legacy)


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


def patient_of(obj: SyncedMixin) -> str | None:
    if type(obj).__tablename__ == "patients":  # type: ignore[attr-defined]
        return obj.id
    value = getattr(obj, "patient_id", None)
    return value if isinstance(value, str) else None


def _refuse_nul(session: Session) -> None:
    """No text this desk writes may hold a NUL character (the clinic server's PostgreSQL cannot
    store one): refused here, at the one place every entry point (forms, imports of single
    records, services) passes through, before anything is written."""
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, SyncedMixin):
            continue
        for key in _column_keys(obj):
            value = getattr(obj, key)
            if isinstance(value, str) and "\x00" in value:
                raise ValidationFailed(
                    f"{key.replace('_', ' ').capitalize()} cannot contain a NUL character "
                    "(an invisible control character, usually from a pasted file). Remove it "
                    "and try again.",
                    field=key,
                )


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
    _refuse_nul(session)
    for obj in session.new:
        if isinstance(obj, SyncedMixin):
            obj.created_at = obj.created_at or tracking.now
            obj.updated_at = tracking.now
            if obj.id is None:
                obj.id = uuid7()
    for obj in session.dirty:
        if isinstance(obj, SyncedMixin) and session.is_modified(obj, include_collections=False):
            obj.updated_at = tracking.now


@dataclass(frozen=True, slots=True)
class Change:
    """One row's change as the change log records it (from a flushed ORM object, or from the
    tracked bulk writer, ``store/bulk.py``)."""

    model: type[SyncedMixin]
    row_id: str
    op: str  # "insert" or "update"
    before: dict[str, Any]
    after: dict[str, Any]  # JSON values of the changed columns (no version or stamps)
    base_version: int
    created_at: datetime | None
    updated_at: datetime
    patient_id: str | None

    @property
    def table(self) -> str:
        return self.model.__tablename__  # type: ignore[attr-defined,no-any-return]


def _change_of(obj: SyncedMixin, op: str, before: dict[str, Any], after: dict[str, Any]) -> Change:
    return Change(
        type(obj), obj.id, op, before, after, obj.version or 0, obj.created_at, obj.updated_at,
        patient_of(obj),
    )  # fmt: skip


@event.listens_for(Session, "after_flush")
def _record(session: Session, _ctx: UOWTransaction) -> None:
    tracking: Tracking | None = session.info.get(TRACKING_KEY)
    if tracking is None:
        return
    changed: list[Change] = []
    for obj in session.new:
        if isinstance(obj, SyncedMixin):
            before, after = _changes(obj, is_new=True)
            changed.append(_change_of(obj, "insert", before, after))
    for obj in session.dirty:
        if isinstance(obj, SyncedMixin) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj, is_new=False)
            if after:
                changed.append(_change_of(obj, "update", before, after))
    outbox_rows, audit_rows = log_rows(session.connection(), tracking, changed)
    if audit_rows:
        session.connection().execute(
            insert(AuditEvent), [audit_full(r, tracking.now) for r in audit_rows]
        )
    outbox.append(session.connection(), outbox_rows)


def log_rows(
    conn: Connection, tracking: Tracking, changed: list[Change], *, audit: bool = True
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The outbox rows (with proofs) and hash-chained audit events recording ``changed`` — the
    same rows whichever path wrote the data; the caller inserts them in the same transaction
    (audit events as ``_audit_full`` rows). Empty for changes arriving by sync. With
    ``audit=False`` only the outbox rows: the caller records one event for the whole batch."""
    # Parents before children, so the server and other desks can apply them in this order.
    rank = table_rank()
    changed.sort(key=lambda c: rank.get(c.table, 0))
    for c in changed:
        tracking.collector.add(c.table, c.row_id)
    if tracking.origin != "local" or not changed:
        return [], []
    # What the person had in front of them (``seen``): the clinic's changes pulled so far (a
    # pull may land between this change and its push; the server must not count it as seen).
    next_seq, audit_seq, prev_hash, seen = _heads(conn, tracking.device_id)

    outbox_rows: list[dict[str, Any]] = []
    audit_rows: list[dict[str, Any]] = []
    for c in changed:
        table, op, after = c.table, c.op, c.after
        stamp = tracking.hlc.tick().encode()
        fields = dict(after)
        if op == "update":
            fields["updated_at"] = to_json_value(c.updated_at)
        else:
            fields["created_at"] = to_json_value(c.created_at)
            fields["updated_at"] = to_json_value(c.updated_at)
        change = outbox_row(
            next_seq, entity=table, row_id=c.row_id, op=op, fields=fields,
            base_version=c.base_version, hlc=stamp, now=tracking.now, seen_cursor=seen,
        )  # fmt: skip
        change["proof_json"] = privilege.proof_json(
            tracking.signer, entity=table, row_id=c.row_id, op=op, fields=fields,
            base_version=change["base_version"], mutation_id=change["mutation_id"],
        )  # fmt: skip
        outbox_rows.append(change)
        next_seq += 1
        if not audit or not getattr(c.model, "__audited__", True) or _quiet(c.model, op, after):
            continue
        row = _audit_row(
            tracking, audit_seq, stamp, action=tracking.action or op, entity=table,
            entity_id=c.row_id, patient_id=c.patient_id,
            before_json=canonical_json(_redact(c.model, c.before)) if c.before else None,
            after_json=canonical_json(_redact(c.model, after)),
        )  # fmt: skip
        audit_seq, prev_hash = _chain(row, prev_hash, audit_seq)
        audit_rows.append(row)
    # Audit events sync too: give each its own outbox row.
    for row in audit_rows:
        outbox_rows.append(_audit_outbox_row(next_seq, row, tracking.now, seen))
        next_seq += 1
        tracking.collector.add("audit_events", row["id"])
    return outbox_rows, audit_rows


def _audit_row(
    tracking: Tracking,
    seq: int,
    stamp: str,
    *,
    action: str,
    entity: str,
    entity_id: str | None,
    patient_id: str | None,
    summary: str = "",
    before_json: str | None = None,
    after_json: str | None = None,
) -> dict[str, Any]:
    """One audit event of this desk's chain (its hash is added by ``_chain``)."""
    return {
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
        "before_json": before_json,
        "after_json": after_json,
    }


def _quiet(model: type[SyncedMixin], op: str, after: dict[str, Any]) -> bool:
    """An update touching only bookkeeping fields (``__audit_quiet__``, e.g. a sign-in's
    last_sign_in_at) is audited by the service's own event instead of as a row change."""
    quiet: frozenset[str] = getattr(model, "__audit_quiet__", frozenset())
    return op == "update" and bool(quiet) and set(after) <= quiet


def _redact(model: type[SyncedMixin], values: dict[str, Any]) -> dict[str, Any]:
    """Secrets (password and PIN hashes) sync like any field but the audit shows only that they
    changed: ``__audit_redact__`` on the model names them."""
    hidden: frozenset[str] = getattr(model, "__audit_redact__", frozenset())
    return {k: ("(changed)" if k in hidden and v is not None else v) for k, v in values.items()}


_HEADS: list[Select[Any]] = []


def _heads(conn: Connection, device_id: str) -> tuple[int, int, str, int | None]:
    """(next outbox number, next audit sequence number of this desk's chain, hash of its newest
    event, the pull cursor), read in one statement inside the write transaction — which holds
    the database lock, so no other process (the app, the command line) can write in between.
    Nothing is kept between transactions: the next one reads them afresh."""
    if not _HEADS:  # built once: every write runs it

        def newest(column: Any) -> Any:
            return (
                select(column)
                .where(AuditEvent.device_id == bindparam("chain"))
                .order_by(AuditEvent.device_seq.desc())
                .limit(1)
                .scalar_subquery()
            )

        _HEADS.append(
            select(
                outbox.top_seq_column(),
                newest(AuditEvent.device_seq),
                newest(AuditEvent.hash),
                outbox.seen_cursor_column(),
            )
        )
    top, last_seq, last_hash, seen = conn.execute(_HEADS[0], {"chain": device_id}).one()
    if last_seq is None:
        return int(top) + 1, 1, GENESIS_HASH, seen
    return int(top) + 1, int(last_seq) + 1, str(last_hash), seen


def _chain(row: dict[str, Any], prev_hash: str, seq: int) -> tuple[int, str]:
    row["prev_hash"] = prev_hash
    row["hash"] = audit_hash(prev_hash, audit_payload(row))
    return seq + 1, row["hash"]


def audit_full(row: dict[str, Any], now: datetime) -> dict[str, Any]:
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
    next_seq, seq, prev_hash, _seen = _heads(conn, tracking.device_id)
    stamp = tracking.hlc.tick().encode()
    row = _audit_row(
        tracking, seq, stamp, action=action, entity=entity, entity_id=entity_id,
        patient_id=patient_id, summary=summary,
    )  # fmt: skip
    _chain(row, prev_hash, seq)
    full = audit_full(row, tracking.now)
    conn.execute(insert(AuditEvent), [full])
    outbox.append(conn, [_audit_outbox_row(next_seq, row, tracking.now)])
    tracking.collector.add("audit_events", row["id"])


def _audit_outbox_row(
    seq: int, row: dict[str, Any], now: datetime, seen: int | None = None
) -> dict[str, Any]:
    """Audit events sync too: each has its own outbox row carrying the whole entry."""
    full = {k: to_json_value(v) for k, v in audit_full(row, now).items()}
    return outbox_row(
        seq, entity="audit_events", row_id=row["id"], op="insert", fields=full,
        base_version=0, hlc=row["hlc"], now=now, seen_cursor=seen,
    )  # fmt: skip
