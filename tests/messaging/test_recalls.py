"""Recalls: patients last seen at least six weeks ago with nothing booked ahead are listed
(per appointment type or profession), queued once per last visit, and sent like any message."""

from __future__ import annotations

from datetime import datetime, timedelta

from frontdesk.domain.clock import FakeClock
from frontdesk.models import Appointment
from frontdesk.services.messaging import recalls
from tests.diary_clinic import Clinic
from tests.messaging.local_providers import LocalSms, LocalSmtp
from tests.messaging.test_queue_and_send import consent, messages, send


def _visit(c: Clinic, patient: str, at: datetime, status: str = "completed",
           prac: str | None = None) -> None:  # fmt: skip
    with c.ctx.write("test visit") as s:
        s.add(Appointment(practitioner_id=prac or c.anna, patient_id=patient, starts_at=at,
                          ends_at=at + timedelta(minutes=30), status=status,
                          appointment_type_id=c.standard))  # fmt: skip


def test_recall_list_and_queue_once(
    clinic: Clinic, sms: LocalSms, smtp: LocalSmtp, clock: FakeClock
) -> None:
    now = clock.now()
    consent(clinic.ctx, clinic.pat)
    _visit(clinic, clinic.pat, now - timedelta(weeks=8))
    _visit(clinic, clinic.pat, now - timedelta(weeks=10), "did_not_arrive")
    _visit(clinic, clinic.other, now - timedelta(weeks=9))
    _visit(clinic, clinic.other, now + timedelta(days=5), "booked")  # booked ahead: no recall
    rows = recalls.recall_list(clinic.ctx, weeks=6)
    assert [r.patient_name for r in rows] == ["Pat Patient"]
    [row] = rows
    assert row.reachable and row.practitioner == "Anna Allen" and not row.already_recalled
    assert recalls.recall_list(clinic.ctx, weeks=9) == []
    assert recalls.recall_list(clinic.ctx, weeks=6, profession="Podiatrist") == []
    assert len(recalls.recall_list(clinic.ctx, weeks=6, profession="Physiotherapist")) == 1
    assert recalls.queue_recalls(clinic.ctx, rows) == 1
    assert recalls.queue_recalls(clinic.ctx, rows) == 0  # once per last visit
    assert recalls.recall_list(clinic.ctx)[0].already_recalled
    assert send(clinic, smtp).sent == 1
    [m] = messages(clinic.ctx)
    assert m.kind == "recall" and "it's been a while since your last visit with Anna" in m.body
    assert sms.state.sent[0]["body"] == m.body


def test_a_patient_without_consent_is_listed_but_not_reachable(
    clinic: Clinic, clock: FakeClock
) -> None:
    _visit(clinic, clinic.other, clock.now() - timedelta(weeks=7))
    [row] = recalls.recall_list(clinic.ctx)
    assert not row.reachable and "agreed" in row.why_not
    assert recalls.queue_recalls(clinic.ctx, [row]) == 0


def test_recalls_tab_lists_and_queues_with_a_click(  # type: ignore[no-untyped-def]
    qtbot, clinic: Clinic, clock: FakeClock
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel, QPushButton, QSpinBox, QTableView

    from frontdesk.ui.bus import ChangeBus
    from frontdesk.ui.messaging.settings_page import RecallsTab

    consent(clinic.ctx, clinic.pat)
    _visit(clinic, clinic.pat, clock.now() - timedelta(weeks=8))
    _visit(clinic, clinic.other, clock.now() - timedelta(weeks=7))
    bus = ChangeBus()
    clinic.ctx.listeners.append(bus.publish)
    tab = RecallsTab(clinic.ctx, bus)
    qtbot.addWidget(tab)
    tab.resize(900, 400)
    tab.show()
    table = tab.findChild(QTableView, "recallList")
    assert table is not None and table.model().rowCount() == 2
    weeks = tab.findChild(QSpinBox, "recallWeeks")
    assert weeks is not None
    weeks.setFocus()
    qtbot.keyClick(weeks, Qt.Key.Key_Up)
    qtbot.keyClick(weeks, Qt.Key.Key_Up)  # 8 weeks: only Pat
    assert table.model().rowCount() == 1
    qtbot.mouseClick(tab.findChild(QPushButton, "queueRecalls"), Qt.MouseButton.LeftButton)
    status = tab.findChild(QLabel, "recallStatus")
    assert status is not None and status.text() == "1 recall(s) queued."
    assert table.model().index(0, 3).data() == "queued"
    import os

    if os.environ.get("FRONTDESK_SHOTS"):
        tab.grab().save(os.path.join(os.environ["FRONTDESK_SHOTS"], "recalls.png"))
