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


def resume_series(session: Session, kind: SeriesKind, prefix: str) -> bool:
    """Make the series ``prefix`` of ``kind`` the active one again, if this desk has it."""
    series = session.scalars(
        select(NumberSeries).where(NumberSeries.kind == kind, NumberSeries.prefix == prefix)
    ).first()
    if series is None:
        return False
    if not series.active:
        session.execute(
            update(NumberSeries)
            .where(NumberSeries.kind == kind, NumberSeries.active)
            .values(active=False)
        )
        series.active = True
    return True


# Letters for restore marks: digits and capitals without I, L, O and U (easily misread).
_MARK_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def start_new_generation(
    session: Session, now: datetime, token: str, *, root: str | None = None
) -> str:
    """After a restore from a backup: numbers handed out after that backup was made (printed
    invoices, receipts, patient cards) are unknown here, so carry on from fresh series that can
    never repeat them: ``D1`` becomes ``D1.7KX`` (three characters drawn from ``token``, a
    random id, because two restores of one backup cannot know about each other). ``root``: the
    series to carry on from when it is not the restored one's (a backup of another desk).
    Returns the new invoice prefix."""
    active = {
        s.kind: s.prefix for s in session.scalars(select(NumberSeries).where(NumberSeries.active))
    }
    base = active.get(SeriesKind.INVOICE, DEFAULT_PREFIXES[SeriesKind.INVOICE])
    root = (root or base).split(".", 1)[0]
    bits = int(token.replace("-", "")[-8:], 16)
    mark = "".join(_MARK_ALPHABET[(bits >> (5 * i)) & 31] for i in range(3))
    new_base = f"{root}.{mark}"
    for kind in SeriesKind:
        old = active.get(kind, DEFAULT_PREFIXES[kind])
        suffix = old[len(base) :] if old.startswith(base) else old
        start_series(session, kind, f"{new_base}{suffix}", now)
    return new_base


def next_number(session: Session, kind: SeriesKind) -> tuple[str, str]:
    """(series id, formatted number). The caller's write transaction holds the lock, so the
    increment and the row that uses the number commit together or not at all: no gaps."""
    series = session.scalars(
        select(NumberSeries).where(NumberSeries.kind == kind, NumberSeries.active)
    ).one()
    value = series.next_value
    series.next_value = value + 1
    session.flush()
    return series.id, _formatted(series, value)


def reserve_numbers(session: Session, kind: SeriesKind, count: int) -> list[str]:
    """``count`` consecutive numbers of this desk's series, in the caller's transaction."""
    series = session.scalars(
        select(NumberSeries).where(NumberSeries.kind == kind, NumberSeries.active)
    ).one()
    first = series.next_value
    series.next_value = first + count
    session.flush()
    return [_formatted(series, n) for n in range(first, first + count)]


def _formatted(series: NumberSeries, value: int) -> str:
    sep = "" if series.prefix.endswith("-") else "-"
    return f"{series.prefix}{sep}{value:0{series.width}d}"


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
