"""Loading a snapshot into the desk: pages fetched one ahead on a thread, written several per
local transaction, and — on a first sync, into tables that are still empty — without their
secondary indexes, which are built once at the end of each table (far cheaper than keeping
them up to date row by row).

If the desk stops half-way (killed, network gone), the pull cursor was not moved, so the next
sync re-syncs; it first rebuilds any index a stopped load left out (``restore_indexes``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import select, text

from frontdesk.faults import checkpoint
from frontdesk.store import balances
from frontdesk.store.context import ServiceContext
from frontdesk.sync import apply, snapshot

log = logging.getLogger("frontdesk.sync")

WRITE_ROWS = 25_000  # snapshot rows written per local transaction (well under a second)
Fetch = Callable[[str, str], dict[str, Any]]
Page = tuple[str, dict[str, Any]]


class PageFetcher:
    """Snapshot pages of several tables in order. While the caller writes one page, the next
    is already being fetched on a thread: one request in flight at a time, in the same order
    as fetching them one by one."""

    def __init__(self, fetch: Fetch, tables: list[str]) -> None:
        self.fetch = fetch
        self.tables = list(tables)

    def __iter__(self) -> Iterator[Page]:
        if not self.tables:
            return
        todo = iter(self.tables)
        with ThreadPoolExecutor(1, thread_name_prefix="snapshot-fetch") as pool:
            name = next(todo)
            future: Future[dict[str, Any]] | None = pool.submit(self.fetch, name, "")
            while future is not None:
                page = future.result()
                current = name
                if not page["done"]:
                    future = pool.submit(self.fetch, name, page["next_after"])
                elif (following := next(todo, None)) is not None:
                    name = following
                    future = pool.submit(self.fetch, name, "")
                else:
                    future = None
                yield current, page


def restore_indexes(ctx: ServiceContext, names: list[str] | None = None) -> None:
    """Build every deferred index of these tables (all tables by default) that is missing."""
    if names is None:
        balances.restore_indexes(ctx)
        return
    chosen = [apply.desk_table(n) for n in names]
    balances.restore_indexes(ctx, [t for t in chosen if t is not None])


class SnapshotLoader:
    """Writes the pages of one snapshot; ``progress(rows done)`` after each transaction."""

    def __init__(self, ctx: ServiceContext, progress: Callable[[int], None]) -> None:
        self.ctx = ctx
        self.progress = progress
        self.rows = 0
        self.bare: set[str] = set()  # tables being loaded without their deferred indexes

    def load(self, pages: PageFetcher, *, first: bool) -> None:
        """Write every page; ``first``: a full snapshot, so empty tables may load bare."""
        restore_indexes(self.ctx)  # an earlier load that stopped half-way
        if first:
            self._strip_empty(pages.tables)
        try:
            self._load(pages)
        finally:
            self._catch_up_balances()

    def _catch_up_balances(self) -> None:
        """A load that paused the ledger summary (tables loaded bare: its triggers would scan)
        rebuilds it once, in one transaction, with the indexes back."""
        with self.ctx.read() as session:
            paused = balances.is_paused(session)
        if paused and not self.bare:
            with self.ctx.write("sync snapshot balances", origin="sync") as session:
                balances.rebuild(session)

    def _load(self, pages: PageFetcher) -> None:
        try:
            batch: list[Page] = []
            for name, page in pages:
                batch.append((name, page))
                finished = name in self.bare and page["done"]
                if finished or sum(len(p["rows"]) for _n, p in batch) >= WRITE_ROWS:
                    self._write(batch)
                    batch = []
                if finished:
                    restore_indexes(self.ctx, [name])
                    self.bare.discard(name)
            if batch:
                self._write(batch)
        finally:
            if self.bare:
                try:
                    restore_indexes(self.ctx, sorted(self.bare))
                except Exception:  # the next sync rebuilds them; keep the first error
                    log.exception("could not rebuild indexes after a stopped snapshot")

    def _strip_empty(self, names: list[str]) -> None:
        with self.ctx.write("sync snapshot start", origin="sync") as session:
            for name in names:
                table = apply.desk_table(name)
                if table is None or not balances.deferred_indexes(table):
                    continue
                if session.execute(select(table.c.id).limit(1)).first() is not None:
                    continue
                for index in balances.deferred_indexes(table):
                    session.execute(text(f'DROP INDEX IF EXISTS "{index.name}"'))
                self.bare.add(name)
            if self.bare:  # the summary's triggers would scan the bare tables row by row
                balances.set_paused(session, True)

    def _write(self, pages: list[Page]) -> None:
        with self.ctx.write("sync snapshot", origin="sync") as session:
            apply.begin_sync_apply(session)
            waiting = snapshot.waiting_rows(session)
            for name, page in pages:
                table = apply.desk_table(name)
                if table is None:
                    continue
                columns, rows = page.get("columns"), page["rows"]
                if columns is None:  # an older server sends one object per row
                    columns, rows = snapshot.as_columns(rows)
                snapshot.apply_page(session, table, columns, rows, waiting)
        self.rows += sum(len(p["rows"]) for _n, p in pages)
        checkpoint("desk.snapshot.written")
        self.progress(self.rows)
