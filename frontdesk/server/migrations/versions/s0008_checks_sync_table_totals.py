"""checks: per-table row counts and version sums kept by triggers (desk revision 0380_checks)

``sync_table_totals`` and the triggers that keep it (row triggers on SQLite, statement
triggers with transition tables on PostgreSQL), filled by one count per table. A desk's check
after its sync reads these figures instead of counting whole tables (``frontdesk/db/sync_totals.py``).

Revision ID: s0008_checks
Revises: s0007_dbsize
Create Date: 2026-12-07 08:50:00
"""

import sqlalchemy as sa
from alembic import op

from frontdesk.db import sync_totals

revision = "s0008_checks"
down_revision = "s0007_dbsize"
branch_labels = None
depends_on = None

# The tables as of this revision: a synced table added later gets its triggers in its own.
TABLES = sync_totals.TABLES_0380


def _present() -> list[str]:
    """The tables of this revision the database has (a file chained differently may lack one:
    the schema check after the upgrade names what is missing)."""
    have = set(sa.inspect(op.get_bind()).get_table_names())
    return [t for t in TABLES if t in have]


def upgrade() -> None:
    op.create_table(
        "sync_table_totals",
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("row_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("version_sum", sa.BigInteger(), nullable=False, server_default="0"),
    )
    dialect = op.get_bind().dialect.name
    sync_totals.create(op.execute, _present(), dialect=dialect, make_table=False)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    sync_totals.drop(op.execute, _present(), dialect=dialect)
