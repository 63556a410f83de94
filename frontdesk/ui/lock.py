"""Switch user and idle lock. The lock screen is a window of its own, on top of everything the
app shows, so open dialogs (and what is typed in them) stay exactly as they were underneath and
no patient data is visible until the same or another person signs in.

Ctrl+L (or Ctrl+Shift+L) locks at once, from anywhere in the app; ``ClinicSettings.
idle_lock_minutes`` without keyboard or mouse input locks on its own.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.clock import Clock
from frontdesk.services import signin, staff
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import Actor, ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.signin import SignInPanel, actor_label
from frontdesk.ui.style import SIDEBAR

_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }
)
log = logging.getLogger("frontdesk.lock")
_LOCK_KEYS = (Qt.Key.Key_L,)


# Off screen (tests, --selftest) there is no window manager to raise or activate windows.
def _windowing() -> bool:
    return QGuiApplication.platformName() not in ("offscreen", "minimal")


class LockScreen(QWidget):
    """Covers a whole screen; the one on the main window's screen holds the sign-in panel."""

    unlocked = Signal(object)

    def __init__(self, ctx: ServiceContext, *, with_panel: bool = True) -> None:
        super().__init__(
            None,
            Qt.WindowType.Window
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint,
        )
        self.setObjectName("lockScreen")
        self.setWindowTitle("frontdesk — locked")
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(f"QWidget#lockScreen {{ background: {SIDEBAR}; }}")
        self.panel: SignInPanel | None = None
        outer = QVBoxLayout(self)
        outer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if not with_panel:
            return
        card = QFrame()
        card.setObjectName("lockCard")
        card.setFixedWidth(440)
        card.setStyleSheet("QFrame#lockCard { background: white; border-radius: 12px; }")
        col = QVBoxLayout(card)
        col.setContentsMargins(28, 24, 28, 24)
        brand = QLabel("frontdesk")
        brand.setStyleSheet("font-size: 13px; color: #64748b; font-weight: bold;")
        self.title = QLabel("Locked")
        self.title.setObjectName("pageTitle")
        self.who = QLabel("")
        self.who.setObjectName("muted")
        self.who.setWordWrap(True)
        self.panel = SignInPanel(ctx, card)
        self.panel.signed_in.connect(self.unlocked.emit)
        col.addWidget(brand)
        col.addWidget(self.title)
        col.addWidget(self.who)
        col.addSpacing(10)
        col.addWidget(self.panel)
        outer.addWidget(card)

    def prepare(self, actor: Actor, username: str, *, switching: bool) -> None:
        if self.panel is None:
            return
        if actor.staff_user_id is not None:
            self.title.setText("Switch user" if switching else "Locked")
            self.who.setText(
                f"{actor_label(actor)} is signed in. Open windows and unsaved typing are kept "
                "while the screen is locked. Sign in as yourself, or as someone else with "
                "their password or PIN."
            )
        else:
            self.title.setText("Locked")
            self.who.setText("Sign in to carry on.")
        self.panel.prepare("" if switching else username)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            return  # Escape must not close the lock screen
        super().keyPressEvent(event)


class SessionGuard(QObject):
    """Tracks input application-wide, locks on idle or Ctrl+L, and unlocks through sign-in."""

    locked = Signal()
    unlocked = Signal(object)

    def __init__(
        self,
        ctx: ServiceContext,
        bus: ChangeBus,
        window: QMainWindow,
        *,
        clock: Clock | None = None,
        check_every_ms: int = 15_000,
    ) -> None:
        super().__init__(window)
        self.ctx, self.bus, self.window = ctx, bus, window
        self.clock = clock or ctx.clock
        self.last_input = self.clock.now()
        self.idle_minutes = staff.idle_lock_minutes(ctx)
        self.screens: list[LockScreen] = []
        self._focus_before: QWidget | None = None
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check_idle)
        self.timer.start(check_every_ms)
        bus.changed.connect(self._on_changed)
        self._add_status_button()
        self._show_user()

    # -- state --------------------------------------------------------------------------------
    @property
    def is_locked(self) -> bool:
        return bool(self.screens)

    def _show_user(self) -> None:
        set_user = getattr(self.window, "set_user", None)
        if set_user is not None:
            set_user(actor_label(self.ctx.actor))

    def _add_status_button(self) -> None:
        button = QPushButton("Lock / switch user  (Ctrl+L)")
        button.setObjectName("lockButton")
        button.setFlat(True)
        button.clicked.connect(lambda: self.lock(switching=True))
        self.window.statusBar().addPermanentWidget(button)

    def _on_changed(self, notice: object) -> None:
        if isinstance(notice, ChangeNotice) and notice.touches("clinic_settings"):
            self.idle_minutes = staff.idle_lock_minutes(self.ctx)

    # -- idle and keys --------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in _INPUT_EVENTS:
            self.last_input = self.clock.now()
            if (
                kind == QEvent.Type.KeyPress
                and not self.is_locked
                and isinstance(event, QKeyEvent)
                and event.key() in _LOCK_KEYS
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier
                and not event.modifiers() & Qt.KeyboardModifier.AltModifier
            ):
                self.lock(switching=True)
                return True
        return False

    def check_idle(self) -> None:
        if self.is_locked:
            return
        if self.clock.now() - self.last_input >= timedelta(minutes=self.idle_minutes):
            self.lock(switching=False, reason=f"idle for {self.idle_minutes} minutes")

    # -- locking ----------------------------------------------------------------------------
    def lock(self, *, switching: bool = False, reason: str = "") -> None:
        if self.is_locked:
            return
        self._focus_before = QApplication.focusWidget()
        try:
            signin.lock_screen(
                self.ctx, reason=reason or ("switch user" if switching else "locked by hand")
            )
        except Exception as exc:  # the screen locks even when the audit cannot be written
            log.warning("lock not audited: %s", type(exc).__name__)
        username = staff.username_of(self.ctx, self.ctx.actor.staff_user_id)
        main_screen = self.window.screen() or QGuiApplication.primaryScreen()
        for screen in QGuiApplication.screens():
            cover = LockScreen(self.ctx, with_panel=screen == main_screen)
            cover.setGeometry(screen.geometry())
            cover.unlocked.connect(self._unlocked)
            cover.prepare(self.ctx.actor, username, switching=switching)
            self.screens.append(cover)
            if _windowing():
                cover.showFullScreen()
                cover.raise_()
            else:
                cover.show()
        for cover in self.screens:
            if cover.panel is not None:
                if _windowing():
                    cover.activateWindow()
                cover.prepare(self.ctx.actor, username, switching=switching)
        self.locked.emit()

    def stop(self) -> None:
        """Stop watching input (the window is going away)."""
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def lock_screen_widget(self) -> LockScreen | None:
        return next((s for s in self.screens if s.panel is not None), None)

    def _unlocked(self, actor: Actor) -> None:
        for cover in self.screens:
            cover.hide()
            cover.deleteLater()
        self.screens = []
        self.last_input = self.clock.now()
        self._show_user()
        before, self._focus_before = self._focus_before, None
        if before is not None:
            try:
                if _windowing():
                    before.window().activateWindow()
                before.setFocus()
            except RuntimeError:  # that widget was closed meanwhile
                pass
        self.unlocked.emit(actor)


def install_session(ctx: ServiceContext, bus: ChangeBus, window: QMainWindow) -> SessionGuard:
    """Called by app.py once the main window exists: switch user, idle lock, daily backups."""
    from frontdesk.ui.settings.backups import start_daily_backups

    guard = SessionGuard(ctx, bus, window)
    start_daily_backups(ctx, window)
    return guard
