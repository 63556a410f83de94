"""The payers a clinic bills besides patients (health funds, DVA, plan managers…), to choose
from in the catalogue's price list and on a patient's funding details."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from frontdesk.models import Funder
from frontdesk.store.context import ServiceContext


@dataclass(frozen=True)
class FunderChoice:
    id: str
    name: str


def list_funders(ctx: ServiceContext) -> list[FunderChoice]:
    """Funders still in use (not archived), by name."""
    with ctx.read() as session:
        rows = session.execute(
            select(Funder.id, Funder.name).where(Funder.archived_at.is_(None)).order_by(Funder.name)
        )
        return [FunderChoice(fid, name) for fid, name in rows]
