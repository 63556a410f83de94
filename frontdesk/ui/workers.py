"""Run work off the GUI thread and bring the result back by signal (QThreadPool)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Signals(QObject):
    finished = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = _Signals()
        self.ended = False  # run() has returned on the worker thread
        self.delivered = False  # the GUI thread has called back

    def run(self) -> None:
        try:
            try:
                result = self.fn()
            except Exception as exc:  # reported to the GUI thread, which decides what to show
                self.signals.failed.emit(exc)
            else:
                self.signals.finished.emit(result)
        finally:
            with _lock:
                self.ended = True


# A task (and its signals object) is let go only on the GUI thread, and only once both its run()
# has returned and its result was delivered. Letting go in the callback alone deleted the signals
# object while the worker thread was still inside emit() ("Signal source has been deleted"); the
# worker letting go would delete a GUI-thread object from another thread.
_keep: set[_Task] = set()
_lock = threading.Lock()


def _sweep() -> None:
    with _lock:
        done = {t for t in _keep if t.ended and t.delivered}
    _keep.difference_update(done)


def run_in_background(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
    pool: QThreadPool | None = None,
    owner: QObject | None = None,
) -> None:
    """Run ``fn`` on the pool; ``on_done``/``on_error`` are called on the GUI thread, unless
    ``owner`` (by default the widget ``on_done`` is a method of) was deleted meanwhile: a page
    closed while its work ran has nothing left to show the result on."""
    _sweep()
    if owner is None:
        bound = getattr(on_done, "__self__", None)
        owner = bound if isinstance(bound, QObject) else None

    def gone() -> bool:
        return owner is not None and not shiboken6.isValid(owner)

    task = _Task(fn)
    task.setAutoDelete(False)
    _keep.add(task)

    def done(result: Any) -> None:
        task.delivered = True
        try:
            if not gone():
                on_done(result)
        finally:
            _sweep()

    def failed(exc: Any) -> None:
        task.delivered = True
        try:
            if not gone():
                on_error(exc)
        finally:
            _sweep()

    task.signals.finished.connect(done)
    task.signals.failed.connect(failed)
    (pool or QThreadPool.globalInstance()).start(task)
