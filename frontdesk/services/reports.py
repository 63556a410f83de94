"""Reports: revenue by practitioner, service and payer; occupancy; cancellations and
did-not-arrive; new patients. Each is one aggregate query (or a few) over a date range in the
clinic's time zone, returned as a typed table the UI shows and exports to CSV."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Float, Integer, and_, case, func, select, text, type_coerce

from frontdesk.db.types import MICROS_PER_MINUTE
from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.occupancy import RosterRule, rostered_minutes
from frontdesk.domain.spreadsheet import safe_row
from frontdesk.domain.vocab import AppointmentStatus, CancellationReason, InvoiceStatus
from frontdesk.models import (
    Appointment,
    CatalogueItem,
    Funder,
    Invoice,
    InvoiceLine,
    Leave,
    Practitioner,
    RosterEntry,
)
from frontdesk.services import report_charts, report_today
from frontdesk.services.permissions import Action, require
from frontdesk.services.report_sql import revenue_gate, utc_bounds
from frontdesk.services.report_types import Column, Period, Report, with_totals
from frontdesk.store.context import ServiceContext

__all__ = ["MONEY_REPORTS", "REPORTS", "Column", "Period", "Report", "export_csv"]


def _bounds(ctx: ServiceContext, period: Period) -> tuple[datetime, datetime]:
    start, _ = day_bounds_utc(period.first, ctx.tz)
    _, end = day_bounds_utc(period.last, ctx.tz)
    return start, end


_revenue_gate = revenue_gate


def _issued_in(period: Period) -> Any:
    return and_(
        Invoice.status == InvoiceStatus.ISSUED,
        Invoice.issue_date >= period.first,
        Invoice.issue_date <= period.last,
    )


def revenue_by_practitioner(ctx: ServiceContext, period: Period) -> Report:
    with ctx.read() as session:
        _revenue_gate(ctx, session)
        rows = session.execute(
            select(
                func.coalesce(Practitioner.display_name, "(no practitioner)"),
                func.count(Invoice.id),
                func.sum(Invoice.total_cents),
                func.sum(Invoice.tax_cents),
            )
            .select_from(Invoice)
            .outerjoin(Practitioner, Practitioner.id == Invoice.practitioner_id)
            .where(_issued_in(period))
            .group_by(Practitioner.display_name)
            .order_by(func.sum(Invoice.total_cents).desc())
        ).all()
    cols = (Column("Practitioner"), Column("Invoices", "int"), Column("Invoiced", "money"),
            Column("GST", "money"))  # fmt: skip
    return _with_totals("Revenue by practitioner", cols, [tuple(r) for r in rows])


def revenue_by_service(ctx: ServiceContext, period: Period) -> Report:
    with ctx.read() as session:
        _revenue_gate(ctx, session)
        rows = session.execute(
            select(
                func.coalesce(CatalogueItem.name, InvoiceLine.description),
                func.sum(InvoiceLine.quantity),
                func.sum(InvoiceLine.total_cents),
            )
            .select_from(InvoiceLine)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .outerjoin(CatalogueItem, CatalogueItem.id == InvoiceLine.catalogue_item_id)
            .where(_issued_in(period))
            .group_by(func.coalesce(CatalogueItem.name, InvoiceLine.description))
            .order_by(func.sum(InvoiceLine.total_cents).desc())
        ).all()
    cols = (Column("Service or product"), Column("Quantity", "int"), Column("Invoiced", "money"))
    return _with_totals("Revenue by service", cols, [tuple(r) for r in rows])


def revenue_by_payer(ctx: ServiceContext, period: Period) -> Report:
    with ctx.read() as session:
        _revenue_gate(ctx, session)
        rows = session.execute(
            select(
                func.coalesce(Funder.name, "Patients (private)"),
                func.count(Invoice.id),
                func.sum(Invoice.total_cents),
            )
            .select_from(Invoice)
            .outerjoin(Funder, Funder.id == Invoice.payer_funder_id)
            .where(_issued_in(period))
            .group_by(Funder.name)
            .order_by(func.sum(Invoice.total_cents).desc())
        ).all()
    cols = (Column("Payer"), Column("Invoices", "int"), Column("Invoiced", "money"))
    return _with_totals("Revenue by payer", cols, [tuple(r) for r in rows])


def occupancy(ctx: ServiceContext, period: Period) -> Report:
    """Booked minutes (not cancelled) against rostered minutes, per practitioner."""
    require(ctx.actor, Action.VIEW_REPORTS)
    start, end = _bounds(ctx, period)
    # stored times are integer microseconds (db/types.py)
    length = type_coerce(Appointment.ends_at, Integer) - type_coerce(Appointment.starts_at, Integer)
    minutes = type_coerce(length / float(MICROS_PER_MINUTE), Float)
    with ctx.read() as session:
        pracs = session.execute(
            select(Practitioner.id, Practitioner.display_name)
            .where(Practitioner.archived_at.is_(None))
            .order_by(Practitioner.sort_order, Practitioner.display_name)
        ).all()
        booked: dict[str, float] = dict(
            session.execute(
                select(Appointment.practitioner_id, func.sum(minutes))
                .where(
                    Appointment.starts_at >= start,
                    Appointment.starts_at < end,
                    Appointment.status != AppointmentStatus.CANCELLED,
                    Appointment.deleted_at.is_(None),
                )
                .group_by(Appointment.practitioner_id)
            ).all()
        )
        rules: dict[str, list[RosterRule]] = defaultdict(list)
        for e in session.scalars(select(RosterEntry).where(RosterEntry.deleted_at.is_(None))):
            rules[e.practitioner_id].append(
                RosterRule(
                    e.weekday,
                    e.start_minute,
                    e.end_minute,
                    e.every_weeks,
                    e.week_offset,
                    e.effective_from,
                    e.effective_until,
                    e.kind == "break",
                )
            )
        off: dict[str | None, set[date]] = defaultdict(set)
        for lv in session.scalars(
            select(Leave).where(
                Leave.starts_at < end, Leave.ends_at > start, Leave.deleted_at.is_(None)
            )
        ):
            if lv.practitioner_id is None and (lv.room_id or lv.location_id):
                continue  # a room or one location closed: the practitioner may work elsewhere
            day = lv.starts_at.astimezone(ctx.tz).date()
            while day < lv.ends_at.astimezone(ctx.tz).date():
                off[lv.practitioner_id].add(day)
                day += timedelta(days=1)
    rows = []
    for pid, name in pracs:
        # closures of the whole clinic (no practitioner) are everyone's days off
        days_off = off[pid] | off[None]
        rostered = rostered_minutes(rules[pid], period.first, period.last, days_off)
        used = round(booked.get(pid) or 0)
        pct = 100.0 * used / rostered if rostered else None
        rows.append((name, round(rostered / 60, 1), round(used / 60, 1), pct))
    total_r = sum(r[1] for r in rows)
    total_b = sum(r[2] for r in rows)
    cols = (Column("Practitioner"), Column("Rostered hours", "hours"),
            Column("Booked hours", "hours"), Column("Occupancy", "percent"))  # fmt: skip
    totals = ("Total", round(total_r, 1), round(total_b, 1),
              100.0 * total_b / total_r if total_r else None)  # fmt: skip
    return Report("Occupancy", cols, rows, totals)


def cancellations(ctx: ServiceContext, period: Period) -> Report:
    require(ctx.actor, Action.VIEW_REPORTS)
    start, end = _bounds(ctx, period)
    reason_cols = [
        func.sum(case((Appointment.cancellation_reason == r.value, 1), else_=0))
        for r in CancellationReason
    ]
    with ctx.read() as session:
        rows = session.execute(
            select(
                Practitioner.display_name,
                func.count(Appointment.id),
                func.sum(case((Appointment.status == AppointmentStatus.CANCELLED, 1), else_=0)),
                func.sum(
                    case((Appointment.status == AppointmentStatus.DID_NOT_ARRIVE, 1), else_=0)
                ),
                *reason_cols,
            )
            .join(Practitioner, Practitioner.id == Appointment.practitioner_id)
            .where(Appointment.starts_at >= start, Appointment.starts_at < end)
            .group_by(Practitioner.display_name)
            .order_by(Practitioner.display_name)
        ).all()
    cols = (Column("Practitioner"), Column("Appointments", "int"), Column("Cancelled", "int"),
            Column("Did not arrive", "int"),
            *(Column(r.label, "int") for r in CancellationReason))  # fmt: skip
    return _with_totals("Cancellations and did-not-arrive", cols, [tuple(r) for r in rows])


def new_patients(ctx: ServiceContext, period: Period) -> Report:
    """Patients whose first (not cancelled) appointment falls in the period, by practitioner.

    Read from each patient's first visit, which the database keeps by trigger
    (db/report_summary.py): a month on a ten-year clinic reads that month's new patients,
    not every patient seen in it and their history."""
    require(ctx.actor, Action.VIEW_REPORTS)
    a, b = utc_bounds(ctx, period)
    with ctx.read() as session:
        rows = session.execute(
            text(
                "SELECT coalesce(p.display_name, '(no practitioner)'), count(*) "
                "FROM report_summary_first_visits f "
                "LEFT JOIN practitioners p ON p.id = f.practitioner_id "
                "WHERE f.first_at >= :a AND f.first_at < :b "
                "GROUP BY 1 ORDER BY 2 DESC, 1"
            ),
            {"a": a, "b": b},
        ).all()
    cols = (Column("Practitioner"), Column("New patients", "int"))
    return _with_totals("New patients", cols, [tuple(r) for r in rows])


_with_totals = with_totals


REPORTS: dict[str, Callable[[ServiceContext, Period], Report]] = {
    "Revenue by practitioner": revenue_by_practitioner,
    "Revenue by service": revenue_by_service,
    "Revenue by payer": revenue_by_payer,
    "Occupancy": occupancy,
    "Cancellations and did-not-arrive": cancellations,
    "New patients": new_patients,
    "Revenue by month (by practitioner)": report_charts.revenue_by_month,
    "Revenue by month (by payer)": report_charts.revenue_by_month_payer,
    "Occupancy by weekday and hour": report_charts.occupancy_heatmap,
    "Cancellations by reason over time": report_charts.cancellations_over_time,
    "New and returning patients": report_charts.new_and_returning,
    "Practitioners compared": report_charts.practitioner_comparison,
    "Takings by method": report_today.takings_by_method,
    "Owing": report_today.owing,
    "Free gaps": report_today.free_gaps,
}
# Reports about money: hidden from reception when the clinic says so (the same rule the
# services enforce; the screen only leaves them out of the list).
MONEY_REPORTS = frozenset(
    {
        "Revenue by practitioner",
        "Revenue by service",
        "Revenue by payer",
        "Revenue by month (by practitioner)",
        "Revenue by month (by payer)",
        "Takings by method",
    }
)


def export_csv(report: Report, path: Path, symbol: str = "$") -> None:  # kept for callers
    """Write the report as CSV (UTF-8 with BOM so spreadsheet programs read accents)."""
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(safe_row([c.title for c in report.columns]))
        for row in report.rows:
            writer.writerow(safe_row(report.formatted(row, symbol)))
        if report.totals:
            writer.writerow(safe_row(report.formatted(report.totals, symbol)))
