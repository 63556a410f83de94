"""msg: the server's copy of inbound_messages gets the desk's index by appointment (desk 0360_msg)

Revision ID: s0006_msg
Revises: s0006_reports
"""

from alembic import op

revision = "s0006_msg"
down_revision = "s0006_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_inbound_messages_appointment_id", "inbound_messages", ["appointment_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_messages_appointment_id", table_name="inbound_messages")
