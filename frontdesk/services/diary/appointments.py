"""Diary use cases: book, move, resize, change status, cancel, reinstate, pin.

Every edit is one ``ctx.write(...)`` transaction that checks the rules first (domain/diary.py)
and changes nothing when they refuse. A clash under a ``warn`` policy raises ClashNeedsConfirmation;
the diary asks the person and repeats the call with ``allow_clash=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    bindparam,
    literal,
    null,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from frontdesk.db.types import UTCDateTime
from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.diary import (
    Block,
    Problem,
    ProblemKind,
    SlotCheck,
    assess,
    availability_on,
    clashes,
    past_problem,
    roster_problems,
    validate_length,
)
from frontdesk.domain.errors import NotFound, RuleViolation, ValidationFailed
from frontdesk.domain.ids import uuid7
from frontdesk.domain.vocab import AppointmentStatus, CancellationReason
from frontdesk.models import (
    Appointment,
    AppointmentHold,
    AppointmentStatusChange,
    AppointmentType,
    Patient,
    Practitioner,
    Room,
)
from frontdesk.services.diary.rows import bookable_patient, live_appointment
from frontdesk.services.diary.view import (
    DiaryHold,
    hold_problems,
    leave_blocks,
    room_closures,
    roster_rules,
)
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext
from frontdesk.store.tracked_bulk import TrackedBulk

PAST_GRACE = timedelta(minutes=15)
ACTIVE_STATUSES = tuple(s for s in AppointmentStatus if s is not AppointmentStatus.CANCELLED)


class ClashNeedsConfirmation(RuleViolation):
    """The time clashes and the policy says ask first. ``check`` has the details."""

    def __init__(self, check: SlotCheck) -> None:
        super().__init__(check.summary() + " Book it anyway?")
        self.check = check


@dataclass(frozen=True)
class BookingRequest:
    practitioner_id: str
    starts_at: datetime
    ends_at: datetime
    patient_id: str | None = None
    appointment_type_id: str | None = None
    room_id: str | None = None
    location_id: str | None = None
    notes: str = ""


# -- checking a time --------------------------------------------------------------------------
def check_time(
    session: Session,
    ctx: ServiceContext,
    practitioner_id: str,
    room_id: str | None,
    start: datetime,
    end: datetime,
    *,
    ignore_id: str | None = None,
    check_past: bool = True,
) -> SlotCheck:
    """All the rules for putting something in [start, end) for a practitioner (and room)."""
    validate_length(start, end)
    tz = ctx.tz
    practitioner = session.get(Practitioner, practitioner_id)
    if practitioner is None or practitioner.deleted_at is not None:
        raise NotFound("That practitioner no longer exists.")
    if practitioner.archived_at is not None:
        raise RuleViolation(f"{practitioner.display_name} is archived and cannot take bookings.")
    room_policy = "block"
    room: Room | None = None
    if room_id is not None:
        room = session.get(Room, room_id)
        if room is None or room.archived_at is not None:
            raise NotFound("That room is no longer available.")
        room_policy = room.overlap_policy
    problems: list[Problem] = []
    if check_past:
        late = past_problem(start, ctx.clock.now(), PAST_GRACE)
        if late is not None:
            problems.append(late)
    day = start.astimezone(tz).date()
    day_start, day_end = day_bounds_utc(day, tz)
    rules = roster_rules(session, [practitioner_id])[practitioner_id]
    leave = leave_blocks(session, [practitioner_id], day_start, max(day_end, end))
    availability = availability_on(rules, leave[practitioner_id], day, tz)
    problems += roster_problems(start, end, availability, tz)
    if room is not None:
        problems += [
            Problem(ProblemKind.LEAVE, f"{room.name} is closed then ({b.label}): "
                    "choose another room or time.", b.ref_id)
            for b in room_closures(session, [room.id], start, end)[room.id]
        ]  # fmt: skip
    now = ctx.server_now()  # the server decides when a hold lapses, by its clock
    busy, holds = _busy_and_held(session, practitioner_id, room_id, start, end, now)
    problems += clashes(start, end, practitioner_id, room_id, busy, ignore_id=ignore_id, tz=tz)
    problems += hold_problems(holds, practitioner_id, start, end, now, tz, room_id)
    return assess(problems, practitioner.overlap_policy, room_policy)


_CLASH_QUERIES: dict[bool, Any] = {}


def _clash_query(with_room: bool) -> Any:
    """The practitioner's (and room's) live appointments and running holds overlapping
    [start, end), in one statement (a UNION ALL: each part seeks its own index); built once
    per shape, as every booking and move runs it."""
    if with_room in _CLASH_QUERIES:
        return _CLASH_QUERIES[with_room]
    A, H = Appointment, AppointmentHold
    start = bindparam("start", type_=UTCDateTime)
    end = bindparam("end", type_=UTCDateTime)
    who: ColumnElement[bool] = A.practitioner_id == bindparam("pid")
    whose: ColumnElement[bool] = H.practitioner_id == bindparam("pid")
    if with_room:
        who = or_(who, A.room_id == bindparam("rid"))
        whose = or_(whose, H.room_id == bindparam("rid"))
    appointments = (
        select(literal("a"), A.id, A.practitioner_id, A.room_id, A.starts_at, A.ends_at,
               Patient.last_name, type_coerce(null(), UTCDateTime))
        .outerjoin(Patient, Patient.id == A.patient_id)
        .where(who, A.starts_at < end, A.ends_at > start,
               A.starts_at >= bindparam("early", type_=UTCDateTime),
               A.status != AppointmentStatus.CANCELLED, A.deleted_at.is_(None))
    )  # fmt: skip
    holds = select(
        literal("h"), H.id, H.practitioner_id, H.room_id, H.starts_at, H.ends_at,
        type_coerce(null(), String), H.expires_at,
    ).where(whose, H.starts_at < end, H.ends_at > start,
            H.expires_at > bindparam("now", type_=UTCDateTime), H.released_at.is_(None),
            H.appointment_id.is_(None), H.deleted_at.is_(None))  # fmt: skip
    _CLASH_QUERIES[with_room] = union_all(appointments, holds)
    return _CLASH_QUERIES[with_room]


def _busy_and_held(
    session: Session, practitioner_id: str, room_id: str | None, start: datetime,
    end: datetime, now: datetime,
) -> tuple[list[Block], list[DiaryHold]]:  # fmt: skip
    """What ``busy_between`` and ``active_holds`` return for one practitioner (and room)."""
    params = {"pid": practitioner_id, "rid": room_id, "start": start, "end": end, "now": now,
              "early": start - timedelta(hours=12)}  # fmt: skip
    busy: list[Block] = []
    holds: list[DiaryHold] = []
    query = _clash_query(room_id is not None)
    for kind, rid, pid, room, s, e, name, expires in session.connection().execute(query, params):
        if kind == "a":
            busy.append(Block(s, e, pid, room, rid, name or ""))
        else:
            holds.append(DiaryHold(rid, pid, room, s, e, expires))
    holds.sort(key=lambda h: h.starts_at)
    return busy, holds


def busy_between(
    session: Session, practitioner_id: str, room_id: str | None, start: datetime, end: datetime
) -> list[Block]:
    who = Appointment.practitioner_id == practitioner_id
    if room_id is not None:
        who = or_(who, Appointment.room_id == room_id)
    rows = session.execute(
        select(Appointment.id, Appointment.practitioner_id, Appointment.room_id,
               Appointment.starts_at, Appointment.ends_at, Patient.last_name)
        .outerjoin(Patient, Patient.id == Appointment.patient_id)
        .where(
            who, Appointment.starts_at < end, Appointment.ends_at > start,
            Appointment.starts_at >= start - timedelta(hours=12),
            Appointment.status != AppointmentStatus.CANCELLED, Appointment.deleted_at.is_(None),
        )
    ).all()  # fmt: skip
    return [Block(s, e, pid, rid, aid, name or "") for aid, pid, rid, s, e, name in rows]


def enforce(check: SlotCheck, allow_clash: bool) -> None:
    if check.refusals:
        raise RuleViolation(" ".join(p.message for p in check.refusals))
    if check.warnings and not allow_clash:
        raise ClashNeedsConfirmation(check)


# -- booking ----------------------------------------------------------------------------------


def new_appointment(
    session: Session, ctx: ServiceContext, req: BookingRequest, *, allow_clash: bool,
    check_past: bool = True,
) -> Appointment:  # fmt: skip
    """Check and add one appointment inside an open write transaction."""
    appt = Appointment(**checked_booking(session, ctx, req, allow_clash, check_past))
    session.add(appt)
    _history(session, ctx, appt, None, AppointmentStatus.BOOKED)
    return appt


def checked_booking(
    session: Session, ctx: ServiceContext, req: BookingRequest, allow_clash: bool,
    check_past: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """The new appointment's column values once every rule has passed (or raises)."""
    # Held here, so the reads below find them in the session (its map holds rows weakly).
    held = _read_together(session, req)
    appt_type = None
    if req.appointment_type_id is not None:
        appt_type = session.get(AppointmentType, req.appointment_type_id)
        if appt_type is None or appt_type.archived_at is not None:
            raise NotFound("That appointment type is no longer offered.")
    is_group = bool(appt_type and appt_type.is_group)
    if req.patient_id is None and not is_group:
        raise ValidationFailed("Choose the patient for this appointment.", field="patient")
    if req.patient_id is not None:
        bookable_patient(session, req.patient_id)
    practitioner = session.get(Practitioner, req.practitioner_id)
    check = check_time(
        session, ctx, req.practitioner_id, req.room_id, req.starts_at, req.ends_at,
        check_past=check_past,
    )  # fmt: skip
    enforce(check, allow_clash)
    location = req.location_id
    if location is None:  # check_time read the practitioner: still in the session
        location = practitioner.default_location_id if practitioner else None
    del held
    # The id is ours to give (UUIDv7): the history row can point at it without a flush of its
    # own; both are written by the transaction's one flush (parents first).
    return {
        "id": uuid7(),
        "practitioner_id": req.practitioner_id,
        "patient_id": None if is_group else req.patient_id,
        "appointment_type_id": req.appointment_type_id,
        "location_id": location,
        "room_id": req.room_id,
        "starts_at": req.starts_at,
        "ends_at": req.ends_at,
        "status": AppointmentStatus.BOOKED.value,
        "is_group": is_group,
        "capacity": appt_type.capacity if appt_type and is_group else 1,
        "notes": req.notes.strip(),
        "booked_by_id": ctx.actor.staff_user_id,
    }


