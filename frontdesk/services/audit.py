"""The audit trail: find who did what (by patient, staff member, dates, kind, entity) and check
that nobody edited or deleted past entries (the per-desk hash chain of services/tracking.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, select

from frontdesk.domain import signing
from frontdesk.models import AuditAnchor, AuditEvent, Patient, SyncState
from frontdesk.services.permissions import Action, require
from frontdesk.store import outbox
from frontdesk.store.context import ServiceContext
from frontdesk.store.tracking import GENESIS_HASH, audit_hash_matches, audit_payload

DEFAULT_LIMIT = 500


@dataclass(frozen=True)
class AuditFilter:
    patient_id: str | None = None
    staff_user_id: str | None = None
    first_day: date | None = None  # clinic-local dates, inclusive
    last_day: date | None = None
    action: str | None = None  # the kind of thing done ("sign in", "change clinic settings")
    entity: str | None = None  # table name ("patients", "invoices", "event")
    entity_id: str | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class AuditEntry:
    id: str
    at: datetime  # clinic-local
    staff_user_id: str | None
    staff_name: str
    device_id: str
    device_seq: int
    action: str
    entity: str
    entity_id: str | None
    patient_id: str | None
    patient_name: str
    summary: str
    changes: tuple[FieldChange, ...] = field(default_factory=tuple)


_ENTRY_COLUMNS = (
    AuditEvent.id, AuditEvent.at, AuditEvent.staff_user_id, AuditEvent.staff_name,
    AuditEvent.device_id, AuditEvent.device_seq, AuditEvent.action, AuditEvent.entity,
    AuditEvent.entity_id, AuditEvent.patient_id, AuditEvent.summary, AuditEvent.before_json,
    AuditEvent.after_json,
)  # fmt: skip


class _Row(NamedTuple):
    id: str
    at: datetime
    staff_user_id: str | None
    staff_name: str
    device_id: str
    device_seq: int
    action: str
    entity: str
    entity_id: str | None
    patient_id: str | None
    summary: str
    before_json: str | None
    after_json: str | None


def query(ctx: ServiceContext, filt: AuditFilter) -> list[AuditEntry]:
    """Newest first, at most ``filt.limit`` entries."""
    require(ctx.actor, Action.VIEW_AUDIT)
    tz = ctx.tz
    q = (
        # Plain columns, not ORM objects: the trail is read-only here and can be long.
        select(*_ENTRY_COLUMNS, Patient.first_name, Patient.last_name)
        # the trail keeps the patient's key as text (it may name rows of any kind); the
        # desk stores keys as 16 bytes: key_blob (db.engine) converts in SQL
        .outerjoin(Patient, Patient.id == func.key_blob(AuditEvent.patient_id))
        .order_by(AuditEvent.at.desc(), AuditEvent.device_seq.desc())
        .limit(max(1, min(filt.limit, 10_000)))
    )
    if filt.patient_id:
        q = q.where(AuditEvent.patient_id == filt.patient_id)
    if filt.staff_user_id:
        q = q.where(AuditEvent.staff_user_id == filt.staff_user_id)
    if filt.first_day:
        q = q.where(AuditEvent.at >= datetime.combine(filt.first_day, time(), tz))
    if filt.last_day:
        q = q.where(AuditEvent.at < datetime.combine(filt.last_day + timedelta(days=1), time(), tz))
    if filt.action:
        q = q.where(AuditEvent.action == filt.action)
    if filt.entity:
        q = q.where(AuditEvent.entity == filt.entity)
    if filt.entity_id:
        q = q.where(AuditEvent.entity_id == filt.entity_id)
    with ctx.read() as session:
        rows = session.execute(q).all()
    return [
        AuditEntry(
            id=e.id,
            at=e.at.astimezone(tz),
            staff_user_id=e.staff_user_id,
            staff_name=e.staff_name or "system",
            device_id=e.device_id,
            device_seq=e.device_seq,
            action=e.action,
            entity=e.entity,
            entity_id=e.entity_id,
            patient_id=e.patient_id,
            patient_name=f"{first} {last}" if first is not None else "",
            summary=e.summary,
            changes=changes_of(e.before_json, e.after_json),
        )
        for *cols, first, last in rows
        for e in (_Row(*cols),)
    ]


def changes_of(before_json: str | None, after_json: str | None) -> tuple[FieldChange, ...]:
    before = _load(before_json)
    after = _load(after_json)
    keys = list(after) + [k for k in before if k not in after]
    return tuple(FieldChange(k, before.get(k), after.get(k)) for k in keys)


def _load(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"(unreadable)": text[:200]}
    return value if isinstance(value, dict) else {"(value)": value}


def kinds(ctx: ServiceContext) -> tuple[list[str], list[str]]:
    """The actions and entities that occur, for the viewer's filter lists."""
    require(ctx.actor, Action.VIEW_AUDIT)
    with ctx.read() as session:
        actions = session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
        entities = session.scalars(select(AuditEvent.entity).distinct().order_by(AuditEvent.entity))
        return list(actions), list(entities)


