"""A person's start paints the sign-in dialog before the desk is open (app.py,
``_signin_painted_first``: a plain sqlite3 read of a file at head whose clinic has staff); the
desk opens next while they type. Keys typed and Enter pressed before it is open are kept, and
the sign-in runs once the desk is open: exactly once, as the usual dialog does it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from sqlalchemy import func, select

from frontdesk import app
from frontdesk.db.health import EarlyCheck
from frontdesk.models import AuditEvent
from frontdesk.paths import DeskPaths
from frontdesk.services import clinic_settings, staff
from frontdesk.services.early import EarlyContext
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.signin import EarlySignIn

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

# where the screenshots go when asked (FRONTDESK_SHOTS=/work/notes/s9/signin)
SHOTS = os.environ.get("FRONTDESK_SHOTS")


def _shot(widget: object, name: str) -> None:
    image = widget.grab().toImage()  # type: ignore[attr-defined]
    assert not image.isNull()
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        image.save(str(Path(SHOTS) / f"{name}.png"))


def _sign_ins(ctx: ServiceContext) -> int:
    with ctx.read() as s:
        count = s.scalar(select(func.count()).where(AuditEvent.action == "sign in"))
    return int(count or 0)


def _closed_cleanly(paths: DeskPaths) -> EarlyCheck:
    (paths.data_dir / ".clean-exit").write_bytes(b"")  # as the last session left it
    return EarlyCheck(paths.database, thorough=False)


def _painted(qtbot, paths: DeskPaths) -> tuple[EarlySignIn, EarlyCheck]:  # type: ignore[no-untyped-def]
    early = _closed_cleanly(paths)
    signing = app._signin_painted_first(paths, early, 0.0)
    assert signing is not None
    qtbot.addWidget(signing.dialog)
    qtbot.waitExposed(signing.dialog)
    assert isinstance(signing.ctx, EarlyContext) and not signing.ctx.ready
    return signing, early


def test_typed_before_the_desk_opens_signs_in_once(qtbot, owner: ServiceContext) -> None:
    paths = owner.paths
    assert paths is not None
    before = _sign_ins(owner)
    signing, early = _painted(qtbot, paths)
    dialog = signing.dialog
    assert dialog.panel.username.hasFocus()
    shown = [w.text() for w in dialog.findChildren(QLabel)]
    assert clinic_settings.clinic_name(owner) in shown
    _shot(dialog, "signin-painted")
    # typed at once, Enter pressed twice, all before the desk is open
    qtbot.keyClicks(dialog.panel.username, "owner")
    qtbot.keyClick(dialog.panel.username, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.panel.secret, "correct horse")
    qtbot.keyClick(dialog.panel.secret, Qt.Key.Key_Return)
    qtbot.keyClick(dialog.panel.secret, Qt.Key.Key_Return)
    assert dialog.panel.waiting and dialog.isVisible()
    assert _sign_ins(owner) == before  # nothing ran yet
    opened = app._open_context(paths, False, early)
    try:
        assert signing.finish(opened) is True  # accepted without waiting for the person again
        assert _sign_ins(owner) == before + 1
        assert opened.actor.name == "Olive Owner"
        assert not dialog.isVisible()
        # the main window as today, on the open desk
        bus = ChangeBus()
        opened.listeners.append(bus.publish)
        prefs = QSettings(str(paths.config_file), QSettings.Format.IniFormat)
        window = MainWindow(opened, bus, prefs)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        assert window.isVisible()
        _shot(window, "diary-after-signin")
    finally:
        opened.engine.dispose()


def test_keys_queued_while_the_desk_opens_are_delivered_after(qtbot, owner: ServiceContext) -> None:
    """As at a real start: the desk opens without running the event loop, so what the person
    types waits in Qt's queue and reaches the dialog once it runs (finish's exec)."""
    from PySide6.QtCore import QCoreApplication, QTimer
    from PySide6.QtGui import QKeyEvent

    paths = owner.paths
    assert paths is not None
    before = _sign_ins(owner)
    signing, early = _painted(qtbot, paths)
    panel = signing.dialog.panel

    def post(target: QWidget, text: str, key: Qt.Key | None = None) -> None:
        for ch in text or " ":
            code = key if key is not None else Qt.Key(ord(ch.upper()))
            for kind in (QKeyEvent.Type.KeyPress, QKeyEvent.Type.KeyRelease):
                event = QKeyEvent(kind, code, Qt.KeyboardModifier.NoModifier, text and ch)
                QCoreApplication.postEvent(target, event)

    post(panel.username, "owner")
    post(panel.secret, "correct horse")
    post(panel.secret, "", Qt.Key.Key_Return)
    opened = app._open_context(paths, False, early)
    try:
        assert panel.username.text() == ""  # nothing delivered while the desk opened
        QTimer.singleShot(10_000, signing.dialog, signing.dialog.reject)  # ends a failure
        assert signing.finish(opened) is True
        assert panel.username.text() == "owner"
        assert _sign_ins(owner) == before + 1
        assert opened.actor.name == "Olive Owner"
    finally:
        opened.engine.dispose()


def test_a_wrong_password_before_the_desk_opens_is_refused_as_usual(
    qtbot, owner: ServiceContext
) -> None:
    paths = owner.paths
    assert paths is not None
    signing, early = _painted(qtbot, paths)
    panel = signing.dialog.panel
    qtbot.keyClicks(panel.username, "owner")
    qtbot.keyClicks(panel.secret, "not it at all")
    qtbot.keyClick(panel.secret, Qt.Key.Key_Return)
    assert panel.message.text() == ""  # not tried yet
    opened = app._open_context(paths, False, early)
    try:
        stand_in = signing.ctx
        assert isinstance(stand_in, EarlyContext)
        stand_in.attach(opened)
        panel.ctx = opened
        panel.desk_opened()
        assert "not right" in panel.message.text()
        assert panel.secret.text() == ""
        assert opened.actor.staff_user_id is None
        assert signing.dialog.isVisible()
        # then the right password, typed into the same dialog
        qtbot.keyClicks(panel.secret, "correct horse")
        with qtbot.waitSignal(signing.dialog.accepted, timeout=2000):
            qtbot.keyClick(panel.secret, Qt.Key.Key_Return)
        assert opened.actor.name == "Olive Owner"
    finally:
        opened.engine.dispose()


def test_cancel_before_the_desk_opens_is_a_cancel(qtbot, owner: ServiceContext) -> None:
    paths = owner.paths
    assert paths is not None
    signing, early = _painted(qtbot, paths)
    qtbot.keyClick(signing.dialog, Qt.Key.Key_Escape)
    opened = app._open_context(paths, False, early)
    try:
        assert signing.finish(opened) is False
        assert opened.actor.staff_user_id is None
    finally:
        opened.engine.dispose()


def test_no_staff_after_a_crash_or_not_at_head_goes_the_usual_way(
    qtbot, ctx: ServiceContext
) -> None:
    paths = ctx.paths
    assert paths is not None
    # no staff yet: the first run's dialog, through the usual start
    assert app._signin_painted_first(paths, _closed_cleanly(paths), 0.0) is None
    staff.create_first_owner(ctx, "owner", "Olive Owner", "correct horse")
    assert QApplication.topLevelWidgets() == [] or all(
        not w.isVisible() for w in QApplication.topLevelWidgets()
    )
    # after a crash (no clean-exit marker): the full check runs first, the usual way
    assert app._signin_painted_first(paths, EarlyCheck(paths.database, thorough=True), 0.0) is None
    # not at the migrations' head: an upgrade runs first
    import sqlite3

    with sqlite3.connect(paths.database) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0390_older'")
    assert app._signin_painted_first(paths, _closed_cleanly(paths), 0.0) is None
