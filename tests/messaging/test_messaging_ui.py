"""The messaging screens driven with real clicks and keys: the inbox (select a reply, Mark
handled), a template typed with a wrong placeholder then a right one (live preview on the next
real appointment, segments and cost, save), a test send refused for a landline and sent to a
mobile through the local Twilio, and the patient card's Messages tab with delivery status.
Screenshots go to $FRONTDESK_SHOTS when it is set."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QTableView, QTabWidget, QWidget

from frontdesk.domain.clock import FakeClock
from frontdesk.services.messaging import replies
from frontdesk.services.messaging.replies import Reply
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.messaging.settings_page import create
from frontdesk.ui.patients.card import PatientCardView
from frontdesk.ui.style import apply_style
from tests.diary_clinic import Clinic
from tests.messaging.local_providers import LocalSms, LocalSmtp
from tests.messaging.test_queue_and_send import book, consent, send


def _shot(widget: QWidget, name: str) -> None:
    folder = os.environ.get("FRONTDESK_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def _click_tab(qtbot, tabs: QTabWidget, label: str) -> None:  # type: ignore[no-untyped-def]
    bar = tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i).replace("&&", "&") == label)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert tabs.currentIndex() == index


def _click_row(qtbot, table: QTableView, row: int) -> None:  # type: ignore[no-untyped-def]
    rect = table.visualRect(table.model().index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_inbox_templates_test_send_and_patient_messages(  # type: ignore[no-untyped-def]
    qtbot, qapp: QApplication, clinic: Clinic, sms: LocalSms, smtp: LocalSmtp, clock: FakeClock
) -> None:
    apply_style(qapp)
    bus = ChangeBus()
    clinic.ctx.listeners.append(bus.publish)
    consent(clinic.ctx, clinic.pat)
    book(clinic)
    send(clinic, smtp)
    replies.apply_reply(
        clinic.ctx, Reply("twilio", "SMin1", "0412 345 678", "Can I bring my son?", clock.now())
    )

    page = create(clinic.ctx, bus, None)
    qtbot.addWidget(page)
    page.resize(980, 640)
    page.show()
    assert isinstance(page, QTabWidget)
    inbox = page.findChild(QTableView, "smsInbox")
    assert inbox is not None and inbox.model().rowCount() == 1
    assert inbox.model().index(0, 2).data() == "Pat Patient"
    _shot(page, "messages_inbox")
    _click_row(qtbot, inbox, 0)
    handled = page.findChild(QPushButton, "inboxHandled")
    qtbot.mouseClick(handled, Qt.MouseButton.LeftButton)
    assert inbox.model().rowCount() == 0

    _click_tab(qtbot, page, "Templates")
    kind = page.findChild(QWidget, "templateKind")
    body = page.findChild(QWidget, "templateBody")
    problem = page.findChild(QLabel, "templateProblem")
    preview = page.findChild(QLabel, "templatePreview")
    length = page.findChild(QLabel, "templateLength")
    save = page.findChild(QPushButton, "saveTemplate")
    assert kind is not None and body is not None and problem is not None
    assert preview is not None and length is not None and save is not None
    kind.setFocus()  # the arrow key on a closed combo box picks the next kind: Reminder
    qtbot.keyClick(kind, Qt.Key.Key_Down)
    assert kind.currentText() == "Reminder"  # type: ignore[attr-defined]
    body.setFocus()
    qtbot.keyClick(body, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(body, Qt.Key.Key_Delete)
    qtbot.keyClicks(body, "Hi {first}, see {practitioner}")
    assert "{first}" in problem.text() and not save.isEnabled()
    _shot(page, "messages_template_error")
    qtbot.keyClick(body, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(body, Qt.Key.Key_Delete)
    qtbot.keyClicks(body, "Hi {preferred_name}, see {practitioner} {date} at {time}. Y or C?")
    assert problem.text() == "" and save.isEnabled()
    assert "Hi Pat, see Anna Allen Mon 30 Nov at 10:00am" in preview.text()
    assert "1 SMS segment" in length.text() and "$0.08" in length.text()
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    _shot(page, "messages_template")
    saved = [w for w in page.findChildren(QLabel) if w.text() == "Saved."]
    assert saved

    _click_tab(qtbot, page, "Provider & hours")
    to = page.findChild(QWidget, "testTo")
    test = page.findChild(QPushButton, "testSend")
    result = page.findChild(QLabel, "testResult")
    assert to is not None and test is not None and result is not None
    qtbot.mouseClick(to, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(to, "02 9876 5432")
    qtbot.mouseClick(test, Qt.MouseButton.LeftButton)
    assert "landline" in result.text()
    qtbot.keyClick(to, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(to, "0412 345 678")
    qtbot.mouseClick(test, Qt.MouseButton.LeftButton)
    assert "Sent to +61412345678 through twilio" in result.text()
    assert sms.state.sent[-1]["body"].startswith("This is a test message from frontdesk.")
    _shot(page, "messages_provider")

    card = PatientCardView(clinic.ctx, bus)
    qtbot.addWidget(card)
    card.resize(1100, 520)
    card.show()
    card.open(clinic.pat)
    _click_tab(qtbot, card.tabs, "Messages")
    table = card.findChild(QTableView, "patientMessages")
    assert table is not None
    statuses = sorted(table.model().index(r, 4).data() for r in range(table.model().rowCount()))
    assert statuses == ["Queued", "Sent"]
    _shot(card, "patient_messages_tab")


def test_a_desk_without_a_server_sends_from_the_app(  # type: ignore[no-untyped-def]
    qtbot, clinic: Clinic, sms: LocalSms
) -> None:
    from frontdesk.ui.messaging.sender_worker import LocalSender

    consent(clinic.ctx, clinic.pat)
    book(clinic)
    worker = LocalSender(clinic.ctx, interval_ms=20)
    worker.start()
    qtbot.waitUntil(lambda: len(sms.state.sent) == 1, timeout=10_000)
    qtbot.wait(200)  # more rounds: nothing is sent twice
    worker.timer.stop()
    qtbot.waitUntil(lambda: not worker.busy, timeout=10_000)
    assert len(sms.state.sent) == 1
