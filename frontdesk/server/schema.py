"""The server's storage: every synced table of ``frontdesk.models`` plus the server's own
bookkeeping (devices, enrolment codes, the change log, mutation results, number-series registry
and server facts such as the epoch).

The schema is made and upgraded by the server's own Alembic chain (``frontdesk.server.migrate``,
scripts in ``frontdesk/server/migrations``); change these tables only together with a revision.
"""

from __future__ import annotations

import functools

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from frontdesk.db.types import UTCDateTime
from frontdesk.models import Base, synced_tables
from frontdesk.models.base import postgresql_partial_indexes
from frontdesk.protocol import LOCAL_ONLY
from frontdesk.store.order import parents_first

# Kept in server_info: 1 = made by create_all (before the migrations), 2 = managed by
# frontdesk/server/migrations. frontdesk-server versions from before them refuse a 2.
SERVER_SCHEMA = 2

# The models' partial indexes, as PostgreSQL spells them (the desk app leaves them out).
postgresql_partial_indexes()
server_md = MetaData()

server_info = Table(
    "server_info",
    server_md,
    Column("key", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
)

devices = Table(
    "server_devices",
    server_md,
    Column("id", String(36), primary_key=True),
    Column("number", Integer, nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("token_hash", String(64), unique=True),
    Column("series_prefix", String(12), nullable=False),
    Column("last_seq", BigInteger, nullable=False, default=0),
    Column("enrolled_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("last_seen_at", UTCDateTime),
    # How far the desk has received the change log (its last pull's or push's cursor), and how
    # many of its own changes it said were still waiting to be sent (its last pull).
    Column("pull_cursor", BigInteger),
    Column("unsent", Integer),
)

enrolment_codes = Table(
    "server_enrolment_codes",
    server_md,
    Column("code_hash", String(64), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Column("device_id", String(36)),
)

change_log = Table(
    "server_change_log",
    server_md,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("entity", String(60), nullable=False),
    Column("row_id", String(36), nullable=False),
    Column("op", String(6), nullable=False),
    Column("version", Integer, nullable=False),
    Column("fields_json", Text, nullable=False),
    Column("device_id", String(36), nullable=False),
    Column("mutation_id", String(36)),
    Column("exact", Boolean, nullable=False, default=False),
    Column("at", UTCDateTime, nullable=False),
    # A privileged change's proof (who signed it, the signature, what was signed), so every
    # desk that pulls it can check it too (server/trust.py).
    Column("proof_json", Text),
    Index("ix_server_change_log_row", "entity", "row_id", "version"),
)

mutation_results = Table(
    "server_mutation_results",
    server_md,
    Column("mutation_id", String(36), primary_key=True),
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),
    Column("result_json", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# The newest entry of each desk's audit chain the server holds, countersigned with the
# server's key (server/trust.py): a chain rewritten later no longer matches it.
audit_heads = Table(
    "server_audit_heads",
    server_md,
    Column("chain_id", String(36), primary_key=True),
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# Per synced table, the rows with version > 0 and the sum of their versions, kept by triggers
# in every write's transaction (frontdesk/db/sync_totals.py): what a desk's check compares.
sync_totals = Table(
    "sync_table_totals",
    server_md,
    Column("name", String(60), primary_key=True),
    Column("row_count", BigInteger, nullable=False, server_default="0"),
    Column("version_sum", BigInteger, nullable=False, server_default="0"),
)

series_registry = Table(
    "server_series",
    server_md,
    Column("prefix", String(20), primary_key=True),
    Column("kind", String(12), nullable=False),
    Column("device_id", String(36), nullable=False),
)


# SMS providers' callbacks (delivery receipts, replies) taken by the webhook and kept until the
# messaging desk has applied them (services/messaging/replies.py), then marked taken.
sms_events = Table(
    "server_sms_events",
    server_md,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("dedupe", String(200), nullable=False, unique=True),
    Column("event_json", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("taken_at", UTCDateTime),
)


@functools.cache
def data_tables() -> dict[str, Table]:
    """The synced tables the server stores, by name (the desk-only ones left out)."""
    return {name: Base.metadata.tables[name] for name in synced_tables() if name not in LOCAL_ONLY}


@functools.cache
def all_data_tables() -> list[Table]:
    """Synced tables plus ``number_series`` (invoices refer to it), in dependency order."""
    wanted = set(data_tables()) | {"number_series"}
    return [t for t in parents_first() if t.name in wanted]


# -- the integration API (/api/v1, frontdesk/server/api) ---------------------------------------
# An integration's key: only its SHA-256 is kept; ``scopes`` space-separated (server/api/keys.py).
api_keys = Table(
    "server_api_keys",
    server_md,
    Column("id", String(36), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("scopes", String(300), nullable=False),
    Column("rate_per_minute", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
    # made on a desk (Settings → Integrations): the staff member whose signature allowed it,
    # and the signed request's one-time nonce (a replay is refused)
    Column("created_by", String(36)),
    Column("authority_nonce", String(64)),
    UniqueConstraint("authority_nonce", name="uq_server_api_keys_authority_nonce"),
)

# Every call of the API: which key, what it did, which patient (no other values).
api_audit = Table(
    "server_api_audit",
    server_md,
    Column("id", String(36), primary_key=True),
    Column("key_id", String(36), nullable=False),
    Column("operation", String(60), nullable=False),
    Column("patient_id", String(36)),
    Column("status", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_server_api_audit_key_at", "key_id", "at"),
)

# A slot held for a few minutes while a caller decides; it lapses at ``expires_at``.
api_holds = Table(
    "server_api_holds",
    server_md,
    Column("id", String(36), primary_key=True),
    Column("key_id", String(36), nullable=False),
    Column("practitioner_id", String(36), nullable=False),
    Column("appointment_type_id", String(36)),
    Column("location_id", String(36)),
    Column("room_id", String(36)),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("appointment_id", String(36)),
    Column("released_at", UTCDateTime),
    Index("ix_server_api_holds_practitioner", "practitioner_id", "starts_at"),
)

# The first answer to each Idempotency-Key of a key, replayed for the same request.
api_idempotency = Table(
    "server_api_idempotency",
    server_md,
    Column("key_id", String(36), primary_key=True),
    Column("idem_key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("response_json", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# Webhook subscriptions of a key (``secret`` signs each delivery, so it is kept as given) and
# how far each has scanned the change log; every delivery attempt's outcome for the log.
api_webhooks = Table(
    "server_api_webhooks",
    server_md,
    Column("id", String(36), primary_key=True),
    Column("key_id", String(36), nullable=False),
    Column("url", String(500), nullable=False),
    Column("events", String(400), nullable=False),
    Column("secret", String(80), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime),
)

api_deliveries = Table(
    "server_api_deliveries",
    server_md,
    Column("id", String(36), primary_key=True),
    Column("webhook_id", String(36), nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_status", Integer),
    Column("last_error", String(200)),
    Column("next_attempt_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_server_api_deliveries_due", "state", "next_attempt_at"),
    Index("ix_server_api_deliveries_webhook", "webhook_id", "created_at"),
)

# A practitioner's private iCalendar feed: the URL's token is kept as a SHA-256; ``detail`` is
# "busy" (times only) or "initials" (times and the patient's initials).
api_ical_feeds = Table(
    "server_api_ical_feeds",
    server_md,
    Column("id", String(36), primary_key=True),
    Column("practitioner_id", String(36), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("detail", String(10), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)
