"""The one patient picker (booking, waitlist, new invoice): ↓/↑ move the highlight from the
search box, Enter picks the highlighted patient and never books or saves by itself, and the
picked patient is shown in full."""

from __future__ import annotations

from datetime import date

import pytest
from diary_clinic import MONDAY, Clinic
from diary_ui_support import show_day, when_dialog_opens
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from frontdesk.models import Appointment, Patient, WaitlistEntry
from frontdesk.ui.diary.page import DiaryPage
from frontdesk.ui.patient_picker import ChoosePatientDialog


def open_booking(qtbot, page: DiaryPage, fill) -> None:  # type: ignore[no-untyped-def]
    """Enter on a free slot opens the booking dialog; ``fill(dialog)`` runs while it is up."""
    show_day(qtbot, page, MONDAY)
    page.view.setFocus()
    page.view.set_cursor(0, 10 * 60)
    when_dialog_opens(fill)
    qtbot.keyClick(page.view, Qt.Key.Key_Return)


@pytest.fixture
def smiths(clinic: Clinic) -> tuple[str, str]:
    with clinic.ctx.write("two Smiths") as s:
        sam = Patient(patient_number="P10", first_name="Sam", last_name="Smith",
                      date_of_birth=date(1980, 3, 12), mobile_phone="0400 111 222")  # fmt: skip
        sue = Patient(patient_number="P11", first_name="Sue", last_name="Smith",
                      date_of_birth=date(1975, 7, 4), mobile_phone="0400 333 444")  # fmt: skip
        s.add_all([sam, sue])
        s.flush()
        return sam.id, sue.id


def test_booking_down_then_enter_picks_the_second_smith_and_does_not_book(
    qtbot, page: DiaryPage, clinic: Clinic, smiths: tuple[str, str]
) -> None:  # type: ignore[no-untyped-def]
    _sam, sue = smiths
    seen: dict[str, object] = {}

    def fill(dialog) -> None:  # type: ignore[no-untyped-def]
        qtbot.keyClicks(dialog.search, "smi")
        qtbot.keyClick(dialog.search, Qt.Key.Key_Down)
        seen["focus_stayed"] = dialog.focusWidget() is dialog.search
        qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
        seen["open_after_enter"] = dialog.isVisible()
        seen["picked"] = dialog.patient_id
        seen["shown"] = dialog.picker.chosen.text()
        with clinic.ctx.read() as s:
            seen["booked_so_far"] = s.query(Appointment).count()
        qtbot.keyClick(dialog.type, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    open_booking(qtbot, page, fill)
    assert seen["focus_stayed"] and seen["open_after_enter"]
    assert seen["booked_so_far"] == 0
    assert seen["picked"] == sue
    shown = str(seen["shown"])
    assert "Sue Smith" in shown and "04/07/1975" in shown and "0400 333 444" in shown
    assert "#P11" in shown
    with clinic.ctx.read() as s:
        (appt,) = s.query(Appointment).all()
        assert appt.patient_id == sue


def test_enter_in_the_results_list_picks_but_never_books(
    qtbot, page: DiaryPage, clinic: Clinic, smiths: tuple[str, str]
) -> None:  # type: ignore[no-untyped-def]
    sam, sue = smiths
    seen: dict[str, object] = {}

    def fill(dialog) -> None:  # type: ignore[no-untyped-def]
        qtbot.keyClicks(dialog.search, "smith")
        qtbot.wait(200)  # the search runs after typing stops
        results = dialog.picker.results
        rect = results.visualItemRect(results.item(1))
        qtbot.mouseClick(results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        seen["after_click"] = dialog.patient_id
        results.setFocus()
        qtbot.keyClick(results, Qt.Key.Key_Up)
        qtbot.keyClick(results, Qt.Key.Key_Return)
        seen["after_enter"] = dialog.patient_id
        seen["open"] = dialog.isVisible()
        # Typing again drops the pick: the shown patient is always the one that will be booked.
        qtbot.keyClicks(dialog.search, "x")
        seen["after_edit"] = dialog.patient_id
        seen["shown_after_edit"] = dialog.picker.chosen.text()

    open_booking(qtbot, page, fill)
    assert seen["after_click"] == sue and seen["after_enter"] == sam and seen["open"]
    assert seen["after_edit"] is None and "No patient chosen" in str(seen["shown_after_edit"])
    with clinic.ctx.read() as s:
        assert s.query(Appointment).count() == 0


def test_waitlist_arrows_move_and_enter_does_not_save(
    qtbot, page: DiaryPage, clinic: Clinic, smiths: tuple[str, str]
) -> None:  # type: ignore[no-untyped-def]
    _sam, sue = smiths
    seen: dict[str, object] = {}

    def fill(dialog) -> None:  # type: ignore[no-untyped-def]
        qtbot.keyClicks(dialog.picker.search, "smi")
        qtbot.keyClick(dialog.picker.search, Qt.Key.Key_Down)
        qtbot.keyClick(dialog.picker.search, Qt.Key.Key_Return)
        seen["open"] = dialog.isVisible()
        with clinic.ctx.read() as s:
            seen["saved_on_enter"] = s.query(WaitlistEntry).count()
        ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    when_dialog_opens(fill)
    add = next(b for b in page.waitlist_panel.buttons if b.text() == "Add…")
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    assert seen == {"open": True, "saved_on_enter": 0}
    with clinic.ctx.read() as s:
        (entry,) = s.query(WaitlistEntry).all()
        assert entry.patient_id == sue


def test_new_invoice_patient_choice_uses_the_picker(
    qtbot, clinic: Clinic, smiths: tuple[str, str]
) -> None:  # type: ignore[no-untyped-def]
    _sam, sue = smiths
    dialog = ChoosePatientDialog(clinic.ctx, "New invoice")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClick(dialog.picker.search, Qt.Key.Key_Return)  # nothing typed: nothing happens
    assert dialog.isVisible() and dialog.picker.patient_id is None
    qtbot.keyClicks(dialog.picker.search, "smi")
    qtbot.keyClick(dialog.picker.search, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.picker.search, Qt.Key.Key_Up)
    qtbot.keyClick(dialog.picker.search, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.picker.search, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.picker.patient_id == sue
    assert dialog.focusWidget() is dialog.ok_button
    qtbot.keyClick(dialog.ok_button, Qt.Key.Key_Return)
    assert dialog.result() == dialog.DialogCode.Accepted
