"""Holds a person's input while the window is painted but the desk is not open yet (the diary's
first paint: docs/performance.md, cold start), then delivers it, in order, to the widgets it was
meant for. Nothing is dropped and nothing is handled early: a key pressed or a click made
before the hand-over acts on the window as the services run it.

The start takes no input in between anyway (it opens the desk without running the event
loop, and the paint's ``processEvents`` excludes input): this is the guard for whatever gets
delivered regardless (a shortcut, an event sent directly, as a test's key click is).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject

HELD = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.Shortcut,
    QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease,
    QEvent.Type.MouseButtonDblClick, QEvent.Type.Wheel, QEvent.Type.ContextMenu,
    QEvent.Type.InputMethod,
})  # fmt: skip


class InputGate(QObject):
    """Installed on the application: closed until ``release()``."""

    def __init__(self, app: QCoreApplication) -> None:
        super().__init__()
        self._app = app
        self.held: list[tuple[QObject, QEvent]] = []
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        moving = kind == QEvent.Type.MouseMove and bool(getattr(event, "buttons", lambda: 0)())
        if kind in HELD or moving:  # a drag's moves too (a bare hover changes nothing)
            self.held.append((watched, event.clone()))
            return True
        return False

    def release(self) -> int:
        """Open the gate and deliver what was held; returns how many events."""
        from shiboken6 import isValid

        self._app.removeEventFilter(self)
        held, self.held = self.held, []
        for receiver, event in held:
            if isValid(receiver):  # a widget closed meanwhile gets nothing
                QCoreApplication.sendEvent(receiver, event)
        return len(held)
