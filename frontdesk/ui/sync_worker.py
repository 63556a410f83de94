"""The desk's background sync: runs on start, after local changes (debounced), on a timer,
when the server says something changed (long-poll), and on "Sync now". Never on the GUI
thread; reports status, progress and errors by signal."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QProgressBar, QStatusBar, QToolButton

from frontdesk.domain.errors import FrontdeskError
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.sync.engine import SyncEngine, SyncFailed
from frontdesk.sync.status import is_enrolled, sync_status
from frontdesk.sync.summary import SyncSummary
from frontdesk.sync.transport import Unreachable
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.workers import run_in_background

EngineFactory = Callable[[ServiceContext], SyncEngine]


def _default_factory(ctx: ServiceContext) -> SyncEngine:
    from frontdesk.sync.setup import engine_for

    return engine_for(ctx)


class SyncWorker(QObject):
    status = Signal(str, bool)  # text for the status bar, is it a problem
    progress = Signal(str, float)  # stage, fraction (first sync / re-sync)
    synced = Signal(object)  # SyncSummary
    _server_changed = Signal()

    def __init__(
        self,
        ctx: ServiceContext,
        bus: ChangeBus,
        *,
        engine_factory: EngineFactory = _default_factory,
        debounce_ms: int = 500,
        interval_ms: int = 60_000,
        listen: bool = True,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.factory = engine_factory
        self.listen = listen
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.running = False
        self.again = False
        self.failures = 0
        self.last_summary: SyncSummary | None = None
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(debounce_ms)
        self.debounce.timeout.connect(self.sync_now)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.retry = QTimer(self)
        self.retry.setSingleShot(True)
        self.retry.timeout.connect(self.sync_now)
        bus.changed.connect(self._on_changed)
        bus.sync_requested.connect(self.sync_now)
        self.synced.connect(bus.synced)
        self._server_changed.connect(self.sync_now)

    # -- state ------------------------------------------------------------------------------
    def enrolled(self) -> bool:
        return is_enrolled(self.ctx)

    def start(self) -> None:
        self.timer.start()
        if self.enrolled():
            self.sync_now()
        else:
            self.status.emit("Sync: working offline (no clinic server set up)", False)

    def stop(self) -> None:
        self._stop.set()
        self.timer.stop()
        self.debounce.stop()
        self.retry.stop()
        self.pool.waitForDone(5000)

    def _tick(self) -> None:
        if self.enrolled():
            self.sync_now()

    def _on_changed(self, notice: object) -> None:
        if isinstance(notice, ChangeNotice) and notice.origin == "local" and self.enrolled():
            self.debounce.start()

    # -- running ----------------------------------------------------------------------------
    def sync_now(self) -> None:
        if not self.enrolled():
            self.status.emit("Sync: working offline (no clinic server set up)", False)
            return
        if self.running:
            self.again = True
            return
        self.running = True
        self.again = False
        self.status.emit("Sync: syncing…", False)

        def work() -> SyncSummary:
            engine = self.factory(self.ctx)
            engine.progress = self.progress.emit
            return engine.sync()

        run_in_background(work, self._done, self._failed, pool=self.pool)

    def _done(self, summary: SyncSummary) -> None:
        self.running = False
        self.failures = 0
        self.last_summary = summary
        self.progress.emit("", 1.0)
        self.synced.emit(summary)
        self._report(None)
        self._ensure_listener()
        if self.again:
            self.sync_now()

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.failures += 1
        self.progress.emit("", 1.0)
        self._report(exc)
        delay = min(5_000 * 2 ** min(self.failures - 1, 6), 300_000)  # back-off, then retry
        self.retry.start(delay)
        if self.again:
            self.again = False
            self.debounce.start()

    def _report(self, exc: BaseException | None) -> None:
        status = sync_status(self.ctx)
        pending, rejected, conflicts = status.pending, status.refused, status.conflicts
        last = status.last_sync_at
        parts = []
        if last is not None:
            parts.append(f"last synced {_local(self.ctx, last)}")
        parts.append(f"{pending} change{'s' if pending != 1 else ''} waiting")
        if conflicts:
            parts.append(f"{conflicts} conflict{'s' if conflicts != 1 else ''} to resolve")
        if rejected:
            parts.append(f"{rejected} refused by the server")
        if exc is None:
            self.status.emit("Sync: online · " + " · ".join(parts), bool(conflicts or rejected))
        elif isinstance(exc, Unreachable):
            self.status.emit("Sync: offline (server not reachable) · " + " · ".join(parts), True)
        else:
            text = exc.user_message if isinstance(exc, FrontdeskError) else "unexpected error"
            self.status.emit(f"Sync problem: {text}", True)

    # -- server notifications (long-poll on a plain thread; only emits a signal) -----------
    def _ensure_listener(self) -> None:
        if not self.listen or (self._listener and self._listener.is_alive()):
            return
        self._listener = threading.Thread(target=self._listen, name="sync-listen", daemon=True)
        self._listener.start()

    def _listen(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                changed = self.factory(self.ctx).wait_for_change(timeout_s=20)
                failures = 0
                if changed:
                    self._server_changed.emit()
                    self._stop.wait(0.3)
            except SyncFailed:  # the server answered but would not wait: ask again later
                failures = 0
                self._stop.wait(10)
            except Exception:  # offline or not enrolled: wait and try again
                failures += 1
                self._stop.wait(min(5 * failures, 60))


def _local(ctx: ServiceContext, when: datetime) -> str:
    return when.astimezone(ctx.tz).strftime("%H:%M")


class SyncControls:
    """The status bar's part of sync: a progress bar and "Sync now" (F9)."""

    def __init__(self, window: QMainWindow, status_bar: QStatusBar, worker: SyncWorker) -> None:
        self.bar = QProgressBar()
        self.bar.setObjectName("syncProgress")
        self.bar.setMaximumWidth(160)
        self.bar.setRange(0, 100)
        self.bar.hide()
        worker.progress.connect(self.on_progress)
        action = QAction("Sync now", window)
        action.setObjectName("syncNow")
        action.setShortcut(QKeySequence("F9"))
        action.triggered.connect(worker.sync_now)
        window.addAction(action)
        button = QToolButton()
        button.setObjectName("syncNowButton")
        button.setDefaultAction(action)
        status_bar.addPermanentWidget(self.bar)
        status_bar.addPermanentWidget(button)

    def on_progress(self, stage: str, fraction: float) -> None:
        if not stage or fraction >= 1.0:
            self.bar.hide()
            return
        self.bar.setFormat(f"{stage} %p%")
        self.bar.setValue(int(fraction * 100))
        self.bar.show()
