"""The booking dialog's funding line (issue 19): booking a 5th and a 6th Medicare chronic
condition visit in a year, and an NDIS session over budget, show the warnings; the plan chosen
in the dialog counts the booking."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from diary_clinic import MONDAY, Clinic
from diary_ui_support import show_day, when_dialog_opens
from PySide6.QtCore import Qt
from sqlalchemy import select

from frontdesk.models import (
    Appointment,
    AppointmentType,
    CatalogueFunderPrice,
    CatalogueItem,
    Funder,
    PlanSession,
)
from frontdesk.services.claims.plans import BudgetInput, PlanInput, book_under_plan, save_plan
from frontdesk.ui.diary.page import DiaryPage


def shoot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    """Save a screenshot when FRONTDESK_SHOTS names a folder (to look at by hand)."""
    folder = os.environ.get("FRONTDESK_SHOTS")
    if folder:
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def past_sessions(clinic: Clinic, plan_id: str, days: list[date]) -> None:
    ctx = clinic.ctx
    for i, d in enumerate(days):
        start = clinic.at(d, 9)
        with ctx.write("an earlier session") as s:
            a = Appointment(practitioner_id=clinic.anna, patient_id=clinic.pat,
                            appointment_type_id=clinic.standard, starts_at=start,
                            ends_at=start + timedelta(minutes=30), status="completed")  # fmt: skip
            s.add(a)
            s.flush()
            appt_id = a.id
        book_under_plan(ctx, appt_id, plan_id, price_cents=19_399 if i >= 0 else 0)


def book_with_dialog(qtbot, page: DiaryPage, hour: int, seen: dict, key: str) -> None:  # type: ignore[no-untyped-def]
    show_day(qtbot, page, MONDAY)
    page.view.setFocus()
    page.view.set_cursor(0, hour * 60)

    def fill(dialog) -> None:  # type: ignore[no-untyped-def]
        qtbot.keyClicks(dialog.search, "Pat Pat")
        qtbot.wait(200)
        qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
        if dialog.type.currentData() is None:
            qtbot.keyClick(dialog.type, Qt.Key.Key_Down)  # the physio type: its funder price
        seen[key] = dialog.funding.text()
        seen[key + "_plan"] = dialog.funding.plan.currentText()
        shoot(dialog, f"booking_{key}")
        qtbot.keyClick(dialog.type, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    when_dialog_opens(fill)
    qtbot.keyClick(page.view, Qt.Key.Key_Return)


@pytest.fixture
def cdm_plan(clinic: Clinic) -> str:
    return save_plan(
        clinic.ctx,
        clinic.pat,
        PlanInput(kind="medicare_cdm", referrer_name="Dr Amelia Hart",
                  referrer_provider_number="2345671A", starts_on=date(2026, 2, 2)),
    )  # fmt: skip


def test_booking_the_5th_and_6th_medicare_visit_shows_the_warnings(
    qtbot, page: DiaryPage, clinic: Clinic, cdm_plan: str
) -> None:  # type: ignore[no-untyped-def]
    past_sessions(clinic, cdm_plan, [date(2026, 3, 2), date(2026, 5, 4), date(2026, 8, 3),
                                     date(2026, 10, 5)])  # fmt: skip
    seen: dict[str, object] = {}
    book_with_dialog(qtbot, page, 10, seen, "fifth")
    assert seen["fifth_plan"] == "Medicare chronic condition management plan — Dr Amelia Hart"
    assert seen["fifth"] == "⚠ 5th of 5 Medicare visits in 2026"
    with clinic.ctx.read() as s:
        booked = s.scalars(
            select(Appointment).where(Appointment.starts_at == clinic.at(MONDAY, 10))
        ).one()
        assert (
            s.scalars(select(PlanSession).where(PlanSession.appointment_id == booked.id))
            .one()
            .plan_id
            == cdm_plan
        )
    book_with_dialog(qtbot, page, 11, seen, "sixth")
    assert seen["sixth"] == "✖ 6th Medicare visit in 2026: only 5 a year are paid."


def test_an_ndis_session_over_budget_shows_the_budget_left(
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:  # type: ignore[no-untyped-def]
    ctx = clinic.ctx
    with ctx.write("an NDIS price") as s:
        s.add(ndia := Funder(kind="ndis_plan_manager", name="NDIA"))
        s.add(svc := CatalogueItem(code="PHY", name="Physio", price_cents=12_000))
        s.flush()
        s.add(CatalogueFunderPrice(catalogue_item_id=svc.id, funder_id=ndia.id,
                                   item_number="15_055_0128_1_3", price_cents=19_399))  # fmt: skip
        t = s.get(AppointmentType, clinic.standard)
        assert t is not None
        t.default_service_id = svc.id
        ndia_id = ndia.id
    plan = save_plan(
        ctx,
        clinic.pat,
        PlanInput(kind="ndis", funder_id=ndia_id, ndis_management="agency",
                  starts_on=date(2026, 7, 1), expires_on=date(2027, 6, 30),
                  budgets=[BudgetInput("Capacity Building", 60_000)]),
    )  # fmt: skip
    past_sessions(clinic, plan, [date(2026, 9, 7), date(2026, 9, 14)])  # $387.98 used
    seen: dict[str, object] = {}
    book_with_dialog(qtbot, page, 10, seen, "ndis_last")
    assert seen["ndis_last"] == "⚠ NDIS Capacity Building budget has $212.02 left"
    book_with_dialog(qtbot, page, 11, seen, "ndis_over")
    assert seen["ndis_over"] == (
        "✖ NDIS Capacity Building budget has $18.03 left; this session ($193.99) is over budget."
    )


def test_moving_a_funded_appointment_says_what_the_plan_covers(
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:  # type: ignore[no-untyped-def]
    from diary_ui_support import book, drag, placement, point

    plan = save_plan(
        clinic.ctx,
        clinic.pat,
        PlanInput(kind="workcover", insurer_name="icare", claim_number="WC-77",
                  approved_sessions=1, starts_on=date(2026, 11, 1)),
    )  # fmt: skip
    past_sessions(clinic, plan, [date(2026, 11, 23)])
    a = book(clinic, MONDAY, 9)
    book_under_plan(clinic.ctx, a, plan)
    show_day(qtbot, page, MONDAY)
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), point(page, 0, 10 * 60 + 10))
    assert placement(clinic.ctx, a)[1] == "Mon 10:00"
    assert page.banner.text() == (
        "Moved. Funding: 2nd session, but the WorkCover approval covers only 1."
    )
    shoot(page, "diary_moved_funded")


def test_dragging_past_the_referral_expiry_warns_before_the_drop(
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:  # type: ignore[no-untyped-def]
    """While an appointment booked under a DVA referral is dragged in the week, the ghost
    warns on a day after the referral expires, and stops warning on a day before it."""
    from diary_ui_support import book, drag, placement, point

    plan = save_plan(
        clinic.ctx,
        clinic.pat,
        PlanInput(kind="dva", referrer_name="Dr Hart", referrer_provider_number="2345671A",
                  starts_on=date(2026, 6, 1), expires_on=date(2026, 12, 1)),
    )  # fmt: skip
    a = book(clinic, MONDAY, 9)
    book_under_plan(clinic.ctx, a, plan)
    page.go_to(MONDAY)
    page.toolbar.mode_box.setCurrentIndex(1)
    page.view.verticalScrollBar().setValue(0)
    page.view.horizontalScrollBar().setValue(0)
    thursday = point(page, 3, 11 * 60 + 10)
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), thursday, release=False)
    ghost = page.scene.ghost
    assert ghost.verdict == "warn"
    assert "Funding: The DVA referral expires on 1 Dec 2026, before this date." in ghost.text
    shoot(page, "drag_past_referral_expiry")
    qtbot.mouseMove(page.view.viewport(), pos=point(page, 1, 11 * 60 + 10))  # Tuesday 1 Dec
    assert ghost.verdict == "ok" and "Funding" not in ghost.text
    qtbot.mouseMove(page.view.viewport(), pos=thursday)
    assert "expires on 1 Dec 2026" in ghost.text
    qtbot.mouseRelease(page.view.viewport(), Qt.MouseButton.LeftButton, pos=thursday)
    assert placement(clinic.ctx, a)[1] == "Thu 11:00"  # a warning never blocks the move
