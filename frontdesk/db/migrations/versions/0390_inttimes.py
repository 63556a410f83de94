"""inttimes: every stored time as integer microseconds since 1970 UTC (issue 21, item 2)

Rewrites each ``DATETIME`` column (every ``UTCDateTime``) from the 26-character text
``YYYY-MM-DD HH:MM:SS.ffffff`` to an integer, in place (``frontdesk/db/int_times.py``), in slices
of rows so the upgrade's progress moves. The summaries' triggers are paused meanwhile (the
ledger's and the sync totals' figures do not depend on how a time is stored); the report
summary, whose triggers read times, is dropped and made again from the converted rows. The
rows shrink but stay in their pages, so the upgrade compacts the file afterwards
(``config.attributes["compact"]``). The downgrade converts back.

Revision ID: 0390_inttimes
Revises: 0380_checks
Create Date: 2026-12-07 12:30:00
"""

from typing import Any

from alembic import context, op

from frontdesk.db import int_times, report_summary

revision = "0390_inttimes"
down_revision = "0380_checks"
branch_labels = None
depends_on = None


def _query(sql: str) -> Any:
    return op.get_bind().exec_driver_sql(sql).all()


def _execute(sql: str) -> None:
    op.get_bind().exec_driver_sql(sql)


def _convert(to_integer: bool) -> None:
    attributes = context.config.attributes
    progress = attributes.get("progress")
    report = (lambda what, f: progress("Converting the stored times", f)) if progress else None
    paused = int(_query("SELECT paused FROM ledger_summary_state")[0][0])
    op.execute("UPDATE ledger_summary_state SET paused = 1")
    report_summary.drop(op.execute)
    int_times.convert(_execute, _query, to_integer=to_integer, progress=report)
    report_summary.create(op.execute, integer_times=to_integer)
    op.execute(f"UPDATE ledger_summary_state SET paused = {paused}")
    attributes["compact"] = True


def upgrade() -> None:
    _convert(to_integer=True)


def downgrade() -> None:
    _convert(to_integer=False)
