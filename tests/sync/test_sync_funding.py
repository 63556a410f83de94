"""Funded care across desks (issue 19): a plan made on one desk and sessions booked under it on
two desks count together on every desk once synced — the 5th Medicare visit booked on desk B
is the 6th for desk A's check — on a SQLite and a PostgreSQL server."""

from __future__ import annotations

from datetime import date, timedelta

from frontdesk.services.claims.check import funding_check
from frontdesk.services.claims.plans import PlanInput, book_under_plan, list_plans, save_plan
from tests.sync.clinic import START, Clinic


def test_sessions_booked_on_other_desks_count_against_the_plan(any_clinic: Clinic) -> None:
    a, b = any_clinic.add_desk(), any_clinic.add_desk()
    prac = a.add_practitioner()
    patient = a.add_patient("Maria", "Santos")
    plan = save_plan(
        a.ctx,
        patient,
        PlanInput(kind="medicare_cdm", referrer_name="Dr Hart",
                  referrer_provider_number="2345671A", starts_on=date(2026, 1, 5)),
    )  # fmt: skip
    any_clinic.settle(2)
    assert [p.id for p in list_plans(b.ctx, patient)] == [plan]
    for i, desk in enumerate((a, b, a, b, b)):
        appt = desk.book(prac, patient, START - timedelta(days=30 * (i + 1)))
        book_under_plan(desk.ctx, appt, plan)
    # Before syncing each desk sees only its own sessions.
    assert list_plans(a.ctx, patient)[0].sessions_used == 2
    assert list_plans(b.ctx, patient)[0].sessions_used == 3
    any_clinic.settle()
    for desk in (a, b):
        assert list_plans(desk.ctx, patient)[0].sessions_used == 5
        (check,) = funding_check(desk.ctx, patient, START + timedelta(days=3), 30)
        assert [f.message for f in check.findings] == [
            "6th Medicare visit in 2026: only 5 a year are paid."
        ]
    any_clinic.assert_converged()
