"""index only the filled rows of four mostly-empty key columns (issue 21, database size)

``appointments.room_id`` (most bookings have no room), ``appointments.series_id`` (few are in a
series), ``invoices.payer_funder_id`` and ``payments.payer_funder_id`` (most are the patient's
own) are looked up only by value (``= ?``), so their indexes now hold only the rows where the
column is filled. Plain DROP/CREATE INDEX, no table copy. The file is compacted after the
upgrade (``frontdesk.db.migrate.compact``) when that frees a meaningful amount.

Revision ID: 0370_dbsize
Revises: 0360_perf
Create Date: 2026-12-07 06:10:00
"""

from alembic import op

from frontdesk.db.partial_indexes import FILLED_ONLY, make_filled_only, make_full

revision = "0370_dbsize"
down_revision = "0360_perf"
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
