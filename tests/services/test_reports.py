"""Reports agree with the ledger and the diary counted the plainest way (raw SQL)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from frontdesk.db.types import sqlite_utc_value
from frontdesk.domain.errors import PermissionDenied, ValidationFailed
from frontdesk.domain.occupancy import RosterRule, rostered_minutes
from frontdesk.domain.vocab import Role
from frontdesk.services import reports
from frontdesk.store.context import Actor, ServiceContext

PERIOD = reports.Period(date(2026, 11, 1), date(2026, 11, 30))


def _raw(ctx: ServiceContext) -> sqlite3.Connection:
    assert ctx.engine.url.database
    return sqlite3.connect(ctx.engine.url.database)


def test_revenue_by_practitioner_matches_issued_invoices(demo_ctx: ServiceContext) -> None:
    report = reports.revenue_by_practitioner(demo_ctx, PERIOD)
    expected = (
        _raw(demo_ctx)
        .execute(
            "SELECT count(*), sum(total_cents) FROM invoices WHERE status = 'issued' "
            "AND issue_date BETWEEN '2026-11-01' AND '2026-11-30'"
        )
        .fetchone()
    )
    assert report.totals is not None
    assert (report.totals[1], report.totals[2]) == expected
    assert expected[0] > 0


def test_revenue_by_service_and_payer_add_up(demo_ctx: ServiceContext) -> None:
    by_practitioner = reports.revenue_by_practitioner(demo_ctx, PERIOD).totals
    by_service = reports.revenue_by_service(demo_ctx, PERIOD).totals
    by_payer = reports.revenue_by_payer(demo_ctx, PERIOD).totals
    assert by_practitioner and by_service and by_payer
    assert by_practitioner[2] == by_service[2] == by_payer[2]


def test_occupancy_is_a_sensible_share(demo_ctx: ServiceContext) -> None:
    report = reports.occupancy(demo_ctx, reports.Period(date(2026, 11, 16), date(2026, 11, 20)))
    assert report.totals is not None
    assert 40 < report.totals[3] <= 100
    assert any(r[1] > 0 for r in report.rows)
    # A practitioner on leave all week has no rostered hours and no occupancy figure.
    assert all(r[3] is None or 0 <= r[3] <= 100 for r in report.rows)


def test_cancellations_match_the_diary(demo_ctx: ServiceContext) -> None:
    report = reports.cancellations(demo_ctx, PERIOD)
    assert report.totals is not None
    raw = (
        _raw(demo_ctx)
        .execute(
            "SELECT sum(status = 'cancelled'), sum(status = 'did_not_arrive') FROM appointments "
            "WHERE starts_at >= ? AND starts_at < ?",
            (
                sqlite_utc_value(datetime(2026, 10, 31, 13, tzinfo=UTC)),
                sqlite_utc_value(datetime(2026, 11, 30, 13, tzinfo=UTC)),
            ),
        )
        .fetchone()
    )
    assert (report.totals[2], report.totals[3]) == raw
    assert sum(report.totals[4:]) == report.totals[2], "every cancellation has a reason"


def test_new_patients_counted_once(demo_ctx: ServiceContext) -> None:
    report = reports.new_patients(demo_ctx, PERIOD)
    assert report.totals is not None and report.totals[1] > 0


def test_csv_export_reads_back(demo_ctx: ServiceContext, tmp_path: Path) -> None:
    report = reports.revenue_by_payer(demo_ctx, PERIOD)
    out = tmp_path / "payers.csv"
    reports.export_csv(report, out)
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "Payer,Invoices,Invoiced"
    assert lines[-1].startswith("Total,")
    assert len(lines) == len(report.rows) + 2


def test_reception_cannot_see_revenue_when_the_clinic_hides_it(demo_ctx: ServiceContext) -> None:
    with demo_ctx.write("hide revenue") as s:
        demo_ctx.settings(s).hide_revenue_from_reception = True
    demo_ctx.actor = Actor("u1", "Front desk", Role.RECEPTION)
    with pytest.raises(PermissionDenied):
        reports.revenue_by_practitioner(demo_ctx, PERIOD)
    assert reports.occupancy(demo_ctx, PERIOD).rows  # non-financial reports still work


def test_backwards_period_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="before the start"):
        reports.Period(date(2026, 11, 30), date(2026, 11, 1))


def test_rostered_minutes_fortnightly_and_breaks() -> None:
    monday = date(2026, 11, 2)
    rules = [
        RosterRule(0, 8 * 60, 17 * 60, 1, 0, monday, None, False),
        RosterRule(0, 12 * 60, 13 * 60, 1, 0, monday, None, True),
        RosterRule(5, 8 * 60, 12 * 60, 2, 0, monday, None, False),
    ]
    # Two weeks: two Mondays of 8 h, one Saturday of 4 h (fortnightly), one Monday on leave.
    assert rostered_minutes(rules, monday, date(2026, 11, 15), set()) == (2 * 8 + 4) * 60
    assert rostered_minutes(rules, monday, date(2026, 11, 15), {monday}) == (8 + 4) * 60
