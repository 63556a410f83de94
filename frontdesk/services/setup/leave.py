"""Leave and closures: a practitioner away, a room out of use, a location or the whole clinic
closed (public holidays offered from the ``holidays`` package for the clinic's state). Adding
one over booked appointments lists them first (AppointmentsAffected)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.vocab import LeaveKind
from frontdesk.models import Appointment, Leave, Location, Practitioner, Room
from frontdesk.services.permissions import Action, require
from frontdesk.services.setup.common import AppointmentsAffected, booked_appointments, live
from frontdesk.store.context import ServiceContext

PUBLIC_HOLIDAY = "Public holiday"


@dataclass(frozen=True)
class LeaveEntry:
    """Who or what is away, from ``starts_at`` to ``ends_at`` (aware instants). No practitioner,
    room or location: the whole clinic is closed."""

    starts_at: datetime
    ends_at: datetime
    practitioner_id: str | None = None
    room_id: str | None = None
    location_id: str | None = None
    kind: LeaveKind = LeaveKind.LEAVE
    reason: str = ""


@dataclass(frozen=True)
class LeaveRow:
    id: str
    who: str  # the practitioner, "Room …", the location, or "Whole clinic"
    starts_at: datetime
    ends_at: datetime
    kind: str
    reason: str


@dataclass(frozen=True)
class HolidayOffer:
    day: date
    name: str
    added: bool  # already a closure of the whole clinic that day


def whole_days(ctx: ServiceContext, first: date, last: date) -> tuple[datetime, datetime]:
    """Local midnight on ``first`` to local midnight after ``last``, as UTC instants."""
    if last < first:
        raise ValidationFailed("The last day must be on or after the first.", field="last_day")
    return day_bounds_utc(first, ctx.tz)[0], day_bounds_utc(last, ctx.tz)[1]


def list_leave(ctx: ServiceContext, since: datetime) -> list[LeaveRow]:
    with ctx.read() as session:
        rows = session.execute(
            select(Leave, Practitioner.display_name, Room.name, Location.name)
            .outerjoin(Practitioner, Practitioner.id == Leave.practitioner_id)
            .outerjoin(Room, Room.id == Leave.room_id)
            .outerjoin(Location, Location.id == Leave.location_id)
            .where(Leave.deleted_at.is_(None), Leave.ends_at > since)
            .order_by(Leave.starts_at)
        ).all()
        return [
            LeaveRow(lv.id, p or (f"Room {r}" if r else None) or loc or "Whole clinic",
                     lv.starts_at, lv.ends_at, lv.kind, lv.reason)
            for lv, p, r, loc in rows
        ]  # fmt: skip


def _affected_where(session: Session, entry: LeaveEntry) -> list[ColumnElement[bool]]:
    if entry.practitioner_id:
        live(session, Practitioner, entry.practitioner_id, "practitioner")
        return [Appointment.practitioner_id == entry.practitioner_id]
    if entry.room_id:
        live(session, Room, entry.room_id, "room")
        return [Appointment.room_id == entry.room_id]
    if entry.location_id:
        live(session, Location, entry.location_id, "location")
        at_location = select(Practitioner.id).where(
            Practitioner.default_location_id == entry.location_id
        )
        return [
            or_(
                Appointment.location_id == entry.location_id,
                and_(Appointment.location_id.is_(None),
                     Appointment.practitioner_id.in_(at_location)),
            )
        ]  # fmt: skip
    return []


def _check(entry: LeaveEntry) -> None:
    if entry.starts_at.tzinfo is None or entry.ends_at.tzinfo is None:
        raise ValueError("naive datetime: pass aware instants")
    if entry.ends_at <= entry.starts_at:
        raise ValidationFailed("The leave must end after it starts.", field="ends_at")
    if entry.ends_at - entry.starts_at > timedelta(days=366):
        raise ValidationFailed("Leave can be at most a year long; add another after it.",
                               field="ends_at")  # fmt: skip
    if sum(x is not None for x in (entry.practitioner_id, entry.room_id, entry.location_id)) > 1:
        raise ValidationFailed("Choose a practitioner, a room or a location, not several.",
                               field="who")  # fmt: skip


def add_leave(ctx: ServiceContext, entry: LeaveEntry, *, confirm: bool = False) -> str:
    """Record leave or a closure; the appointments booked in it are listed first."""
    require(ctx.actor, Action.MANAGE_SETTINGS)
    _check(entry)
    with ctx.write("add leave" if entry.practitioner_id else "add a closure") as session:
        if not confirm:
            affected = booked_appointments(
                session, *_affected_where(session, entry),
                since=max(entry.starts_at, ctx.clock.now()), until=entry.ends_at,
            )  # fmt: skip
            if affected:
                raise AppointmentsAffected("this leave" if entry.practitioner_id
                                           else "this closure", affected)  # fmt: skip
        else:
            _affected_where(session, entry)
        row = Leave(
            practitioner_id=entry.practitioner_id, room_id=entry.room_id,
            location_id=entry.location_id, kind=LeaveKind(entry.kind),
            starts_at=entry.starts_at, ends_at=entry.ends_at, reason=entry.reason.strip(),
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def remove_leave(ctx: ServiceContext, leave_id: str) -> None:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    with ctx.write("remove leave") as session:
        live(session, Leave, leave_id, "leave").deleted_at = ctx.clock.now()


def public_holidays(ctx: ServiceContext, year: int) -> list[HolidayOffer]:
    """The public holidays of the clinic's state (national ones when no state is set)."""
    import holidays  # about 0.1 s: only when the list is opened

    with ctx.read() as session:
        state = ctx.settings(session).state or None
        closed = {
            lv.starts_at.astimezone(ctx.tz).date()
            for lv in session.scalars(
                select(Leave).where(
                    Leave.deleted_at.is_(None), Leave.practitioner_id.is_(None),
                    Leave.room_id.is_(None), Leave.location_id.is_(None),
                )
            )
        }  # fmt: skip
    found = holidays.country_holidays("AU", subdiv=state, years=year)
    return [HolidayOffer(day, str(name), day in closed) for day, name in sorted(found.items())]


def close_for_holidays(
    ctx: ServiceContext, offers: list[HolidayOffer], *, confirm: bool = False
) -> list[str]:
    """Close the whole clinic on the chosen public holidays, in one transaction."""
    require(ctx.actor, Action.MANAGE_SETTINGS)
    wanted = [h for h in offers if not h.added]
    spans = [(h, *whole_days(ctx, h.day, h.day)) for h in wanted]
    with ctx.write("close the clinic on public holidays") as session:
        if not confirm:
            affected = [
                a for _h, start, end in spans
                for a in booked_appointments(session, since=start, until=end)
            ]  # fmt: skip
            if affected:
                raise AppointmentsAffected("closing on these public holidays", affected)
        rows = [
            Leave(kind=LeaveKind.UNAVAILABLE, starts_at=start, ends_at=end,
                  reason=f"{PUBLIC_HOLIDAY}: {h.name}")
            for h, start, end in spans
        ]  # fmt: skip
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]
