"""Helpers for the diary UI tests: booking, pointing at a slot, dragging, modal dialogs."""

from __future__ import annotations

from datetime import date, timedelta

from diary_clinic import Clinic
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtWidgets import QApplication

from frontdesk.models import Appointment
from frontdesk.services import diary
from frontdesk.services.diary import BookingRequest
from frontdesk.store.context import ServiceContext
from frontdesk.ui.diary.page import DiaryPage

FRIDAY = date(2026, 11, 27)


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
