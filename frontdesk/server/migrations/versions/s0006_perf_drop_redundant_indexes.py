"""drop two indexes that are prefixes of the covering ones (desk revision 0360_perf)

Revision ID: s0006_perf
Revises: s0006_claims
Create Date: 2026-12-07 02:40:00
"""

from alembic import op

revision = "s0006_perf"
down_revision = "s0006_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_payment_allocations_invoice_id", table_name="payment_allocations")
    op.drop_index("ix_credit_notes_invoice_id", table_name="credit_notes")


def downgrade() -> None:
    op.create_index("ix_credit_notes_invoice_id", "credit_notes", ["invoice_id"], unique=False)
    op.create_index(
        "ix_payment_allocations_invoice_id", "payment_allocations", ["invoice_id"], unique=False
    )