_TOGETHER: dict[tuple[bool, bool, bool], Any] = {}


def _read_together(session: Session, req: BookingRequest) -> tuple[Any, ...]:
    """The practitioner, patient, type and room a booking names, in one statement (a join of
    single rows by key) instead of one each. Nothing when one is missing: then each is read
    on its own, and the missing one refused with its own message. Built once per shape."""
    named = [(model, key) for model, key in ((Patient, req.patient_id),
             (AppointmentType, req.appointment_type_id), (Room, req.room_id))]  # fmt: skip
    shape = (bool(req.patient_id), bool(req.appointment_type_id), bool(req.room_id))
    if shape not in _TOGETHER:
        models: list[Any] = [model for model, key in named if key]
        query = select(Practitioner, *models).select_from(Practitioner)
        for model in models:
            query = query.join(model, true())  # one row each: the join is by the keys below
        keys = [Practitioner.id == bindparam("k_practitioner")]
        keys += [model.id == bindparam(f"k_{model.__tablename__}") for model in models]
        _TOGETHER[shape] = query.where(*keys)
    params = {"k_practitioner": req.practitioner_id}
    params.update({f"k_{model.__tablename__}": key for model, key in named if key})
    return tuple(session.execute(_TOGETHER[shape], params).first() or ())


def book(ctx: ServiceContext, req: BookingRequest, *, allow_clash: bool = False) -> str:
    """Book one appointment; returns its id. A single appointment's two rows (and their change
    log) are written by the tracked bulk writer: no ORM unit of work for two inserts."""
    require(ctx.actor, Action.EDIT_DIARY)
    with ctx.write("booked an appointment") as session:
        values = checked_booking(session, ctx, req, allow_clash)
        if values["is_group"]:
            appt = Appointment(**values)
            session.add(appt)
            _history(session, ctx, appt, None, AppointmentStatus.BOOKED)
            if req.patient_id is not None:
                from frontdesk.services.diary.groups import add_attendee_in

                add_attendee_in(session, appt, req.patient_id, waitlist_if_full=False)
            return appt.id
        bulk = TrackedBulk(session)
        bulk.insert(Appointment, **values)
        bulk.insert(AppointmentStatusChange, appointment_id=values["id"], from_status=None,
                    to_status=AppointmentStatus.BOOKED.value, changed_at=ctx.clock.now(),
                    changed_by_id=ctx.actor.staff_user_id, reason=None)  # fmt: skip
        bulk.flush()
        return str(values["id"])


