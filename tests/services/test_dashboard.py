"""The dashboard's figures on a clinic with known numbers, on a day set by the test (the fake
clock, and time-machine moving the machine's own clock elsewhere to prove it is not read)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from report_clinic import make_report_clinic

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.vocab import Role
from frontdesk.models import Payment
from frontdesk.services import dashboard
from frontdesk.services.report_types import Period
from frontdesk.store.context import Actor, ServiceContext


@pytest.fixture
def dash_ctx(ctx: ServiceContext, clock: FakeClock) -> ServiceContext:
    make_report_clinic(ctx)
    clock.set(datetime(2026, 4, 6, 7, 0, tzinfo=UTC))  # Monday 6 April 2026, 17:00 AEST
    return ctx


@time_machine.travel(datetime(2031, 7, 15, 3, 0, tzinfo=UTC), tick=False)
def test_dashboard_figures_for_the_clinic_day(dash_ctx: ServiceContext) -> None:
    d = dashboard.dashboard(dash_ctx)
    assert d.today == date(2026, 4, 6)
    takings = d.figure("takings")
    # the clinic's records start in 2026: a year earlier there is no figure, not a zero
    assert takings.value == 11_000 and takings.previous is None
    assert all(f.previous is None for f in d.figures)
    assert takings.report == "Takings by method"
    assert takings.period == Period(date(2026, 4, 6), date(2026, 4, 6))
    assert dict(takings.detail) == {"Cash": "$20.00", "EFTPOS": "$90.00"}

    attendance = d.figure("attendance")
    # the week of Monday 6 April: the 8 April cancellation was three days ahead: not late
    assert attendance.value == 0 and attendance.period.first == date(2026, 4, 6)

    new = d.figure("new_patients")
    assert new.value == 1 and new.period == Period(date(2026, 4, 1), date(2026, 4, 6))
    assert new.report == "New patients"

    occupancy = d.figure("occupancy")
    # Anna and Ben: Monday–Saturday 8:00–17:00 less lunch = 8.5 h a day, 51 h a week each;
    # booked that week: Anna's 30-minute visit on the Monday
    assert dict(occupancy.detail) == {"Booked hours": "0.5", "Rostered hours": "102.0"}
    assert occupancy.value == pytest.approx(100 * 0.5 / 102)

    gaps = d.figure("gaps")
    # today and tomorrow, two practitioners, 2 spans a day (lunch), Anna's 9:00 visit splits
    # her Monday morning into two
    assert gaps.value == 9
    assert dict(gaps.detail) == {"Free hours": "33.5"}


def test_reception_sees_no_takings_when_revenue_is_hidden(dash_ctx: ServiceContext) -> None:
    with dash_ctx.write("hide revenue") as s:
        dash_ctx.settings(s).hide_revenue_from_reception = True
    dash_ctx.actor = Actor("u1", "Front desk", Role.RECEPTION)
    d = dashboard.dashboard(dash_ctx)
    assert d.revenue_hidden
    assert "takings" not in [f.key for f in d.figures]


def test_a_year_earlier_keeps_weekdays_for_weeks_and_dates_for_months() -> None:
    week = Period(date(2026, 4, 6), date(2026, 4, 12))
    assert week.a_year_earlier() == Period(date(2025, 4, 7), date(2025, 4, 13))
    leap = Period(date(2028, 2, 1), date(2028, 2, 29))
    assert leap.a_year_earlier() == Period(date(2027, 2, 1), date(2027, 2, 28))


def test_takings_so_far_compare_with_the_same_hour_a_year_ago(dash_ctx: ServiceContext) -> None:
    with dash_ctx.read() as s:
        anyone = s.query(Payment).first()
        assert anyone is not None
        patient = anyone.patient_id
    year_ago = date(2025, 4, 7)  # the Monday 52 weeks before
    with dash_ctx.write("last year's takings") as s:
        for hour, cents in ((11, 4_000), (18, 7_000)):  # before and after 17:00
            p = Payment(
                kind="payment",
                method="cash",
                amount_cents=cents,
                patient_id=patient,
                business_date=year_ago,
                device_id=dash_ctx.device_id,
                received_at=datetime(2025, 4, 7, hour, tzinfo=UTC) - timedelta(hours=10),
            )
            s.add(p)  # fmt: skip
    takings = dashboard.dashboard(dash_ctx).figure("takings")
    assert takings.previous == 4_000
    assert takings.change_percent == pytest.approx(175.0)
