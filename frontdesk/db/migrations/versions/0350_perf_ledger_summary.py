"""perf: balances maintained, not scanned (issue 21)

Creates the ledger summary tables and the triggers that keep them, and backfills them from the
ledger (see ``frontdesk/db/ledger_summary.py``).

Revision ID: 0350_perf
Revises: 0350_msg
"""

from alembic import op

from frontdesk.db import ledger_summary

revision = "0350_perf"
down_revision = "0350_msg"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ledger_summary.create(op.execute)


def downgrade() -> None:
    ledger_summary.drop(op.execute)
