"""The payers a clinic bills besides patients (health funds, DVA, the NDIA, plan managers,
insurers…): listed to choose from in the catalogue's price list, on a patient's funding details
and plans; added and changed under Settings → Payers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from frontdesk.domain.errors import NotFound, ValidationFailed
from frontdesk.domain.vocab import FunderKind
from frontdesk.models import Funder
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext

KIND_LABELS = {
    FunderKind.NDIS_PLAN_MANAGER: "NDIA or NDIS plan manager",
    FunderKind.MEDICARE: "Medicare",
    FunderKind.DVA: "DVA",
    FunderKind.HEALTH_FUND: "Health fund",
    FunderKind.WORKERS_COMP: "Workers' compensation",
    FunderKind.INSURER: "Insurer (CTP, other)",
    FunderKind.OTHER: "Other",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class FunderChoice:
    id: str
    name: str


@dataclass(frozen=True)
class FunderEntry:
    kind: FunderKind
    name: str
    email: str = ""
    business_number: str = ""
    phone: str = ""


@dataclass(frozen=True)
class FunderRow:
    id: str
    kind: FunderKind
    name: str
    email: str
    business_number: str
    phone: str
    archived: bool


def list_funders(ctx: ServiceContext) -> list[FunderChoice]:
    """Funders still in use (not archived), by name."""
    with ctx.read() as session:
        rows = session.execute(
            select(Funder.id, Funder.name).where(Funder.archived_at.is_(None)).order_by(Funder.name)
        )
        return [FunderChoice(fid, name) for fid, name in rows]


def list_payers(ctx: ServiceContext) -> list[FunderRow]:
    """Every payer, archived ones last, by name."""
    with ctx.read() as s:
        rows = s.scalars(select(Funder).where(Funder.deleted_at.is_(None)))
        out = [
            FunderRow(f.id, FunderKind(f.kind), f.name, f.email, f.business_number, f.phone,
                      f.archived_at is not None)
            for f in rows
        ]  # fmt: skip
    return sorted(out, key=lambda r: (r.archived, r.name.lower()))


def save_payer(ctx: ServiceContext, entry: FunderEntry, funder_id: str | None = None) -> str:
    """Add a payer (or change one). A missing name, a name another payer has, or an email
    address that is not one is refused beside its field. Returns the payer's id."""
    require(ctx.actor, Action.MANAGE_SETTINGS)
    name = " ".join(entry.name.split())
    email = entry.email.strip()
    if not name:
        raise ValidationFailed("Type the payer's name.", field="name")
    if email and not _EMAIL.match(email):
        raise ValidationFailed(f"{email} is not an email address.", field="email")
    with ctx.write("save a payer") as s:
        taken = s.scalars(
            select(Funder.id).where(
                Funder.name == name, Funder.archived_at.is_(None), Funder.deleted_at.is_(None)
            )
        ).first()
        if taken and taken != funder_id:
            raise ValidationFailed(f"There is already a payer called {name}.", field="name")
        if funder_id is None:
            funder = Funder(kind=FunderKind(entry.kind).value, name=name)
            s.add(funder)
        else:
            found = s.get(Funder, funder_id)
            if found is None or found.deleted_at is not None:
                raise NotFound("That payer no longer exists.")
            funder = found
            funder.kind, funder.name = FunderKind(entry.kind).value, name
        funder.email = email
        funder.business_number = entry.business_number.strip()
        funder.phone = entry.phone.strip()
        s.flush()
        return funder.id


def archive_payer(ctx: ServiceContext, funder_id: str) -> None:
    """Stop offering a payer (its invoices and plans keep it)."""
    require(ctx.actor, Action.MANAGE_SETTINGS)
    with ctx.write("archive a payer") as s:
        funder = s.get(Funder, funder_id)
        if funder is None:
            raise NotFound("That payer no longer exists.")
        funder.archived_at = ctx.clock.now()
