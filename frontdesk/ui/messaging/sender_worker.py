"""On a desk with no clinic server, the app itself is the sender: every minute, off the GUI
thread, one round (services/messaging/rounds.py) — whenever the laptop is online, queued
messages go. With a server, the messaging desk sends and this stays idle."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer

from frontdesk.services.messaging.rounds import has_server, local_round
from frontdesk.store.context import ServiceContext
from frontdesk.ui.workers import run_in_background

log = logging.getLogger("frontdesk.messaging")


class LocalSender(QObject):
    def __init__(
        self, ctx: ServiceContext, interval_ms: int = 60_000, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.ctx = ctx
        self.busy = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)

    def start(self) -> None:
        self.timer.start()

    def tick(self) -> None:
        if self.busy or has_server(self.ctx):
            return
        self.busy = True

        def done(_result: object) -> None:
            self.busy = False

        def failed(exc: BaseException) -> None:
            self.busy = False
            log.warning("message round failed: %s", type(exc).__name__)

        run_in_background(lambda: local_round(self.ctx), done, failed)
