"""checks: per-table row counts and version sums kept by triggers (issues 17 and 21)

Creates ``sync_table_totals`` and, on every synced table, the triggers that keep its figures in
the same transaction as each write, then counts them once (one scan per table). The check after
a sync reads these figures instead of counting whole tables (``frontdesk/db/sync_totals.py``).

Revision ID: 0380_checks
Revises: 0370_dbsize
Create Date: 2026-12-07 08:50:00
"""

import sqlalchemy as sa
from alembic import op

from frontdesk.db import sync_totals

revision = "0380_checks"
down_revision = "0370_dbsize"
branch_labels = None
depends_on = None

# The tables as of this revision: a synced table added later gets its triggers in its own.
TABLES = sync_totals.TABLES_0380


def _present() -> list[str]:
    """The tables of this revision the database has (a file chained differently may lack one:
    the schema check after the upgrade names what is missing)."""
    have = set(sa.inspect(op.get_bind()).get_table_names())
    return [t for t in TABLES if t in have]


def upgrade() -> None:
    sync_totals.create(op.execute, _present(), dialect="sqlite", gate=sync_totals.DESK_GATE)


def downgrade() -> None:
    sync_totals.drop(op.execute, _present(), dialect="sqlite")
