"""Loading what the diary shows for some days and practitioners, in one read transaction.

``load_view`` returns plain dataclasses (no ORM objects escape), so the scene can mirror them
and a benchmark can compare them with raw sqlite3.

Over 400 lines on purpose: one read transaction builds the whole view; the queries are
fused for speed (benchmarks/bench_diary.py) and read best side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from frontdesk.db.types import UTCDateTime
from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.diary import Block, RosterRule, availability_on

# The shapes and the drag preview's rules live in the domain (no database), re-exported here.
from frontdesk.domain.diary_view import (
    DiaryAppointment,
    DiaryData,
    DiaryHold,
    PractitionerInfo,
    RoomChoice,
    RoomInfo,
    TypeInfo,
    appointment_of,
    check_in_view,
    hold_problems,
    room_for_move,
    types_offered,
)
from frontdesk.domain.vocab import InvoiceStatus
from frontdesk.models import (
    Appointment,
    AppointmentAttendee,
    AppointmentHold,
    AppointmentType,
    InboundMessage,
    Invoice,
    InvoiceLine,
    Leave,
    Patient,
    PatientAlert,
    PaymentAllocation,
    Practitioner,
    Room,
    RosterEntry,
)
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext

__all__ = [
    "DiaryAppointment", "DiaryData", "DiaryHold", "PractitionerInfo", "RoomChoice", "RoomInfo",
    "TypeInfo", "active_holds", "appointments_between", "catalogue", "check_in_view",
    "hold_problems", "leave_blocks", "load_view", "one_appointment", "room_closures",
    "room_for_move", "roster_rules", "types_offered",
]  # fmt: skip


def catalogue(ctx: ServiceContext) -> tuple[list[PractitionerInfo], list[TypeInfo], list[RoomInfo]]:
    """Active practitioners, appointment types and rooms (small; the page caches them)."""
    with ctx.read() as session:
        return _practitioners(session), _types(session), _rooms(session)


def _practitioners(session: Session) -> list[PractitionerInfo]:
    rows = session.execute(
        select(
            Practitioner.id, Practitioner.display_name, Practitioner.profession,
            Practitioner.colour, Practitioner.overlap_policy, Practitioner.default_location_id,
        )
        .where(Practitioner.archived_at.is_(None), Practitioner.deleted_at.is_(None))
        .order_by(Practitioner.sort_order, Practitioner.display_name)
    ).all()  # fmt: skip
    return [PractitionerInfo(*row) for row in rows]


def _types(session: Session) -> list[TypeInfo]:
    rows = session.execute(
        select(
            AppointmentType.id, AppointmentType.name, AppointmentType.duration_minutes,
            AppointmentType.colour, AppointmentType.is_group, AppointmentType.capacity,
            AppointmentType.is_new_patient, AppointmentType.profession,
            AppointmentType.practitioner_ids,
        )
        .where(AppointmentType.archived_at.is_(None), AppointmentType.deleted_at.is_(None))
        .order_by(AppointmentType.profession, AppointmentType.name)
    ).all()  # fmt: skip
    return [TypeInfo(*row) for row in rows]


def _rooms(session: Session) -> list[RoomInfo]:
    if "rooms" not in _QUERIES:  # read on every day change: built once
        _QUERIES["rooms"] = (
            select(Room.id, Room.name, Room.overlap_policy)
            .where(Room.archived_at.is_(None), Room.deleted_at.is_(None))
            .order_by(Room.sort_order, Room.name)
        )
    rows = session.connection().execute(_QUERIES["rooms"]).all()
    return [RoomInfo(*row) for row in rows]


def roster_rules(session: Session, practitioner_ids: Sequence[str]) -> dict[str, list[RosterRule]]:
    if "roster" not in _QUERIES:  # every booking, move and day change runs it: built once
        R = RosterEntry
        _QUERIES["roster"] = select(
            R.practitioner_id, R.weekday, R.start_minute, R.end_minute, R.kind, R.every_weeks,
            R.week_offset, R.effective_from, R.effective_until, R.room_id, R.label,
        ).where(
            R.practitioner_id.in_(bindparam("ids", expanding=True)), R.deleted_at.is_(None)
        )  # fmt: skip
    rows = session.connection().execute(_QUERIES["roster"], {"ids": list(practitioner_ids)}).all()
    out: dict[str, list[RosterRule]] = {pid: [] for pid in practitioner_ids}
    for row in rows:
        out[row[0]].append(RosterRule(*row))
    return out


def leave_blocks(
    session: Session, practitioner_ids: Sequence[str], start: datetime, end: datetime
) -> dict[str, list[Block]]:
    """Each practitioner's leave, plus closures of the whole clinic (everyone) and of a location
    (the practitioners based there)."""
    if "leave" not in _QUERIES:
        _QUERIES["leave"] = select(
            Leave.id, Leave.practitioner_id, Leave.starts_at, Leave.ends_at, Leave.reason,
            Leave.kind, Leave.location_id,
        ).where(
            or_(
                Leave.practitioner_id.in_(bindparam("ids", expanding=True)),
                and_(Leave.practitioner_id.is_(None), Leave.room_id.is_(None)),
            ),
            Leave.deleted_at.is_(None),
            Leave.starts_at < bindparam("end", type_=UTCDateTime),
            Leave.ends_at > bindparam("start", type_=UTCDateTime),
        )  # fmt: skip
    params = {"ids": list(practitioner_ids), "start": start, "end": end}
    rows = session.connection().execute(_QUERIES["leave"], params).all()
    out: dict[str, list[Block]] = {pid: [] for pid in practitioner_ids}
    homes: dict[str, str | None] = {}
    if any(row[1] is None and row[6] is not None for row in rows):
        homes = {
            pid: home
            for pid, home in session.execute(
                select(Practitioner.id, Practitioner.default_location_id).where(
                    Practitioner.id.in_(list(practitioner_ids))
                )
            )
        }
    for lid, pid, s, e, reason, kind, location_id in rows:
        label = reason or kind.capitalize()
        if pid is not None:
            out[pid].append(Block(s, e, pid, None, lid, label))
            continue
        for who in practitioner_ids:
            if location_id is None or homes.get(who) == location_id:
                out[who].append(Block(s, e, who, None, lid, label))
    return out


def room_closures(
    session: Session, room_ids: Sequence[str], start: datetime, end: datetime
) -> dict[str, list[Block]]:
    """Each room's closures overlapping [start, end) (a room out of use: painting, repairs)."""
    out: dict[str, list[Block]] = {rid: [] for rid in room_ids}
    if not room_ids:
        return out
    if "room_closures" not in _QUERIES:
        _QUERIES["room_closures"] = select(
            Leave.id, Leave.room_id, Leave.starts_at, Leave.ends_at, Leave.reason,
        ).where(
            Leave.room_id.in_(bindparam("rooms", expanding=True)),
            Leave.deleted_at.is_(None),
            Leave.starts_at < bindparam("end", type_=UTCDateTime),
            Leave.ends_at > bindparam("start", type_=UTCDateTime),
        )  # fmt: skip
    params = {"rooms": list(room_ids), "start": start, "end": end}
    for lid, rid, s, e, reason in session.connection().execute(_QUERIES["room_closures"], params):
        out[rid].append(Block(s, e, None, rid, lid, reason or "Closed"))
    return out


