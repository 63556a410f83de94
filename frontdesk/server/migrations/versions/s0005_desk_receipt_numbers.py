"""receipt numbers on payments (desk revision 0350_desk)

Revision ID: s0005_desk
Revises: s0004
Create Date: 2026-12-06 23:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 's0005_desk'
down_revision = 's0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_number', sa.String(length=30), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_payments_receipt_number'), ['receipt_number']
        )


def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_payments_receipt_number'), type_='unique')
        batch_op.drop_column('receipt_number')
