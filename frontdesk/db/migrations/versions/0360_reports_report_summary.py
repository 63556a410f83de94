"""reports: revenue, booked time and first visits maintained by triggers; account codes

Creates the report summary tables and the triggers that keep them, and backfills them from the
invoices and appointments (see ``frontdesk/db/report_summary.py``); adds the clinic's account
codes for the accounting export (issue 20).

Revision ID: 0360_reports
Revises: 0360_msg
"""

import sqlalchemy as sa
from alembic import op

from frontdesk.db import report_summary

revision = "0360_reports"
down_revision = "0360_msg"
branch_labels = None
depends_on = None


def upgrade() -> None:
    report_summary.create(op.execute, integer_times=False)  # times are text until 0390
    with op.batch_alter_table("clinic_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("accounting_codes", sa.Text(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("clinic_settings", schema=None) as batch_op:
        batch_op.drop_column("accounting_codes")
    report_summary.drop(op.execute)
