"""The main window painted before the desk is open (services/early.py: the diary from a plain
sqlite3 read), then handed over to the services: it shows exactly what the usual window shows
(the same widgets, pixel for pixel), and a key pressed or a click made before the hand-over is
held and then acts on the right appointment through the services — never dropped, never
applied early."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from diary_clinic import Clinic, make_clinic
from diary_ui_support import FRIDAY, book, placement, point
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from frontdesk.db.head import EXPECTED_HEAD
from frontdesk.domain.clock import FakeClock
from frontdesk.domain.vocab import CancellationReason
from frontdesk.models import Leave
from frontdesk.services import diary
from frontdesk.services.early import EarlyContext
from frontdesk.store.context import ServiceContext
from frontdesk.store.first_day import first_screen
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.diary.page import DiaryPage
from frontdesk.ui.input_gate import InputGate
from frontdesk.ui.main_window import MainWindow

# where the screenshots go when asked (FRONTDESK_SHOTS=/work/notes/s9/coldstart)
SHOTS = os.environ.get("FRONTDESK_SHOTS")


def _window(qtbot, ctx: object, prefs_file: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    bus = ChangeBus()
    ctx.listeners.append(bus.publish)  # type: ignore[attr-defined]
    prefs = QSettings(str(prefs_file), QSettings.Format.IniFormat)
    window = MainWindow(ctx, bus, prefs)  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.resize(1440, 900)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()  # the diary's keys are shortcuts of the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def _stand_in(ctx: ServiceContext, clock: FakeClock) -> EarlyContext:
    assert ctx.paths is not None
    screen = first_screen(ctx.paths.database, EXPECTED_HEAD)
    assert screen is not None
    return EarlyContext(ctx.paths.database, screen, clock)


def _image(window: MainWindow, name: str) -> QImage:
    image = window.grab().toImage()
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        image.save(str(Path(SHOTS) / f"{name}.png"))
    return image


@pytest.fixture
def busy_day(ctx: ServiceContext, clock: FakeClock) -> Clinic:
    """Today (Friday) with a double booking, a cancellation and Ben's leave."""
    c = make_clinic(ctx)
    book(c, FRIDAY, 9, 15)
    book(c, FRIDAY, 10, 0, who=c.ben, patient=c.other)
    diary.cancel(ctx, book(c, FRIDAY, 11, 0), CancellationReason.OTHER)
    start = c.at(FRIDAY, 14)
    req = diary.BookingRequest(c.anna, start, start + timedelta(minutes=30), c.other, c.standard)
    diary.book(ctx, req)
    diary.book(ctx, diary.BookingRequest(c.anna, start, start + timedelta(minutes=30), c.pat,
                                         c.standard), allow_clash=True)  # fmt: skip
    with ctx.write("leave") as s:
        s.add(Leave(practitioner_id=c.ben, starts_at=c.at(FRIDAY, 15),
                    ends_at=c.at(FRIDAY, 17), reason="Course"))  # fmt: skip
    return c


def test_the_first_paint_is_the_full_window(qtbot, ctx, clock, busy_day, tmp_path) -> None:  # type: ignore[no-untyped-def]
    early = _window(qtbot, _stand_in(ctx, clock), tmp_path / "early.ini")
    full = _window(qtbot, ctx, tmp_path / "full.ini")
    first, usual = early.pages["diary"], full.pages["diary"]
    assert isinstance(first, DiaryPage) and isinstance(usual, DiaryPage)
    assert first.data == usual.data and first.data is not None
    assert len(first.data.appointments) == 5 and first.data.leave[busy_day.ben]
    assert first.layout_ is not None and usual.layout_ is not None
    assert [c.__dict__ for c in first.layout_.columns] == [
        c.__dict__ for c in usual.layout_.columns
    ]
    assert sorted(first.scene.items_by_id) == sorted(usual.scene.items_by_id)
    for key, item in first.scene.items_by_id.items():
        other = usual.scene.items_by_id[key]
        assert item.sceneBoundingRect() == other.sceneBoundingRect()
        assert item.toolTip() == other.toolTip()
    assert first.toolbar.panels_button.text() == usual.toolbar.panels_button.text()
    assert early.windowTitle() == full.windowTitle() and early.clinic_label.text()
    assert _image(early, "first-paint") == _image(full, "usual-start")
    # handed over: still the same picture, and the services behind it
    stand_in = early.ctx
    assert isinstance(stand_in, EarlyContext)
    stand_in.attach(ctx)
    early.hand_over(ctx)
    assert first.ctx is ctx and first.controller.ctx is ctx and early.ctx is ctx
    assert first.waitlist_panel is not None and first.pinboard_panel is not None
    assert _image(early, "handed-over") == _image(full, "usual-start")


def test_input_before_the_hand_over_is_held_then_acts_through_the_services(
    qtbot, ctx, clock, busy_day, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    c = busy_day
    gate = InputGate(QApplication.instance())  # type: ignore[arg-type]
    window = _window(qtbot, _stand_in(ctx, clock), tmp_path / "early.ini")
    page = window.pages["diary"]
    assert isinstance(page, DiaryPage)
    nine_fifteen = next(a.id for a in page.data.appointments if a.starts_at == c.at(FRIDAY, 9, 15))  # type: ignore[union-attr]
    ten = next(a.id for a in page.data.appointments if a.starts_at == c.at(FRIDAY, 10))  # type: ignore[union-attr]
    page.view.setFocus()
    page.view.set_cursor(0, 9 * 60)
    # a person's first moments: a slot down (9:15), mark arrived, then click Ben's 10:00
    qtbot.keyClick(page.view, Qt.Key.Key_Down)
    qtbot.keyClick(page.view, Qt.Key.Key_A)
    qtbot.mouseClick(
        page.view.viewport(), Qt.MouseButton.LeftButton, pos=point(page, 1, 10 * 60 + 10)
    )
    assert gate.held  # nothing acted yet: not the cursor, not the desk, not the selection
    assert page.view.cursor_slot == (0, 9 * 60)
    assert placement(ctx, nine_fifteen)[3] == "booked"
    assert page.view.selected_item() is None
    stand_in = window.ctx
    assert isinstance(stand_in, EarlyContext)
    stand_in.attach(ctx)
    window.hand_over(ctx)
    assert gate.release() >= 4
    # in order: the Down took the cursor to 9:15, so A marked that one, through the services
    assert placement(ctx, nine_fifteen)[3] == "arrived"
    assert "Marked arrived" in page.banner.text()
    # the change notice reached the page through the open desk: it redrew the appointment
    qtbot.waitUntil(lambda: page.scene.items_by_id[nine_fifteen].appt.status == "arrived")
    qtbot.waitUntil(lambda: page.view.selected_item() is not None)
    selected = page.view.selected_item()
    assert selected is not None and selected.appt.id == ten
    assert placement(ctx, ten)[3] == "booked"  # a click selects; it changes nothing
    assert page.view.cursor_slot == (1, 10 * 60)  # and the cursor followed the click
    _image(window, "after-input")
