"""The booking listener's worker: after this desk books, moves or cancels, the messages that
calls for are queued on one background thread. A module of its own so that the app can start
it without importing the queueing rules (phone numbers, templates) before its first paint."""

from __future__ import annotations

import threading

from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext


def _booked_ids(notice: ChangeNotice) -> list[str]:
    if notice.origin != "local" or "appointments" not in notice.ids:
        return []
    return list(notice.ids["appointments"])


class QueueingWorker:
    """After this desk books, moves or cancels, queue what that calls for on one background
    thread, so the booking itself returns at once. Notices that pile up while it works are
    taken together (one transaction). ``stop`` finishes what is waiting before it returns."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._waiting: set[str] = set()
        self._cond = threading.Condition()
        self._busy = False
        self._stopping = False
        self.queued = 0  # messages queued so far (for tests and the log)
        self._thread = threading.Thread(target=self._run, name="message-queueing", daemon=True)
        self._thread.start()

    def listen(self, notice: ChangeNotice) -> None:
        ids = _booked_ids(notice)
        if not ids:
            return
        with self._cond:
            self._waiting.update(ids)
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._stopping:
                    self._cond.wait()
                if not self._waiting and self._stopping:
                    return
                ids, self._waiting = sorted(self._waiting), set()
                self._busy = True
            # the queueing rules (phone numbers, templates) are imported here, on this thread,
            # not on the start-up path
            from frontdesk.services.messaging.queueing import _queue_safely

            count = _queue_safely(self.ctx, ids)
            with self._cond:
                self.queued += count
                self._busy = False
                self._cond.notify_all()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is waiting or being queued; False if that took too long."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._waiting and not self._busy, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)
