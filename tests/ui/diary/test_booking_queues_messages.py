"""A booking made through the real dialog (keys typed into it) gets exactly one confirmation
queued, by the background queueing worker: the message's write is announced from that worker's
thread, never the GUI thread; a move through the diary withdraws it and queues the new one."""

from __future__ import annotations

import threading

from diary_clinic import MONDAY, Clinic
from diary_ui_support import show_day, when_dialog_opens
from PySide6.QtCore import Qt
from sqlalchemy import select

from frontdesk.models import Appointment, OutgoingMessage
from frontdesk.services import diary
from frontdesk.services.messaging.setup import save_settings
from frontdesk.services.messaging.worker import QueueingWorker
from frontdesk.store.changes import ChangeNotice
from frontdesk.ui.diary.page import DiaryPage
from tests.messaging.test_queue_and_send import consent


def test_a_dialog_booking_queues_one_confirmation_off_the_gui_thread(  # type: ignore[no-untyped-def]
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:
    save_settings(clinic.ctx, enabled=True)
    consent(clinic.ctx, clinic.pat)
    worker = QueueingWorker(clinic.ctx)
    clinic.ctx.listeners.append(worker.listen)
    writers: list[str] = []

    def who_wrote(notice: ChangeNotice) -> None:
        if "outgoing_messages" in notice.ids:
            writers.append(threading.current_thread().name)

    clinic.ctx.listeners.append(who_wrote)
    try:
        show_day(qtbot, page, MONDAY)
        page.view.setFocus()
        page.view.set_cursor(1, 11 * 60)

        def fill(dialog) -> None:  # type: ignore[no-untyped-def]
            qtbot.keyClicks(dialog.search, "Pat")
            qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
            qtbot.keyClick(dialog.type, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

        when_dialog_opens(fill)
        qtbot.keyClick(page.view, Qt.Key.Key_Return)
        assert worker.drain()
        with clinic.ctx.read() as s:
            (appt,) = s.scalars(select(Appointment)).all()
            rows = s.scalars(select(OutgoingMessage)).all()
            kinds = sorted(m.kind for m in rows)
        assert kinds == ["confirmation", "reminder"]  # exactly one confirmation (and its reminder)
        assert writers and all(name == "message-queueing" for name in writers)

        diary.move(clinic.ctx, appt.id, clinic.at(MONDAY, 14), clinic.ben)
        assert worker.drain()
        with clinic.ctx.read() as s:
            status = sorted((m.kind, m.status) for m in s.scalars(select(OutgoingMessage)))
        assert status == [("confirmation", "cancelled"), ("confirmation", "queued"),
                          ("reminder", "cancelled"), ("reminder", "queued")]  # fmt: skip
    finally:
        worker.stop()
