"""drop two indexes that are prefixes of the covering ones (issue 21)

``ix_payment_allocations_invoice_id`` is the first column of
``ix_payment_allocations_invoice_paid`` and ``ix_credit_notes_invoice_id`` of
``ix_credit_notes_invoice_credited``: SQLite answers every lookup by invoice from the covering
index, so the narrow ones only cost bytes (≈ 50 MB on the 10-year clinic) and a write per row.

Revision ID: 0360_perf
Revises: 0360_claims
Create Date: 2026-12-07 02:40:00
"""

from alembic import op

revision = "0360_perf"
down_revision = "0360_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain DROP INDEX: no table copy (batch mode would rebuild the table on SQLite).
    op.drop_index("ix_payment_allocations_invoice_id", table_name="payment_allocations")
    op.drop_index("ix_credit_notes_invoice_id", table_name="credit_notes")


def downgrade() -> None:
    op.create_index("ix_credit_notes_invoice_id", "credit_notes", ["invoice_id"], unique=False)
    op.create_index(
        "ix_payment_allocations_invoice_id", "payment_allocations", ["invoice_id"], unique=False
    )
