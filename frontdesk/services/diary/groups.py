"""Group classes (attendees with capacity), the waitlist, the pinboard list and the search for
the next available slot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.diary import Block, FreeSlot, availability_on, free_slots_on
from frontdesk.domain.errors import NotFound, RuleViolation, ValidationFailed
from frontdesk.domain.vocab import AppointmentStatus
from frontdesk.models import (
    Appointment,
    AppointmentAttendee,
    AppointmentType,
    Patient,
    WaitlistEntry,
)
from frontdesk.services.diary.rows import bookable_patient, live_appointment
from frontdesk.services.diary.view import (
    DiaryAppointment,
    _practitioners,
    appointments_between,
    leave_blocks,
    roster_rules,
)
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext


# -- group classes ----------------------------------------------------------------------------
def add_attendee_in(
    session: Session, appt: Appointment, patient_id: str, *, waitlist_if_full: bool
) -> AppointmentAttendee:
    if not appt.is_group:
        raise RuleViolation("Only a group class has an attendee list.")
    bookable_patient(session, patient_id)
    rows = session.scalars(
        select(AppointmentAttendee).where(
            AppointmentAttendee.appointment_id == appt.id,
            AppointmentAttendee.status != AppointmentStatus.CANCELLED,
            AppointmentAttendee.deleted_at.is_(None),
        )
    ).all()
    if any(r.patient_id == patient_id for r in rows):
        raise RuleViolation("That patient is already in this class.")
    taken = sum(1 for r in rows if not r.waitlisted)
    full = taken >= appt.capacity
    if full and not waitlist_if_full:
        raise RuleViolation(
            f"The class is full ({appt.capacity} places). Add the patient to its waitlist instead."
        )
    row = AppointmentAttendee(appointment_id=appt.id, patient_id=patient_id, waitlisted=full)
    session.add(row)
    return row


def add_attendee(
    ctx: ServiceContext, appointment_id: str, patient_id: str, *, waitlist_if_full: bool = False
) -> bool:
    """Add a patient to a class; returns True when they went on the class's waitlist."""
    require(ctx.actor, Action.EDIT_DIARY)
    with ctx.write("added a patient to a class") as session:
        row = add_attendee_in(
            session,
            live_appointment(session, appointment_id),
            patient_id,
            waitlist_if_full=waitlist_if_full,
        )
        return row.waitlisted


def remove_attendee(ctx: ServiceContext, appointment_id: str, patient_id: str) -> None:
    """Cancel a patient's place; the first wait-listed patient moves into it."""
    require(ctx.actor, Action.EDIT_DIARY)
    with ctx.write("removed a patient from a class") as session:
        rows = session.scalars(
            select(AppointmentAttendee)
            .where(
                AppointmentAttendee.appointment_id == appointment_id,
                AppointmentAttendee.status != AppointmentStatus.CANCELLED,
                AppointmentAttendee.deleted_at.is_(None),
            )
            .order_by(AppointmentAttendee.created_at)
        ).all()
        mine = next((r for r in rows if r.patient_id == patient_id), None)
        if mine is None:
            raise NotFound("That patient is not in this class.")
        mine.status = AppointmentStatus.CANCELLED
        if not mine.waitlisted:
            waiting = next((r for r in rows if r.waitlisted), None)
            if waiting is not None:
                waiting.waitlisted = False


@dataclass(frozen=True)
class Attendee:
    patient_id: str
    name: str
    status: str
    waitlisted: bool


def attendees(ctx: ServiceContext, appointment_id: str) -> list[Attendee]:
    require(ctx.actor, Action.VIEW_DIARY)
    with ctx.read() as session:
        rows = session.execute(
            select(AppointmentAttendee.patient_id, Patient.first_name, Patient.last_name,
                   AppointmentAttendee.status, AppointmentAttendee.waitlisted)
            .join(Patient, Patient.id == AppointmentAttendee.patient_id)
            .where(AppointmentAttendee.appointment_id == appointment_id,
                   AppointmentAttendee.status != AppointmentStatus.CANCELLED,
                   AppointmentAttendee.deleted_at.is_(None))
            .order_by(AppointmentAttendee.waitlisted, AppointmentAttendee.created_at)
        ).all()  # fmt: skip
    return [Attendee(pid, f"{f} {last}", s, bool(w)) for pid, f, last, s, w in rows]


