"""reports: revenue and booked time maintained by triggers, not scanned (issue 20)

Creates the report summary tables and the triggers that keep them, and backfills them from the
invoices and appointments (see ``frontdesk/db/report_summary.py``).

Revision ID: 0360_reports
Revises: 0350_claims
"""

from alembic import op

from frontdesk.db import report_summary

revision = "0360_reports"
down_revision = "0350_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    report_summary.create(op.execute)


def downgrade() -> None:
    report_summary.drop(op.execute)
