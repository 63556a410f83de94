"""Sign-in at start, the first-run owner dialog, switch user, idle lock and the lock screen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QVBoxLayout
from sqlalchemy import select

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.vocab import Role
from frontdesk.models import AuditEvent, Patient
from frontdesk.services import staff
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.lock import SessionGuard
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.signin import FirstRunDialog, SignInDialog

# The offscreen platform warns whenever a top-level window with a layout is shown.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def accounts(owner: ServiceContext) -> ServiceContext:
    staff.create_staff(
        owner, staff.NewStaff("jess", "Jess Morgan", Role.RECEPTION, "reception pw", pin="3333")
    )
    return owner


@pytest.fixture
def guard(qtbot, accounts: ServiceContext, bus: ChangeBus, main_window: MainWindow):  # type: ignore[no-untyped-def]
    g = SessionGuard(accounts, bus, main_window, check_every_ms=10)
    yield g
    g.stop()
    for cover in g.screens:
        cover.close()


def test_sign_in_dialog_refuses_then_accepts(qtbot, accounts: ServiceContext) -> None:
    accounts.actor = type(accounts.actor)()
    dialog = SignInDialog(accounts)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.panel.username, "owner")
    qtbot.keyClicks(dialog.panel.secret, "not it at all")
    qtbot.keyClick(dialog.panel.secret, Qt.Key.Key_Return)
    assert "not right" in dialog.panel.message.text()
    assert dialog.panel.secret.text() == ""
    assert accounts.actor.staff_user_id is None
    qtbot.keyClicks(dialog.panel.secret, "correct horse")
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        qtbot.keyClick(dialog.panel.secret, Qt.Key.Key_Return)
    assert accounts.actor.name == "Olive Owner"


def test_huge_password_in_the_dialog_gets_a_clear_message(qtbot, accounts: ServiceContext) -> None:
    dialog = SignInDialog(accounts)
    qtbot.addWidget(dialog)
    dialog.panel.username.setText("owner")
    dialog.panel.secret.setText("x" * 10_000)  # a paste: the field keeps 129, the service says no
    dialog.panel.attempt()
    assert "at most 128 characters" in dialog.panel.message.text()


def test_first_run_creates_the_owner_and_signs_in(qtbot, ctx: ServiceContext) -> None:
    dialog = FirstRunDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.display_name.setText("Dana Whitfield")
    dialog.username.setText("dana")
    dialog.password.setText("a long password")
    dialog.confirm.setText("a different one")
    dialog.create_owner()
    assert "not the same" in dialog.message.text()
    assert not staff.has_staff(ctx)
    dialog.confirm.setText("a long password")
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        dialog.create_owner()
    assert ctx.actor.role is Role.OWNER and ctx.actor.name == "Dana Whitfield"


def test_switch_user_with_ctrl_l_keeps_unsaved_dialog_input(
    qtbot, guard: SessionGuard, main_window: MainWindow, accounts: ServiceContext
) -> None:
    assert "Olive Owner" in main_window.user_label.text()
    dialog = QDialog(main_window)
    field = QLineEdit(dialog)
    QVBoxLayout(dialog).addWidget(field)
    dialog.show()
    qtbot.keyClicks(field, "half-typed note")
    qtbot.keyClick(field, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert guard.is_locked
    assert field.text() == "half-typed note", "Ctrl+L is not typed into the field"
    lock = guard.lock_screen_widget()
    assert lock is not None and lock.isVisible() and lock.panel is not None
    assert lock.isModal() or lock.windowModality() == Qt.WindowModality.ApplicationModal
    assert lock.panel.username.text() == "", "switching starts with an empty user name"
    qtbot.keyClicks(lock.panel.username, "jess")
    qtbot.keyClick(lock.panel.username, Qt.Key.Key_Return)
    qtbot.keyClicks(lock.panel.secret, "3333")
    qtbot.keyClick(lock.panel.secret, Qt.Key.Key_Return)
    assert not guard.is_locked
    assert accounts.actor.name == "Jess Morgan" and accounts.actor.role is Role.RECEPTION
    assert "Jess Morgan (Reception)" in main_window.user_label.text()
    assert dialog.isVisible() and field.text() == "half-typed note"
    with accounts.read() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.device_seq))]
    assert actions[-2:] == ["screen locked", "switch user"]


def test_idle_lock_after_the_configured_minutes(
    qtbot, guard: SessionGuard, main_window: MainWindow, accounts: ServiceContext
) -> None:
    clock = accounts.clock
    assert isinstance(clock, FakeClock)
    staff.set_idle_lock_minutes(accounts, 5)
    qtbot.waitUntil(lambda: guard.idle_minutes == 5)
    clock.advance(timedelta(minutes=4))
    qtbot.mouseMove(main_window, QPoint(200, 200))  # any input restarts the count
    assert guard.last_input == clock.now()
    clock.advance(timedelta(minutes=4))
    qtbot.wait(30)
    assert not guard.is_locked
    clock.advance(timedelta(minutes=2))
    qtbot.waitUntil(lambda: guard.is_locked, timeout=2000)
    lock = guard.lock_screen_widget()
    assert lock is not None
    # The lock screen shows no patient data: only who is signed in and the sign-in form.
    with accounts.read() as s:
        names = {p.last_name for p in s.scalars(select(Patient))}
    texts = " ".join(label.text() for label in lock.findChildren(QLabel))
    assert "Olive Owner" in texts and not any(n in texts for n in names)
    assert lock.panel is not None and lock.panel.username.text() == "owner"
    qtbot.keyClick(lock, Qt.Key.Key_Escape)
    assert guard.is_locked, "Escape does not get past the lock"
    qtbot.keyClicks(lock.panel.secret, "correct horse")
    qtbot.keyClick(lock.panel.secret, Qt.Key.Key_Return)
    assert not guard.is_locked and accounts.actor.name == "Olive Owner"
    with accounts.read() as s:
        locked = s.scalars(select(AuditEvent).where(AuditEvent.action == "screen locked")).one()
    assert "idle" in locked.summary.lower()


def test_wrong_password_on_the_lock_screen_stays_locked(
    qtbot, guard: SessionGuard, accounts: ServiceContext
) -> None:
    guard.lock()
    lock = guard.lock_screen_widget()
    assert lock is not None and lock.panel is not None
    lock.panel.secret.setText("guessing wrong")
    lock.panel.attempt()
    assert guard.is_locked and "not right" in lock.panel.message.text()
    assert accounts.actor.name == "Olive Owner"


def test_sign_in_at_start_opens_first_run_then_sign_in(qtbot, ctx: ServiceContext) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from frontdesk.ui.signin import sign_in_at_start

    def fill_first_run() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, FirstRunDialog)
        dialog.display_name.setText("Dana")
        dialog.username.setText("dana")
        dialog.password.setText("first password")
        dialog.confirm.setText("first password")
        dialog.create_owner()

    QTimer.singleShot(0, fill_first_run)
    assert sign_in_at_start(ctx)
    assert ctx.actor.name == "Dana"

    def close_sign_in() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, SignInDialog)
        dialog.reject()

    QTimer.singleShot(0, close_sign_in)
    assert not sign_in_at_start(ctx), "closing the sign-in dialog does not open the app"
