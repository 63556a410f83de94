"""index only the filled rows of four mostly-empty key columns (desk revision 0370_dbsize)

Revision ID: s0007_dbsize
Revises: s0006_perf
Create Date: 2026-12-07 06:10:00
"""

from alembic import op

from frontdesk.db.partial_indexes import FILLED_ONLY, make_filled_only, make_full

revision = "s0007_dbsize"
down_revision = "s0006_perf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name, table, columns in FILLED_ONLY:
        op.drop_index(name, table_name=table)
        op.execute(make_filled_only(name, table, columns))


def downgrade() -> None:
    for name, table, columns in FILLED_ONLY:
        op.drop_index(name, table_name=table)
        op.execute(make_full(name, table, columns))
