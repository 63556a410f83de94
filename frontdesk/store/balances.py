"""The summaries' switch: a bulk load pauses their triggers and rebuilds them once at the end.

Two summaries share the switch (``ledger_summary_state.paused``): the ledger's balances
(``frontdesk/db/ledger_summary.py``) and the reports' revenue and booked time
(``frontdesk/db/report_summary.py``).

The summary tables and their triggers are ``frontdesk/db/ledger_summary.py``; with the triggers
on, every write to the ledger keeps them right in its own transaction. A load of many thousand
ledger rows (a first snapshot loaded without its indexes, the demo clinic) would pay a trigger
per row instead of one pass, so it pauses them and calls ``rebuild`` in its last transaction.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import text
from sqlalchemy.orm import Session

from frontdesk.db import ledger_summary, report_summary


def set_paused(session: Session, paused: bool) -> None:
    session.execute(
        text("UPDATE ledger_summary_state SET paused = :p WHERE id = 1"), {"p": int(paused)}
    )


def is_paused(session: Session) -> bool:
    return bool(session.execute(text("SELECT paused FROM ledger_summary_state")).scalar())


def rebuild(session: Session) -> None:
    """Compute the summary again from the ledger and switch the triggers back on."""
    ledger_summary.rebuild(lambda sql: session.execute(text(sql)))
    report_summary.rebuild(lambda sql: session.execute(text(sql)))
    set_paused(session, False)


def rebuild_raw(conn: sqlite3.Connection) -> None:
    """``rebuild`` on a plain sqlite3 connection (the bulk writers' own transaction)."""
    ledger_summary.rebuild(conn.execute)
    report_summary.rebuild(conn.execute)
    conn.execute("UPDATE ledger_summary_state SET paused = 0 WHERE id = 1")


def pause_raw(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE ledger_summary_state SET paused = 1 WHERE id = 1")


def report_differences(session: Session) -> list[str]:
    """Where the report summary and the raw invoices and appointments disagree."""
    return report_summary.differences(lambda sql: session.execute(text(sql)).all())
