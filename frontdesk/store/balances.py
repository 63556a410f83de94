"""The summaries' switch: a bulk load pauses their triggers and rebuilds them once at the end.

Three summaries share the switch (``ledger_summary_state.paused``): the ledger's balances
(``frontdesk/db/ledger_summary.py``), the reports' revenue and booked time
(``frontdesk/db/report_summary.py``) and the sync check's per-table totals
(``frontdesk/db/sync_totals.py``).

The summary tables and their triggers are ``frontdesk/db/ledger_summary.py``; with the triggers
on, every write to the ledger keeps them right in its own transaction. A load of many thousand
ledger rows (a first snapshot loaded without its indexes, the demo clinic) would pay a trigger
per row instead of one pass, so it pauses them and calls ``rebuild`` in its last transaction.
"""

from __future__ import annotations

import functools
import logging
import sqlite3

from sqlalchemy import Index, Table, text
from sqlalchemy.orm import Session

from frontdesk.db import ledger_summary, report_summary, sync_totals
from frontdesk.store import raw_rows
from frontdesk.store.context import ServiceContext
from frontdesk.store.order import parents_first

log = logging.getLogger("frontdesk.store")


@functools.cache
def covered_tables() -> tuple[str, ...]:
    """The tables the sync check compares (``db/sync_totals.py``): the synced tables the server
    keeps, with versions."""
    from frontdesk.models import Base, synced_tables
    from frontdesk.protocol import LOCAL_ONLY

    return tuple(
        name
        for name in synced_tables()
        if name not in LOCAL_ONLY and "version" in Base.metadata.tables[name].c
    )


def set_paused(session: Session, paused: bool) -> None:
    session.execute(
        text("UPDATE ledger_summary_state SET paused = :p WHERE id = 1"), {"p": int(paused)}
    )


def is_paused(session: Session) -> bool:
    raw = raw_rows.connection(session)
    if raw is not None:  # (read in every woken sync's check)
        row = raw.execute("SELECT paused FROM ledger_summary_state").fetchone()
        return bool(row and row[0])
    return bool(session.execute(text("SELECT paused FROM ledger_summary_state")).scalar())


def rebuild(session: Session) -> None:
    """Compute the summary again from the ledger and switch the triggers back on."""
    ledger_summary.rebuild(lambda sql: session.execute(text(sql)))
    report_summary.rebuild(lambda sql: session.execute(text(sql)))
    sync_totals.rebuild(lambda sql: session.execute(text(sql)), covered_tables())
    set_paused(session, False)


def rebuild_raw(conn: sqlite3.Connection) -> None:
    """``rebuild`` on a plain sqlite3 connection (the bulk writers' own transaction)."""
    ledger_summary.rebuild(conn.execute)
    report_summary.rebuild(conn.execute)
    sync_totals.rebuild(conn.execute, covered_tables())
    conn.execute("UPDATE ledger_summary_state SET paused = 0 WHERE id = 1")


def pause_raw(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE ledger_summary_state SET paused = 1 WHERE id = 1")


def report_differences(session: Session) -> list[str]:
    """Where the report summary and the raw invoices and appointments disagree."""
    return report_summary.differences(lambda sql: session.execute(text(sql)).all())


def sync_totals_differences(session: Session) -> list[str]:
    """Where the sync check's kept figures and a count of the synced tables disagree."""
    query = lambda sql: session.execute(text(sql)).all()  # noqa: E731
    return sync_totals.differences(query, covered_tables())  # type: ignore[arg-type]


def deferred_indexes(table: Table) -> list[Index]:
    """Indexes a bulk load may leave out until a table is loaded: not those enforcing
    uniqueness."""
    return sorted((i for i in table.indexes if not i.unique), key=lambda i: str(i.name))


def restore_indexes(ctx: ServiceContext, tables: list[Table] | None = None) -> None:
    """Build every deferred index of these tables (all tables by default) that is missing,
    one transaction per index."""
    with ctx.read() as session:
        present = set(
            session.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars()
        )
    for table in tables if tables is not None else parents_first():
        for index in deferred_indexes(table):
            if index.name in present:
                continue
            with ctx.write("sync snapshot index", origin="sync") as session:
                index.create(session.connection(), checkfirst=True)


def resume_stopped_load(ctx: ServiceContext) -> bool:
    """At start: a bulk load that was stopped (the desk killed in its first sync, or while the
    demo was built) left the summary paused and perhaps indexes out. Build those indexes and
    the summary from the ledger as it stands, so balances are right and kept again from the
    first write on; a later sync adds what the stopped load had not. True if it had to."""
    with ctx.read() as session:
        if not is_paused(session):
            return False
    log.warning("a bulk load was stopped: rebuilding indexes and the balance summary")
    restore_indexes(ctx)
    with ctx.write("balances after a stopped load", origin="sync") as session:
        rebuild(session)
    return True
