"""accounting exports: which periods went to Xero or MYOB (issue 20, server)

Revision ID: s0005_reports
Revises: s0005_api
Create Date: 2026-12-06 23:45:00
"""
from alembic import op
import sqlalchemy as sa
import frontdesk.db.types


revision = 's0005_reports'
down_revision = "s0005_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounting_exports',
    sa.Column('system', sa.String(length=10), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('exported_at', frontdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('exported_by_id', sa.String(length=36), nullable=True),
    sa.Column('invoices', sa.Integer(), nullable=False),
    sa.Column('credit_notes', sa.Integer(), nullable=False),
    sa.Column('payments', sa.Integer(), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=260), nullable=False),
    sa.Column('repeat_of_id', sa.String(length=36), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', frontdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', frontdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('deleted_at', frontdesk.db.types.UTCDateTime(), nullable=True),
    sa.CheckConstraint("system IN ('xero', 'myob')", name=op.f('ck_accounting_exports_system_valid')),
    sa.CheckConstraint('first_day <= last_day', name=op.f('ck_accounting_exports_first_before_last')),
    sa.ForeignKeyConstraint(['exported_by_id'], ['staff_users.id'], name=op.f('fk_accounting_exports_exported_by_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_exports'))
    )
    with op.batch_alter_table('accounting_exports', schema=None) as batch_op:
        batch_op.create_index('ix_accounting_exports_system_first', ['system', 'first_day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('accounting_exports', schema=None) as batch_op:
        batch_op.drop_index('ix_accounting_exports_system_first')
    op.drop_table('accounting_exports')