# -- waitlist ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class WaitlistItem:
    id: str
    patient_id: str
    patient_name: str
    phone: str
    appointment_type_id: str | None
    practitioner_ids: tuple[str, ...]
    weekdays: int
    earliest_minute: int
    latest_minute: int
    urgency: int
    notes: str

    def fits(self, practitioner_id: str, local_minute: int, weekday: int) -> bool:
        if self.practitioner_ids and practitioner_id not in self.practitioner_ids:
            return False
        if not self.weekdays & (1 << weekday):
            return False
        return self.earliest_minute <= local_minute < self.latest_minute


def add_to_waitlist(
    ctx: ServiceContext, patient_id: str, *, appointment_type_id: str | None = None,
    practitioner_ids: Sequence[str] = (), weekdays: int = 0b0011111, earliest_minute: int = 0,
    latest_minute: int = 1440, urgency: int = 2, notes: str = "",
) -> str:  # fmt: skip
    require(ctx.actor, Action.EDIT_DIARY)
    if not 1 <= urgency <= 3:
        raise ValidationFailed("Urgency is 1 (low), 2 (normal) or 3 (urgent).", field="urgency")
    if not 0 <= earliest_minute < latest_minute <= 1440:
        raise ValidationFailed("The earliest time must be before the latest.", field="times")
    if not weekdays & 0b1111111:
        raise ValidationFailed("Choose at least one day of the week.", field="weekdays")
    with ctx.write("added a patient to the waitlist") as session:
        bookable_patient(session, patient_id)
        entry = WaitlistEntry(
            patient_id=patient_id, appointment_type_id=appointment_type_id,
            preferred_practitioner_ids=",".join(practitioner_ids), preferred_weekdays=weekdays,
            earliest_minute=earliest_minute, latest_minute=latest_minute, urgency=urgency,
            notes=notes.strip(),
        )  # fmt: skip
        session.add(entry)
        session.flush()
        return entry.id


def waitlist(ctx: ServiceContext) -> list[WaitlistItem]:
    """Open waitlist entries, most urgent first, then oldest."""
    require(ctx.actor, Action.VIEW_DIARY)
    with ctx.read() as session:
        # The open entries first, then their patients by key. As one join, SQLite's planner
        # (no statistics for a table as small as the waitlist) walked all the patients — 150,000
        # on a ten-year clinic, ~0.2 s of every diary start — looking each up in the waitlist.
        entries = session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.resolved_at.is_(None), WaitlistEntry.deleted_at.is_(None))
            .order_by(WaitlistEntry.urgency.desc(), WaitlistEntry.created_at)
        ).all()  # fmt: skip
        ids = list({e.patient_id for e in entries})
        people: dict[str, tuple[str, str, str | None]] = {}
        for start in range(0, len(ids), 500):
            for pid, *who in session.execute(
                select(Patient.id, Patient.first_name, Patient.last_name, Patient.mobile_phone)
                .where(Patient.id.in_(ids[start : start + 500]))
            ):  # fmt: skip
                people[pid] = (who[0], who[1], who[2])
        rows = [(e, *people[e.patient_id]) for e in entries if e.patient_id in people]
        return [
            WaitlistItem(
                e.id,
                e.patient_id,
                f"{first} {last}",
                phone or "",
                e.appointment_type_id,
                tuple(p for p in e.preferred_practitioner_ids.split(",") if p),
                e.preferred_weekdays,
                e.earliest_minute,
                e.latest_minute,
                e.urgency,
                e.notes,
            )
            for e, first, last, phone in rows
        ]


def waitlist_for_slot(
    ctx: ServiceContext, practitioner_id: str, start: datetime
) -> list[WaitlistItem]:
    """The waiting patients a freed slot suits (offered when an appointment is cancelled)."""
    local = start.astimezone(ctx.tz)
    minute = local.hour * 60 + local.minute
    return [w for w in waitlist(ctx) if w.fits(practitioner_id, minute, local.weekday())]


def resolve_waitlist(ctx: ServiceContext, entry_id: str, appointment_id: str | None) -> None:
    require(ctx.actor, Action.EDIT_DIARY)
    with ctx.write("took a patient off the waitlist") as session:
        entry = session.get(WaitlistEntry, entry_id)
        if entry is None or entry.resolved_at is not None:
            raise NotFound("That waitlist entry has already been dealt with.")
        entry.resolved_at = ctx.clock.now()
        entry.booked_appointment_id = appointment_id


# -- pinboard ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PinnedAppointment:
    id: str
    practitioner_id: str
    patient_name: str
    type_name: str
    starts_at: datetime
    minutes: int


