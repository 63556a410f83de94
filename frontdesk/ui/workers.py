"""Run work off the GUI thread and bring the result back by signal (QThreadPool)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Signals(QObject):
    finished = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = _Signals()

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # reported to the GUI thread, which decides what to show
            self.signals.failed.emit(exc)
        else:
            self.signals.finished.emit(result)


_keep: set[_Task] = set()


def run_in_background(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
    pool: QThreadPool | None = None,
) -> None:
    """Run ``fn`` on the pool; ``on_done``/``on_error`` are called on the GUI thread."""
    task = _Task(fn)
    task.setAutoDelete(False)
    _keep.add(task)

    def done(result: Any) -> None:
        _keep.discard(task)
        on_done(result)

    def failed(exc: Any) -> None:
        _keep.discard(task)
        on_error(exc)

    task.signals.finished.connect(done)
    task.signals.failed.connect(failed)
    (pool or QThreadPool.globalInstance()).start(task)
