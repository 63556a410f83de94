"""The owner's reports on a clinic with known numbers: months, weekdays and hours are the
clinic's (either side of a month end and of a daylight-saving change), money adds up in cents."""

from __future__ import annotations

from datetime import date

import pytest
from report_clinic import ReportClinic, make_report_clinic

from frontdesk.domain.errors import PermissionDenied
from frontdesk.domain.vocab import Role
from frontdesk.services import report_charts, report_today, reports
from frontdesk.services.report_types import Period
from frontdesk.store.context import Actor, ServiceContext

MARCH_APRIL = Period(date(2026, 3, 1), date(2026, 4, 30))


@pytest.fixture
def rc(ctx: ServiceContext) -> ReportClinic:
    return make_report_clinic(ctx)


def test_revenue_by_month_splits_by_issue_month_and_practitioner(rc: ReportClinic) -> None:
    report = report_charts.revenue_by_month(rc.ctx, MARCH_APRIL)
    assert [c.title for c in report.columns] == ["Month", "Anna Allen", "Ben Brown", "Total"]
    assert report.rows == [("Mar 2026", 10_000, 5_000, 15_000), ("Apr 2026", 7_000, 2_500, 9_500)]
    assert report.totals == ("Total", 17_000, 7_500, 24_500)
    chart = report.charts[0]
    assert chart.kind == "stacked_bar" and chart.categories == ("Mar 2026", "Apr 2026")
    assert [s.values for s in chart.series] == [(10_000, 7_000), (5_000, 2_500)]


def test_revenue_by_month_by_payer(rc: ReportClinic) -> None:
    report = report_charts.revenue_by_month(rc.ctx, MARCH_APRIL, "payer")
    assert report.rows == [("Mar 2026", 10_000, 5_000, 15_000), ("Apr 2026", 7_000, 2_500, 9_500)]
    assert [c.title for c in report.columns][1:3] == ["Patients (private)", "Bupa"]


def test_heat_map_is_in_clinic_hours_across_daylight_saving(rc: ReportClinic) -> None:
    # Monday 30 March (AEDT) 9:30–10:30 and Monday 6 April (AEST) 9:00–9:30
    report = report_charts.occupancy_heatmap(
        rc.ctx, Period(date(2026, 3, 30), date(2026, 4, 6)), rc.clinic.anna
    )
    monday = dict(zip([c.title for c in report.columns], report.rows[0], strict=True))
    # two Mondays of Anna's roster: 120 rostered minutes in each whole hour
    assert monday["09:00"] == pytest.approx(100 * (30 + 30) / 120)
    assert monday["10:00"] == pytest.approx(100 * 30 / 120)
    assert monday["11:00"] == 0
    assert monday["08:00"] == 0 and "07:00" not in monday
    # lunch 12:30-13:00 is not rostered: the 12 o'clock hour has 60 rostered minutes
    sunday = report.rows[6]
    assert all(v is None for v in sunday[1:])
    assert report.charts[0].kind == "heatmap"


def test_cancellations_over_time_use_the_clinic_month(rc: ReportClinic) -> None:
    report = report_charts.cancellations_over_time(rc.ctx, MARCH_APRIL)
    cols = [c.title for c in report.columns]
    march, april = (dict(zip(cols, r, strict=True)) for r in report.rows)
    # 31 March 23:30 did-not-arrive is March in Sydney (13:30 UTC, still 31 March UTC too);
    # the 1 April 08:00 cancellation is 31 March in UTC but April in the clinic.
    assert march["Did not arrive"] == 1 and march["Total"] == 1
    assert april["Sick"] == 1 and april["Away"] == 1 and april["Total"] == 2


def test_new_and_returning(rc: ReportClinic) -> None:
    report = report_charts.new_and_returning(rc.ctx, MARCH_APRIL)
    # March: Pat's first visit (and her did-not-arrive); April: Pat returns, Olive is new
    # (her 1 April 00:30 visit is April in the clinic, 31 March in UTC)
    assert report.rows == [("Mar 2026", 1, 0, 1), ("Apr 2026", 1, 1, 2)]
    new = reports.new_patients(rc.ctx, Period(date(2026, 4, 1), date(2026, 4, 30))).totals
    assert new is not None and new[1] == 1, "agrees with the New patients report"


def test_practitioners_compared(rc: ReportClinic) -> None:
    report = report_charts.practitioner_comparison(rc.ctx, MARCH_APRIL)
    anna, ben = report.rows
    # Anna: 3 visits by one patient, the first two followed by a visit booked a week ahead
    assert anna[:4] == ("Anna Allen", 3, 1, 3.0)
    assert anna[4] == pytest.approx(200 / 3)
    # Ben: one visit (the did-not-arrive and cancellations are not visits), not rebooked
    assert ben == ("Ben Brown", 1, 1, 1.0, 0.0)
    assert report.totals is not None and report.totals[4] == pytest.approx(50.0)


def test_takings_by_method_nets_refunds_and_reversals(rc: ReportClinic) -> None:
    report = report_today.takings_by_method(rc.ctx, Period(date(2026, 4, 6), date(2026, 4, 6)))
    assert report.rows == [("Cash", 2_000), ("EFTPOS", 9_000)]
    assert report.totals == ("Total", 11_000)


def test_reception_does_not_see_money_when_the_clinic_hides_it(rc: ReportClinic) -> None:
    ctx = rc.ctx
    with ctx.write("hide revenue") as s:
        ctx.settings(s).hide_revenue_from_reception = True
    ctx.actor = Actor("u1", "Front desk", Role.RECEPTION)
    for name in reports.MONEY_REPORTS:
        with pytest.raises(PermissionDenied):
            reports.REPORTS[name](ctx, MARCH_APRIL)
    assert report_charts.occupancy_heatmap(ctx, MARCH_APRIL).rows
    with ctx.write("show revenue") as s:
        ctx.settings(s).hide_revenue_from_reception = False
    assert report_charts.revenue_by_month(ctx, MARCH_APRIL).totals == ("Total", 17_000, 7_500,
                                                                         24_500)  # fmt: skip


def test_a_stack_of_many_keeps_the_largest_and_sums_the_rest() -> None:
    from frontdesk.services.report_types import Series, fold_series

    many = tuple(Series(f"P{i}", (i, None, 2 * i)) for i in range(12))
    folded = fold_series(many, keep=9)
    assert [s.name for s in folded] == [*(f"P{i}" for i in range(3, 12)), "Others (3)"]
    assert folded[-1].values == (0 + 1 + 2, 0, 0 + 2 + 4)
    assert sum(v or 0 for s in folded for v in s.values) == sum(
        v or 0 for s in many for v in s.values
    ), "nothing lost"
    assert fold_series(many[:10], keep=9) == many[:10], "ten fit: no 'Others (1)'"