def staff_in_trail(ctx: ServiceContext) -> list[tuple[str, str]]:
    """(staff_user_id, name) of everyone who appears in the trail, archived staff included."""
    require(ctx.actor, Action.VIEW_AUDIT)
    with ctx.read() as session:
        rows = session.execute(
            select(AuditEvent.staff_user_id, AuditEvent.staff_name)
            .where(AuditEvent.staff_user_id.is_not(None))
            .distinct()
        ).all()
    names: dict[str, str] = {}
    for staff_id, name in rows:
        if staff_id is not None:
            names[staff_id] = name or names.get(staff_id, "")
    return sorted(names.items(), key=lambda item: item[1].lower())


# -- the hash chain -------------------------------------------------------------------------
@dataclass(frozen=True)
class BrokenLink:
    device_id: str
    device_seq: int
    problem: str  # for a person: what is wrong at this point of the chain


@dataclass(frozen=True)
class ChainReport:
    checked: int
    devices: int
    broken: BrokenLink | None

    @property
    def intact(self) -> bool:
        return self.broken is None

    @property
    def message(self) -> str:
        if self.broken is None:
            return (
                f"The audit trail is intact: {self.checked:,} entries from "
                f"{self.devices} desk{'s' if self.devices != 1 else ''} check out."
            )
        b = self.broken
        return (
            f"The audit trail has been tampered with: entry {b.device_seq} from desk "
            f"…{b.device_id[-6:]} {b.problem}. Entries before it are intact."
        )


_PAYLOAD_COLUMNS = tuple(audit_payload({}))


def verify_chain(ctx: ServiceContext) -> ChainReport:
    """Recompute every desk's chain in order and report the first broken link; then hold each
    chain to the head the clinic server countersigned (sync/anchors.py), which names a chain
    rewritten and re-hashed, or cut short, after the server saw it."""
    require(ctx.actor, Action.VIEW_AUDIT)
    cols = [getattr(AuditEvent, c) for c in _PAYLOAD_COLUMNS]
    checked = 0
    with ctx.read() as session:
        devices = list(session.scalars(select(AuditEvent.device_id).distinct()))
        local = session.scalars(
            select(func.coalesce(SyncState.audit_chain_id, SyncState.device_id)).where(
                SyncState.id == 1
            )
        ).first()
        anchors = _anchors(session)
        for device in sorted(devices):
            expected_seq, prev = 1, GENESIS_HASH
            anchor = anchors.pop(device, None)
            rows = session.execute(
                select(*cols, AuditEvent.prev_hash, AuditEvent.hash)
                .where(AuditEvent.device_id == device)
                .order_by(AuditEvent.device_seq)
                .execution_options(yield_per=2000)
            )
            for row in rows:
                data = dict(zip(_PAYLOAD_COLUMNS, row[: len(cols)], strict=True))
                seq = data["device_seq"]
                problem = None
                if seq != expected_seq:
                    problem = f"is missing (the next entry found is {seq})"
                    seq = expected_seq
                elif row.prev_hash != prev:
                    problem = "does not follow the one before it"
                elif not audit_hash_matches(prev, data, row.hash):
                    problem = "was changed after it was written"
                elif anchor is not None and seq == anchor[0] and row.hash != anchor[1]:
                    problem = _REWRITTEN
                if problem:
                    return ChainReport(checked, len(devices), BrokenLink(device, seq, problem))
                checked += 1
                expected_seq, prev = expected_seq + 1, row.hash
            if anchor is not None and expected_seq <= anchor[0]:
                return ChainReport(
                    checked, len(devices), BrokenLink(device, expected_seq, _cut(anchor[0]))
                )
        for device, (seq, _hash) in sorted(anchors.items()):  # a whole chain deleted
            return ChainReport(checked, len(devices), BrokenLink(device, 1, _cut(seq)))
        if local is not None:
            missing = _missing_tail(session, local, expected_after=_last_seq(session, local))
            if missing is not None:
                return ChainReport(checked, len(devices), missing)
    return ChainReport(checked, len(devices), None)


_REWRITTEN = (
    "differs from the entry the clinic server countersigned (the trail was rewritten after "
    "the server saw it)"
)


def _cut(seq: int) -> str:
    return f"is missing (the clinic server countersigned this desk's trail up to entry {seq})"


def _anchors(session: Any) -> dict[str, tuple[int, str]]:
    """Chain → (seq, hash) countersigned by the clinic server; an anchor whose signature does
    not check out with the server's key is held as a rewritten entry at its position."""
    key = session.scalar(select(SyncState.server_audit_key).where(SyncState.id == 1))
    out: dict[str, tuple[int, str]] = {}
    for a in session.scalars(select(AuditAnchor)):
        statement = signing.head_statement(a.chain_id, a.seq, a.hash)
        good = signing.verify(key, statement, a.signature)
        out[a.chain_id] = (a.seq, a.hash if good else "(countersignature does not check out)")
    return out


def _last_seq(session: Any, device: str) -> int:
    return int(
        session.scalar(
            select(AuditEvent.device_seq)
            .where(AuditEvent.device_id == device)
            .order_by(AuditEvent.device_seq.desc())
            .limit(1)
        )
        or 0
    )


def _missing_tail(session: Any, device: str, expected_after: int) -> BrokenLink | None:
    """The newest entries leave no gap when deleted; this desk's outbox still names them."""
    lost = outbox.unsent_audit_entry(session, select(AuditEvent.id))
    if lost is None:
        return None
    return BrokenLink(device, expected_after + 1, "is missing (deleted after it was written)")
