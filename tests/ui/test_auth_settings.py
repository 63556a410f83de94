"""Settings tabs of the auth work: Audit trail, Staff and Backups, each gated by role."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget
from sqlalchemy import text

from frontdesk.domain.vocab import Role
from frontdesk.models import Patient
from frontdesk.services import backups, staff
from frontdesk.services.signin import sign_in
from frontdesk.store.context import ServiceContext
from frontdesk.ui.audit import AuditTrail
from frontdesk.ui.audit import create as create_audit_tab
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.settings import SETTINGS_PAGES
from frontdesk.ui.settings.backups import BackupsPanel
from frontdesk.ui.settings.staff import StaffDialog, StaffList

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def owner(owner: ServiceContext) -> ServiceContext:
    staff.create_staff(owner, staff.NewStaff("jess", "Jess Morgan", Role.RECEPTION, "reception pw"))
    return owner


def _patient(ctx: ServiceContext) -> str:
    with ctx.write("create patient") as s:
        p = Patient(patient_number="P-7", first_name="Mai", last_name="Nguyen")
        s.add(p)
        s.flush()
    with ctx.write("edit patient") as s:
        p.mobile_phone = "0412 000 111"
        s.add(p)
    return p.id


def test_settings_lists_the_new_tabs(main_window: MainWindow) -> None:
    labels = [label for label, _ in SETTINGS_PAGES]
    assert {"Staff", "Audit trail", "Backups"} <= set(labels)
    page = main_window.show_area("settings")
    tabs = page.findChild(QTabWidget, "settingsTabs")
    assert tabs is not None and tabs.count() == len(labels)


def test_audit_viewer_filters_shows_changes_and_checks_the_chain(
    qtbot, owner: ServiceContext, bus: ChangeBus
) -> None:
    _patient(owner)
    gate = create_audit_tab(owner, bus, None)
    qtbot.addWidget(gate)
    gate.show()
    trail = gate.findChild(AuditTrail)
    assert trail is not None and gate.currentWidget() is trail
    qtbot.keyClicks(trail.patient, "Nguyen")
    qtbot.keyClick(trail.patient, Qt.Key.Key_Return)  # the picker: Enter picks the highlighted
    assert "Mai Nguyen" in trail.patient_label.text()
    whats = [trail.model.index(r, 3).data() for r in range(trail.model.rowCount())]
    assert whats == ["edit patient", "create patient"]
    assert trail.model.index(0, 2).data() == "This desk"  # not "…1a074c"
    rect = trail.table.visualRect(trail.table.model().index(0, 3))
    qtbot.mouseClick(trail.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    cells = [trail.detail.item(0, c).text() for c in range(3)]
    assert cells == ["Mobile phone", "—", "0412 000 111"]
    trail.patient_picker.clear()
    trail.kind.setCurrentIndex(trail.kind.findData("sign in"))
    trail.reload()
    assert {trail.model.index(r, 3).data() for r in range(trail.model.rowCount())} == {"sign in"}

    trail.verify()
    qtbot.waitUntil(lambda: "intact" in trail.chain.text(), timeout=5000)
    with owner.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET summary = 'nothing to see' WHERE device_seq = 3")
        )
    trail.verify()
    qtbot.waitUntil(lambda: "tampered" in trail.chain.text(), timeout=5000)
    assert "entry 3" in trail.chain.text()


def test_reception_is_told_it_cannot_see_the_audit_trail(
    qtbot, owner: ServiceContext, bus: ChangeBus
) -> None:
    sign_in(owner, "jess", "reception pw")
    gate = create_audit_tab(owner, bus, None)
    qtbot.addWidget(gate)
    gate.show()
    assert gate.currentWidget() is gate.denied
    assert "cannot view the audit trail" in gate.denied.text()
    sign_in(owner, "owner", "correct horse")  # a sign-in changes staff_users: the tab re-checks
    qtbot.waitUntil(lambda: isinstance(gate.currentWidget(), AuditTrail), timeout=2000)


def test_staff_tab_adds_an_account(qtbot, owner: ServiceContext, bus: ChangeBus) -> None:
    page = StaffList(owner, bus)
    qtbot.addWidget(page)
    assert page.table.rowCount() == 2
    dialog = StaffDialog(owner, None, page)
    qtbot.addWidget(dialog)
    dialog.display_name.setText("Max Manager")
    dialog.username.setText("max")
    dialog.role.setCurrentIndex(dialog.role.findData(Role.PRACTICE_MANAGER))
    dialog.password.setText("short")
    dialog.save()
    assert "at least 8" in dialog.message.text()
    dialog.password.setText("long enough now")
    dialog.save()
    assert dialog.result() == dialog.DialogCode.Accepted
    qtbot.waitUntil(lambda: page.table.rowCount() == 3, timeout=2000)
    names = {page.table.item(r, 0).text() for r in range(3)}
    assert "Max Manager" in names


def test_backups_tab_backs_up_now(qtbot, owner: ServiceContext, bus: ChangeBus) -> None:
    panel = BackupsPanel(owner, bus)
    qtbot.addWidget(panel)
    assert panel.table.rowCount() == 0 and panel.restore_button.isEnabled()
    panel.back_up_now()
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=5000)
    assert "checked" in panel.message.text()
    assert owner.data_dir is not None
    assert len(backups.list_backups(owner.data_dir / "backups")) == 1
    sign_in(owner, "jess", "reception pw")
    panel.reload()
    assert not panel.restore_button.isEnabled(), "only the owner restores"


def test_daily_backup_runs_off_the_gui_thread_at_start(
    qtbot, owner: ServiceContext, main_window: MainWindow
) -> None:
    from frontdesk.ui.settings.backups import start_daily_backups

    timer = start_daily_backups(owner, main_window, first_after_ms=0)
    assert timer is not None and timer.isActive()
    assert owner.data_dir is not None
    folder = owner.data_dir / "backups"
    qtbot.waitUntil(
        lambda: any(b.kind == "daily" for b in backups.list_backups(folder)), timeout=10_000
    )
    timer.stop()
