"""The day's messages report (Settings → Messages → Day report) and the diary's "replied"
icon, driven like a user: a booking's confirmation goes to the local SMS server, a reply that
is not Y/C waits in the inbox; the report for Friday 27 Nov (clinic time — still Thursday in
UTC) lists the message sent and the reply, the day before shows nothing; the diary shows ↩
beside the appointment until reception marks the reply handled."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication, QDateEdit, QLabel, QTableView, QTabWidget, QWidget

from frontdesk.domain.clock import FakeClock
from frontdesk.services.diary.view import appointments_between
from frontdesk.services.messaging import replies
from frontdesk.services.messaging.replies import Reply
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.diary.items import flag_icons, tooltip
from frontdesk.ui.messaging.settings_page import create
from frontdesk.ui.style import apply_style
from tests.diary_clinic import MONDAY, Clinic
from tests.messaging.local_providers import LocalSms, LocalSmtp
from tests.messaging.test_queue_and_send import book, consent, send


def _shot(widget: QWidget, name: str) -> None:
    folder = os.environ.get("FRONTDESK_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def _diary_flags(clinic: Clinic, appt: str) -> list[str]:
    with clinic.ctx.read() as s:
        shown = appointments_between(s, [clinic.anna], clinic.at(MONDAY, 0), clinic.at(MONDAY, 23))
    [row] = [a for a in shown if a.id == appt]
    assert ("replied" in tooltip(row, "10:00")) == row.replied
    return [glyph for glyph, _colour in flag_icons(row)]


def test_day_report_lists_sent_and_replies_in_clinic_time_and_the_diary_shows_replied(  # type: ignore[no-untyped-def]
    qtbot, qapp: QApplication, clinic: Clinic, sms: LocalSms, smtp: LocalSmtp, clock: FakeClock
) -> None:
    apply_style(qapp)
    bus = ChangeBus()
    clinic.ctx.listeners.append(bus.publish)
    consent(clinic.ctx, clinic.pat)
    appt = book(clinic)
    assert send(clinic, smtp).sent == 1  # the confirmation; the reminder waits for its day
    clock.advance(timedelta(minutes=5))
    replies.apply_reply(
        clinic.ctx, Reply("twilio", "SMq", "0412 345 678", "Is there parking?", clock.now())
    )
    assert "↩" in _diary_flags(clinic, appt)
    if os.environ.get("FRONTDESK_SHOTS"):
        from PySide6.QtCore import QSettings

        from frontdesk.ui.diary.page import DiaryPage

        diary = DiaryPage(clinic.ctx, bus, QSettings(str(clinic.ctx.data_dir or "") + "/d.ini",
                                                     QSettings.Format.IniFormat))  # fmt: skip
        qtbot.addWidget(diary)
        diary.resize(900, 560)
        diary.show()
        diary.go_to(MONDAY)
        qtbot.wait(200)
        _shot(diary, "diary_replied_icon")

    page = create(clinic.ctx, bus, None)
    qtbot.addWidget(page)
    page.resize(1100, 520)
    page.show()
    assert isinstance(page, QTabWidget)
    bar = page.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == "Day report")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    table = page.findChild(QTableView, "dayMessages")
    summary = page.findChild(QLabel, "dayMessagesSummary")
    day = page.findChild(QDateEdit, "messagesDay")
    assert table is not None and summary is not None and day is not None
    assert day.date() == QDate(2026, 11, 27)  # clinic's today (UTC is still the 26th)
    model = table.model()
    cells = [[model.index(r, c).data() for c in range(model.columnCount())]
             for r in range(model.rowCount())]  # fmt: skip
    assert [(c[0], c[1], c[3], c[5]) for c in cells] == [
        ("09:00", "→", "confirmation", "Sent"),
        ("09:00", "→", "reminder", "Queued"),
        ("09:05", "←", "reply", "In the inbox"),
    ]
    assert "Is there parking?" in cells[2][6]
    assert summary.text().startswith("1 sent (0 delivered), 0 failed, 1 waiting to go")
    assert "1 reply (1 in the inbox)" in summary.text()
    _shot(page, "messages_day_report")

    day.setFocus()
    qtbot.keyClick(day, Qt.Key.Key_Down)  # the day field steps back a day
    qtbot.waitUntil(lambda: model.rowCount() == 0)
    assert day.date() == QDate(2026, 11, 26)

    [inbox_row] = replies.inbox(clinic.ctx)
    replies.mark_handled(clinic.ctx, inbox_row.id)
    assert "↩" not in _diary_flags(clinic, appt)
