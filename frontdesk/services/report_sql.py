"""SQL pieces the reports share: a stored UTC instant as clinic wall-clock time (exact across
daylight-saving changes, see domain/zone_spans.py), and the UTC bounds of a period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from frontdesk.db.types import MICROS_PER_SECOND, sqlite_utc_value
from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.zone_spans import offset_spans
from frontdesk.services.permissions import Action, allowed, require
from frontdesk.services.report_types import Period
from frontdesk.store.context import ServiceContext


def stamp(at: datetime) -> int:
    """The stored form of UTCDateTime (db/types.py): integer microseconds since 1970 UTC."""
    return sqlite_utc_value(at)


def utc_bounds(ctx: ServiceContext, period: Period) -> tuple[int, int]:
    """The period's first and after-last instants, as stored values to compare against."""
    start, _ = day_bounds_utc(period.first, ctx.tz)
    _, end = day_bounds_utc(period.last, ctx.tz)
    return stamp(start), stamp(end)


def local_time(ctx: ServiceContext, period: Period, column: str) -> str:
    """The clinic's wall-clock time of a stored instant as text ``YYYY-MM-DD HH:MM:SS``:
    ``datetime(column / 1000000 + N * 60, 'unixepoch')`` with N the clinic's offset in minutes
    at that instant, for instants within the period. ``column`` is a trusted column name,
    never user text."""
    start, _ = day_bounds_utc(period.first, ctx.tz)
    _, end = day_bounds_utc(period.last, ctx.tz)
    spans = offset_spans(ctx.tz, start, end)
    seconds = f"{column} / {MICROS_PER_SECOND}"
    if len(spans) == 1:
        return f"datetime({seconds} + {spans[0][1] * 60}, 'unixepoch')"
    whens = " ".join(
        f"WHEN {column} < {stamp(until)} THEN {offset * 60}" for until, offset in spans[:-1]
    )
    return f"datetime({seconds} + CASE {whens} ELSE {spans[-1][1] * 60} END, 'unixepoch')"


def revenue_gate(ctx: ServiceContext, session: Session) -> None:
    """Money reports: reception is refused when the clinic hides revenue from reception."""
    hide = ctx.settings(session).hide_revenue_from_reception
    require(ctx.actor, Action.VIEW_REVENUE, hide_revenue_from_reception=hide)


def may_see_revenue(ctx: ServiceContext) -> bool:
    """Whether the signed-in person may see revenue (the same rule as ``revenue_gate``)."""
    with ctx.read() as session:
        hide = ctx.settings(session).hide_revenue_from_reception
    return allowed(ctx.actor.role, Action.VIEW_REVENUE, hide_revenue_from_reception=hide)
