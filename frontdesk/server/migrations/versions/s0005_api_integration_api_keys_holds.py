"""integration API: keys, call audit, holds, idempotency answers, webhooks and deliveries, iCalendar feeds

Revision ID: s0005_api
Revises: s0005_msg
Create Date: 2026-12-06 23:40:00
"""
from alembic import op
import sqlalchemy as sa
import frontdesk.db.types


revision = 's0005_api'
down_revision = "s0005_msg"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('server_api_keys',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.String(length=300), nullable=False),
    sa.Column('rate_per_minute', sa.Integer(), nullable=False),
    sa.Column('created_at', frontdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', frontdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', frontdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('last_used_at', frontdesk.db.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('secret_hash')
    )
    op.create_table('server_api_audit',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('key_id', sa.String(length=36), nullable=False),
    sa.Column('operation', sa.String(length=60), nullable=False),
    sa.Column('patient_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('at', frontdesk.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_server_api_audit_key_at', 'server_api_audit', ['key_id', 'at'], unique=False)
    op.create_table('server_api_holds',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('key_id', sa.String(length=36), nullable=False),
    sa.Column('practitioner_id', sa.String(length=36), nullable=False),
    sa.Column('appointment_type_id', sa.String(length=36), nullable=True),
    sa.Column('location_id', sa.String(length=36), nullable=True),
    sa.Column('room_id', sa.String(length=36), nullable=True),
    sa.Column('starts_at', frontdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('ends_at', frontdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', frontdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('appointment_id', sa.String(length=36), nullable=True),
    sa.Column('released_at', frontdesk.db.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_server_api_holds_practitioner', 'server_api_holds', ['practitioner_id', 'starts_at'], unique=False)
    op.create_table('server_api_idempotency',
    sa.Column('key_id', sa.String(length=36), nullable=False),
    sa.Column('idem_key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('response_json', sa.Text(), nullable=False),
    sa.Column('at', frontdesk.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key_id', 'idem_key')
    )
    op.create_table('server_api_webhooks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('key_id', sa.String(length=36), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('events', sa.String(length=400), nullable=False),
    sa.Column('secret', sa.String(length=80), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('created_at', frontdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('deleted_at', frontdesk.db.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('server_api_deliveries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('webhook_id', sa.String(length=36), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('next_attempt_at', frontdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('delivered_at', frontdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', frontdesk.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('server_api_ical_feeds',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('practitioner_id', sa.String(length=36), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.String(length=10), nullable=False),
    sa.Column('created_at', frontdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', frontdesk.db.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('ix_server_api_deliveries_due', 'server_api_deliveries', ['state', 'next_attempt_at'], unique=False)
    op.create_index('ix_server_api_deliveries_webhook', 'server_api_deliveries', ['webhook_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('server_api_ical_feeds')
    op.drop_index('ix_server_api_deliveries_webhook', table_name='server_api_deliveries')
    op.drop_index('ix_server_api_deliveries_due', table_name='server_api_deliveries')
    op.drop_table('server_api_deliveries')
    op.drop_table('server_api_webhooks')
    op.drop_table('server_api_idempotency')
    op.drop_index('ix_server_api_holds_practitioner', table_name='server_api_holds')
    op.drop_table('server_api_holds')
    op.drop_index('ix_server_api_audit_key_at', table_name='server_api_audit')
    op.drop_table('server_api_audit')
    op.drop_table('server_api_keys')
