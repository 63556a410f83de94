"""checks: per-table row counts and version sums kept by triggers (issues 17 and 21)

Creates ``sync_table_totals`` and, on every synced table, the triggers that keep its figures in
the same transaction as each write, then counts them once (one scan per table). The check after
a sync reads these figures instead of counting whole tables (``frontdesk/db/sync_totals.py``).

Revision ID: 0380_checks
Revises: 0370_dbsize
Create Date: 2026-12-07 08:50:00
"""

from alembic import op

from frontdesk.db import sync_totals

revision = "0380_checks"
down_revision = "0370_dbsize"
branch_labels = None
depends_on = None

# The tables as of this revision: a synced table added later gets its triggers in its own.
TABLES = sync_totals.covered_tables()


def upgrade() -> None:
    sync_totals.create(op.execute, TABLES, dialect="sqlite", gate=sync_totals.DESK_GATE)


def downgrade() -> None:
    sync_totals.drop(op.execute, TABLES, dialect="sqlite")
