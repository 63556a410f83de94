"""SQL pieces the reports share: a stored UTC instant as clinic wall-clock time (exact across
daylight-saving changes, see domain/zone_spans.py), and the UTC bounds of a period."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.zone_spans import offset_spans
from frontdesk.services.permissions import Action, allowed, require
from frontdesk.services.report_types import Period
from frontdesk.store.context import ServiceContext


def stamp(at: datetime) -> str:
    # the stored form of UTCDateTime (db/types.py): naive UTC, microseconds
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def utc_bounds(ctx: ServiceContext, period: Period) -> tuple[str, str]:
    """The period's first and after-last instants, as stored strings to compare against."""
    start, _ = day_bounds_utc(period.first, ctx.tz)
    _, end = day_bounds_utc(period.last, ctx.tz)
    return stamp(start), stamp(end)


def local_time(ctx: ServiceContext, period: Period, column: str) -> str:
    """``datetime(column, '+N minutes')`` with N the clinic's offset at that instant, for
    instants within the period. ``column`` is a trusted column name, never user text."""
    start, _ = day_bounds_utc(period.first, ctx.tz)
    _, end = day_bounds_utc(period.last, ctx.tz)
    spans = offset_spans(ctx.tz, start, end)
    if len(spans) == 1:
        return f"datetime({column}, '{spans[0][1]:+d} minutes')"
    whens = " ".join(
        f"WHEN {column} < '{stamp(until)}' THEN '{offset:+d} minutes'"
        for until, offset in spans[:-1]
    )
    return f"datetime({column}, CASE {whens} ELSE '{spans[-1][1]:+d} minutes' END)"


def revenue_gate(ctx: ServiceContext, session: Session) -> None:
    """Money reports: reception is refused when the clinic hides revenue from reception."""
    hide = ctx.settings(session).hide_revenue_from_reception
    require(ctx.actor, Action.VIEW_REVENUE, hide_revenue_from_reception=hide)


def may_see_revenue(ctx: ServiceContext) -> bool:
    """Whether the signed-in person may see revenue (the same rule as ``revenue_gate``)."""
    with ctx.read() as session:
        hide = ctx.settings(session).hide_revenue_from_reception
    return allowed(ctx.actor.role, Action.VIEW_REVENUE, hide_revenue_from_reception=hide)
