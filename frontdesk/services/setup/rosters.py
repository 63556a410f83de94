"""Rosters: a practitioner's hours and breaks, weekly or every N weeks, per location, from a
date onwards. Saving a change that leaves booked appointments outside the new hours lists them
first (AppointmentsAffected) and saves only when the person confirms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdesk.domain.clinic_setup import RosterBlock, check_room_at_location, check_roster
from frontdesk.domain.diary import (
    ProblemKind,
    RosterRule,
    availability_on,
    local_instant,
    roster_problems,
)
from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.vocab import RosterKind
from frontdesk.models import Appointment, Location, Practitioner, Room, RosterEntry
from frontdesk.services.permissions import Action, require
from frontdesk.services.setup.common import (
    AffectedAppointment,
    AppointmentsAffected,
    booked_appointments,
    live,
)
from frontdesk.store.context import ServiceContext

_STRANDED = (ProblemKind.OUTSIDE_ROSTER, ProblemKind.BREAK)


@dataclass(frozen=True)
class RosterPlan:
    """A practitioner's week (or cycle of weeks) as it applies from ``effective_from``."""

    every_weeks: int
    effective_from: date
    blocks: tuple[RosterBlock, ...]


def roster_for(ctx: ServiceContext, practitioner_id: str, on: date) -> RosterPlan:
    """The roster in effect on ``on`` (or the next one to start; an empty week if none)."""
    with ctx.read() as session:
        live(session, Practitioner, practitioner_id, "practitioner")
        entries = session.scalars(
            select(RosterEntry).where(
                RosterEntry.practitioner_id == practitioner_id, RosterEntry.deleted_at.is_(None)
            )
        ).all()
    current = [e for e in entries if e.effective_until is None or e.effective_until >= on]
    if not current:
        return RosterPlan(1, on, ())
    started = [e.effective_from for e in current if e.effective_from <= on]
    start = max(started) if started else min(e.effective_from for e in current)
    chosen = sorted(
        (e for e in current if e.effective_from == start),
        key=lambda e: (e.week_offset, e.weekday, e.kind != RosterKind.WORK, e.start_minute),
    )
    blocks = tuple(
        RosterBlock(e.weekday, e.start_minute, e.end_minute, e.kind == RosterKind.BREAK,
                    e.week_offset, e.location_id, e.room_id, e.label)
        for e in chosen
    )  # fmt: skip
    return RosterPlan(max(e.every_weeks for e in chosen), start, blocks)


def check_plan(plan: RosterPlan) -> None:
    check_roster(plan.blocks, plan.every_weeks, plan.effective_from)
    if plan.every_weeks > 1 and plan.effective_from.weekday() != 0:
        monday = plan.effective_from - timedelta(days=plan.effective_from.weekday())
        raise ValidationFailed(
            f"A roster that repeats every {plan.every_weeks} weeks starts on a Monday (week 1): "
            f"choose {monday:%d/%m/%Y} or a later Monday.",
            field="effective_from",
        )


def stranded_by(
    ctx: ServiceContext, session: Session, practitioner_id: str, plan: RosterPlan
) -> list[AffectedAppointment]:
    """Booked appointments from the plan's first day that the new hours would not cover."""
    tz = ctx.tz
    rules = [
        RosterRule(practitioner_id, b.weekday, b.start_minute, b.end_minute,
                   RosterKind.BREAK if b.is_break else RosterKind.WORK, plan.every_weeks,
                   b.week, plan.effective_from, None, b.room_id, b.label)
        for b in plan.blocks
    ]  # fmt: skip
    since = max(ctx.clock.now(), local_instant(plan.effective_from, 0, tz))
    out = []
    for appt in booked_appointments(
        session, Appointment.practitioner_id == practitioner_id, since=since
    ):
        day = appt.starts_at.astimezone(tz).date()
        availability = availability_on(rules, (), day, tz)
        problems = roster_problems(appt.starts_at, appt.ends_at, availability, tz)
        if any(p.kind in _STRANDED for p in problems):
            out.append(appt)
    return out


def save_roster(
    ctx: ServiceContext, practitioner_id: str, plan: RosterPlan, *, confirm: bool = False
) -> None:
    """Replace the practitioner's roster from ``plan.effective_from`` onwards; the earlier one
    ends the day before. Nothing is written when a rule fails or bookings would be stranded
    (unless ``confirm``)."""
    require(ctx.actor, Action.MANAGE_SETTINGS)
    check_plan(plan)
    now = ctx.clock.now()
    with ctx.write("change a roster") as session:
        who = live(session, Practitioner, practitioner_id, "practitioner")
        if who.archived_at is not None:
            raise ValidationFailed(f"{who.display_name} is archived.", field="practitioner")
        _check_places(session, plan)
        if not confirm:
            stranded = stranded_by(ctx, session, practitioner_id, plan)
            if stranded:
                raise AppointmentsAffected(f"the new hours for {who.display_name}", stranded)
        for e in session.scalars(
            select(RosterEntry).where(
                RosterEntry.practitioner_id == practitioner_id, RosterEntry.deleted_at.is_(None)
            )
        ):
            if e.effective_from >= plan.effective_from:
                e.deleted_at = now  # replaced before it started
            elif e.effective_until is None or e.effective_until >= plan.effective_from:
                e.effective_until = plan.effective_from - timedelta(days=1)
        for b in plan.blocks:
            session.add(
                RosterEntry(
                    practitioner_id=practitioner_id, location_id=b.location_id,
                    room_id=b.room_id, kind=RosterKind.BREAK if b.is_break else RosterKind.WORK,
                    weekday=b.weekday, start_minute=b.start_minute, end_minute=b.end_minute,
                    every_weeks=plan.every_weeks, week_offset=b.week,
                    effective_from=plan.effective_from, label=b.label.strip(),
                )
            )  # fmt: skip


def _check_places(session: Session, plan: RosterPlan) -> None:
    for i, b in enumerate(plan.blocks):
        field = f"roster.{i}"
        location = live(session, Location, b.location_id, "location") if b.location_id else None
        if b.room_id:
            room = live(session, Room, b.room_id, "room")
            if location is not None:
                check_room_at_location(room.name, room.location_id, location.id, location.name,
                                       field=field)  # fmt: skip


def when(instant: datetime, ctx: ServiceContext) -> str:
    """A booking's time as the lists of affected appointments show it."""
    return instant.astimezone(ctx.tz).strftime("%a %d/%m/%Y %H:%M")
