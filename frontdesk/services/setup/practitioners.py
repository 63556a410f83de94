"""Practitioners: who they are, their colour, provider numbers per funder, default location and
room, overlap policy, the staff account they sign in with; archive (with their future bookings
listed first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frontdesk.domain.clinic_setup import check_colour, check_name, check_room_at_location
from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.vocab import OverlapPolicy, Role
from frontdesk.models import (
    Appointment,
    Funder,
    Location,
    Practitioner,
    ProviderNumber,
    Room,
    StaffUser,
)
from frontdesk.services.permissions import Action, require
from frontdesk.services.setup.common import AppointmentsAffected, booked_appointments, live
from frontdesk.store.context import ServiceContext


@dataclass(frozen=True)
class ProviderNumberEntry:
    number: str
    funder_id: str | None = None  # None: Medicare
    location_id: str | None = None


@dataclass(frozen=True)
class PractitionerEntry:
    first_name: str
    last_name: str
    profession: str
    title: str = ""
    colour: str = "#4f86c6"
    overlap_policy: OverlapPolicy = OverlapPolicy.WARN
    default_location_id: str | None = None
    default_room_id: str | None = None
    email: str = ""
    phone: str = ""
    registration_number: str = ""
    staff_user_id: str | None = None
    provider_numbers: tuple[ProviderNumberEntry, ...] = ()


@dataclass(frozen=True)
class PractitionerRow:
    id: str
    display_name: str
    profession: str
    colour: str
    overlap_policy: str
    location_name: str
    staff_name: str
    archived: bool


@dataclass(frozen=True)
class Choice:
    id: str
    name: str


def list_practitioners(
    ctx: ServiceContext, *, include_archived: bool = False
) -> list[PractitionerRow]:
    with ctx.read() as session:
        staff = (
            select(func.group_concat(StaffUser.display_name, ", "))
            .where(StaffUser.practitioner_id == Practitioner.id, StaffUser.deleted_at.is_(None),
                   StaffUser.archived_at.is_(None))
            .scalar_subquery()
        )  # fmt: skip
        query = (
            select(Practitioner, Location.name, staff)
            .outerjoin(Location, Location.id == Practitioner.default_location_id)
            .where(Practitioner.deleted_at.is_(None))
            .order_by(Practitioner.sort_order, Practitioner.display_name)
        )
        if not include_archived:
            query = query.where(Practitioner.archived_at.is_(None))
        return [
            PractitionerRow(p.id, p.display_name, p.profession, p.colour, p.overlap_policy,
                            loc or "", who or "", p.archived_at is not None)
            for p, loc, who in session.execute(query).all()
        ]  # fmt: skip


def load_practitioner(ctx: ServiceContext, practitioner_id: str) -> PractitionerEntry:
    with ctx.read() as session:
        p = live(session, Practitioner, practitioner_id, "practitioner")
        numbers = session.scalars(
            select(ProviderNumber).where(ProviderNumber.practitioner_id == p.id,
                                         ProviderNumber.deleted_at.is_(None))
        ).all()  # fmt: skip
        staff_id = session.scalars(
            select(StaffUser.id).where(StaffUser.practitioner_id == p.id,
                                       StaffUser.deleted_at.is_(None))
        ).first()  # fmt: skip
        return PractitionerEntry(
            p.first_name, p.last_name, p.profession, p.title, p.colour,
            OverlapPolicy(p.overlap_policy), p.default_location_id, p.default_room_id, p.email,
            p.phone, p.registration_number, staff_id,
            tuple(ProviderNumberEntry(n.number, n.funder_id, n.location_id) for n in numbers),
        )  # fmt: skip


def funders(ctx: ServiceContext) -> list[Choice]:
    """Funders a provider number can be for (besides Medicare, which is ``None``)."""
    with ctx.read() as session:
        rows = session.execute(
            select(Funder.id, Funder.name)
            .where(Funder.deleted_at.is_(None), Funder.archived_at.is_(None))
            .order_by(Funder.name)
        ).all()
        return [Choice(i, n) for i, n in rows]


def staff_accounts(ctx: ServiceContext) -> list[Choice]:
    """Staff accounts a practitioner can be linked to."""
    with ctx.read() as session:
        rows = session.execute(
            select(StaffUser.id, StaffUser.display_name)
            .where(StaffUser.deleted_at.is_(None), StaffUser.archived_at.is_(None))
            .order_by(StaffUser.display_name)
        ).all()
        return [Choice(i, n) for i, n in rows]


def _checked(entry: PractitionerEntry) -> tuple[str, str, str, str]:
    first = check_name(entry.first_name, "practitioner", field="first_name", longest=100)
    last = check_name(entry.last_name, "practitioner", field="last_name", longest=100)
    profession = " ".join(entry.profession.split())
    if not profession:
        raise ValidationFailed("Choose the practitioner's profession.", field="profession")
    colour = check_colour(entry.colour)
    seen: set[tuple[str | None, str | None]] = set()
    for i, n in enumerate(entry.provider_numbers):
        if not n.number.strip():
            raise ValidationFailed("Type the provider number.", field=f"provider_numbers.{i}")
        if (n.funder_id, n.location_id) in seen:
            raise ValidationFailed(
                "There are two provider numbers for the same funder and location.",
                field=f"provider_numbers.{i}",
            )
        seen.add((n.funder_id, n.location_id))
    return first, last, profession, colour


def _apply(session: Session, p: Practitioner, entry: PractitionerEntry, now: datetime) -> None:
    first, last, profession, colour = _checked(entry)
    location = room = None
    if entry.default_location_id:
        location = live(session, Location, entry.default_location_id, "location")
    if entry.default_room_id:
        room = live(session, Room, entry.default_room_id, "room")
        if location is None:
            location = session.get(Location, room.location_id)
        else:
            check_room_at_location(room.name, room.location_id, location.id, location.name)
    p.title, p.first_name, p.last_name = entry.title.strip(), first, last
    p.display_name = " ".join(x for x in (p.title, first, last) if x)
    p.profession, p.colour, p.overlap_policy = (
        profession,
        colour,
        OverlapPolicy(entry.overlap_policy),
    )
    p.default_location_id = location.id if location else None
    p.default_room_id = room.id if room else None
    p.email, p.phone = entry.email.strip(), entry.phone.strip()
    p.registration_number = entry.registration_number.strip()
    session.add(p)  # a new one joins the session whole: one outbox row, not an insert + update
    session.flush()
    _sync_numbers(session, p.id, entry.provider_numbers, now)
    _link_staff(session, p.id, entry.staff_user_id)


def _sync_numbers(
    session: Session, practitioner_id: str, wanted: tuple[ProviderNumberEntry, ...], now: datetime
) -> None:
    rows = {
        (n.funder_id, n.location_id): n
        for n in session.scalars(
            select(ProviderNumber).where(ProviderNumber.practitioner_id == practitioner_id,
                                         ProviderNumber.deleted_at.is_(None))
        )
    }  # fmt: skip
    for entry in wanted:
        key = (entry.funder_id, entry.location_id)
        if entry.funder_id:
            live(session, Funder, entry.funder_id, "funder")
        row = rows.pop(key, None)
        if row is None:
            row = ProviderNumber(practitioner_id=practitioner_id, funder_id=entry.funder_id,
                                 location_id=entry.location_id)  # fmt: skip
            session.add(row)
        row.number = entry.number.strip()
    for gone in rows.values():
        gone.deleted_at = now  # tombstoned: numbers are never hard-deleted


def _link_staff(session: Session, practitioner_id: str, staff_user_id: str | None) -> None:
    for user in session.scalars(
        select(StaffUser).where(StaffUser.practitioner_id == practitioner_id)
    ):
        if user.id != staff_user_id:
            if user.role == Role.PRACTITIONER:
                raise ValidationFailed(
                    f"{user.display_name}'s account has the practitioner role and stays linked "
                    "to this practitioner: change the account's role in Staff first.",
                    field="staff",
                )
            user.practitioner_id = None
    if staff_user_id:
        live(session, StaffUser, staff_user_id, "staff account").practitioner_id = practitioner_id


def add_practitioner(ctx: ServiceContext, entry: PractitionerEntry) -> str:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    _checked(entry)
    with ctx.write("add a practitioner") as session:
        count = session.scalar(select(func.count(Practitioner.id))) or 0
        p = Practitioner(sort_order=count)
        _apply(session, p, entry, ctx.clock.now())
        return p.id


def update_practitioner(
    ctx: ServiceContext, practitioner_id: str, entry: PractitionerEntry
) -> None:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    _checked(entry)
    with ctx.write("change a practitioner") as session:
        p = live(session, Practitioner, practitioner_id, "practitioner")
        _apply(session, p, entry, ctx.clock.now())


def archive_practitioner(
    ctx: ServiceContext, practitioner_id: str, *, archived: bool = True, confirm: bool = False
) -> None:
    """Archive a practitioner. Their future bookings are listed first (AppointmentsAffected);
    with ``confirm`` they stay booked, to be moved or cancelled from the list."""
    require(ctx.actor, Action.MANAGE_SETTINGS)
    action = "archive a practitioner" if archived else "restore a practitioner"
    with ctx.write(action) as session:
        p = live(session, Practitioner, practitioner_id, "practitioner")
        if archived and not confirm:
            future = booked_appointments(
                session, Appointment.practitioner_id == p.id, since=ctx.clock.now()
            )
            if future:
                raise AppointmentsAffected(f"archiving {p.display_name}", future)
        p.archived_at = ctx.clock.now() if archived else None
