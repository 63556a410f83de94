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

from fastapi.concurrency import run_in_threadpool

from frontdesk.server import trust
from frontdesk.server.store import Device, ServerProblem, ServerStore

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
