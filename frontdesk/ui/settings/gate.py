"""A Settings tab that only some roles may use: shows the page, or says why not. Re-checks when
shown and after anyone signs in (a sign-in changes ``staff_users``), since people switch."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

from frontdesk.services.permissions import Action, allowed
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus


class Gated(QStackedWidget):
    def __init__(
        self,
        ctx: ServiceContext,
        bus: ChangeBus,
        action: Action,
        build: Callable[[], QWidget],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.action, self.build = ctx, action, build
        self.setContentsMargins(8, 8, 8, 8)
        self.content: QWidget | None = None
        self.denied = QLabel(
            f"Your account cannot {action.value}. Ask a practice manager or the owner."
        )
        self.denied.setObjectName("muted")
        self.denied.setWordWrap(True)
        self.addWidget(self.denied)
        bus.changed.connect(self._on_changed)
        self.refresh()

    def refresh(self) -> None:
        if allowed(self.ctx.actor.role, self.action):
            if self.content is None:
                self.content = self.build()
                self.addWidget(self.content)
            self.setCurrentWidget(self.content)
        else:
            self.setCurrentWidget(self.denied)

    def _on_changed(self, notice: object) -> None:
        if isinstance(notice, ChangeNotice) and notice.touches("staff_users", "audit_events"):
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        reload = getattr(self.content, "reload", None)
        if reload is not None and self.currentWidget() is self.content:
            reload()
        super().showEvent(event)
