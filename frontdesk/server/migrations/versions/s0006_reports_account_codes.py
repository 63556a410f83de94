"""reports: the clinic's account codes for the accounting export (issue 20, server)

Revision ID: s0006_reports
Revises: s0006_api
"""

import sqlalchemy as sa
from alembic import op

revision = "s0006_reports"
down_revision = "s0006_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clinic_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("accounting_codes", sa.Text(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("clinic_settings", schema=None) as batch_op:
        batch_op.drop_column("accounting_codes")
