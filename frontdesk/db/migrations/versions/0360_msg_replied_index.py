"""msg: the diary's "replied" icon looks up unhandled SMS replies by appointment (issue 18)

Revision ID: 0360_msg
Revises: 0360_api
"""

from alembic import op

revision = "0360_msg"
down_revision = "0360_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_messages_appointment_id", ["appointment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_messages_appointment_id")
