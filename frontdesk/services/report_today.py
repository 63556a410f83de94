"""Reports behind the dashboard's day figures: takings by payment method (every desk), who owes
the clinic, and the gaps still free in practitioners' rosters."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import text

from frontdesk.db.types import UUIDKey
from frontdesk.domain.billing import AgeBucket
from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.occupancy import RosterRule, working_spans
from frontdesk.domain.vocab import PaymentMethod
from frontdesk.services.billing.ledger import aged_debtors
from frontdesk.services.billing.payments import METHOD_LABELS
from frontdesk.services.permissions import Action, require
from frontdesk.services.report_charts import leave_days, roster_rules
from frontdesk.services.report_sql import local_time, revenue_gate, stamp, utc_bounds
from frontdesk.services.report_types import Chart, Column, Period, Report, Series, with_totals
from frontdesk.store.context import ServiceContext

MIN_GAP_MINUTES = 15


def net_takings(
    ctx: ServiceContext, period: Period, until: datetime | None = None
) -> dict[PaymentMethod, int]:
    """Money in less money out on the business days of the period, every desk, by method;
    with ``until``, only what was received by then (today so far against the same hour a
    year ago)."""
    with ctx.read() as session:
        revenue_gate(ctx, session)
        rows = session.execute(
            text(
                "SELECT p.method, sum(CASE WHEN p.kind = 'payment' THEN p.amount_cents "
                "WHEN p.kind = 'refund' THEN -p.amount_cents "
                "WHEN t.kind = 'refund' THEN p.amount_cents ELSE -p.amount_cents END) "
                "FROM payments p LEFT JOIN payments t ON t.id = p.reverses_payment_id "
                "WHERE p.business_date >= :a AND p.business_date <= :b AND p.deleted_at IS NULL "
                "AND p.received_at <= :until GROUP BY p.method"
            ),
            {
                "a": period.first.isoformat(),
                "b": period.last.isoformat(),
                "until": stamp(until) if until else 2**63 - 1,  # no bound: the largest integer
            },
        ).all()
    return {PaymentMethod(m): int(c) for m, c in rows}


def takings_by_method(ctx: ServiceContext, period: Period) -> Report:
    by_method = net_takings(ctx, period)
    rows = [
        (METHOD_LABELS[m], by_method[m])
        for m in PaymentMethod
        if by_method.get(m)  # a method nobody used stays off the list
    ]
    chart = Chart("bar", tuple(r[0] for r in rows), (Series("Net", tuple(r[1] for r in rows)),),
                  "money", "Net takings by method")  # fmt: skip
    cols = (Column("Method"), Column("Net takings", "money"))
    note = "Payments less refunds and reversals, on every desk, by business day."
    return with_totals("Takings by method", cols, rows, charts=(chart,), note=note)


def owing(ctx: ServiceContext, period: Period) -> Report:
    """Who owes the clinic as at the period's last day, aged from the date of issue."""
    require(ctx.actor, Action.VIEW_REPORTS)
    aged = aged_debtors(ctx, period.last)
    rows = [
        (r.name, "Payer" if r.is_payer else "Patient", *(r.buckets[b] for b in AgeBucket),
         r.total_cents)
        for r in aged.rows
    ]  # fmt: skip
    cols = (Column("Debtor"), Column("Kind"), *(Column(b.label, "money") for b in AgeBucket),
            Column("Owing", "money"))  # fmt: skip
    chart = Chart("bar", tuple(b.label for b in AgeBucket),
                  (Series("Owing", tuple(aged.totals[b] for b in AgeBucket)),), "money",
                  "Owing by age")  # fmt: skip
    return with_totals("Owing", cols, rows, charts=(chart,))


def _subtract(spans: list[tuple[int, int]], busy: list[tuple[int, int]]) -> list[tuple[int, int]]:
    for b_start, b_end in sorted(busy):
        cut: list[tuple[int, int]] = []
        for start, end in spans:
            if b_end <= start or b_start >= end:
                cut.append((start, end))
                continue
            if start < b_start:
                cut.append((start, b_start))
            if b_end < end:
                cut.append((b_end, end))
        spans = cut
    return spans


def free_gaps(ctx: ServiceContext, period: Period) -> Report:
    """Rostered time nobody has booked, as gaps of at least 15 minutes, per practitioner."""
    require(ctx.actor, Action.VIEW_REPORTS)
    if period.days > 62:
        period = Period(period.first, period.first + timedelta(days=61))
    a, b = utc_bounds(ctx, period)
    ls, le = local_time(ctx, period, "a.starts_at"), local_time(ctx, period, "a.ends_at")
    with ctx.read() as session:
        names: dict[str, str] = dict(
            session.execute(  # type: ignore[arg-type]
                text(
                    "SELECT id, display_name FROM practitioners WHERE archived_at IS NULL "
                    "AND deleted_at IS NULL ORDER BY sort_order, display_name"
                ).columns(id=UUIDKey())
            ).all()
        )
        booked = session.execute(
            text(
                f"SELECT a.practitioner_id, {ls}, {le} FROM appointments a "
                "WHERE a.starts_at < :b AND a.starts_at >= :from AND a.ends_at > :a "
                "AND a.status != 'cancelled' AND a.deleted_at IS NULL"
            ).columns(practitioner_id=UUIDKey()),
            # appointments start less than a day before they end: the start index bounds both
            {
                "a": a,
                "b": b,
                "from": stamp(day_bounds_utc(period.first, ctx.tz)[0] - timedelta(days=1)),
            },
        ).all()
    busy: dict[tuple[str, date], list[tuple[int, int]]] = defaultdict(list)
    for pid, start, end in booked:
        s_day, e_day = date.fromisoformat(start[:10]), date.fromisoformat(end[:10])
        s_min = int(start[11:13]) * 60 + int(start[14:16])
        e_min = int(end[11:13]) * 60 + int(end[14:16]) if e_day == s_day else 1440
        busy[(pid, s_day)].append((s_min, e_min))
    rules: dict[str, list[RosterRule]] = roster_rules(ctx, None)
    off = leave_days(ctx, period)
    rows = []
    for pid, name in names.items():
        day = period.first
        while day <= period.last:
            if day not in off[pid] | off[None]:
                spans = working_spans(
                    [r for r in rules.get(pid, ()) if r.weekday == day.weekday()], day
                )
                for start, end in _subtract(spans, busy[(pid, day)]):
                    if end - start >= MIN_GAP_MINUTES:
                        rows.append((name, day.strftime("%a %d/%m/%Y"), _hm(start), _hm(end),
                                     end - start))  # fmt: skip
            day += timedelta(days=1)
    cols = (Column("Practitioner"), Column("Day"), Column("From"), Column("To"),
            Column("Free minutes", "int"))  # fmt: skip
    free: dict[str, int] = defaultdict(int)
    for r in rows:
        free[r[0]] += r[4]
    chart = Chart("bar", tuple(free), (Series("Free hours", tuple(round(v / 60, 1) for v in
                  free.values())),), "hours", "Free hours by practitioner")  # fmt: skip
    return with_totals("Free gaps", cols, rows, charts=(chart,))


def _hm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