_QUERIES: dict[str, Any] = {}


def _appointment_query() -> Any:
    """Built once with bound parameters: the diary runs it on every day change."""
    if "appointments" not in _QUERIES:
        _QUERIES["appointments"] = _build_appointment_query()
    return _QUERIES["appointments"]


def _build_appointment_query() -> Any:
    invoice_live = and_(
        InvoiceLine.appointment_id == Appointment.id,
        Invoice.id == InvoiceLine.invoice_id,
        Invoice.status != InvoiceStatus.VOID,
        Invoice.deleted_at.is_(None),
    )
    invoiced = exists().where(invoice_live)
    paid = (
        select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0))
        .where(PaymentAllocation.invoice_id == Invoice.id, PaymentAllocation.deleted_at.is_(None))
        .scalar_subquery()
    )
    unpaid = exists().where(invoice_live, Invoice.status == InvoiceStatus.ISSUED,
                            Invoice.total_cents > paid)  # fmt: skip
    alert = (
        select(func.group_concat(PatientAlert.text, "; "))
        .where(
            PatientAlert.patient_id == Appointment.patient_id,
            PatientAlert.archived_at.is_(None),
            PatientAlert.deleted_at.is_(None),
        )
        .scalar_subquery()
    )
    attendees = (
        select(func.count(AppointmentAttendee.id))
        .where(
            AppointmentAttendee.appointment_id == Appointment.id,
            AppointmentAttendee.waitlisted.is_(False),
            AppointmentAttendee.status != "cancelled",
            AppointmentAttendee.deleted_at.is_(None),
        )
        .scalar_subquery()
    )
    replied = exists().where(
        InboundMessage.appointment_id == Appointment.id,
        InboundMessage.handled_at.is_(None),
        InboundMessage.deleted_at.is_(None),
    )
    first = func.coalesce(func.nullif(Patient.preferred_name, ""), Patient.first_name,
                          type_=String)  # fmt: skip
    name = first + " " + Patient.last_name
    return (
        select(
            Appointment.id, Appointment.practitioner_id, Appointment.patient_id, name,
            Patient.mobile_phone, Appointment.starts_at, Appointment.ends_at, Appointment.status,
            Appointment.appointment_type_id, AppointmentType.name, AppointmentType.colour,
            Appointment.room_id, Appointment.notes, Appointment.cancellation_reason,
            Appointment.is_group, Appointment.capacity, attendees, Appointment.series_id,
            AppointmentType.is_new_patient, Appointment.reminder_sent_at.is_not(None),
            Appointment.pinned_at.is_not(None), Appointment.clash_flagged, alert, invoiced,
            unpaid, Appointment.confirmed_at.is_not(None), replied, Appointment.cancellation_note,
        )
        .outerjoin(Patient, Patient.id == Appointment.patient_id)
        .outerjoin(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
        .where(
            Appointment.practitioner_id.in_(bindparam("ids", expanding=True)),
            Appointment.starts_at >= bindparam("early", type_=UTCDateTime),
            Appointment.starts_at < bindparam("end", type_=UTCDateTime),
            Appointment.ends_at > bindparam("start", type_=UTCDateTime),
            Appointment.deleted_at.is_(None),
        )
        .order_by(Appointment.starts_at)
    )  # fmt: skip


def appointments_between(
    session: Session, practitioner_ids: Sequence[str], start: datetime, end: datetime
) -> list[DiaryAppointment]:
    params = {"ids": list(practitioner_ids), "early": start - timedelta(hours=12),
              "end": end, "start": start}  # fmt: skip
    rows = session.connection().execute(_appointment_query(), params).all()
    return [appointment_of(r) for r in rows]


def load_view(
    ctx: ServiceContext,
    days: Sequence[date],
    practitioner_ids: Sequence[str],
    *,
    practitioners: list[PractitionerInfo] | None = None,
    tz: ZoneInfo | None = None,
    rules: dict[str, list[RosterRule]] | None = None,
    rooms: list[RoomInfo] | None = None,
) -> DiaryData:
    """Everything a day or week view draws, read in one transaction without N+1 queries.

    ``practitioners``, ``rules`` and ``rooms`` may come from the caller's cache (the page keeps
    them until a change notice says otherwise), saving their queries on every day change."""
    require(ctx.actor, Action.VIEW_DIARY)
    tz = tz or ctx.tz
    ordered = sorted(days)
    start, _ = day_bounds_utc(ordered[0], tz)
    _, end = day_bounds_utc(ordered[-1], tz)
    with ctx.read() as session:
        if practitioners is None:
            practitioners = _practitioners(session)
        wanted = set(practitioner_ids)
        shown = [p for p in practitioners if p.id in wanted]
        ids = [p.id for p in shown]
        if rules is None or any(pid not in rules for pid in ids):
            rules = roster_rules(session, ids)
        leave = leave_blocks(session, ids, start, end)
        appointments = appointments_between(session, ids, start, end)
        if rooms is None:
            rooms = _rooms(session)
        policies = {r.id: r.overlap_policy for r in rooms}
        room_busy = _rooms_in_use(session, list(policies), ids, start, end)
        room_closed = room_closures(session, list(policies), start, end)
        holds = active_holds(session, ids, start, end, ctx.server_now(), room_ids=list(policies))
    data = DiaryData(tuple(ordered), shown, appointments, rules=rules, leave=leave,
                     room_policies=policies, room_busy=room_busy,
                     room_names={r.id: r.name for r in rooms}, room_closed=room_closed,
                     holds=holds)  # fmt: skip
    for pid in ids:
        for day in ordered:
            data.availability[(pid, day)] = availability_on(rules[pid], leave[pid], day, tz)
    return data


def active_holds(
    session: Session,
    practitioner_ids: Sequence[str],
    start: datetime,
    end: datetime,
    now: datetime,
    room_ids: Sequence[str] = (),
) -> list[DiaryHold]:
    """The integration API's holds on these practitioners, or in these rooms, in [start, end)
    still running at ``now`` (the clinic server's time, ``ctx.server_now()``)."""
    H = AppointmentHold
    whose: ColumnElement[bool] = H.practitioner_id.in_(practitioner_ids)
    if room_ids:
        whose = or_(whose, H.room_id.in_(room_ids))
    rows = session.execute(
        select(H.id, H.practitioner_id, H.room_id, H.starts_at, H.ends_at, H.expires_at)
        .where(whose, H.starts_at < end, H.ends_at > start,
               H.expires_at > now, H.released_at.is_(None), H.appointment_id.is_(None),
               H.deleted_at.is_(None))
        .order_by(H.starts_at)
    ).all()  # fmt: skip
    return [DiaryHold(*r) for r in rows]


def _rooms_in_use(
    session: Session, room_ids: list[str], shown: list[str], start: datetime, end: datetime
) -> list[Block]:
    if not room_ids:
        return []
    if "rooms_in_use" not in _QUERIES:  # run on every day change: built once
        A = Appointment
        _QUERIES["rooms_in_use"] = (
            select(A.id, A.practitioner_id, A.room_id, A.starts_at, A.ends_at)
            .where(A.room_id.in_(bindparam("rooms", expanding=True)),
                   A.practitioner_id.not_in(bindparam("shown", expanding=True)),
                   A.starts_at < bindparam("end", type_=UTCDateTime),
                   A.ends_at > bindparam("start", type_=UTCDateTime),
                   A.starts_at >= bindparam("early", type_=UTCDateTime),
                   A.status != "cancelled", A.deleted_at.is_(None))
        )  # fmt: skip
    params = {"rooms": room_ids, "shown": shown, "end": end, "start": start,
              "early": start - timedelta(hours=12)}  # fmt: skip
    rows = session.connection().execute(_QUERIES["rooms_in_use"], params).all()
    return [Block(s, e, pid, rid, aid, "another practitioner") for aid, pid, rid, s, e in rows]


def one_appointment(ctx: ServiceContext, appointment_id: str) -> DiaryAppointment | None:
    """One appointment as the diary draws it (for the pinboard and waitlist drops)."""
    require(ctx.actor, Action.VIEW_DIARY)
    with ctx.read() as session:
        row = session.execute(
            select(Appointment.practitioner_id, Appointment.starts_at, Appointment.ends_at).where(
                Appointment.id == appointment_id
            )
        ).first()
        if row is None:
            return None
        found = appointments_between(session, [row[0]], row[1], row[2])
    return next((a for a in found if a.id == appointment_id), None)
