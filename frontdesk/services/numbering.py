"""Human numbers from the desk's own series: gapless, assigned inside the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from frontdesk.domain.vocab import SeriesKind
from frontdesk.models.system import NumberSeries

DEFAULT_PREFIXES = {
    SeriesKind.INVOICE: "INV",
    SeriesKind.CREDIT_NOTE: "CN",
    SeriesKind.PATIENT: "P",
    SeriesKind.RECEIPT: "R",
}


def ensure_series(session: Session, now: datetime, prefix_base: str | None = None) -> None:
    """Create an active series of every kind that has none (first start of a desk)."""
    for kind, default in DEFAULT_PREFIXES.items():
        active = session.scalars(
            select(NumberSeries).where(NumberSeries.kind == kind, NumberSeries.active)
        ).first()
        if active is None:
            prefix = f"{prefix_base}{default}" if prefix_base else default
            session.add(NumberSeries(kind=kind, prefix=prefix, created_at=now))
    session.flush()


def start_series(session: Session, kind: SeriesKind, prefix: str, now: datetime) -> NumberSeries:
    """Retire the active series of ``kind`` and start a new one (e.g. after enrolment)."""
    session.execute(
        update(NumberSeries)
        .where(NumberSeries.kind == kind, NumberSeries.active)
        .values(active=False)
    )
    series = NumberSeries(kind=kind, prefix=prefix, created_at=now)
    session.add(series)
    session.flush()
    return series


def next_number(session: Session, kind: SeriesKind) -> tuple[str, str]:
    """(series id, formatted number). The caller's write transaction holds the lock, so the
    increment and the row that uses the number commit together or not at all: no gaps."""
    series = session.scalars(
        select(NumberSeries).where(NumberSeries.kind == kind, NumberSeries.active)
    ).one()
    value = series.next_value
    series.next_value = value + 1
    session.flush()
    sep = "" if series.prefix.endswith("-") else "-"
    return series.id, f"{series.prefix}{sep}{value:0{series.width}d}"


def placeholder_series(entity: str, series_id: str, created_at: datetime | None) -> dict[str, Any]:
    """An inactive stand-in for another desk's series, named by an invoice or credit note that
    arrived by sync (the foreign key needs a row; this desk never numbers from it)."""
    return {
        "id": series_id,
        "kind": SeriesKind.INVOICE if entity == "invoices" else SeriesKind.CREDIT_NOTE,
        "prefix": f"~{series_id[-11:]}",
        "width": 6,
        "next_value": 1,
        "active": False,
        "created_at": created_at or datetime.now(UTC),
    }
