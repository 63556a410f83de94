"""Appointment types: name, length, colour, who offers them (a profession or chosen
practitioners), the default service and its price (per funder too), class capacity, and
whether patients may book them online."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdesk.domain.clinic_setup import (
    check_capacity,
    check_colour,
    check_length,
    check_name,
    check_offered_by,
    offers,
)
from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.vocab import CatalogueKind
from frontdesk.models import (
    AppointmentType,
    CatalogueFunderPrice,
    CatalogueItem,
    Funder,
    Practitioner,
)
from frontdesk.services.permissions import Action, require
from frontdesk.services.setup.common import live
from frontdesk.store.context import ServiceContext


@dataclass(frozen=True)
class FunderPrice:
    funder_id: str
    item_number: str
    price_cents: int


@dataclass(frozen=True)
class TypeEntry:
    name: str
    duration_minutes: int
    colour: str = "#7fb2e5"
    profession: str = ""  # "" with no practitioners chosen: everyone offers it
    practitioner_ids: tuple[str, ...] = ()
    capacity: int = 1  # above 1: a class
    online_bookable: bool = False
    is_new_patient: bool = False
    service_id: str | None = None  # an existing catalogue service; None makes one
    price_cents: int | None = None  # the service's price (None: leave it as it is)
    funder_prices: tuple[FunderPrice, ...] = ()


@dataclass(frozen=True)
class TypeRow:
    id: str
    name: str
    duration_minutes: int
    colour: str
    profession: str
    practitioner_ids: tuple[str, ...]
    offered_by: str  # for the list: the profession, the chosen names, or "Everyone"
    capacity: int
    online_bookable: bool
    service_id: str | None
    price_cents: int | None
    archived: bool


def _offered_by(t: AppointmentType, names: dict[str, str]) -> str:
    chosen = [names.get(pid, "?") for pid in t.practitioner_ids.split()]
    return ", ".join(chosen) or t.profession or "Everyone"


def list_types(ctx: ServiceContext, *, include_archived: bool = False) -> list[TypeRow]:
    with ctx.read() as session:
        names = dict(session.execute(select(Practitioner.id, Practitioner.display_name)).all())
        query = (
            select(AppointmentType, CatalogueItem.price_cents)
            .outerjoin(CatalogueItem, CatalogueItem.id == AppointmentType.default_service_id)
            .where(AppointmentType.deleted_at.is_(None))
            .order_by(AppointmentType.profession, AppointmentType.name)
        )
        if not include_archived:
            query = query.where(AppointmentType.archived_at.is_(None))
        return [
            TypeRow(t.id, t.name, t.duration_minutes, t.colour, t.profession,
                    tuple(t.practitioner_ids.split()), _offered_by(t, names), t.capacity,
                    t.online_bookable, t.default_service_id, price, t.archived_at is not None)
            for t, price in session.execute(query).all()
        ]  # fmt: skip


def funder_prices(ctx: ServiceContext, type_id: str) -> tuple[FunderPrice, ...]:
    with ctx.read() as session:
        t = live(session, AppointmentType, type_id, "appointment type")
        rows = session.scalars(
            select(CatalogueFunderPrice).where(
                CatalogueFunderPrice.catalogue_item_id == (t.default_service_id or ""),
                CatalogueFunderPrice.deleted_at.is_(None),
            )
        ).all()
        return tuple(FunderPrice(r.funder_id, r.item_number, r.price_cents) for r in rows)


def type_ids_for(ctx: ServiceContext, practitioner_id: str) -> set[str]:
    """The types a practitioner offers (the booking dialog offers only these)."""
    with ctx.read() as session:
        p = live(session, Practitioner, practitioner_id, "practitioner")
        rows = session.execute(
            select(AppointmentType.id, AppointmentType.profession,
                   AppointmentType.practitioner_ids)
            .where(AppointmentType.archived_at.is_(None), AppointmentType.deleted_at.is_(None))
        ).all()  # fmt: skip
        return {tid for tid, prof, ids in rows if offers(prof, ids, p.id, p.profession)}


def _check(entry: TypeEntry) -> str:
    name = check_name(entry.name, "appointment type")
    check_length(entry.duration_minutes)
    check_colour(entry.colour)
    check_capacity(entry.capacity)
    if entry.price_cents is not None and entry.price_cents < 0:
        raise ValidationFailed("A price cannot be negative.", field="price")
    for i, fp in enumerate(entry.funder_prices):
        if fp.price_cents < 0:
            raise ValidationFailed("A price cannot be negative.", field=f"funder_prices.{i}")
        if not fp.item_number.strip():
            raise ValidationFailed("Type the funder's item number.", field=f"funder_prices.{i}")
    return name


def _apply(session: Session, t: AppointmentType, entry: TypeEntry, name: str) -> None:
    chosen = list(dict.fromkeys(entry.practitioner_ids))
    people = {pid: live(session, Practitioner, pid, "practitioner") for pid in chosen}
    archived = {pid: p.display_name for pid, p in people.items() if p.archived_at is not None}
    check_offered_by(chosen, archived)
    t.name, t.duration_minutes, t.colour = name, entry.duration_minutes, check_colour(entry.colour)
    t.profession = " ".join(entry.profession.split())
    t.practitioner_ids = " ".join(chosen)
    t.capacity, t.is_group = entry.capacity, entry.capacity > 1
    t.online_bookable, t.is_new_patient = entry.online_bookable, entry.is_new_patient
    service = _service(session, entry, name)
    t.default_service_id = service.id if service else None
    if service is not None:
        _set_funder_prices(session, service.id, entry.funder_prices)


def _service(session: Session, entry: TypeEntry, name: str) -> CatalogueItem | None:
    if entry.service_id:
        service = live(session, CatalogueItem, entry.service_id, "service")
    elif entry.price_cents is not None:
        service = CatalogueItem(code=_new_code(session, name), name=name,
                                kind=CatalogueKind.SERVICE, price_cents=entry.price_cents,
                                duration_minutes=entry.duration_minutes)  # fmt: skip
        session.add(service)
        session.flush()
    else:
        return None
    if entry.price_cents is not None:
        service.price_cents = entry.price_cents
    return service


def _new_code(session: Session, name: str) -> str:
    """A short catalogue code from the name (``Initial consultation`` → ``INITCONS``)."""
    words = re.findall(r"[A-Za-z0-9]+", name.upper())
    base = ("".join(w[:4] for w in words[:3]) or "SERVICE")[:12]
    taken = set(session.scalars(select(CatalogueItem.code)).all())
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    return code


def _set_funder_prices(session: Session, item_id: str, prices: tuple[FunderPrice, ...]) -> None:
    rows = {
        r.funder_id: r
        for r in session.scalars(
            select(CatalogueFunderPrice).where(
                CatalogueFunderPrice.catalogue_item_id == item_id,
                CatalogueFunderPrice.deleted_at.is_(None),
            )
        )
    }
    for fp in prices:  # checked first: a check between the adds would flush each one
        live(session, Funder, fp.funder_id, "funder")
    for fp in prices:
        row = rows.get(fp.funder_id)
        if row is None:
            row = CatalogueFunderPrice(catalogue_item_id=item_id, funder_id=fp.funder_id)
            session.add(row)
        row.item_number, row.price_cents = fp.item_number.strip(), fp.price_cents


def add_type(ctx: ServiceContext, entry: TypeEntry) -> str:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    name = _check(entry)
    with ctx.write("add an appointment type") as session:
        t = AppointmentType()
        _apply(session, t, entry, name)
        session.add(t)
        session.flush()
        return t.id


def update_type(ctx: ServiceContext, type_id: str, entry: TypeEntry) -> None:
    """Change a type. Appointments already booked keep their times."""
    require(ctx.actor, Action.MANAGE_SETTINGS)
    name = _check(entry)
    with ctx.write("change an appointment type") as session:
        _apply(session, live(session, AppointmentType, type_id, "appointment type"), entry, name)


def archive_type(ctx: ServiceContext, type_id: str, *, archived: bool = True) -> None:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    with ctx.write("archive an appointment type" if archived else "restore a type") as session:
        t = live(session, AppointmentType, type_id, "appointment type")
        t.archived_at = ctx.clock.now() if archived else None