def reschedule(
    ctx: ServiceContext,
    appointment_id: str,
    *,
    starts_at: datetime,
    ends_at: datetime,
    practitioner_id: str | None = None,
    room_id: str | bool | None = False,
    allow_clash: bool = False,
    restoring: bool = False,
    action: str = "moved an appointment",
) -> None:
    """Move and/or resize. ``room_id`` False keeps the room. Clears the pinboard mark.

    ``restoring`` (undo/redo) puts an appointment back where it was, even if that has passed."""
    require(ctx.actor, Action.EDIT_DIARY)
    with ctx.write(action) as session:
        appt = live_appointment(session, appointment_id)
        if appt.status == AppointmentStatus.CANCELLED:
            raise RuleViolation("A cancelled appointment cannot be moved: reinstate it first.")
        new_practitioner = practitioner_id or appt.practitioner_id
        new_room = appt.room_id if room_id is False else room_id
        assert new_room is None or isinstance(new_room, str)
        unchanged_start = starts_at == appt.starts_at
        check = check_time(
            session, ctx, new_practitioner, new_room, starts_at, ends_at,
            ignore_id=appt.id, check_past=not (unchanged_start or restoring),
        )  # fmt: skip
        enforce(check, allow_clash)
        appt.starts_at, appt.ends_at = starts_at, ends_at
        appt.practitioner_id, appt.room_id = new_practitioner, new_room
        appt.pinned_at = None
        appt.clash_flagged = False


