"""Conflicts sync could not decide alone, described for a person, and their resolutions.

A clash is two overlapping bookings made on different desks: a person moves one (or keeps
both). A field conflict is a sensitive field changed on two desks: a person picks a value.
Resolving is an ordinary local change, so the resolution syncs to every desk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from frontdesk.domain.errors import NotFound, RuleViolation
from frontdesk.domain.money import format_money
from frontdesk.models import (
    Appointment,
    AuditEvent,
    Base,
    Invoice,
    InvoiceLine,
    Patient,
    Payment,
    Practitioner,
    SyncConflict,
    SyncState,
)
from frontdesk.models.codec import from_json_value
from frontdesk.services.permissions import Action, require
from frontdesk.store import outbox
from frontdesk.store.context import ServiceContext


@dataclass(frozen=True)
class Side:
    """One side of a conflict as a person reads it."""

    label: str
    text: str
    appointment_id: str | None = None
    starts_at: datetime | None = None


@dataclass(frozen=True)
class ConflictView:
    id: str
    kind: str  # "clash", "field" (a person picks a value) or "notice" (from the server)
    title: str
    detail: str
    first: Side
    second: Side
    created_at: datetime


def _appointment_text(session: Session, ctx: ServiceContext, appt_id: str | None) -> Side:
    appt = session.get(Appointment, appt_id) if appt_id else None
    if appt is None:
        return Side("Booking", "(not on this desk yet)")
    prac = session.get(Practitioner, appt.practitioner_id)
    patient = session.get(Patient, appt.patient_id) if appt.patient_id else None
    start = appt.starts_at.astimezone(ctx.tz)
    end = appt.ends_at.astimezone(ctx.tz)
    who = f"{patient.first_name} {patient.last_name}" if patient else "no patient"
    text = f"{start:%a %d %b %H:%M}–{end:%H:%M} with {prac.display_name if prac else '?'}, {who}"
    return Side(_booked_by(session, ctx, appt.id), text, appt.id, appt.starts_at)


def _booked_by(session: Session, ctx: ServiceContext, appt_id: str) -> str:
    """Who made the booking and when (from the audit trail, which every desk receives), so the
    person sorting out a clash knows whom to ask."""
    made = session.execute(
        select(AuditEvent.staff_name, AuditEvent.at)
        .where(AuditEvent.entity == "appointments", AuditEvent.entity_id == appt_id)
        .order_by(AuditEvent.at)
        .limit(1)
    ).first()
    if made is None or not made.staff_name:
        return "Booking"
    return f"Booked by {made.staff_name}, {made.at.astimezone(ctx.tz):%a %d %b %H:%M}"


def _row_label(session: Session, entity: str, row_id: str) -> str:
    if entity == "patients":
        p = session.get(Patient, row_id)
        if p is not None:
            return f"Patient {p.first_name} {p.last_name} ({p.patient_number})"
    if entity == "invoices":
        inv = session.get(Invoice, row_id)
        if inv is not None:
            return f"Invoice {inv.number or '(draft)'}"
    if entity == "invoice_lines":
        line = session.get(InvoiceLine, row_id)
        inv = session.get(Invoice, line.invoice_id) if line is not None else None
        if line is not None and inv is not None:
            return f"Line “{line.description}” of invoice {inv.number or '(draft)'}"
    if entity == "payments":
        pay = session.get(Payment, row_id)
        if pay is not None:
            return f"Payment of {format_money(pay.amount_cents)} ({pay.method})"
    return f"{entity.replace('_', ' ').rstrip('s').capitalize()} record"


def list_open(ctx: ServiceContext) -> list[ConflictView]:
    with ctx.read() as session:
        rows = session.scalars(
            select(SyncConflict)
            .where(SyncConflict.resolved_at.is_(None), SyncConflict.deleted_at.is_(None))
            .order_by(SyncConflict.created_at, SyncConflict.id)
        ).all()
        out: list[ConflictView] = []
        for c in rows:
            if c.kind == "clash":
                out.append(
                    ConflictView(
                        c.id,
                        "clash",
                        "Overlapping bookings",
                        c.detail,
                        _appointment_text(session, ctx, c.row_id),
                        _appointment_text(session, ctx, c.other_row_id),
                        c.created_at,
                    )
                )
            else:
                # No field: a notice from the server (e.g. an invoice paid on two desks).
                field = (c.field or _notice_title(c)).replace("_", " ")
                out.append(
                    ConflictView(
                        c.id,
                        "field" if c.field else "notice",
                        f"{_row_label(session, c.entity, c.row_id)}: {field}",
                        c.detail,
                        Side("Kept now", _show(c.remote_value_json)),
                        Side("Other desk's value", _show(c.local_value_json)),
                        c.created_at,
                    )
                )
        return out


def _notice_title(c: SyncConflict) -> str:
    """What a notice from the server is about, for its heading."""
    if c.entity in ("patients", "funders"):
        return "refunded more than their credit"
    if "credit was used on two desks" in c.detail:
        return "credit used twice"
    return "paid more than it owes"


def _show(value_json: str | None) -> str:
    value = json.loads(value_json) if value_json else None
    return "(empty)" if value in (None, "") else str(value)


def _open(session: Session, conflict_id: str) -> SyncConflict:
    c = session.get(SyncConflict, conflict_id)
    if c is None:
        raise NotFound("That conflict no longer exists.")
    if c.resolved_at is not None:
        raise RuleViolation("That conflict was already resolved, perhaps on another desk.")
    return c


def _close(ctx: ServiceContext, c: SyncConflict, how: str) -> None:
    c.resolved_at = ctx.clock.now()
    c.resolved_by_id = ctx.actor.staff_user_id
    c.resolution = how[:300]


def _unflag(session: Session, appt_ids: list[str | None]) -> None:
    """Clear the clash flag of bookings that have no other open clash."""
    for appt_id in appt_ids:
        if not appt_id:
            continue
        others = session.scalars(
            select(SyncConflict.id).where(
                SyncConflict.kind == "clash",
                SyncConflict.resolved_at.is_(None),
                or_(SyncConflict.row_id == appt_id, SyncConflict.other_row_id == appt_id),
            )
        ).all()
        appt = session.get(Appointment, appt_id)
        if appt is not None and not others and appt.clash_flagged:
            appt.clash_flagged = False


def resolve_clash_by_moving(
    ctx: ServiceContext, conflict_id: str, appointment_id: str, new_start: datetime
) -> None:
    """Move one of the two bookings to ``new_start`` (same length) and close the clash."""
    require(ctx.actor, Action.RESOLVE_CONFLICTS)
    if new_start.tzinfo is None:
        raise RuleViolation("The new time needs a time zone.")
    with ctx.write("resolve a booking clash") as session:
        c = _open(session, conflict_id)
        if appointment_id not in (c.row_id, c.other_row_id):
            raise RuleViolation("That booking is not part of this clash.")
        appt = session.get(Appointment, appointment_id)
        if appt is None:
            raise NotFound("That booking is not on this desk yet; sync and try again.")
        length = appt.ends_at - appt.starts_at
        appt.starts_at, appt.ends_at = new_start, new_start + length
        _close(ctx, c, f"moved booking {appointment_id}")
        session.flush()
        _unflag(session, [c.row_id, c.other_row_id])


def resolve_clash_keep_both(ctx: ServiceContext, conflict_id: str) -> None:
    """Both bookings stay where they are (the practitioner will see both patients)."""
    require(ctx.actor, Action.RESOLVE_CONFLICTS)
    with ctx.write("keep both clashing bookings") as session:
        c = _open(session, conflict_id)
        _close(ctx, c, "kept both")
        session.flush()
        _unflag(session, [c.row_id, c.other_row_id])


def resolve_field(ctx: ServiceContext, conflict_id: str, choice: str) -> None:
    """``choice`` is "kept" (the value the clinic holds now) or "other" (the other desk's)."""
    require(ctx.actor, Action.RESOLVE_CONFLICTS)
    if choice not in ("kept", "other"):
        raise RuleViolation("Choose one of the two values.")
    with ctx.write("resolve a changed-on-two-desks conflict") as session:
        c = _open(session, conflict_id)
        if choice == "other" and c.field:
            table = Base.metadata.tables[c.entity]
            model = _model(c.entity)
            row = session.get(model, c.row_id)
            if row is None:
                raise NotFound("That record is not on this desk yet; sync and try again.")
            value: Any = from_json_value(table.c[c.field], json.loads(c.local_value_json or "null"))
            setattr(row, c.field, value)
        _close(ctx, c, f"chose {choice} value")


def _model(entity: str) -> type[Any]:
    from frontdesk.models import synced_tables

    return synced_tables()[entity]


def suggest_free_start(ctx: ServiceContext, appointment_id: str) -> datetime | None:
    """The first start after this booking, in 15-minute steps within the same day, where the
    practitioner has no other booking."""
    with ctx.read() as session:
        appt = session.get(Appointment, appointment_id)
        if appt is None:
            return None
        length = appt.ends_at - appt.starts_at
        start = appt.starts_at
        for _ in range(40):
            start += timedelta(minutes=15)
            busy = session.scalars(
                select(Appointment.id)
                .where(
                    Appointment.practitioner_id == appt.practitioner_id,
                    Appointment.id != appt.id,
                    Appointment.status != "cancelled",
                    Appointment.starts_at < start + length,
                    Appointment.ends_at > start,
                )
                .limit(1)
            ).first()
            if busy is None:
                return start
        return None


# -- changes the server refused ---------------------------------------------------------------
@dataclass(frozen=True)
class Refusal:
    """A change made on this desk that the clinic server refused, as a person reads it."""

    seq: int
    when: datetime
    what: str
    reason: str


def _refusals_seen(session: Session) -> int:
    return session.scalar(select(SyncState.refusals_seen_seq).where(SyncState.id == 1)) or 0


def count_refused(session: Session) -> int:
    """Refused changes nobody has marked as read yet (for the status bar)."""
    return outbox.refusal_count(session, _refusals_seen(session))


def list_refused(ctx: ServiceContext, limit: int = 200) -> list[Refusal]:
    """Refused changes not yet marked as read, newest first."""
    with ctx.read() as session:
        rows = outbox.refusals(session, _refusals_seen(session), limit)
        out = []
        for r in rows:
            result = json.loads(r.result_json or "{}")
            reason = str(result.get("reason") or "no reason given")
            what = _row_label(session, r.entity, r.row_id)
            verb = "New" if r.op == "insert" else "Change to"
            out.append(Refusal(r.seq, r.created_at, f"{verb} {what[0].lower()}{what[1:]}", reason))
        return out


def mark_refusals_read(ctx: ServiceContext, through_seq: int) -> None:
    """A person has read the refusals up to ``through_seq``; they leave the list."""
    with ctx.write("mark refused changes as read", origin="sync") as session:
        state = session.get(SyncState, 1)
        if state is not None and through_seq > (state.refusals_seen_seq or 0):
            state.refusals_seen_seq = through_seq