def pinboard(ctx: ServiceContext) -> list[PinnedAppointment]:
    require(ctx.actor, Action.VIEW_DIARY)
    with ctx.read() as session:
        rows = session.execute(
            select(Appointment.id, Appointment.practitioner_id, Patient.first_name,
                   Patient.last_name, AppointmentType.name, Appointment.starts_at,
                   Appointment.ends_at)
            .outerjoin(Patient, Patient.id == Appointment.patient_id)
            .outerjoin(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
            .where(Appointment.pinned_at.is_not(None), Appointment.deleted_at.is_(None),
                   Appointment.status != AppointmentStatus.CANCELLED)
            .order_by(Appointment.pinned_at)
        ).all()  # fmt: skip
    return [
        PinnedAppointment(
            aid,
            pid,
            f"{f or ''} {last or ''}".strip() or "Group class",
            t or "",
            s,
            int((e - s).total_seconds() // 60),
        )
        for aid, pid, f, last, t, s, e in rows
    ]


# -- next available ---------------------------------------------------------------------------
def next_available(
    ctx: ServiceContext,
    *,
    duration_minutes: int,
    practitioner_ids: Sequence[str] | None = None,
    room_id: str | None = None,
    location_id: str | None = None,
    earliest_minute: int = 0,
    latest_minute: int = 1440,
    weekdays: int = 0b1111111,
    starting: date | None = None,
    limit: int = 10,
    search_days: int = 60,
    slot: int = 15,
) -> list[FreeSlot]:
    """The next free slots across practitioners, honouring rosters, leave, breaks, rooms and
    existing bookings, earliest first."""
    require(ctx.actor, Action.VIEW_DIARY)
    if duration_minutes <= 0:
        raise ValidationFailed("Choose a length of at least 5 minutes.", field="duration")
    tz = ctx.tz
    now = ctx.clock.now()
    first_day = max(starting or now.astimezone(tz).date(), now.astimezone(tz).date())
    length = timedelta(minutes=duration_minutes)
    found: list[FreeSlot] = []
    with ctx.read() as session:
        pracs = _practitioners(session)
        if location_id is not None:
            pracs = [p for p in pracs if p.default_location_id in (None, location_id)]
        ids = [p.id for p in pracs if not practitioner_ids or p.id in practitioner_ids]
        if not ids:
            return []
        rules = roster_rules(session, ids)
        chunk = 7
        for offset in range(0, search_days, chunk):
            days = [first_day + timedelta(days=offset + d) for d in range(chunk)]
            start, _ = day_bounds_utc(days[0], tz)
            _, end = day_bounds_utc(days[-1], tz)
            leave = leave_blocks(session, ids, start, end)
            busy = [a for a in appointments_between(session, ids, start, end)
                    if a.status != AppointmentStatus.CANCELLED]  # fmt: skip
            room_busy = _room_busy(session, room_id, start, end)
            for day in days:
                if not weekdays & (1 << day.weekday()):
                    continue
                day_slots: list[FreeSlot] = []
                for pid in ids:
                    availability = availability_on(rules[pid], leave[pid], day, tz)
                    mine = [_block(a) for a in busy if a.practitioner_id == pid]
                    day_slots += free_slots_on(
                        pid, day, availability, mine, length, tz, slot=slot, not_before=now,
                        earliest_minute=earliest_minute, latest_minute=latest_minute,
                        room_busy=room_busy,
                    )  # fmt: skip
                day_slots.sort(key=lambda s: (s.start, ids.index(s.practitioner_id)))
                found += day_slots[: limit - len(found)]
                if len(found) >= limit:
                    return found
    return found


def _block(a: DiaryAppointment) -> Block:
    return Block(a.starts_at, a.ends_at, a.practitioner_id, a.room_id, a.id)


def _room_busy(
    session: Session, room_id: str | None, start: datetime, end: datetime
) -> list[Block]:
    if room_id is None:
        return []
    rows = session.execute(
        select(Appointment.id, Appointment.practitioner_id, Appointment.starts_at,
               Appointment.ends_at)
        .where(Appointment.room_id == room_id, Appointment.starts_at < end,
               Appointment.ends_at > start, Appointment.status != AppointmentStatus.CANCELLED,
               Appointment.deleted_at.is_(None))
    ).all()  # fmt: skip
    return [Block(s, e, pid, room_id, aid) for aid, pid, s, e in rows]
