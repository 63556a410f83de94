"""The catalogue of services and products: prices, GST treatment, funders' item numbers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdesk.domain.errors import NotFound, RuleViolation, ValidationFailed
from frontdesk.domain.vocab import CatalogueKind
from frontdesk.models import CatalogueFunderPrice, CatalogueItem, Funder
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    name: str
    price_cents: int
    kind: CatalogueKind = CatalogueKind.SERVICE
    taxable: bool = False
    duration_minutes: int | None = None


@dataclass(frozen=True)
class CatalogueRow:
    id: str
    code: str
    name: str
    kind: str
    price_cents: int
    taxable: bool
    archived: bool


@dataclass(frozen=True)
class FunderPriceRow:
    id: str
    funder_id: str
    funder_name: str
    item_number: str
    price_cents: int


def _check(entry: CatalogueEntry) -> None:
    if not entry.code.strip():
        raise ValidationFailed("Give the item a short code, such as PHY-STD.", field="code")
    if not entry.name.strip():
        raise ValidationFailed("Give the item a name.", field="name")
    if entry.price_cents < 0:
        raise ValidationFailed("A price cannot be negative.", field="price")
    if entry.duration_minutes is not None and entry.duration_minutes <= 0:
        raise ValidationFailed("A duration must be at least one minute.", field="duration")


def _get(session: Session, item_id: str) -> CatalogueItem:
    item = session.get(CatalogueItem, item_id)
    if item is None or item.deleted_at is not None:
        raise NotFound("That catalogue item no longer exists.")
    return item


def add_item(ctx: ServiceContext, entry: CatalogueEntry) -> str:
    require(ctx.actor, Action.MANAGE_CATALOGUE)
    _check(entry)
    with ctx.write("add a catalogue item") as session:
        clash = session.scalars(
            select(CatalogueItem.id).where(
                CatalogueItem.code == entry.code.strip(),
                CatalogueItem.archived_at.is_(None),
                CatalogueItem.deleted_at.is_(None),
            )
        ).first()
        if clash:
            raise RuleViolation(f"Another item already has the code {entry.code.strip()}.")
        item = CatalogueItem(
            code=entry.code.strip(),
            name=entry.name.strip(),
            kind=entry.kind,
            price_cents=entry.price_cents,
            taxable=entry.taxable,
            duration_minutes=entry.duration_minutes,
        )
        session.add(item)
        session.flush()
        return item.id


def update_item(ctx: ServiceContext, item_id: str, entry: CatalogueEntry) -> None:
    """Change an item. Issued invoices keep the prices they were issued with."""
    require(ctx.actor, Action.MANAGE_CATALOGUE)
    _check(entry)
    with ctx.write("change a catalogue item") as session:
        item = _get(session, item_id)
        item.code, item.name = entry.code.strip(), entry.name.strip()
        item.kind, item.price_cents, item.taxable = entry.kind, entry.price_cents, entry.taxable
        item.duration_minutes = entry.duration_minutes


def archive_item(ctx: ServiceContext, item_id: str, *, archived: bool = True) -> None:
    require(ctx.actor, Action.MANAGE_CATALOGUE)
    with ctx.write("archive a catalogue item" if archived else "restore a catalogue item") as s:
        item = _get(s, item_id)
        item.archived_at = ctx.clock.now() if archived else None


def set_funder_price(
    ctx: ServiceContext, item_id: str, funder_id: str, item_number: str, price_cents: int
) -> str:
    """Set (or change) a funder's item number and price for a catalogue item."""
    require(ctx.actor, Action.MANAGE_CATALOGUE)
    if price_cents < 0:
        raise ValidationFailed("A price cannot be negative.", field="price")
    if not item_number.strip():
        raise ValidationFailed("Enter the funder's item number.", field="item_number")
    with ctx.write("set a funder's item number") as session:
        _get(session, item_id)
        if session.get(Funder, funder_id) is None:
            raise NotFound("That payer no longer exists.")
        row = session.scalars(
            select(CatalogueFunderPrice).where(
                CatalogueFunderPrice.catalogue_item_id == item_id,
                CatalogueFunderPrice.funder_id == funder_id,
                CatalogueFunderPrice.deleted_at.is_(None),
            )
        ).first()
        if row is None:
            row = CatalogueFunderPrice(catalogue_item_id=item_id, funder_id=funder_id)
            session.add(row)
        row.item_number, row.price_cents = item_number.strip(), price_cents
        session.flush()
        return row.id


def remove_funder_price(ctx: ServiceContext, funder_price_id: str) -> None:
    require(ctx.actor, Action.MANAGE_CATALOGUE)
    with ctx.write("remove a funder's item number") as session:
        row = session.get(CatalogueFunderPrice, funder_price_id)
        if row is None or row.deleted_at is not None:
            raise NotFound("That item number no longer exists.")
        row.deleted_at = ctx.clock.now()


def list_items(ctx: ServiceContext, *, include_archived: bool = False) -> list[CatalogueRow]:
    with ctx.read() as session:
        query = select(CatalogueItem).where(CatalogueItem.deleted_at.is_(None))
        if not include_archived:
            query = query.where(CatalogueItem.archived_at.is_(None))
        return [
            CatalogueRow(
                i.id, i.code, i.name, i.kind, i.price_cents, i.taxable, i.archived_at is not None
            )
            for i in session.scalars(query.order_by(CatalogueItem.code))
        ]


def funder_prices(ctx: ServiceContext, item_id: str) -> list[FunderPriceRow]:
    with ctx.read() as session:
        rows = session.execute(
            select(CatalogueFunderPrice, Funder.name)
            .join(Funder, Funder.id == CatalogueFunderPrice.funder_id)
            .where(
                CatalogueFunderPrice.catalogue_item_id == item_id,
                CatalogueFunderPrice.deleted_at.is_(None),
            )
            .order_by(Funder.name)
        ).all()
        return [
            FunderPriceRow(p.id, p.funder_id, name, p.item_number, p.price_cents)
            for p, name in rows
        ]
