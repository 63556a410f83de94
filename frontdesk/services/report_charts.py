"""Reports owners read as pictures: revenue by month (stacked by practitioner or payer),
occupancy by weekday and hour (a heat map), cancellations and did-not-arrive by reason over
time, new and returning patients, and practitioners compared (visits per patient, rebooking).

Each is a few aggregate queries in clinic wall-clock time (``report_sql.local_time``) and
returns a ``Report`` whose chart is drawn from the same numbers as its table."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import text

from frontdesk.db.types import (
    MICROS_PER_MINUTE,
    MICROS_PER_SECOND,
    UUIDKey,
    key_blob,
    maybe_key_blob,
)
from frontdesk.domain.occupancy import RosterRule, working_spans
from frontdesk.domain.vocab import CancellationReason
from frontdesk.services.permissions import Action, require
from frontdesk.services.report_sql import local_time, revenue_gate, utc_bounds
from frontdesk.services.report_types import (
    Chart,
    Column,
    Period,
    Report,
    Series,
    fold_series,
    with_totals,
)
from frontdesk.store.context import ServiceContext

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_NOT_CANCELLED = "a.status != 'cancelled' AND a.deleted_at IS NULL"
_VISIT = "a.status NOT IN ('cancelled', 'did_not_arrive') AND a.deleted_at IS NULL"


def _months(period: Period) -> list[str]:
    out, y, m = [], period.first.year, period.first.month
    while (y, m) <= (period.last.year, period.last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _month_label(key: str) -> str:
    return date(int(key[:4]), int(key[5:7]), 1).strftime("%b %Y")


def revenue_by_month(
    ctx: ServiceContext, period: Period, by: Literal["practitioner", "payer"] = "practitioner"
) -> Report:
    """Issued invoices by month of issue, split by practitioner or by payer (integer cents)."""
    if by == "practitioner":
        name = "coalesce(p.display_name, '(no practitioner)')"
        join = "LEFT JOIN practitioners p ON p.id = i.practitioner_id"
    else:
        name = "coalesce(f.name, 'Patients (private)')"
        join = "LEFT JOIN funders f ON f.id = i.payer_funder_id"
    with ctx.read() as session:
        revenue_gate(ctx, session)
        # the summary the triggers keep per day × practitioner × payer (db/report_summary.py)
        rows = session.execute(
            text(
                f"SELECT substr(i.issue_date, 1, 7), {name}, sum(i.total_cents) "
                f"FROM report_summary_revenue i {join} WHERE i.invoices != 0 "
                "AND i.issue_date >= :a AND i.issue_date <= :b GROUP BY 1, 2"
            ),
            {"a": period.first.isoformat(), "b": period.last.isoformat()},
        ).all()
    months = _months(period)
    cells: dict[str, dict[str, int]] = defaultdict(dict)
    for month, who, cents in rows:
        cells[who][month] = int(cents)
    names = sorted(cells, key=lambda n: -sum(cells[n].values()))
    cols = (Column("Month"), *(Column(n, "money") for n in names), Column("Total", "money"))
    table = []
    for m in months:
        values = [cells[n].get(m, 0) for n in names]
        table.append((_month_label(m), *values, sum(values)))
    chart = Chart(
        "stacked_bar",
        tuple(_month_label(m) for m in months),
        fold_series(tuple(Series(n, tuple(cells[n].get(m, 0) for m in months)) for n in names)),
        "money",
        f"Invoiced by month, by {by}",
    )
    return with_totals(f"Revenue by month (by {by})", cols, table, charts=(chart,))


def revenue_by_month_payer(ctx: ServiceContext, period: Period) -> Report:
    return revenue_by_month(ctx, period, "payer")


def roster_rules(ctx: ServiceContext, practitioner_id: str | None) -> dict[str, list[RosterRule]]:
    where = "AND practitioner_id = :p" if practitioner_id else ""
    with ctx.read() as session:
        rows = session.execute(
            text(
                "SELECT practitioner_id, weekday, start_minute, end_minute, every_weeks, "
                "week_offset, effective_from, effective_until, kind FROM roster_entries "
                f"WHERE deleted_at IS NULL {where}"
            ).columns(practitioner_id=UUIDKey()),
            {"p": maybe_key_blob(practitioner_id)},
        ).all()
    rules: dict[str, list[RosterRule]] = defaultdict(list)
    for r in rows:
        until = date.fromisoformat(r[7]) if r[7] else None
        rules[r[0]].append(
            RosterRule(
                r[1], r[2], r[3], r[4], r[5], date.fromisoformat(r[6]), until, r[8] == "break"
            )
        )
    return rules


def leave_days(ctx: ServiceContext, period: Period) -> dict[str | None, set[date]]:
    a, b = utc_bounds(ctx, period)
    lt_s, lt_e = local_time(ctx, period, "starts_at"), local_time(ctx, period, "ends_at")
    with ctx.read() as session:
        rows = session.execute(
            text(
                f"SELECT practitioner_id, date({lt_s}), date({lt_e}) FROM leave "
                "WHERE starts_at < :b AND ends_at > :a AND deleted_at IS NULL "
                "AND NOT (practitioner_id IS NULL AND (room_id IS NOT NULL "
                "OR location_id IS NOT NULL))"
            ).columns(practitioner_id=UUIDKey()),
            {"a": a, "b": b},
        ).all()
    off: dict[str | None, set[date]] = defaultdict(set)
    for pid, first, last in rows:
        day, end = date.fromisoformat(first), date.fromisoformat(last)
        while day < end:
            off[pid].add(day)
            day += timedelta(days=1)
    return off


def _spread(
    cells: dict[tuple[int, int], float], weekday: int, start: int, minutes: float, sign: float = 1
) -> None:
    """Add ``minutes`` (times ``sign``) from minute-of-day ``start`` into (weekday, hour) cells;
    what runs past midnight stays in the last hour of the day."""
    at, left = start, minutes
    while left > 0:
        take = left if at >= 1380 else min(left, 60 - at % 60)
        cells[(weekday, min(at, 1439) // 60)] += sign * take
        at += 60 - at % 60
        left -= take


def _booked_query(
    ctx: ServiceContext, period: Period, practitioner_id: str | None, a: int, b: int
) -> tuple[Any, dict[str, Any]]:
    """Live appointments not cancelled, counted by clinic-time start (weekday, hour, minute)
    and length: the whole clinic from the summary the triggers keep per UTC start
    (db/report_summary.py), one practitioner from the appointments themselves."""
    if practitioner_id:
        lt = local_time(ctx, period, "a.starts_at")
        sql = (
            f"SELECT strftime('%w %H %M', {lt}), "
            f"CAST(round((a.ends_at - a.starts_at) / {float(MICROS_PER_MINUTE)}) AS INTEGER), "
            f"count(*) FROM appointments a WHERE a.starts_at >= :a AND a.starts_at < :b "
            f"AND {_NOT_CANCELLED} AND a.practitioner_id = :p GROUP BY 1, 2"
        )
        return text(sql), {"a": a, "b": b, "p": key_blob(practitioner_id)}
    # the summary's UTC day and minute as a stored instant (integer microseconds)
    second = MICROS_PER_SECOND
    start = f"((CAST(strftime('%s', s.day) AS INTEGER) + s.start_minute * 60) * {second})"
    lt = local_time(ctx, period, start)
    sql = (
        f"SELECT strftime('%w %H %M', {lt}), s.minutes, sum(s.appointments) "
        f"FROM report_summary_booked s WHERE s.day >= date(:a / {second}, 'unixepoch') "
        f"AND s.day <= date(:b / {second}, 'unixepoch') AND {start} >= :a AND {start} < :b "
        "AND s.appointments != 0 GROUP BY 1, 2"
    )
    return text(sql), {"a": a, "b": b}


def occupancy_heatmap(
    ctx: ServiceContext, period: Period, practitioner_id: str | None = None
) -> Report:
    """Booked minutes over rostered minutes by weekday and hour of day (clinic time)."""
    require(ctx.actor, Action.VIEW_REPORTS)
    a, b = utc_bounds(ctx, period)
    with ctx.read() as session:
        booked_rows = session.execute(*_booked_query(ctx, period, practitioner_id, a, b)).all()
    booked: dict[tuple[int, int], float] = defaultdict(float)
    for key, minutes, n in booked_rows:
        w, h, m = (int(x) for x in key.split())
        _spread(booked, (w - 1) % 7, h * 60 + m, float(minutes), n)  # %w: Sunday is 0
    rostered: dict[tuple[int, int], float] = defaultdict(float)
    off = leave_days(ctx, period)
    for pid, rules in roster_rules(ctx, practitioner_id).items():
        days_off = off[pid] | off[None]
        by_weekday: dict[int, list[RosterRule]] = defaultdict(list)
        for rule in rules:
            by_weekday[rule.weekday].append(rule)
        day = period.first
        while day <= period.last:
            if day not in days_off:
                for start, end in working_spans(by_weekday.get(day.weekday(), ()), day):
                    _spread(rostered, day.weekday(), start, end - start)
            day += timedelta(days=1)
    hours = sorted({h for (_, h), v in rostered.items() if v > 0} | {h for (_, h) in booked})
    if hours:
        hours = list(range(min(hours), max(hours) + 1))
    table, series = [], []
    for wd, label in enumerate(WEEKDAYS):
        values: list[float | None] = []
        for h in hours:
            r = rostered.get((wd, h), 0.0)
            values.append(round(100.0 * booked.get((wd, h), 0.0) / r, 1) if r > 0 else None)
        table.append((label, *values))
        series.append(Series(label, tuple(values)))
    cols = (Column("Day"), *(Column(f"{h:02d}:00", "percent") for h in hours))
    chart = Chart("heatmap", tuple(f"{h:02d}" for h in hours), tuple(series), "percent",
                  "Booked share of rostered time by weekday and hour")  # fmt: skip
    note = "Each cell: booked minutes ÷ rostered minutes in that hour of that weekday."
    return Report("Occupancy by weekday and hour", cols, table, None, (chart,), note)


def cancellations_over_time(ctx: ServiceContext, period: Period) -> Report:
    """Cancellations by reason and did-not-arrive, by month of the appointment."""
    require(ctx.actor, Action.VIEW_REPORTS)
    a, b = utc_bounds(ctx, period)
    lt = local_time(ctx, period, "a.starts_at")
    with ctx.read() as session:
        rows = session.execute(
            text(
                f"SELECT substr({lt}, 1, 7), a.status, coalesce(a.cancellation_reason, 'other'), "
                "count(*) FROM appointments a WHERE a.starts_at >= :a AND a.starts_at < :b "
                "AND a.status IN ('cancelled', 'did_not_arrive') AND a.deleted_at IS NULL "
                "GROUP BY 1, 2, 3"
            ),
            {"a": a, "b": b},
        ).all()
    months = _months(period)
    names = [r.label for r in CancellationReason] + ["Did not arrive"]
    cells: dict[str, dict[str, int]] = defaultdict(dict)
    for month, status, reason, n in rows:
        key = "Did not arrive" if status == "did_not_arrive" else CancellationReason(reason).label
        cells[key][month] = cells[key].get(month, 0) + int(n)
    table = []
    for m in months:
        values = [cells[n].get(m, 0) for n in names]
        table.append((_month_label(m), *values, sum(values)))
    cols = (Column("Month"), *(Column(n, "int") for n in names), Column("Total", "int"))
    chart = Chart(
        "stacked_bar",
        tuple(_month_label(m) for m in months),
        tuple(Series(n, tuple(cells[n].get(m, 0) for m in months)) for n in names),
        "int",
        "Cancellations by reason and did-not-arrive",
    )
    return with_totals("Cancellations by reason over time", cols, table, charts=(chart,))


def new_and_returning(ctx: ServiceContext, period: Period) -> Report:
    """Patients seen each month (an appointment not cancelled), new (their first ever) or
    returning. "New" agrees with the New patients report."""
    require(ctx.actor, Action.VIEW_REPORTS)
    a, b = utc_bounds(ctx, period)
    lt = local_time(ctx, period, "first_at")
    with ctx.read() as session:
        rows = session.execute(
            text(
                "WITH seen AS (SELECT a.patient_id, min(a.starts_at) AS first_at "
                f"FROM appointments a WHERE a.starts_at >= :a AND a.starts_at < :b "
                f"AND a.patient_id IS NOT NULL AND {_NOT_CANCELLED} GROUP BY a.patient_id, "
                f"substr({local_time(ctx, period, 'a.starts_at')}, 1, 7)) "
                f"SELECT substr({lt}, 1, 7), count(*), sum(NOT EXISTS (SELECT 1 FROM "
                "appointments e WHERE e.patient_id = seen.patient_id "
                "AND e.starts_at < seen.first_at AND e.status != 'cancelled' "
                "AND e.deleted_at IS NULL)) FROM seen GROUP BY 1"
            ),
            {"a": a, "b": b},
        ).all()
    by_month = {m: (int(total), int(new)) for m, total, new in rows}
    months = _months(period)
    table = []
    for m in months:
        total, new = by_month.get(m, (0, 0))
        table.append((_month_label(m), new, total - new, total))
    cols = (Column("Month"), Column("New", "int"), Column("Returning", "int"),
            Column("Patients seen", "int"))  # fmt: skip
    chart = Chart(
        "stacked_bar",
        tuple(_month_label(m) for m in months),
        (Series("New", tuple(r[1] for r in table)),
         Series("Returning", tuple(r[2] for r in table))),
        "int",
        "Patients seen each month",
    )  # fmt: skip
    return Report("New and returning patients", cols, table, None, (chart,),
                  "A patient seen in several months counts once in each.")  # fmt: skip


def practitioner_comparison(ctx: ServiceContext, period: Period) -> Report:
    """Per practitioner: visits (appointments not cancelled and not did-not-arrive), patients,
    visits per patient, and the rebooking rate: the share of visits whose patient's next
    appointment with the same practitioner (within six months) was already booked by the end
    of the day after the visit."""
    require(ctx.actor, Action.VIEW_REPORTS)
    a, b = utc_bounds(ctx, period)
    after = Period(period.first, period.last + timedelta(days=183))
    _, b_plus = utc_bounds(ctx, after)
    with ctx.read() as session:
        rows = session.execute(
            text(
                "WITH v AS (SELECT a.practitioner_id, a.patient_id, a.starts_at, a.ends_at, "
                "a.status, LEAD(a.created_at) OVER (PARTITION BY a.patient_id, a.practitioner_id "
                "ORDER BY a.starts_at) AS next_created FROM appointments a "
                f"WHERE a.starts_at >= :a AND a.starts_at < :b_plus AND {_NOT_CANCELLED} "
                "AND a.patient_id IS NOT NULL) "
                "SELECT p.display_name, count(*), count(DISTINCT v.patient_id), "
                f"sum(coalesce(v.next_created < v.ends_at + {86400 * MICROS_PER_SECOND}, 0)) "
                "FROM v JOIN practitioners p ON p.id = v.practitioner_id "
                "WHERE v.starts_at < :b AND v.status != 'did_not_arrive' "
                "GROUP BY p.id ORDER BY p.sort_order, p.display_name"
            ),
            {"a": a, "b": b, "b_plus": b_plus},
        ).all()
    table: list[tuple[Any, ...]] = []
    for name, visits, patients, rebooked in rows:
        per = round(visits / patients, 2) if patients else None
        rate = 100.0 * rebooked / visits if visits else None
        table.append((name, int(visits), int(patients), per, rate))
    total_v = sum(r[1] for r in table)
    cols = (Column("Practitioner"), Column("Visits", "int"), Column("Patients", "int"),
            Column("Visits per patient", "hours"), Column("Rebooking rate", "percent"))  # fmt: skip
    names = tuple(r[0] for r in table)
    charts = (
        Chart("bar", names, (Series("Visits per patient", tuple(r[3] for r in table)),),
              "hours", "Average visits per patient"),
        Chart("bar", names, (Series("Rebooking rate", tuple(r[4] for r in table)),),
              "percent", "Rebooking rate"),
    )  # fmt: skip
    all_rebooked = sum(int(r[3]) for r in rows)
    totals = ("Total", total_v, None, None, 100.0 * all_rebooked / total_v if total_v else None)
    return Report("Practitioners compared", cols, table, totals, charts)
