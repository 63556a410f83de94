"""The answer to a woken long-poll (``GET /v1/wait?changes=N``): the pull's first page and the
check after it (``ServerStore.wait_page``), read once for every desk woken at the same cursor.

One booking wakes every other desk of a clinic group, all waiting at the same cursor. The first
of them starts the read on a thread; the others await that read on the event loop, holding no
thread: with 49 woken desks each holding a request thread while waiting for one shared read,
pushes queued behind them for a thread (bench_group, branch s8-group50). A read is kept while
the change log stays where it was when it started; a desk whose own changes are in the page
(they go to it as echoes) reads its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from fastapi.concurrency import run_in_threadpool

from frontdesk.server import trust
from frontdesk.server.store import LATEST_EVERY, Device, ServerProblem, ServerStore

Read = tuple[bytes, frozenset[str]]
# Reads kept at once (different cursors or log positions); older ones are let go first.
KEPT = 32


class WokenPages:
    def __init__(self, store: ServerStore) -> None:
        self.store = store
        # (cursor, limit) → (the log's newest position when the read started, the read)
        self._reads: dict[tuple[int, int], tuple[int, asyncio.Future[Read]]] = {}
        self.reads = 0  # reads started (tests: desks woken together share one)

    def _read(self, cursor: int, limit: int, device_id: str) -> Read:
        key = trust.audit_key(self.store)
        heads = lambda conn: trust.heads_reply(self.store, conn, key).as_json()  # noqa: E731
        members, devices = self.store.wait_page(cursor, limit, device_id, heads)
        return members.encode(), devices

    async def members(self, dev: Device, cursor: int, limit: int, echo: bool) -> bytes | None:
        """The ``"pull": …, "check": …`` members for this desk's woken answer; None when the
        pull would be refused (a cursor older than the history: the desk's own pull then hears
        why)."""
        latest = self.store.latest_seq
        loop = asyncio.get_running_loop()
        kept = self._reads.get((cursor, limit))
        if (
            kept is None
            or kept[0] != latest
            or (not kept[1].done() and kept[1].get_loop() is not loop)
        ):
            if len(self._reads) >= KEPT:
                oldest = min(self._reads, key=lambda k: self._reads[k][0])
                del self._reads[oldest]
            self.reads += 1
            started = asyncio.ensure_future(run_in_threadpool(self._read, cursor, limit, ""))
            kept = (latest, started)
            self._reads[(cursor, limit)] = kept
        try:
            read = kept[1]  # a finished read (of any loop: tests' clients) is taken as it is
            body, devices = read.result() if read.done() else await asyncio.shield(read)
            if echo and dev.id in devices:  # its own changes are in it: they go as echoes
                body, _ = await run_in_threadpool(self._read, cursor, limit, dev.id)
        except ServerProblem:
            return None
        except Exception:
            if self._reads.get((cursor, limit)) is kept:  # not kept for the next desk
                del self._reads[(cursor, limit)]
            raise
        return body


class _Room:
    """One event loop's waiting long-polls (tests' clients run each request on a loop of its
    own; a server process has one)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.event: asyncio.Event | None = None
        self.ticker: asyncio.Task[None] | None = None
        self.waiters = 0

    def wake(self) -> None:
        event, self.event = self.event, None
        if event is not None:
            event.set()


class Bell:
    """Wakes waiting long-polls when the change log's newest position moves: this process's
    commits ring it at once (``ServerStore.on_newest``, from any thread), and while any
    long-poll waits, one task reads the position every ``LATEST_EVERY`` for other processes'
    commits (``run --workers``, another server on the same database). A waiting long-poll is
    woken only by the bell or its own time-out (each looked every 50 ms before: 50 waiting
    desks were 1,000 wake-ups a second)."""

    def __init__(self, store: ServerStore) -> None:
        self.store = store
        self._rooms: dict[asyncio.AbstractEventLoop, _Room] = {}
        store.on_newest = self.ring

    def ring(self) -> None:
        try:
            here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # a worker thread (a push's commit)
            here = None
        for loop, room in list(self._rooms.items()):
            if loop.is_closed():
                self._rooms.pop(loop, None)
            elif loop is here:
                room.wake()
            else:
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(room.wake)

    async def wait(self, cursor: int, timeout: float) -> None:
        """Until the log passes ``cursor`` or ``timeout`` seconds have gone."""
        deadline = time.monotonic() + timeout
        loop = asyncio.get_running_loop()
        room = self._rooms.get(loop)
        if room is None:
            room = self._rooms[loop] = _Room(loop)
        room.waiters += 1
        try:
            if self.store.shared and (room.ticker is None or room.ticker.done()):
                room.ticker = loop.create_task(self._tick(room))
            while self.store.latest_seq <= cursor:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                if room.event is None:
                    room.event = asyncio.Event()
                try:
                    await asyncio.wait_for(room.event.wait(), left)
                except TimeoutError:
                    return
        finally:
            room.waiters -= 1
            if room.waiters == 0:
                if room.ticker is not None:
                    room.ticker.cancel()
                self._rooms.pop(loop, None)

    async def _tick(self, room: _Room) -> None:
        while room.waiters > 0:
            await asyncio.sleep(LATEST_EVERY)
            await run_in_threadpool(self.store.refresh_latest)  # rings when it moved
