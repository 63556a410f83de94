"""The report summary (issue 20): revenue per day × practitioner × payer and booked time per
UTC start, kept by triggers in the same transaction as each write, proved equal to the raw
invoices and appointments — after edits of every kind, after a paused bulk load rebuilds it,
after a migration backfills an existing desk — and read by revenue by month and the heat map
with the figures the raw tables give, in clinic time across a daylight-saving change."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest
from report_clinic import ReportClinic, appointment, invoice, make_report_clinic
from sqlalchemy import select, text

from frontdesk.db import migrate
from frontdesk.models import Appointment, Invoice
from frontdesk.services import report_charts
from frontdesk.services.billing.balances import check_balances
from frontdesk.services.report_types import Period
from frontdesk.store import balances
from frontdesk.store.context import ServiceContext

WINDOW = Period(date(2026, 3, 30), date(2026, 4, 6))


@pytest.fixture
def rc(ctx: ServiceContext) -> ReportClinic:
    return make_report_clinic(ctx)


def _differences(ctx: ServiceContext) -> list[str]:
    with ctx.read() as s:
        return balances.report_differences(s)


def _kept(ctx: ServiceContext) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with ctx.read() as s:
        rev = s.execute(text("SELECT * FROM report_summary_revenue WHERE invoices != 0 "
                             "ORDER BY 1, 2, 3")).all()  # fmt: skip
        booked = s.execute(text("SELECT * FROM report_summary_booked WHERE appointments != 0 "
                                "ORDER BY 1, 2, 3")).all()  # fmt: skip
    return [tuple(r) for r in rev], [tuple(r) for r in booked]


def edit_everything(rc: ReportClinic) -> None:
    """Every kind of change the triggers must follow: new rows, a cancel, a move, a length
    change, a restore from cancelled, a soft and a hard delete; an invoice voided, re-assigned
    to another practitioner and payer, re-dated, its total changed, deleted."""
    c = rc.clinic
    with rc.ctx.write("edits") as s:
        appts = s.scalars(select(Appointment).order_by(Appointment.starts_at)).all()
        invs = s.scalars(select(Invoice).order_by(Invoice.number)).all()
        appts[0].status = "cancelled"
        appts[1].starts_at += timedelta(hours=26)
        appts[1].ends_at += timedelta(hours=26, minutes=15)
        appts[2].deleted_at = c.at(date(2026, 4, 20), 9)
        cancelled = next(a for a in appts if a.status == "cancelled" and a is not appts[0])
        cancelled.status = "booked"
        s.flush()  # a row removed outright (no service does; a repair or a purge might)
        s.execute(text("DELETE FROM appointments WHERE id = :id"), {"id": appts[-1].id})
        s.add(appointment(c, c.ben, c.pat, date(2026, 4, 2), 15, 45, 45))
        invs[0].status, invs[0].void_reason = "void", "wrong patient"
        invs[1].practitioner_id = c.anna
        invs[1].payer_funder_id = None
        invs[2].issue_date = date(2026, 5, 1)
        invs[2].total_cents = 7_700
        invs[3].deleted_at = c.at(date(2026, 4, 20), 9)
        s.add(invoice(c, 9, c.ben, c.other, date(2026, 4, 30), 1_234, rc.fund))
        s.add(invoice(c, 10, c.ben, c.other, date(2026, 4, 30), 4_321))


def test_every_edit_keeps_the_summary_equal_to_the_raw_tables(rc: ReportClinic) -> None:
    before = _kept(rc.ctx)
    assert before[0] and before[1] and _differences(rc.ctx) == []
    edit_everything(rc)
    assert _differences(rc.ctx) == []
    assert _kept(rc.ctx) != before
    assert check_balances(rc.ctx).ok  # the repair check includes the report summary


def test_a_summary_out_of_step_is_named(rc: ReportClinic) -> None:
    with rc.ctx.write("damage") as s:
        s.execute(
            text(
                "UPDATE report_summary_revenue SET total_cents = total_cents + 1 "
                "WHERE issue_date = '2026-03-31' AND payer_funder_id = ''"
            )
        )
    diffs = _differences(rc.ctx)
    assert len(diffs) == 1 and diffs[0].startswith("revenue ('2026-03-31'")
    assert not check_balances(rc.ctx).ok


def test_a_paused_bulk_load_is_rebuilt_once(rc: ReportClinic) -> None:
    with rc.ctx.write("pause") as s:
        balances.set_paused(s, True)
    before = _kept(rc.ctx)
    edit_everything(rc)
    assert _kept(rc.ctx) == before  # the triggers were off
    assert _differences(rc.ctx)
    with rc.ctx.write("rebuild") as s:
        balances.rebuild(s)
    assert _differences(rc.ctx) == [] and _kept(rc.ctx) != before


def test_the_migration_backfills_an_existing_desk(rc: ReportClinic) -> None:
    edit_everything(rc)
    expected = _kept(rc.ctx)
    ctx = rc.ctx
    path = ctx.engine.url.database
    assert path
    from alembic import command

    with ctx.engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0350_claims")
    ctx.engine.dispose()
    raw = sqlite3.connect(path)
    assert not raw.execute(
        "SELECT name FROM sqlite_master WHERE name LIKE 'report_summary%'"
    ).fetchall()
    raw.close()
    migrate.upgrade(ctx.engine)
    assert _kept(ctx) == expected and _differences(ctx) == []


def test_the_whole_clinic_heat_map_reads_clinic_hours_across_daylight_saving(
    rc: ReportClinic,
) -> None:
    # Mondays 30 March (AEDT, +11) and 6 April (AEST, +10): Anna 9:30–10:30 and 9:00–9:30;
    # both practitioners rostered both Mondays: 240 rostered minutes in each whole hour
    report = report_charts.occupancy_heatmap(rc.ctx, WINDOW)
    monday = dict(zip([col.title for col in report.columns], report.rows[0], strict=True))
    assert monday["09:00"] == pytest.approx(100 * 60 / 240)
    assert monday["10:00"] == pytest.approx(100 * 30 / 240)
    assert monday["08:00"] == 0
    # Tuesday 31 March 23:30 (did not arrive still held the time) and Wednesday 00:30
    tuesday = dict(zip([col.title for col in report.columns], report.rows[1], strict=True))
    wednesday = dict(zip([col.title for col in report.columns], report.rows[2], strict=True))
    assert "23:00" in tuesday and "00:00" in wednesday
    assert tuesday["23:00"] is None and wednesday["00:00"] is None  # nobody rostered then
    # the same booked minutes, one practitioner at a time from the appointments themselves
    anna, ben = (report_charts.occupancy_heatmap(rc.ctx, WINDOW, p)
                 for p in (rc.clinic.anna, rc.clinic.ben))  # fmt: skip
    both = (anna, ben)
    pairs = zip(anna.rows, ben.rows, strict=True)
    for row, (a_row, b_row) in zip(report.rows, pairs, strict=True):
        cols_a = dict(zip([c.title for c in both[0].columns], a_row, strict=True))
        cols_b = dict(zip([c.title for c in both[1].columns], b_row, strict=True))
        for title, value in zip([c.title for c in report.columns], row, strict=True):
            if title == "Day" or value is None or title not in cols_a or title not in cols_b:
                continue
            assert value == pytest.approx((cols_a[title] + cols_b[title]) / 2, abs=0.06)


def test_revenue_by_month_follows_edits(rc: ReportClinic) -> None:
    edit_everything(rc)
    report = report_charts.revenue_by_month(rc.ctx, Period(date(2026, 3, 1), date(2026, 5, 31)))
    # March: invoice 1 void, invoice 2 moved to Anna; April: invoice 3 moved to May,
    # invoice 4 deleted, two new for Ben; May: invoice 3 at its new total
    assert report.rows == [
        ("Mar 2026", 5_000, 0, 5_000),
        ("Apr 2026", 0, 5_555, 5_555),
        ("May 2026", 7_700, 0, 7_700),
    ]
