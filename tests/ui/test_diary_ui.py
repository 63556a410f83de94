"""The diary on screen: real drags with the mouse on the viewport, resize, Escape, undo,
keyboard booking, shortcuts, refresh from change notices, navigation payloads, day sheet."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from diary_clinic import MONDAY, Clinic, make_clinic
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from frontdesk.models import Appointment
from frontdesk.services import diary
from frontdesk.services.context import ServiceContext
from frontdesk.services.diary import BookingRequest
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.diary.page import DiaryPage

FRIDAY = date(2026, 11, 27)


@pytest.fixture
def clinic(ctx: ServiceContext) -> Clinic:
    return make_clinic(ctx)


@pytest.fixture
def page(qtbot, ctx: ServiceContext, bus: ChangeBus, clinic: Clinic, tmp_path: Path) -> DiaryPage:  # type: ignore[no-untyped-def]
    prefs = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    p = DiaryPage(ctx, bus, prefs)
    qtbot.addWidget(p)
    p.setMinimumSize(1000, 700)  # an explicit minimum, as MainWindow has: no size-hint churn
    p.resize(1200, 800)
    p.show()
    qtbot.waitExposed(p)
    p.controller.confirm = lambda text: False
    p.controller.choose_scope = lambda what: "one"
    return p


def book(c: Clinic, day: date, hh: int, mm: int = 0, minutes: int = 30, who: str | None = None,
         patient: str | None = None) -> str:  # fmt: skip
    start = c.at(day, hh, mm)
    end = start + timedelta(minutes=minutes)
    req = BookingRequest(who or c.anna, start, end, patient or c.pat, c.standard)
    return diary.book(c.ctx, req)


def when_dialog_opens(act) -> None:  # type: ignore[no-untyped-def]
    """Run ``act(dialog)`` once the next modal dialog is up (its exec() blocks the test)."""

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, poll)
            return
        try:
            act(dialog)
        finally:
            if dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(0, poll)


def point(page: DiaryPage, column: int, minute: float, dx: float = 0.5) -> QPoint:
    lay = page.layout_
    assert lay is not None
    scene = QPointF(lay.x_of(column) + lay.column_width * dx, lay.y_of(minute))
    return page.view.mapFromScene(scene)


def drag(qtbot, page: DiaryPage, start: QPoint, end: QPoint, release: bool = True) -> None:  # type: ignore[no-untyped-def]
    vp = page.view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    steps = 6
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        qtbot.mouseMove(vp, pos=p)
    if release:
        qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)


def placement(ctx: ServiceContext, appointment_id: str) -> tuple[str, str, str, str]:
    with ctx.read() as s:
        a = s.get(Appointment, appointment_id)
        assert a is not None
        tz = ctx.tz
        return (a.practitioner_id, a.starts_at.astimezone(tz).strftime("%a %H:%M"),
                a.ends_at.astimezone(tz).strftime("%H:%M"), a.status)  # fmt: skip


def show_day(qtbot, page: DiaryPage, day: date) -> None:  # type: ignore[no-untyped-def]
    page.go_to(day)
    page.view.verticalScrollBar().setValue(0)
    qtbot.wait(10)


def test_drag_moves_to_other_time_and_practitioner_then_undo(qtbot, page: DiaryPage,
                                                             clinic: Clinic) -> None:  # fmt: skip
    a = book(clinic, MONDAY, 9)
    show_day(qtbot, page, MONDAY)
    assert a in page.scene.items_by_id
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), point(page, 1, 10 * 60 + 40))
    assert placement(clinic.ctx, a) == (clinic.ben, "Mon 10:30", "11:00", "booked")
    qtbot.waitUntil(lambda: page.scene.items_by_id.get(a) is not None
                    and page.scene.items_by_id[a].appt.practitioner_id == clinic.ben)  # fmt: skip
    page.undo_action.trigger()
    assert placement(clinic.ctx, a) == (clinic.anna, "Mon 09:00", "09:30", "booked")
    page.redo_action.trigger()
    assert placement(clinic.ctx, a)[:2] == (clinic.ben, "Mon 10:30")


def test_resize_bottom_edge_then_undo(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    a = book(clinic, MONDAY, 9)
    show_day(qtbot, page, MONDAY)
    lay = page.layout_
    assert lay is not None
    edge = page.view.mapFromScene(QPointF(lay.column_width / 2, lay.y_of(9 * 60 + 30) - 2))
    drag(qtbot, page, edge, point(page, 0, 10 * 60 + 2))
    assert placement(clinic.ctx, a) == (clinic.anna, "Mon 09:00", "10:00", "booked")
    page.undo_action.trigger()
    assert placement(clinic.ctx, a)[2] == "09:30"


def test_escape_cancels_a_drag(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    a = book(clinic, MONDAY, 9)
    show_day(qtbot, page, MONDAY)
    end = point(page, 1, 11 * 60)
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), end, release=False)
    assert page.scene.ghost.isVisible()
    qtbot.keyClick(page.view, Qt.Key.Key_Escape)
    assert not page.scene.ghost.isVisible()
    qtbot.mouseRelease(page.view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert placement(clinic.ctx, a) == (clinic.anna, "Mon 09:00", "09:30", "booked")
    assert page.controller.undo_stack.count() == 0


def test_ghost_shows_clash_before_drop_and_declining_changes_nothing(
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:  # type: ignore[no-untyped-def]
    a = book(clinic, MONDAY, 9)
    book(clinic, MONDAY, 10, who=clinic.ben, patient=clinic.other)
    show_day(qtbot, page, MONDAY)
    asked: list[str] = []
    page.controller.confirm = lambda text: asked.append(text) or False  # type: ignore[func-returns-value]
    end = point(page, 1, 10 * 60 + 10)
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), end, release=False)
    ghost = page.scene.ghost
    assert ghost.verdict == "warn" and "already has an appointment" in ghost.text
    qtbot.mouseMove(page.view.viewport(), pos=point(page, 1, 12 * 60 + 40))
    assert ghost.verdict == "block" and "Lunch" in ghost.text
    qtbot.mouseMove(page.view.viewport(), pos=end)
    qtbot.mouseRelease(page.view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert asked and "Book it anyway" in asked[0]
    assert placement(clinic.ctx, a)[:2] == (clinic.anna, "Mon 09:00")
    assert "Nothing was changed" in page.banner.text()


def test_drop_outside_roster_is_refused_with_a_message(qtbot, page: DiaryPage,
                                                       clinic: Clinic) -> None:  # fmt: skip
    a = book(clinic, MONDAY, 9)
    show_day(qtbot, page, MONDAY)
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), point(page, 0, 17 * 60 + 40))
    assert placement(clinic.ctx, a)[1] == "Mon 09:00"
    assert "rostered hours" in page.banner.text()


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
    page.controller.cancel(page.scene.items_by_id[a].appt, diary.CancellationReason.SICK, "flu")
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
    page.mode_box.setCurrentIndex(1)
    lay = page.layout_
    assert lay is not None
    assert {c.practitioner_id for c in lay.columns} == {clinic.anna}
    assert [c.day.weekday() for c in lay.columns] == [0, 1, 2, 3, 4, 5]
    assert len(page.scene.items_by_id) == 2
    page.step(1)
    assert page.day == MONDAY + timedelta(days=7)


def test_checkout_without_billing_says_so(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    import importlib.util

    if importlib.util.find_spec("frontdesk.ui.billing") is not None:
        pytest.skip("billing is merged: its own tests cover checkout")
    a = book(clinic, FRIDAY, 10)
    page.menus.checkout(a)
    assert page.banner.text() == "Billing is not available yet."


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
    assert "Pins 1" in page.panels_button.text()
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
    page.cancelled_action.setChecked(True)
    assert a in page.scene.items_by_id
    page.set_shown([clinic.ben])
    assert [c.practitioner_id for c in page.layout_.columns] == [clinic.ben]  # type: ignore[union-attr]
    again = DiaryPage(ctx, bus, page.prefs)
    qtbot.addWidget(again)
    assert again.shown_ids() == [clinic.ben] and again.scene.show_cancelled


def test_series_drag_moves_this_and_following(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    from frontdesk.services.diary_series import book_series, plan_series, series_members

    start = clinic.at(MONDAY, 9)
    req = BookingRequest(clinic.anna, start, start + timedelta(minutes=30), clinic.pat,
                         clinic.standard)  # fmt: skip
    plan = plan_series(clinic.ctx, req, count=3)
    series_id, _ids = book_series(clinic.ctx, req, [(o.start, o.end) for o in plan], count=3)
    show_day(qtbot, page, MONDAY)
    page.controller.choose_scope = lambda what: "following"
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), point(page, 0, 10 * 60 + 10))
    times = [s.astimezone(clinic.ctx.tz).strftime("%a %H:%M") for _, s, _ in
             series_members(clinic.ctx, series_id)]  # fmt: skip
    assert times == ["Mon 10:00"] * 3
    page.undo_action.trigger()
    times = [s.astimezone(clinic.ctx.tz).strftime("%H:%M") for _, s, _ in
             series_members(clinic.ctx, series_id)]  # fmt: skip
    assert times == ["09:00"] * 3


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
    dialog._search("Olive")
    dialog.urgency.setCurrentIndex(2)
    dialog._save()
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
    from frontdesk.services import diary_groups

    entry = diary_groups.add_to_waitlist(clinic.ctx, clinic.other, practitioner_ids=[clinic.anna])
    a = book(clinic, MONDAY, 9)
    show_day(qtbot, page, MONDAY)
    page.view.set_cursor(0, 9 * 60)
    page.controller.cancel(page.scene.items_by_id[a].appt, diary.CancellationReason.AWAY)
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


def test_drag_over_empty_slots_books_that_time(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    show_day(qtbot, page, MONDAY)
    seen: list[tuple[str, int]] = []

    def book_pat(dialog) -> None:  # type: ignore[no-untyped-def]
        seen.append((dialog.time.time().toString("HH:mm"), dialog.minutes.value()))
        qtbot.keyClicks(dialog.search, "Patient")
        qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
        qtbot.keyClick(dialog.type, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    when_dialog_opens(book_pat)
    drag(qtbot, page, point(page, 1, 14 * 60 + 2), point(page, 1, 15 * 60))
    assert seen == [("14:00", 60)]
    with clinic.ctx.read() as s:
        (appt,) = s.query(Appointment).all()
        assert (appt.practitioner_id, appt.patient_id) == (clinic.ben, clinic.pat)
        assert appt.ends_at - appt.starts_at == timedelta(hours=1)


def test_ctrl_down_jumps_between_appointments(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    first = book(clinic, MONDAY, 9)
    second = book(clinic, MONDAY, 14)
    show_day(qtbot, page, MONDAY)
    page.view.setFocus()
    page.view.set_cursor(0, 8 * 60)
    qtbot.keyClick(page.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert page.view.selected_item().appt.id == first  # type: ignore[union-attr]
    qtbot.keyClick(page.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert page.view.selected_item().appt.id == second  # type: ignore[union-attr]
    qtbot.keyClick(page.view, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert page.view.selected_item().appt.id == first  # type: ignore[union-attr]


def test_week_view_drag_moves_to_another_day(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    a = book(clinic, MONDAY, 9)
    page.go_to(MONDAY)
    page.mode_box.setCurrentIndex(1)
    page.view.verticalScrollBar().setValue(0)
    page.view.horizontalScrollBar().setValue(0)
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), point(page, 2, 11 * 60 + 10))
    assert placement(clinic.ctx, a) == (clinic.anna, "Wed 11:00", "11:30", "booked")


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
