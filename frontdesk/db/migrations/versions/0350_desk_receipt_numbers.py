"""receipt numbers: a payment carries the number from the desk's receipt series (issue 14)

Payments recorded before keep no number (their receipts print without one).

Revision ID: 0350_desk
Revises: 0340
Create Date: 2026-12-06 23:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0350_desk'
down_revision = '0340'
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
