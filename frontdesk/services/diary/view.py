"""Loading what the diary shows for some days and practitioners, in one read transaction.

``load_view`` returns plain dataclasses (no ORM objects escape), so the scene can mirror them
and a benchmark can compare them with raw sqlite3.

Over 400 lines on purpose: one read transaction builds the whole view; the queries are
fused for speed (benchmarks/bench_diary.py) and read best side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from frontdesk.db.types import UTCDateTime
from frontdesk.domain.clinic_setup import offers
from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.diary import (
    Availability,
    Block,
    Problem,
    ProblemKind,
    RosterRule,
    SlotCheck,
    assess,
    availability_on,
    clashes,
    held_online,
    past_problem,
    roster_problems,
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


@dataclass(frozen=True)
class PractitionerInfo:
    id: str
    name: str
    profession: str
    colour: str
    overlap_policy: str
    default_location_id: str | None


@dataclass(frozen=True)
class TypeInfo:
    id: str
    name: str
    duration_minutes: int
    colour: str
    is_group: bool
    capacity: int
    is_new_patient: bool
    profession: str
    practitioner_ids: str = ""  # "" offered by the whole profession


def types_offered(
    types: Sequence[TypeInfo], practitioner_id: str, profession: str
) -> list[TypeInfo]:
    """The types a practitioner offers, in the order given."""
    return [
        t for t in types if offers(t.profession, t.practitioner_ids, practitioner_id, profession)
    ]


@dataclass(frozen=True)
class RoomInfo:
    id: str
    name: str
    overlap_policy: str


@dataclass(frozen=True)
class DiaryAppointment:
    """One appointment as the diary draws it, with the flags for its icons."""

    id: str
    practitioner_id: str
    patient_id: str | None
    patient_name: str
    patient_phone: str
    starts_at: datetime
    ends_at: datetime
    status: str
    type_id: str | None
    type_name: str
    colour: str
    room_id: str | None
    notes: str
    cancellation_reason: str | None
    is_group: bool
    capacity: int
    attendees: int
    series_id: str | None
    new_patient: bool
    reminder_sent: bool
    pinned: bool
    clash_flagged: bool
    alert: str  # the patient's alert texts, "" when none
    invoiced: bool
    unpaid: bool
    confirmed: bool = False  # the patient confirmed (an SMS "Y"), issue 18
    replied: bool = False  # an SMS reply about it waits in the inbox, not yet handled
    cancellation_note: str = ""  # why, in words (e.g. "patient cancelled by SMS")


@dataclass
class DiaryData:
    days: tuple[date, ...]
    practitioners: list[PractitionerInfo]
    appointments: list[DiaryAppointment]
    availability: dict[tuple[str, date], Availability] = field(default_factory=dict)
    rules: dict[str, list[RosterRule]] = field(default_factory=dict)
    leave: dict[str, list[Block]] = field(default_factory=dict)
    room_policies: dict[str, str] = field(default_factory=dict)
    # rooms in use by practitioners who are not shown, so a drag previews a busy room too
    room_busy: list[Block] = field(default_factory=list)
    room_names: dict[str, str] = field(default_factory=dict)  # every active room, in order
    room_closed: dict[str, list[Block]] = field(default_factory=dict)  # room id -> closures
    holds: list[DiaryHold] = field(default_factory=list)  # the API's active holds, tentative


@dataclass(frozen=True)
class DiaryHold:
    """A time an integration (a phone assistant, a booking page) holds while its caller
    decides: drawn as tentative until it lapses, is released or becomes a booking."""

    id: str
    practitioner_id: str
    room_id: str | None
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime

    def active(self, now: datetime) -> bool:
        return self.expires_at > now


def hold_problems(
    holds: Sequence[DiaryHold], practitioner_id: str, start: datetime, end: datetime,
    now: datetime, tz: ZoneInfo, room_id: str | None = None,
) -> list[Problem]:  # fmt: skip
    """The running holds over [start, end) on the practitioner or on the room (a caller's hold
    keeps its room too, whoever is booked into it at the desk): each asks a person to confirm.
    ``now`` is the clinic server's time: the server decides when a hold lapses."""
    return [
        held_online(h.id, h.expires_at, tz)
        for h in holds
        if (h.practitioner_id == practitioner_id or (room_id is not None and h.room_id == room_id))
        and h.starts_at < end and h.ends_at > start and h.active(now)
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
    out = []
    for r in rows:
        out.append(
            DiaryAppointment(
                r[0],
                r[1],
                r[2],
                r[3] or "",
                r[4] or "",
                r[5],
                r[6],
                r[7],
                r[8],
                r[9] or "",
                r[10] or "#94a3b8",
                r[11],
                r[12] or "",
                r[13],
                bool(r[14]),
                r[15],
                r[16] or 0,
                r[17],
                bool(r[18]),
                bool(r[19]),
                bool(r[20]),
                bool(r[21]),
                r[22] or "",
                bool(r[23]),
                bool(r[24]),
                bool(r[25]),
                bool(r[26]),
                r[27] or "",
            )
        )
    return out


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


def check_in_view(
    data: DiaryData,
    tz: ZoneInfo,
    now: datetime,
    practitioner_id: str,
    room_id: str | None,
    start: datetime,
    end: datetime,
    *,
    ignore_id: str | None = None,
    server_now: datetime | None = None,
) -> SlotCheck:
    """The rules for a drag preview, from what the view already loaded (no database), so each
    mouse move costs microseconds. The service checks again, against the database, on drop.
    ``server_now`` (the clinic server's time) judges holds; ``now`` (the desk's) the past."""
    if end <= start:
        return SlotCheck(refusals=(Problem(ProblemKind.OUTSIDE_ROSTER, "Too short."),))
    problems: list[Problem] = []
    late = past_problem(start, now, timedelta(minutes=15))
    if late is not None:
        problems.append(late)
    day = start.astimezone(tz).date()
    if practitioner_id:  # "" when booking into a room column: only the room is checked here
        availability = data.availability.get((practitioner_id, day))
        if availability is None:
            availability = availability_on(
                data.rules.get(practitioner_id, []), data.leave.get(practitioner_id, []), day, tz
            )
        problems += roster_problems(start, end, availability, tz)
    busy = [
        Block(a.starts_at, a.ends_at, a.practitioner_id, a.room_id, a.id, a.patient_name)
        for a in data.appointments
        if a.status != "cancelled" and a.starts_at < end and a.ends_at > start
    ]
    busy += [b for b in data.room_busy if b.overlaps(start, end)]
    problems += clashes(start, end, practitioner_id, room_id, busy, ignore_id=ignore_id, tz=tz)
    problems += hold_problems(data.holds, practitioner_id, start, end, server_now or now, tz,
                              room_id)  # fmt: skip
    problems += [
        Problem(ProblemKind.LEAVE, f"The room is closed then ({b.label}).", b.ref_id)
        for b in data.room_closed.get(room_id or "", []) if b.overlaps(start, end)
    ]  # fmt: skip
    policy = next((p.overlap_policy for p in data.practitioners if p.id == practitioner_id), "warn")
    room_policy = data.room_policies.get(room_id or "", "block")
    return assess(problems, policy, room_policy)


@dataclass(frozen=True)
class RoomChoice:
    """The room an appointment takes when it moves to another practitioner, and why."""

    room_id: str | None
    note: str


def room_for_move(
    data: DiaryData, tz: ZoneInfo, practitioner_id: str, current_room: str | None,
    start: datetime, end: datetime, *, ignore_id: str | None = None,
) -> RoomChoice:  # fmt: skip
    """The target practitioner's rostered room for that time if it is free; else the room the
    appointment had if free; else the first free room; else no room. From the loaded view (no
    database): the service checks the room again on drop."""
    local = start.astimezone(tz)
    day, minute = local.date(), local.hour * 60 + local.minute
    rostered = [
        r.room_id for r in data.rules.get(practitioner_id, [])
        if r.kind == "work" and r.room_id and r.applies_on(day)
        and r.start_minute <= minute < r.end_minute
    ]  # fmt: skip
    busy = {
        a.room_id for a in data.appointments
        if a.room_id and a.id != ignore_id and a.status != "cancelled"
        and a.starts_at < end and a.ends_at > start
    }  # fmt: skip
    busy |= {b.room_id for b in data.room_busy if b.room_id and b.overlaps(start, end)}
    who = next((p.name for p in data.practitioners if p.id == practitioner_id), "")
    candidates = [*rostered, *([current_room] if current_room else []), *data.room_names]
    for room in dict.fromkeys(c for c in candidates if c in data.room_names):
        if room in busy:
            continue
        name = data.room_names[room]
        if room in rostered:
            return RoomChoice(room, f"Room: {name} ({who}'s rostered room)")
        if room == current_room:
            return RoomChoice(room, f"Room: {name} (stays)")
        return RoomChoice(room, f"Room: {name} (free)")
    if not data.room_names or current_room is None:
        return RoomChoice(None, "")  # no room before, none free now: nothing to say
    return RoomChoice(None, "Room: none (no room is free then)")


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
