"""The desk's sync UI: Conflicts area, Clinic server settings tab, status bar worker."""

from __future__ import annotations

import json
from datetime import timedelta

from PySide6.QtWidgets import QLabel, QPushButton, QTabWidget
from sqlalchemy import select

from frontdesk.domain.clock import FakeClock
from frontdesk.models import Appointment, Patient, Practitioner, SyncConflict
from frontdesk.store.context import ServiceContext
from frontdesk.sync import conflicts as svc
from frontdesk.ui.conflicts import ConflictsPage
from frontdesk.ui.settings.server import ServerSettingsPage
from frontdesk.ui.sync_worker import SyncWorker


def _clash(ctx: ServiceContext, clock: FakeClock) -> tuple[str, str, str]:
    start = clock.now() + timedelta(hours=2)
    with ctx.write("arrived from the server", origin="sync") as s:
        prac = Practitioner(first_name="Kim", last_name="Ng", display_name="Kim Ng",
                            profession="Physiotherapist", created_at=clock.now(),
                            updated_at=clock.now(), version=1)  # fmt: skip
        s.add(prac)
        s.flush()
        ids = []
        for minutes in (0, 15):
            a = Appointment(practitioner_id=prac.id, starts_at=start + timedelta(minutes=minutes),
                            ends_at=start + timedelta(minutes=minutes + 30), clash_flagged=True,
                            created_at=clock.now(), updated_at=clock.now(), version=2)  # fmt: skip
            s.add(a)
            s.flush()
            ids.append(a.id)
        c = SyncConflict(kind="clash", entity="appointments", row_id=ids[0], other_row_id=ids[1],
                         detail="Two bookings overlap for the same practitioner, made on "
                         "different desks.", created_at=clock.now(), updated_at=clock.now(),
                         version=1)  # fmt: skip
        s.add(c)
        s.flush()
        return c.id, ids[0], ids[1]


def _buttons(page: ConflictsPage) -> list[QPushButton]:
    return page.findChildren(QPushButton)


def test_conflicts_page_shows_both_bookings_and_keep_both_resolves(qtbot, ctx, bus, clock) -> None:  # type: ignore[no-untyped-def]
    cid, a, b = _clash(ctx, clock)
    page = ConflictsPage(ctx, bus)
    qtbot.addWidget(page)
    text = " ".join(label.text() for label in page.findChildren(QLabel))
    assert "Overlapping bookings" in text and "Kim Ng" in text
    labels = [b.text() for b in _buttons(page)]
    assert "Keep both" in labels and any(t.startswith("Move booking 1 to") for t in labels)
    next(b for b in _buttons(page) if b.text() == "Keep both").click()
    qtbot.waitUntil(lambda: "Nothing to sort out" in page.summary.text())
    with ctx.read() as s:
        assert s.get(SyncConflict, cid).resolved_at is not None  # type: ignore[union-attr]
        assert not s.get(Appointment, a).clash_flagged  # type: ignore[union-attr]
        assert not s.get(Appointment, b).clash_flagged  # type: ignore[union-attr]


def test_moving_one_booking_resolves_the_clash(qtbot, ctx, bus, clock) -> None:  # type: ignore[no-untyped-def]
    _cid, a, b = _clash(ctx, clock)
    page = ConflictsPage(ctx, bus)
    qtbot.addWidget(page)
    next(x for x in _buttons(page) if x.text().startswith("Move booking 2")).click()
    qtbot.waitUntil(lambda: "Nothing to sort out" in page.summary.text())
    with ctx.read() as s:
        first, second = s.get(Appointment, a), s.get(Appointment, b)
        assert first is not None and second is not None
        assert second.starts_at >= first.ends_at


def test_field_conflict_pick_the_other_value(qtbot, ctx, bus, clock) -> None:  # type: ignore[no-untyped-def]
    with ctx.write("add patient") as s:
        p = Patient(patient_number="P-1", first_name="Jo", last_name="Smyth")
        s.add(p)
        s.flush()
        pid = p.id
    with ctx.write("arrived", origin="sync") as s:
        s.add(SyncConflict(kind="field", entity="patients", row_id=pid, field="last_name",
                           local_value_json=json.dumps("Smithe"),
                           remote_value_json=json.dumps("Smyth"), created_at=clock.now(),
                           updated_at=clock.now(), version=1))  # fmt: skip
    page = ConflictsPage(ctx, bus)
    qtbot.addWidget(page)
    assert [v.kind for v in svc.list_open(ctx)] == ["field"]
    next(x for x in _buttons(page) if x.text() == "Use “Smithe”").click()
    qtbot.waitUntil(lambda: "Nothing to sort out" in page.summary.text())
    with ctx.read() as s:
        assert s.get(Patient, pid).last_name == "Smithe"  # type: ignore[union-attr]


