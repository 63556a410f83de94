"""The owner's dashboard: today and this week at a glance, each figure beside the same period a
year earlier, and each naming the report (and period) a click on it opens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import text

from frontdesk.db.types import MICROS_PER_SECOND
from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.errors import PermissionDenied
from frontdesk.domain.money import format_money
from frontdesk.services import reports
from frontdesk.services.billing.payments import METHOD_LABELS
from frontdesk.services.permissions import Action, require
from frontdesk.services.report_sql import may_see_revenue, stamp, utc_bounds
from frontdesk.services.report_today import free_gaps, net_takings, owing
from frontdesk.services.report_types import Kind, Period
from frontdesk.store.context import ServiceContext

LATE_CANCEL_HOURS = 24


@dataclass(frozen=True)
class Figure:
    """One number on the dashboard. ``previous`` is the same period a year earlier (None when
    there is nothing to compare); ``report`` and ``period`` are what a click opens."""

    key: str
    title: str
    value: float | int | None
    kind: Kind
    report: str
    period: Period
    previous: float | int | None = None
    detail: tuple[tuple[str, str], ...] = ()
    parts: tuple[tuple[str, int], ...] = ()  # the figure's breakdown as numbers, for a chart
    up_is_good: bool = True  # more free gaps, owing or did-not-arrive is bad news

    @property
    def change_percent(self) -> float | None:
        if self.value is None or not self.previous:
            return None
        return 100.0 * (float(self.value) - float(self.previous)) / abs(float(self.previous))


@dataclass(frozen=True)
class PractitionerHours:
    name: str
    rostered_hours: float
    booked_hours: float


@dataclass(frozen=True)
class Dashboard:
    today: date
    figures: list[Figure]
    week_hours: list[PractitionerHours] = field(default_factory=list)
    revenue_hidden: bool = False

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


def week_of(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period(monday, monday + timedelta(days=6))


def _occupancy(ctx: ServiceContext, period: Period) -> tuple[float | None, list[PractitionerHours]]:
    report = reports.occupancy(ctx, period)
    hours = [PractitionerHours(r[0], r[1], r[2]) for r in report.rows]
    return (report.totals[3] if report.totals else None), hours


def _free_hours(ctx: ServiceContext, period: Period) -> tuple[int, int]:
    report = free_gaps(ctx, period)
    return len(report.rows), sum(r[4] for r in report.rows)


def attendance(
    ctx: ServiceContext, period: Period, until: datetime | None = None
) -> tuple[int, int]:
    """Did-not-arrive and late cancellations (24 hours or less before the start, as before the
    times were integers: the old text comparison counted exactly 24 hours) in the period,
    of appointments that started by ``until`` (the week so far against the same moment of
    the same week last year)."""
    a, b = utc_bounds(ctx, period)
    if until is not None:
        b = min(b, stamp(until))
    with ctx.read() as session:
        row = session.execute(
            text(
                "SELECT coalesce(sum(status = 'did_not_arrive'), 0), coalesce(sum(status = "
                "'cancelled' AND cancelled_at IS NOT NULL AND cancelled_at >= "
                f"starts_at - {LATE_CANCEL_HOURS * 3600 * MICROS_PER_SECOND}), 0) "
                "FROM appointments "
                "WHERE starts_at >= :a AND starts_at < :b AND deleted_at IS NULL"
            ),
            {"a": a, "b": b},
        ).one()
    return int(row[0]), int(row[1])


def _new_patients(ctx: ServiceContext, period: Period) -> int:
    totals = reports.new_patients(ctx, period).totals
    return int(totals[1]) if totals else 0


STEPS = 6


def _kept_records_by(ctx: ServiceContext, period: Period) -> bool:
    """Whether the clinic had any booking or payment by the end of ``period`` (its imported
    history counts): before that there is no figure to compare with, rather than a zero."""
    _, end = utc_bounds(ctx, period)
    with ctx.read() as session:
        found = session.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM appointments WHERE starts_at < :end)"
                " OR EXISTS (SELECT 1 FROM payments WHERE received_at < :end)"
            ),
            {"end": end},
        ).scalar()
    return bool(found)


def dashboard(
    ctx: ServiceContext,
    today: date | None = None,
    progress: Callable[[int, int, Dashboard], None] | None = None,
) -> Dashboard:
    """Every figure for ``today`` (the clinic's today unless given). ``progress(done, of,
    so_far)`` is called between figures with the dashboard so far (a screen can show it at
    once); it may raise to stop the work there."""
    require(ctx.actor, Action.VIEW_REPORTS)
    step = 0

    def tick() -> None:
        nonlocal step
        step += 1
        if progress is not None:
            assert today is not None  # set below, before the first tick
            progress(step, STEPS, Dashboard(today, list(figures), hours, not show_money))

    now = ctx.clock.now()
    if today is None:
        today = now.astimezone(ctx.tz).date()
    else:  # a day asked for: its figures as they stand at its end
        now = day_bounds_utc(today, ctx.tz)[1]
    year_ago = now - timedelta(days=364)
    show_money = may_see_revenue(ctx)
    week = week_of(today)
    month = Period(today.replace(day=1), today)
    day = Period(today, today)
    figures: list[Figure] = []

    occ, hours = _occupancy(ctx, week)
    last_week = week.a_year_earlier()
    had = _kept_records_by(ctx, last_week)
    occ_before = _occupancy(ctx, last_week)[0] if had else None
    booked = sum(h.booked_hours for h in hours)
    rostered = sum(h.rostered_hours for h in hours)
    figures.append(
        Figure("occupancy", "Booked this week", occ, "percent", "Occupancy", week, occ_before,
               (("Booked hours", f"{booked:,.1f}"), ("Rostered hours", f"{rostered:,.1f}")))
    )  # fmt: skip

    tick()
    two_days = Period(today, today + timedelta(days=1))
    gaps, free_minutes = _free_hours(ctx, two_days)
    two_days_before = two_days.a_year_earlier()
    gaps_before = (
        _free_hours(ctx, two_days_before)[0] if _kept_records_by(ctx, two_days_before) else None
    )
    figures.append(
        Figure("gaps", "Free gaps today and tomorrow", gaps, "int", "Free gaps", two_days,
               gaps_before, (("Free hours", f"{free_minutes / 60:,.1f}"),), up_is_good=False)
    )  # fmt: skip

    tick()
    if show_money:
        takings = net_takings(ctx, day, now)
        day_before = day.a_year_earlier()
        before = (
            sum(net_takings(ctx, day_before, year_ago).values())
            if _kept_records_by(ctx, day_before)
            else None
        )
        detail = tuple((METHOD_LABELS[m], format_money(c)) for m, c in takings.items() if c)
        figures.append(
            Figure("takings", "Takings today so far", sum(takings.values()), "money",
                   "Takings by method", day, before, detail,
                   tuple((METHOD_LABELS[m], c) for m, c in takings.items() if c))
        )  # fmt: skip
    tick()
    dna, late = attendance(ctx, week, now)
    missed_before = sum(attendance(ctx, last_week, year_ago)) if had else None
    figures.append(
        Figure("attendance", "Did not arrive and late cancellations so far this week", dna + late,
               "int", "Cancellations and did-not-arrive", week, missed_before,
               (("Did not arrive", str(dna)), ("Late cancellations", str(late))),
               up_is_good=False)
    )  # fmt: skip

    tick()
    new = _new_patients(ctx, month)
    last_month = month.a_year_earlier()
    new_before = _new_patients(ctx, last_month) if _kept_records_by(ctx, last_month) else None
    figures.append(
        Figure("new_patients", "New patients this month", new, "int", "New patients", month,
               new_before)
    )  # fmt: skip

    tick()
    # last: on a ten-year clinic the aged balances are the slowest figure (see docs/reports.md)
    try:
        owed = owing(ctx, day)
        total = owed.totals[-1] if owed.totals else 0
        figures.append(Figure("owing", "Owing", total, "money", "Owing", day, None,
                              (("Debtors", f"{len(owed.rows):,}"),),
                              up_is_good=False))  # fmt: skip
    except PermissionDenied:
        pass

    tick()
    return Dashboard(today, figures, hours, not show_money)
