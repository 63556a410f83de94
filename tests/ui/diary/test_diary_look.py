"""What the diary shows and where (issue 14): names on short appointments, banners that do not
move the grid."""

from __future__ import annotations

from datetime import date

from diary_clinic import MONDAY, Clinic
from diary_ui_support import book
from PySide6.QtWidgets import QComboBox

from frontdesk.models import Patient
from frontdesk.ui.diary.page import DiaryPage


def _patient(clinic: Clinic, first: str, last: str) -> str:
    with clinic.ctx.write("a patient") as s:
        p = Patient(patient_number=f"N-{last}", first_name=first, last_name=last,
                    date_of_birth=date(1990, 1, 1))  # fmt: skip
        s.add(p)
        s.flush()
        return p.id


def test_short_appointments_show_the_whole_name_first_in_a_narrow_week_view(
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:  # type: ignore[no-untyped-def]
    olivia = _patient(clinic, "Olivia", "Nguyen")
    short = book(clinic, MONDAY, 9, 0, minutes=15, patient=olivia)
    longer = book(clinic, MONDAY, 10, 0, minutes=30, patient=olivia)
    page.resize(1000, 700)
    page.go_to(MONDAY)
    mode: QComboBox = page.toolbar.mode_box
    mode.setCurrentIndex(1)  # the week: six narrow columns
    qtbot.waitUntil(lambda: short in page.scene.items_by_id)
    page.view.grab()  # paint, so each item lays out its text
    item = page.scene.items_by_id[short]
    prepared = item._prepared
    assert prepared is not None and prepared.lines == 1
    assert prepared.name.startswith("Olivia Nguyen"), prepared.name
    assert "…" not in prepared.name.split("  ")[0]
    two = page.scene.items_by_id[longer]._prepared
    assert two is not None and two.name == "Olivia Nguyen"


def test_a_result_message_does_not_move_the_grid(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    from diary_ui_support import FRIDAY, placement, show_day
    from PySide6.QtCore import QPoint, Qt

    a = book(clinic, FRIDAY, 9, 15)
    show_day(qtbot, page, FRIDAY)
    page.view.setFocus()
    page.view.set_cursor(0, 9 * 60 + 15)
    qtbot.wait(20)
    before = page.view.mapTo(page, QPoint(0, 0)), page.view.height()
    qtbot.keyClick(page.view, Qt.Key.Key_A)  # mark arrived: "Marked arrived. Ctrl+Z undoes it."
    assert placement(clinic.ctx, a)[3] == "arrived"
    assert "Marked" in page.banner.text()
    qtbot.wait(20)
    assert (page.view.mapTo(page, QPoint(0, 0)), page.view.height()) == before


def test_cancelling_asks_for_a_reason_none_is_preselected(
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:  # type: ignore[no-untyped-def]
    from diary_ui_support import FRIDAY, placement, show_day, when_dialog_opens
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialogButtonBox

    a = book(clinic, FRIDAY, 9, 15)
    show_day(qtbot, page, FRIDAY)
    page.view.setFocus()
    page.view.set_cursor(0, 9 * 60 + 15)
    seen: dict[str, object] = {}

    def fill(dialog) -> None:  # type: ignore[no-untyped-def]
        seen["preselected"] = dialog.reason_box.currentText()
        ok = next(b for b in dialog.findChild(QDialogButtonBox).buttons()
                  if b.text() == "Cancel appointment")  # fmt: skip
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
        seen["still_open"] = dialog.isVisible()
        seen["message"] = dialog.missing.text()
        qtbot.keyClick(dialog.reason_box, Qt.Key.Key_Down)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    when_dialog_opens(fill)
    qtbot.keyClick(page.view, Qt.Key.Key_Delete)
    assert seen["preselected"] == "" and seen["still_open"]
    assert "Choose why" in str(seen["message"])
    assert placement(clinic.ctx, a)[3] == "cancelled"


def test_completing_a_future_appointment_asks_first(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    from diary_ui_support import FRIDAY, placement, show_day
    from PySide6.QtCore import Qt

    a = book(clinic, FRIDAY, 15)  # the fixture's clock: Friday 09:00
    show_day(qtbot, page, FRIDAY)
    page.view.setFocus()
    page.view.set_cursor(0, 15 * 60)
    asked: list[str] = []
    answers = [False, True]
    page.controller.confirm = lambda text: asked.append(text) or answers.pop(0)  # type: ignore[func-returns-value]
    qtbot.keyClick(page.view, Qt.Key.Key_C)
    assert placement(clinic.ctx, a)[3] == "booked" and "not until 15:00 today" in asked[0]
    qtbot.keyClick(page.view, Qt.Key.Key_C)
    assert placement(clinic.ctx, a)[3] == "completed" and len(asked) == 2, (
        asked,
        page.banner.text(),
    )


def test_book_for_patient_skips_a_taken_slot_and_a_declined_clash_keeps_the_dialog(
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:  # type: ignore[no-untyped-def]
    from diary_ui_support import show_day, when_dialog_opens
    from PySide6.QtCore import Qt

    from frontdesk.models import Appointment

    book(clinic, MONDAY, 9)
    book(clinic, MONDAY, 9, 30, patient=clinic.other)
    show_day(qtbot, page, MONDAY)
    page.view.set_cursor(0, 9 * 60)
    seen: list[tuple[str, str, str]] = []

    def second(dialog) -> None:  # type: ignore[no-untyped-def]
        seen.append(("again", dialog.time.time().toString("HH:mm"), dialog.error.text()))

    def first(dialog) -> None:  # type: ignore[no-untyped-def]
        seen.append(("first", dialog.time.time().toString("HH:mm"), dialog.picker.chosen.text()))
        dialog.time.setTime(dialog.time.time().addSecs(-3600))  # back onto 09:00: a clash
        when_dialog_opens(second)
        qtbot.keyClick(dialog.type, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    when_dialog_opens(first)
    page.handle_navigation({"book_for_patient": clinic.pat})
    qtbot.waitUntil(lambda: len(seen) == 2)
    assert seen[0][:2] == ("first", "10:00") and "Pat Patient" in seen[0][2]
    assert seen[1][:2] == ("again", "09:00") and "Not booked" in seen[1][2]
    with clinic.ctx.read() as s:
        assert s.query(Appointment).count() == 2


def test_the_slot_cursor_follows_its_slot_when_the_columns_resize(
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:  # type: ignore[no-untyped-def]
    from diary_ui_support import show_day

    show_day(qtbot, page, MONDAY)
    page.view.set_cursor(1, 10 * 60)
    page.resize(1600, 800)
    lay = page.layout_
    qtbot.waitUntil(lambda: abs(page.scene.cursor.rect.x() - lay.x_of(1)) < 1)
    assert abs(page.scene.cursor.rect.width() - lay.column_width) < 1


def test_the_status_clock_and_the_now_line_turn_the_minute_together(
    qtbot, main_window, clinic: Clinic, clock
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    page = main_window.show_area("diary")
    page.go_today()
    qtbot.waitUntil(lambda: page.scene.now_line is not None)
    before = main_window.clock_label.text()
    clock.advance(timedelta(minutes=1))
    now = clock.now().astimezone(clinic.ctx.tz)
    expected = page.layout_.y_of(now.hour * 60 + now.minute)
    # both within the second, not up to a minute apart
    qtbot.waitUntil(lambda: main_window.clock_label.text() != before, timeout=2500)
    qtbot.waitUntil(lambda: abs(page.scene.now_line.line_y - expected) < 1, timeout=2500)
    assert main_window.clock_label.text().endswith(f"{now:%H:%M}")


def test_a_cancelled_appointment_says_why_in_words(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    """The note given with a cancellation (typed in the dialog, or "patient cancelled by SMS"
    from a "C" reply) shows on the faded appointment and in its tooltip, on any desk."""
    from diary_ui_support import FRIDAY, show_day, when_dialog_opens
    from PySide6.QtCore import Qt

    from frontdesk.ui.diary.items import tooltip

    a = book(clinic, FRIDAY, 9, 0, minutes=45)
    show_day(qtbot, page, FRIDAY)
    page.toolbar.cancelled_action.setChecked(True)
    page.view.setFocus()
    page.view.set_cursor(0, 9 * 60)

    def fill(dialog) -> None:  # type: ignore[no-untyped-def]
        qtbot.keyClick(dialog.reason_box, Qt.Key.Key_Down)
        qtbot.keyClicks(dialog.note, "rang to say she is unwell")
        qtbot.keyClick(dialog.note, Qt.Key.Key_Return)

    when_dialog_opens(fill)
    qtbot.keyClick(page.view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: page.scene.items_by_id[a].appt.status == "cancelled")
    page.view.grab()  # paint, so the item lays out its text
    item = page.scene.items_by_id[a]
    assert item._prepared is not None and item._prepared.second is not None
    assert "rang to say she is unwell" in item._prepared.second
    assert "rang to say she is unwell" in tooltip(item.appt, "")