def move(
    ctx: ServiceContext,
    appointment_id: str,
    starts_at: datetime,
    practitioner_id: str | None = None,
    *,
    allow_clash: bool = False,
) -> None:
    """Move keeping the length."""
    with ctx.read() as session:
        appt = live_appointment(session, appointment_id)
        length = appt.ends_at - appt.starts_at
    reschedule(
        ctx, appointment_id, starts_at=starts_at, ends_at=starts_at + length,
        practitioner_id=practitioner_id, allow_clash=allow_clash,
    )  # fmt: skip


def resize(
    ctx: ServiceContext, appointment_id: str, ends_at: datetime, *, allow_clash: bool = False
) -> None:
    with ctx.read() as session:
        starts_at = live_appointment(session, appointment_id).starts_at
    reschedule(
        ctx, appointment_id, starts_at=starts_at, ends_at=ends_at, allow_clash=allow_clash,
        action="changed an appointment's length",
    )  # fmt: skip


# -- statuses ---------------------------------------------------------------------------------
def _history(
    session: Session, ctx: ServiceContext, appt: Appointment, old: str | None, new: str,
    reason: str | None = None,
) -> None:  # fmt: skip
    session.add(
        AppointmentStatusChange(
            appointment_id=appt.id, from_status=old, to_status=new,
            changed_at=ctx.clock.now(), changed_by_id=ctx.actor.staff_user_id, reason=reason,
        )
    )  # fmt: skip


def set_status(ctx: ServiceContext, appointment_id: str, status: AppointmentStatus | str) -> str:
    """Mark booked / arrived / in session / completed / did not arrive; returns the old status."""
    require(ctx.actor, Action.EDIT_DIARY)
    new = AppointmentStatus(status)
    if new is AppointmentStatus.CANCELLED:
        raise ValidationFailed("Cancel an appointment with a reason.", field="status")
    with ctx.write(f"marked an appointment {new.label.lower()}") as session:
        appt = live_appointment(session, appointment_id)
        old = appt.status
        if old == AppointmentStatus.CANCELLED:
            raise RuleViolation("This appointment is cancelled: reinstate it first.")
        if new in (AppointmentStatus.ARRIVED, AppointmentStatus.IN_SESSION,
                   AppointmentStatus.COMPLETED) and appt.starts_at.astimezone(ctx.tz).date() > \
                ctx.clock.now().astimezone(ctx.tz).date():  # fmt: skip
            raise RuleViolation(f"An appointment on a later day cannot be {new.label.lower()}.")
        if old != new:
            appt.status = new
            _history(session, ctx, appt, old, new)
        return old


