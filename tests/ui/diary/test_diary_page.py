"""The diary page: keyboard booking, shortcuts, refresh from change notices, navigation,
week view, pinboard, waitlist, dialogs, day sheet."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from diary_clinic import MONDAY, Clinic
from diary_ui_support import FRIDAY, book, placement, show_day, when_dialog_opens
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from frontdesk.domain.vocab import CancellationReason
from frontdesk.models import Appointment
from frontdesk.services import diary
from frontdesk.services.diary import BookingRequest
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.diary.page import DiaryPage


def test_keyboard_only_booking(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    show_day(qtbot, page, MONDAY)
    page.view.setFocus()
    page.view.set_cursor(1, 11 * 60)
    qtbot.keyClick(page.view, Qt.Key.Key_Down)  # 11:15

    seen: list[object] = []

    def fill(dialog) -> None:  # type: ignore[no-untyped-def]
        qtbot.keyClicks(dialog.search, "Pat")
        qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
        seen.append(dialog.patient_id)
        qtbot.keyClick(dialog.type, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    when_dialog_opens(fill)
    qtbot.keyClick(page.view, Qt.Key.Key_Return)
    assert seen == [clinic.pat]
    with clinic.ctx.read() as s:
        (appt,) = s.query(Appointment).all()
        assert appt.practitioner_id == clinic.ben and appt.patient_id == clinic.pat
        assert appt.starts_at == clinic.at(MONDAY, 11, 15)
    page.undo_action.trigger()
    assert placement(clinic.ctx, appt.id)[3] == "cancelled"


def test_status_shortcuts_cancel_with_reason_and_undo(qtbot, page: DiaryPage,
                                                      clinic: Clinic) -> None:  # fmt: skip
    a = book(clinic, FRIDAY, 9, 15)
    show_day(qtbot, page, FRIDAY)
    page.view.setFocus()
    page.view.set_cursor(0, 9 * 60 + 15)
    assert page.view.selected_item() is not None
    qtbot.keyClick(page.view, Qt.Key.Key_A)
    assert placement(clinic.ctx, a)[3] == "arrived"
    page.undo_action.trigger()
    assert placement(clinic.ctx, a)[3] == "booked"
    page.controller.cancel(page.scene.items_by_id[a].appt, CancellationReason.SICK, "flu")
    assert placement(clinic.ctx, a)[3] == "cancelled"
    page.undo_action.trigger()
    assert placement(clinic.ctx, a)[3] == "booked"


def test_refreshes_from_change_notices_and_navigation(qtbot, page: DiaryPage,
                                                      clinic: Clinic) -> None:  # fmt: skip
    show_day(qtbot, page, MONDAY)
    a = book(clinic, MONDAY, 14)
    qtbot.waitUntil(lambda: a in page.scene.items_by_id)
    later = book(clinic, MONDAY + timedelta(days=3), 9)
    page.handle_navigation({"show_appointment": later})
    assert page.day == MONDAY + timedelta(days=3)
    assert page.view.selected_item() is not None
    assert page.view.selected_item().appt.id == later  # type: ignore[union-attr]


def test_week_view_shows_days_for_one_practitioner(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    book(clinic, MONDAY, 9)
    book(clinic, MONDAY + timedelta(days=2), 9)
    page.go_to(MONDAY)
    page.toolbar.mode_box.setCurrentIndex(1)
    lay = page.layout_
    assert lay is not None
    assert {c.practitioner_id for c in lay.columns} == {clinic.anna}
    assert [c.day.weekday() for c in lay.columns] == [0, 1, 2, 3, 4, 5]
    assert len(page.scene.items_by_id) == 2
    page.step(1)
    assert page.day == MONDAY + timedelta(days=7)


def test_day_sheet_pdf(page: DiaryPage, clinic: Clinic, tmp_path: Path) -> None:
    from pypdf import PdfReader

    from frontdesk.ui.diary.day_sheet import write_pdf

    book(clinic, MONDAY, 9)
    out = write_pdf(clinic.ctx, MONDAY, [clinic.anna, clinic.ben], tmp_path / "sheet.pdf")
    text = " ".join(PdfReader(str(out)).pages[0].extract_text().split())
    assert "Pat Patient" in text and "Anna Allen" in text and "09:00" in text


def test_pinboard_carries_an_appointment_to_another_day(qtbot, page: DiaryPage,
                                                        clinic: Clinic) -> None:  # fmt: skip
    a = book(clinic, MONDAY, 9)
    show_day(qtbot, page, MONDAY)
    page.view.setFocus()
    page.view.set_cursor(0, 9 * 60)
    qtbot.keyClick(page.view, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: page.pinboard_panel.list.count() == 1)
    assert "Pins 1" in page.toolbar.panels_button.text()
    show_day(qtbot, page, MONDAY + timedelta(days=1))
    page.view.set_cursor(1, 14 * 60)
    page.pinboard_panel.list.setCurrentRow(0)
    page.pinboard_panel.place_selected()
    assert placement(clinic.ctx, a) == (clinic.ben, "Tue 14:00", "14:30", "booked")
    qtbot.waitUntil(lambda: page.pinboard_panel.list.count() == 0)
    page.undo_action.trigger()
    assert placement(clinic.ctx, a)[:2] == (clinic.anna, "Mon 09:00")


def test_cancelled_hidden_or_faded_and_practitioner_choice_remembered(
    qtbot, page: DiaryPage, clinic: Clinic, ctx: ServiceContext, bus: ChangeBus
) -> None:  # type: ignore[no-untyped-def]
    a = book(clinic, MONDAY, 9)
    diary.cancel(clinic.ctx, a, "work")
    show_day(qtbot, page, MONDAY)
    assert a not in page.scene.items_by_id
    page.toolbar.cancelled_action.setChecked(True)
    assert a in page.scene.items_by_id
    page.set_shown([clinic.ben])
    assert [c.practitioner_id for c in page.layout_.columns] == [clinic.ben]  # type: ignore[union-attr]
    again = DiaryPage(ctx, bus, page.prefs)
    qtbot.addWidget(again)
    assert again.shown_ids() == [clinic.ben] and again.scene.show_cancelled


def test_book_for_patient_from_another_area(qtbot, main_window, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    seen: list[object] = []
    when_dialog_opens(lambda dialog: seen.append(dialog.patient_id))
    main_window.bus.navigate.emit("diary", {"book_for_patient": clinic.other})
    assert seen == [clinic.other]
    assert main_window.current_area() == "diary"


def test_selection_survives_the_refresh_after_an_edit(qtbot, page: DiaryPage,
                                                      clinic: Clinic) -> None:  # fmt: skip
    a = book(clinic, FRIDAY, 9, 15)
    show_day(qtbot, page, FRIDAY)
    page.view.setFocus()
    page.view.set_cursor(0, 9 * 60 + 15)
    qtbot.keyClick(page.view, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: page.scene.items_by_id[a].appt.status == "arrived")
    assert page.view.selected_item() is page.scene.items_by_id[a]
    qtbot.keyClick(page.view, Qt.Key.Key_S)
    assert placement(clinic.ctx, a)[3] == "in_session"


def test_next_free_slot_dialog_lists_slots(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    from frontdesk.ui.diary.find_slot import NextAvailableDialog

    book(clinic, FRIDAY, 9, 15)
    dialog = NextAvailableDialog(page)
    qtbot.addWidget(dialog)
    dialog.practitioner.setCurrentIndex(dialog.practitioner.findData(clinic.anna))
    dialog.search()
    first = dialog.results.item(0).text()
    assert first.startswith("Fri 27 Nov  09:45") and "Anna Allen" in first


def test_waitlist_dialog_adds_an_entry(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    from frontdesk.ui.diary.panels import WaitlistDialog

    dialog = WaitlistDialog(page)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.picker.search, "Olive")
    qtbot.keyClick(dialog.picker.search, Qt.Key.Key_Return)
    dialog.urgency.setCurrentIndex(2)
    qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok),
                     Qt.MouseButton.LeftButton)  # fmt: skip
    qtbot.waitUntil(lambda: page.waitlist_panel.list.count() == 1)
    assert "Olive Other" in page.waitlist_panel.list.item(0).text()
    assert "Urgent" in page.waitlist_panel.list.item(0).text()


def test_kept_days_are_dropped_when_data_changes(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    show_day(qtbot, page, MONDAY)
    show_day(qtbot, page, MONDAY + timedelta(days=1))
    assert any(key[0] == (MONDAY,) for key in page._prefetched)
    a = book(clinic, MONDAY, 9)
    qtbot.waitUntil(lambda: not any(key[0] == (MONDAY,) for key in page._prefetched))
    show_day(qtbot, page, MONDAY)
    assert a in page.scene.items_by_id


def test_cancelling_offers_the_waitlist_for_the_freed_slot(qtbot, page: DiaryPage,
                                                           clinic: Clinic) -> None:  # fmt: skip
    from frontdesk.services.diary import groups as diary_groups

    entry = diary_groups.add_to_waitlist(clinic.ctx, clinic.other, practitioner_ids=[clinic.anna])
    a = book(clinic, MONDAY, 9)
    show_day(qtbot, page, MONDAY)
    page.view.set_cursor(0, 9 * 60)
    page.controller.cancel(page.scene.items_by_id[a].appt, CancellationReason.AWAY)
    qtbot.waitUntil(lambda: page.waitlist_panel.list.count() == 1)
    assert page.side.isVisible() and "Olive Other" in page.banner.text()
    current = page.waitlist_panel.list.currentItem()
    assert current is not None and current.data(Qt.ItemDataRole.UserRole) == entry
    assert current.font().bold()

    def book_olive(dialog) -> None:  # type: ignore[no-untyped-def]
        assert dialog.patient_id == clinic.other
        qtbot.keyClick(dialog.type, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    when_dialog_opens(book_olive)
    page.waitlist_panel.book_selected()
    qtbot.waitUntil(lambda: page.waitlist_panel.list.count() == 0)
    with clinic.ctx.read() as s:
        booked = s.query(Appointment).filter(Appointment.patient_id == clinic.other).one()
        assert booked.starts_at == clinic.at(MONDAY, 9)


def test_hover_text_has_phone_alert_and_notes(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    from frontdesk.models import PatientAlert
    from frontdesk.ui.diary.items import flag_icons, tooltip

    with clinic.ctx.write("alert") as s:
        s.add(PatientAlert(patient_id=clinic.pat, text="Latex allergy"))
    start = clinic.at(MONDAY, 9)
    end = start + timedelta(minutes=30)
    req = BookingRequest(clinic.anna, start, end, clinic.pat, clinic.standard, notes="Left knee")
    diary.book(clinic.ctx, req)
    show_day(qtbot, page, MONDAY)
    (item,) = page.scene.items_by_id.values()
    text = tooltip(item.appt, item.time_label)
    assert "0400 000 001" in text and "Latex allergy" in text and "Left knee" in text
    assert ("⚠", "#dc2626") in flag_icons(item.appt)
