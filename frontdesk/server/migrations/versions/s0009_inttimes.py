"""inttimes: on SQLite, every stored time as integer microseconds since 1970 UTC (desk 0390)

The server's SQLite file gets the desk's conversion (``frontdesk/db/int_times.py``): each
``DATETIME`` column from the text ``YYYY-MM-DD HH:MM:SS.ffffff`` to an integer, in place; the
downgrade converts back. PostgreSQL keeps its native ``timestamp``: nothing to do there.

Revision ID: s0009_inttimes
Revises: s0008_checks
Create Date: 2026-12-07 12:45:00
"""

from typing import Any

from alembic import op

from frontdesk.db import int_times

revision = "s0009_inttimes"
down_revision = "s0008_checks"
branch_labels = None
depends_on = None


def _query(sql: str) -> Any:
    return op.get_bind().exec_driver_sql(sql).all()


def _execute(sql: str) -> None:
    op.get_bind().exec_driver_sql(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        int_times.convert(_execute, _query, to_integer=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        int_times.convert(_execute, _query, to_integer=False)
