"""Locations and their rooms: add, change, archive. A room is at exactly one location."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frontdesk.domain.clinic_setup import check_name, check_room_name_free
from frontdesk.domain.errors import RuleViolation, ValidationFailed
from frontdesk.domain.vocab import OverlapPolicy
from frontdesk.models import Appointment, Location, Room
from frontdesk.services.permissions import Action, require
from frontdesk.services.setup.common import AppointmentsAffected, booked_appointments, live
from frontdesk.store.context import ServiceContext


@dataclass(frozen=True)
class LocationEntry:
    name: str
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class LocationRow:
    id: str
    name: str
    address: str
    phone: str
    rooms: int
    archived: bool


@dataclass(frozen=True)
class RoomEntry:
    name: str
    location_id: str
    suits: str = ""
    bookable: bool = True
    overlap_policy: OverlapPolicy = OverlapPolicy.BLOCK


@dataclass(frozen=True)
class RoomRow:
    id: str
    name: str
    location_id: str
    location_name: str
    suits: str
    bookable: bool
    overlap_policy: str
    archived: bool


# -- locations --------------------------------------------------------------------------------
def list_locations(ctx: ServiceContext, *, include_archived: bool = False) -> list[LocationRow]:
    with ctx.read() as session:
        rooms = (
            select(func.count(Room.id))
            .where(Room.location_id == Location.id, Room.archived_at.is_(None),
                   Room.deleted_at.is_(None))
            .scalar_subquery()
        )  # fmt: skip
        query = select(Location, rooms).where(Location.deleted_at.is_(None)).order_by(Location.name)
        if not include_archived:
            query = query.where(Location.archived_at.is_(None))
        return [
            LocationRow(loc.id, loc.name, loc.address, loc.phone, n, loc.archived_at is not None)
            for loc, n in session.execute(query).all()
        ]


def _check_location(session_names: list[str], entry: LocationEntry) -> str:
    name = check_name(entry.name, "location")
    for taken in session_names:
        if taken.casefold() == name.casefold():
            raise ValidationFailed(f"There is already a location called {taken}.", field="name")
    return name


def add_location(ctx: ServiceContext, entry: LocationEntry) -> str:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    with ctx.write("add a location") as session:
        name = _check_location(_location_names(session), entry)
        loc = Location(name=name, address=entry.address.strip(), phone=entry.phone.strip())
        session.add(loc)
        session.flush()
        return loc.id


def update_location(ctx: ServiceContext, location_id: str, entry: LocationEntry) -> None:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    check_name(entry.name, "location")  # before the write lock is taken
    with ctx.write("change a location") as session:
        loc = live(session, Location, location_id, "location")
        name = _check_location(_location_names(session, but=location_id), entry)
        loc.name, loc.address, loc.phone = name, entry.address.strip(), entry.phone.strip()


def archive_location(ctx: ServiceContext, location_id: str, *, archived: bool = True) -> None:
    """Archive a location once its rooms are archived (or moved) and nothing is booked there."""
    require(ctx.actor, Action.MANAGE_SETTINGS)
    with ctx.write("archive a location" if archived else "restore a location") as session:
        loc = live(session, Location, location_id, "location")
        if archived:
            rooms = session.scalars(
                select(Room.name).where(Room.location_id == location_id,
                                        Room.archived_at.is_(None), Room.deleted_at.is_(None))
            ).all()  # fmt: skip
            if rooms:
                raise RuleViolation(
                    f"{loc.name} still has rooms ({', '.join(rooms)}): archive them first."
                )
            future = booked_appointments(
                session, Appointment.location_id == location_id, since=ctx.clock.now()
            )
            if future:
                raise AppointmentsAffected(f"closing {loc.name}", future)
        loc.archived_at = ctx.clock.now() if archived else None


def _location_names(session: Session, *, but: str | None = None) -> list[str]:
    query = select(Location.name).where(Location.deleted_at.is_(None),
                                        Location.archived_at.is_(None))  # fmt: skip
    if but:
        query = query.where(Location.id != but)
    return list(session.scalars(query).all())


# -- rooms ------------------------------------------------------------------------------------
def list_rooms(ctx: ServiceContext, *, include_archived: bool = False) -> list[RoomRow]:
    with ctx.read() as session:
        query = (
            select(Room, Location.name)
            .join(Location, Location.id == Room.location_id)
            .where(Room.deleted_at.is_(None))
            .order_by(Location.name, Room.sort_order, Room.name)
        )
        if not include_archived:
            query = query.where(Room.archived_at.is_(None))
        return [
            RoomRow(r.id, r.name, r.location_id, loc, r.suits, r.bookable, r.overlap_policy,
                    r.archived_at is not None)
            for r, loc in session.execute(query).all()
        ]  # fmt: skip


def _room_fields(entry: RoomEntry) -> tuple[str, str]:
    name = check_name(entry.name, "room")
    if not entry.location_id:
        raise ValidationFailed("Choose the location the room is at.", field="location")
    return name, " ".join(entry.suits.split())


def add_room(ctx: ServiceContext, entry: RoomEntry) -> str:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    name, suits = _room_fields(entry)
    with ctx.write("add a room") as session:
        loc = live(session, Location, entry.location_id, "location")
        if loc.archived_at is not None:
            raise ValidationFailed(f"{loc.name} is archived.", field="location")
        check_room_name_free(name, _room_names(session))
        room = Room(name=name, location_id=loc.id, suits=suits, bookable=entry.bookable,
                    overlap_policy=OverlapPolicy(entry.overlap_policy))  # fmt: skip
        session.add(room)
        session.flush()
        return room.id


def update_room(ctx: ServiceContext, room_id: str, entry: RoomEntry) -> None:
    """Change a room. Moving it to another location is refused while appointments are booked in
    it there: the room would be at two locations at once."""
    require(ctx.actor, Action.MANAGE_SETTINGS)
    name, suits = _room_fields(entry)
    with ctx.write("change a room") as session:
        room = live(session, Room, room_id, "room")
        loc = live(session, Location, entry.location_id, "location")
        check_room_name_free(name, _room_names(session, but=room_id))
        if loc.id != room.location_id:
            future = booked_appointments(
                session, Appointment.room_id == room_id,
                Appointment.location_id != loc.id, since=ctx.clock.now(),
            )  # fmt: skip
            if future:
                raise ValidationFailed(
                    f"{room.name} has {len(future)} appointment(s) booked at its present "
                    f"location from {future[0].starts_at.astimezone(ctx.tz):%d/%m/%Y}: "
                    f"moving it to {loc.name} would put it at two locations. Move those "
                    "appointments to another room first.",
                    field="location",
                )
        room.name, room.location_id, room.suits = name, loc.id, suits
        room.bookable, room.overlap_policy = entry.bookable, OverlapPolicy(entry.overlap_policy)


def archive_room(
    ctx: ServiceContext, room_id: str, *, archived: bool = True, confirm: bool = False
) -> None:
    """Archive a room; appointments booked in it are listed first (``confirm`` goes ahead)."""
    require(ctx.actor, Action.MANAGE_SETTINGS)
    with ctx.write("archive a room" if archived else "restore a room") as session:
        room = live(session, Room, room_id, "room")
        if archived and not confirm:
            future = booked_appointments(session, Appointment.room_id == room_id,
                                         since=ctx.clock.now())  # fmt: skip
            if future:
                raise AppointmentsAffected(f"archiving {room.name}", future)
        room.archived_at = ctx.clock.now() if archived else None


def _room_names(session: Session, *, but: str | None = None) -> list[str]:
    query = select(Room.name).where(Room.deleted_at.is_(None), Room.archived_at.is_(None))
    if but:
        query = query.where(Room.id != but)
    return list(session.scalars(query).all())