def test_a_notice_from_the_server_has_one_dealt_with_button(qtbot, ctx, bus, clock) -> None:  # type: ignore[no-untyped-def]
    """A refund given twice is settled by the server: reception reads it and says it is dealt
    with (one button, clicked with the mouse), rather than choosing between two values."""
    from PySide6.QtCore import Qt

    with ctx.write("add patient") as s:
        p = Patient(patient_number="P-1", first_name="Jo", last_name="Smyth")
        s.add(p)
        s.flush()
        pid = p.id
    detail = (
        "Jo Smyth was refunded $60.00 more than their account credit (refunded on two desks "
        "at once). Both refunds are kept as given; Jo Smyth now owes $60.00."
    )
    with ctx.write("arrived", origin="sync") as s:
        s.add(SyncConflict(kind="field", entity="patients", row_id=pid, field=None,
                           detail=detail, local_value_json=json.dumps("Jo Smyth owes $60.00"),
                           remote_value_json=json.dumps("refunds kept as given"),
                           created_at=clock.now(), updated_at=clock.now(), version=1))  # fmt: skip
    page = ConflictsPage(ctx, bus)
    qtbot.addWidget(page)
    page.show()
    views = svc.list_open(ctx)
    assert [v.kind for v in views] == ["notice"]
    assert views[0].title == "Patient Jo Smyth (P-1): refunded more than their credit"
    shown = [b for b in _buttons(page) if b.isVisible()]
    assert [b.text() for b in shown] == ["Dealt with"]
    qtbot.mouseClick(shown[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Nothing to sort out" in page.summary.text())
    assert svc.list_open(ctx) == []


def test_resolving_twice_is_refused_with_a_message(ctx, clock) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from frontdesk.domain.errors import RuleViolation

    cid, _a, _b = _clash(ctx, clock)
    svc.resolve_clash_keep_both(ctx, cid)
    with pytest.raises(RuleViolation, match="already resolved"):
        svc.resolve_clash_keep_both(ctx, cid)


def test_clinic_server_tab_and_bad_input(qtbot, main_window) -> None:  # type: ignore[no-untyped-def]
    page = main_window.show_area("settings")
    tabs = page.findChild(QTabWidget, "settingsTabs")
    names = [tabs.tabText(i) for i in range(tabs.count())]
    assert "Clinic server" in names
    server_page = tabs.widget(names.index("Clinic server"))
    assert isinstance(server_page, ServerSettingsPage)
    assert "not enrolled" in server_page.state_label.text()
    server_page.address.setText("")
    server_page.code.setText("ABC")
    server_page.on_enrol()
    qtbot.waitUntil(lambda: "address" in server_page.message.text(), timeout=5000)
    assert server_page.enrol_button.isEnabled()


def test_conflicts_area_is_in_the_sidebar(main_window) -> None:  # type: ignore[no-untyped-def]
    page = main_window.show_area("conflicts")
    assert isinstance(page, ConflictsPage)


def test_worker_reports_offline_without_a_server(qtbot, ctx, bus, main_window) -> None:  # type: ignore[no-untyped-def]
    worker = SyncWorker(ctx, bus, listen=False)
    worker.status.connect(lambda text, problem: main_window.set_sync_status(text, problem=problem))
    worker.start()
    assert "no clinic server" in main_window.sync_label.text()
    worker.stop()


def test_a_change_the_server_refused_is_listed_with_why_until_read(qtbot, bus, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from frontdesk.models import Invoice
    from tests.sync.clinic import Clinic

    clinic = Clinic(tmp_path, str(tmp_path / "server.sqlite3"))
    try:
        desk = clinic.add_desk()
        number = desk.invoice(desk.add_patient("Ada", "Byron"), cents=9500)
        assert desk.sync()
        with desk.ctx.write("a desk with a bug") as s:
            inv = s.scalars(select(Invoice).where(Invoice.number == number)).one()
            inv.total_cents = 1
        assert desk.sync()
        page = ConflictsPage(desk.ctx, bus)
        qtbot.addWidget(page)
        text = " ".join(label.text() for label in page.findChildren(QLabel))
        assert "1 change made on this desk was refused" in text
        assert f"Change to invoice {number}" in text and "was issued already" in text
        with desk.ctx.read() as s:  # put back as the clinic holds it
            assert s.scalars(select(Invoice.total_cents)).one() == 9500
        next(b for b in _buttons(page) if b.text() == "Mark as read").click()
        qtbot.waitUntil(
            lambda: (
                "refused"
                not in " ".join(x.text() for x in page.findChildren(QLabel) if x.isVisible())
            )
        )
        with desk.ctx.read() as s:
            assert svc.count_refused(s) == 0
    finally:
        clinic.close()


def test_hidden_conflicts_page_waits_for_notices_until_shown(
    qtbot, ctx, bus, clock, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Issue 14: every booking used to rebuild the conflicts page even when nobody looked."""
    _clash(ctx, clock)
    page = ConflictsPage(ctx, bus)
    qtbot.addWidget(page)
    reads: list[int] = []
    real = svc.list_open
    monkeypatch.setattr(svc, "list_open", lambda c: reads.append(1) or real(c))
    with ctx.write("a change elsewhere") as s:
        s.add(Patient(patient_number="P-77", first_name="Ada", last_name="Lane"))
    qtbot.wait(30)
    assert reads == []
    page.show()
    qtbot.waitUntil(lambda: len(reads) == 1)
    with ctx.write("another change") as s:
        s.add(Patient(patient_number="P-78", first_name="Bo", last_name="Lane"))
    qtbot.waitUntil(lambda: len(reads) == 2)