def cancel(
    ctx: ServiceContext,
    appointment_id: str,
    reason: CancellationReason | str,
    note: str = "",
) -> None:
    require(ctx.actor, Action.EDIT_DIARY)
    try:
        why = CancellationReason(reason)
    except ValueError:
        raise ValidationFailed("Choose why the appointment is cancelled.", field="reason") from None
    with ctx.write("cancelled an appointment") as session:
        appt = live_appointment(session, appointment_id)
        if appt.status == AppointmentStatus.CANCELLED:
            raise RuleViolation("This appointment is already cancelled.")
        old = appt.status
        appt.status = AppointmentStatus.CANCELLED
        appt.cancellation_reason = why
        appt.cancellation_note = note.strip()[:500]
        appt.cancelled_at = ctx.clock.now()
        _history(session, ctx, appt, old, AppointmentStatus.CANCELLED, why)


def reinstate(ctx: ServiceContext, appointment_id: str, *, allow_clash: bool = False) -> None:
    """Undo a cancellation: the appointment is booked again if its time is still free."""
    require(ctx.actor, Action.EDIT_DIARY)
    with ctx.write("reinstated an appointment") as session:
        appt = live_appointment(session, appointment_id)
        if appt.status != AppointmentStatus.CANCELLED:
            return
        check = check_time(
            session, ctx, appt.practitioner_id, appt.room_id, appt.starts_at, appt.ends_at,
            ignore_id=appt.id, check_past=False,
        )  # fmt: skip
        enforce(check, allow_clash)
        previous = session.scalars(
            select(AppointmentStatusChange.from_status)
            .where(AppointmentStatusChange.appointment_id == appt.id,
                   AppointmentStatusChange.to_status == AppointmentStatus.CANCELLED)
            .order_by(AppointmentStatusChange.changed_at.desc())
        ).first()  # fmt: skip
        appt.status = previous or AppointmentStatus.BOOKED
        appt.cancellation_reason = None
        appt.cancellation_note = ""
        appt.cancelled_at = None
        _history(session, ctx, appt, AppointmentStatus.CANCELLED, appt.status)


def update_details(
    ctx: ServiceContext, appointment_id: str, *, notes: str | None = None,
    room_id: str | bool | None = False,
) -> None:  # fmt: skip
    require(ctx.actor, Action.EDIT_DIARY)
    with ctx.write("changed an appointment's details") as session:
        appt = live_appointment(session, appointment_id)
        if room_id is not False and room_id != appt.room_id:
            assert room_id is None or isinstance(room_id, str)
            check = check_time(
                session, ctx, appt.practitioner_id, room_id, appt.starts_at, appt.ends_at,
                ignore_id=appt.id, check_past=False,
            )  # fmt: skip
            enforce(check, allow_clash=True)
            appt.room_id = room_id
        if notes is not None:
            appt.notes = notes.strip()


# -- pinboard ---------------------------------------------------------------------------------
def pin(ctx: ServiceContext, appointment_id: str, pinned: bool = True) -> None:
    """Put an appointment on the pinboard (to carry it to another day) or take it off."""
    require(ctx.actor, Action.EDIT_DIARY)
    with ctx.write("pinned an appointment" if pinned else "unpinned an appointment") as session:
        appt = live_appointment(session, appointment_id)
        if pinned and appt.status == AppointmentStatus.CANCELLED:
            raise RuleViolation("A cancelled appointment cannot go on the pinboard.")
        appt.pinned_at = ctx.clock.now() if pinned else None


def quick_add_patient(
    ctx: ServiceContext, first_name: str, last_name: str, mobile: str = ""
) -> str:
    """Create a patient card from the booking dialog (name and mobile); returns its id. The
    rest of the card is filled in later from the Patients area."""
    require(ctx.actor, Action.EDIT_PATIENTS)
    first, last = first_name.strip(), last_name.strip()
    if not first or not last:
        raise ValidationFailed("Enter the new patient's first and last name.", field="name")
    from frontdesk.domain.vocab import SeriesKind
    from frontdesk.store.numbering import next_number

    with ctx.write("added a patient while booking") as session:
        _series, number = next_number(session, SeriesKind.PATIENT)
        patient = Patient(patient_number=number, first_name=first, last_name=last,
                          mobile_phone=mobile.strip())  # fmt: skip
        session.add(patient)
        session.flush()
        return patient.id
