"""The demo clinic is realistic, consistent, and leaves the desk usable."""

from __future__ import annotations

import sqlite3
from collections import Counter

import pytest

from frontdesk.demo.generator import DemoSpec, build_demo
from frontdesk.domain.identifiers import is_valid_medicare
from frontdesk.domain.vocab import SeriesKind
from frontdesk.services.billing.balances import check_balances
from frontdesk.store.context import ServiceContext
from frontdesk.store.numbering import next_number


def _db(ctx: ServiceContext) -> sqlite3.Connection:
    path = ctx.engine.url.database
    assert path
    return sqlite3.connect(path)


def test_demo_clinic_is_realistic_and_consistent(ctx: ServiceContext) -> None:
    summary = build_demo(ctx, DemoSpec(practitioners=8, patients=800))
    c = summary.counts
    assert c["practitioners"] == 8 and c["patients"] == 800 and c["rooms"] == 3
    assert c["appointments"] > 2000 and c["invoices"] > 1000 and c["payments"] > 1000
    db = _db(ctx)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    balances = check_balances(ctx)  # the ledger summary was computed once, at the end
    assert balances.ok and balances.invoices_checked > 10, balances.differences
    statuses = Counter(s for (s,) in db.execute("SELECT status FROM appointments"))
    assert {"completed", "booked", "cancelled", "did_not_arrive"} <= set(statuses)
    assert statuses["cancelled"] < statuses["completed"] / 5
    reasons = {r for (r,) in db.execute("SELECT cancellation_reason FROM appointments "
                                        "WHERE status = 'cancelled'")}  # fmt: skip
    assert None not in reasons and len(reasons) >= 4
    professions = {p for (p,) in db.execute("SELECT profession FROM practitioners")}
    assert len(professions) == 8
    assert db.execute("SELECT count(*) FROM roster_entries WHERE kind = 'break'").fetchone()[0]
    medicare = [m + i for m, i in db.execute("SELECT medicare_number, medicare_irn FROM patients")]
    assert all(is_valid_medicare(m) for m in medicare)
    numbers = [n for (n,) in db.execute("SELECT number FROM invoices ORDER BY number")]
    assert numbers == [f"INV-{i:06d}" for i in range(1, len(numbers) + 1)]
    # Invoices balance: every allocation points at an issued invoice and none is over-paid.
    over = db.execute(
        "SELECT count(*) FROM invoices i JOIN (SELECT invoice_id, sum(amount_cents) AS paid "
        "FROM payment_allocations GROUP BY invoice_id) a ON a.invoice_id = i.id "
        "WHERE a.paid > i.total_cents"
    ).fetchone()[0]
    assert over == 0
    # No appointment of one practitioner overlaps another of theirs.
    clash = db.execute(
        "SELECT count(*) FROM appointments a JOIN appointments b ON a.practitioner_id = "
        "b.practitioner_id AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
    ).fetchone()[0]
    assert clash == 0
    room_clash = db.execute(
        "SELECT count(*) FROM appointments a JOIN appointments b ON a.room_id = b.room_id "
        "AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at "
        "AND a.status != 'cancelled' AND b.status != 'cancelled'"
    ).fetchone()[0]
    assert room_clash == 0
    db.close()
    # The desk carries on numbering after the demo's invoices.
    with ctx.write("next") as s:
        _series, number = next_number(s, SeriesKind.INVOICE)
    assert number == f"INV-{len(numbers) + 1:06d}"


def test_demo_refuses_a_clinic_that_already_has_data(demo_ctx: ServiceContext) -> None:
    with pytest.raises(ValueError, match="already has practitioners"):
        build_demo(demo_ctx, DemoSpec(practitioners=1, patients=10))


def test_demo_books_only_where_its_own_rosters_leave_and_holidays_allow(
    ctx: ServiceContext,
) -> None:
    """The demo's clinic is defined through the set-up services and its history read from them:
    no booking on a practitioner's Saturday off (a two-week roster), on leave, or on a public
    holiday; no invoice or payment dated on a public holiday."""
    from datetime import date, timedelta

    from sqlalchemy import select

    from frontdesk.domain.diary import availability_on, roster_problems
    from frontdesk.models import Appointment, Invoice, Payment
    from frontdesk.services.diary.view import leave_blocks, roster_rules
    from frontdesk.services.setup import appointment_types, leave, practitioners, rosters
    from frontdesk.services.setup import clinic as setup

    build_demo(ctx, DemoSpec(practitioners=4, weeks_past=8, weeks_future=6, patients=300))
    tz = ctx.tz
    today = ctx.clock.now().astimezone(tz).date()  # Friday 27/11/2026
    profile = setup.load_profile(ctx)
    assert profile.business_number == "53 004 085 616" and profile.state == "NSW"
    people = practitioners.list_practitioners(ctx)
    ids = [p.id for p in people]
    with ctx.read() as s:
        appts = s.execute(
            select(Appointment.practitioner_id, Appointment.starts_at, Appointment.ends_at)
        ).all()
        rules = roster_rules(s, ids)
        away = leave_blocks(s, ids, min(a[1] for a in appts), max(a[2] for a in appts))
        issued = {d for (d,) in s.execute(select(Invoice.issue_date))}
        paid = {d for (d,) in s.execute(select(Payment.business_date))}
    stray = [
        (p, start.astimezone(tz), problems)
        for p, start, end in appts
        if (problems := roster_problems(
            start, end, availability_on(rules[p], away[p], start.astimezone(tz).date(), tz), tz
        ))
    ]  # fmt: skip
    assert stray == []
    # the first practitioner works every second Saturday: booked on some, never on the others
    plan = rosters.roster_for(ctx, people[0].id, today)
    assert plan.every_weeks == 2
    assert [(b.weekday, b.week) for b in plan.blocks if b.weekday == 5] == [(5, 0)]
    saturdays = {
        start.astimezone(tz).date()
        for p, start, _e in appts
        if p == people[0].id and start.astimezone(tz).weekday() == 5
    }
    assert saturdays and all(((d - plan.effective_from).days // 7) % 2 == 0 for d in saturdays), (
        saturdays
    )
    holidays = {h.day for y in (2026, 2027) for h in leave.public_holidays(ctx, y) if h.added}
    assert {date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1)} <= holidays
    booked_days = {start.astimezone(tz).date() for _p, start, _e in appts}
    assert not booked_days & holidays
    assert not issued & holidays and not paid & holidays
    assert booked_days & {date(2026, 12, 24), today + timedelta(days=3)}  # open days are booked
    # types are offered by profession: a chiropractor is offered chiropractic types only
    chiro = next(p for p in people if p.profession == "Chiropractor")
    names = {t.id: t.name for t in appointment_types.list_types(ctx)}
    offered = sorted(names[t] for t in appointment_types.type_ids_for(ctx, chiro.id))
    assert offered == ["Chiropractor initial", "Chiropractor standard"]
