"""The desk's own bookkeeping: number series, staff, audit trail, sync outbox and state,
conflicts awaiting a person, and outgoing reminder messages."""

from datetime import datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.db.types import UUIDKey
from frontdesk.domain.ids import uuid7
from frontdesk.domain.vocab import MessageChannel, Role, SeriesKind
from frontdesk.models.base import Base, SyncedMixin, one_of


class NumberSeries(Base):
    """A desk-owned series of human numbers (``D3-000123``): gapless, never restarted.

    Local to the desk: the server hands out prefixes at enrolment and enforces uniqueness.
    """

    __tablename__ = "number_series"
    __table_args__ = (
        one_of("kind", SeriesKind),
        UniqueConstraint("kind", "prefix", name="uq_number_series_kind_prefix"),
        CheckConstraint("next_value >= 1", name="next_value_positive"),
    )

    id: Mapped[str] = mapped_column(UUIDKey(), primary_key=True, default=uuid7)
    kind: Mapped[str] = mapped_column(String(12))
    prefix: Mapped[str] = mapped_column(String(12))
    width: Mapped[int] = mapped_column(default=6)
    next_value: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class StaffUser(SyncedMixin, Base):
    __tablename__ = "staff_users"
    __table_args__ = (
        one_of("role", Role),
        UniqueConstraint("username", name="uq_staff_users_username"),
    )
    # Synced like any field, never shown in the audit trail (services/tracking.py).
    __audit_redact__: ClassVar[frozenset[str]] = frozenset(
        {"password_hash", "pin_hash", "signing_key_wrapped"}
    )
    # Sign-in bookkeeping: audited as sign-in events, not as row changes.
    __audit_quiet__: ClassVar[frozenset[str]] = frozenset(
        {"failed_attempts", "locked_until", "last_sign_in_at"}
    )

    username: Mapped[str] = mapped_column(String(60))
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    practitioner_id: Mapped[str | None] = mapped_column(ForeignKey("practitioners.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    # The staff member's Ed25519 signing key (domain/signing.py): the public half (hex), and
    # the private half wrapped by their password. Privileged changes travel signed with it.
    signing_public_key: Mapped[str | None] = mapped_column(String(64))
    signing_key_wrapped: Mapped[str | None] = mapped_column(Text)


class AuditEvent(SyncedMixin, Base):
    """Append-only, hash-chained per desk: who did what, when, on which desk, before and after.

    ``hash`` = SHA-256 over ``prev_hash`` and the event's canonical JSON, so editing or deleting
    a past entry breaks the chain from there on.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("device_id", "device_seq", name="uq_audit_events_device_seq"),
        Index("ix_audit_events_entity", "entity", "entity_id"),
        Index("ix_audit_events_patient", "patient_id"),
        Index("ix_audit_events_at", "at"),
    )
    __audited__: ClassVar[bool] = False

    device_id: Mapped[str] = mapped_column(String(36))
    device_seq: Mapped[int]
    hlc: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    staff_user_id: Mapped[str | None] = mapped_column(String(36))
    staff_name: Mapped[str] = mapped_column(String(120), default="")
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(36))
    patient_id: Mapped[str | None] = mapped_column(String(36))
    summary: Mapped[str] = mapped_column(String(300), default="")
    before_json: Mapped[str | None] = mapped_column(Text)
    after_json: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class SyncOutbox(Base):
    """A local change waiting for (or answered by) the clinic server. Written in the same
    transaction as the change. ``seq`` is gapless for this desk; ``mutation_id`` is the
    idempotency key; ``fields_json`` holds only the changed fields; ``base_version`` is the row
    version the desk last saw; ``seen_cursor`` is how far the desk had pulled the clinic's changes
    when the change was made (what the person could have seen, e.g. for booking clashes)."""

    __tablename__ = "sync_outbox"
    __table_args__ = (
        CheckConstraint("op IN ('insert', 'update', 'delete')", name="op_valid"),
        CheckConstraint(
            "state IN ('pending', 'applied', 'merged', 'conflict', 'rejected')", name="state_valid"
        ),
        Index("ix_sync_outbox_state", "state", "seq"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    mutation_id: Mapped[str] = mapped_column(String(36), unique=True)
    entity: Mapped[str] = mapped_column(String(60))
    row_id: Mapped[str] = mapped_column(String(36))
    op: Mapped[str] = mapped_column(String(6))
    fields_json: Mapped[str] = mapped_column(Text)
    base_version: Mapped[int]
    seen_cursor: Mapped[int | None]
    hlc: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(10), default="pending")
    result_json: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    # A privileged change's proof: which staff member signed it and the signature.
    proof_json: Mapped[str | None] = mapped_column(Text)


class SyncState(Base):
    """This desk's identity and where it is in the conversation with the clinic server."""

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36))
    device_name: Mapped[str] = mapped_column(String(120), default="")
    server_url: Mapped[str | None] = mapped_column(String(300))
    server_epoch: Mapped[str | None] = mapped_column(String(36))
    pull_cursor: Mapped[int] = mapped_column(default=0)
    last_sync_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    # The clinic server's certificate (PEM, public) that a person confirmed by fingerprint at
    # enrolment: when set, the only certificate this desk accepts for server_url.
    server_certificate: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    # Set when this database was restored from a backup: the desk's audit entries continue in a
    # new chain (the old chain's later entries may come back from the server), and until the
    # first full pull the server sends this desk's own changes in full.
    audit_chain_id: Mapped[str | None] = mapped_column(String(36))
    restored_at: Mapped[datetime | None]
    # Changes the server refused up to this outbox number have been read by a person.
    refusals_seen_seq: Mapped[int | None]
    # The clinic server's public key that countersigns audit-chain heads (audit_anchors).
    server_audit_key: Mapped[str | None] = mapped_column(String(64))


class AuditAnchor(Base):
    """The newest entry of one audit chain as the clinic server countersigned it. The tamper
    check (services/audit.py) names a chain that no longer matches it. Local to the desk."""

    __tablename__ = "audit_anchors"

    chain_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime]


class SyncConflict(SyncedMixin, Base):
    """Something sync could not decide alone: a sensitive field changed on two desks, or two
    overlapping bookings made offline. Kept until a person resolves it."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (
        CheckConstraint("kind IN ('field', 'clash')", name="kind_valid"),
        Index("ix_sync_conflicts_open", "resolved_at"),
    )

    kind: Mapped[str] = mapped_column(String(10))
    entity: Mapped[str] = mapped_column(String(60))
    row_id: Mapped[str] = mapped_column(String(36))
    field: Mapped[str | None] = mapped_column(String(60))
    other_row_id: Mapped[str | None] = mapped_column(String(36))
    local_value_json: Mapped[str | None] = mapped_column(Text)
    remote_value_json: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(String(500), default="")
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[str | None] = mapped_column(String(36))
    resolution: Mapped[str | None] = mapped_column(String(300))


class MessageTemplate(SyncedMixin, Base):
    """A message's words per kind (reminder, confirmation…) and channel, for the whole clinic
    or one appointment type (``appointment_type_id``), with placeholders (domain/messaging.py).
    A reminder template also carries its schedule (days before, at what clinic time)."""

    __tablename__ = "message_templates"
    __table_args__ = (one_of("channel", MessageChannel),)

    name: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    archived_at: Mapped[datetime | None]
    kind: Mapped[str] = mapped_column(String(20), default="reminder")
    appointment_type_id: Mapped[str | None] = mapped_column(ForeignKey("appointment_types.id"))
    days_before: Mapped[int] = mapped_column(default=2)
    send_at_minute: Mapped[int] = mapped_column(default=600)


class OutgoingMessage(SyncedMixin, Base):
    """A message queued by any desk (even offline), sent once by the sender (the clinic server,
    or a desk without one), with its delivery status: queued → sending → sent → delivered /
    failed / cancelled (services/messaging/sender.py). ``appointment_starts_at`` is when the
    appointment was when the message was queued: a reminder for one since moved is not sent.
    ``idempotency_key`` goes to the provider; ``claimed_by``/``claimed_at`` say which sender
    took it, ``attempts``/``next_attempt_at`` the backoff after a timeout, 429 or 5xx."""

    __tablename__ = "outgoing_messages"
    __table_args__ = (
        one_of("channel", MessageChannel),
        CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'cancelled')",
            name="status_valid",
        ),
    )

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    template_id: Mapped[str | None] = mapped_column(ForeignKey("message_templates.id"))
    channel: Mapped[str] = mapped_column(String(8))
    to_address: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    queued_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="reminder")
    send_after: Mapped[datetime | None] = mapped_column(index=True)
    appointment_starts_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    provider: Mapped[str] = mapped_column(String(20), default="")
    provider_ref: Mapped[str | None] = mapped_column(String(80), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), default="")
    claimed_by: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    segments: Mapped[int] = mapped_column(default=0)
    # An email's attachment (a PDF such as an invoice), stored and synced with the documents.
    attachment_id: Mapped[str | None] = mapped_column(ForeignKey("plan_documents.id"))


class MessagePreference(SyncedMixin, Base):
    """One patient's messaging choices beyond the card's SMS/email consent: preferred channel,
    marketing consent, opt-outs (STOP, unsubscribe) and a recorded death."""

    __tablename__ = "message_preferences"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), unique=True)
    preferred_channel: Mapped[str] = mapped_column(String(8), default="sms")
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    marketing_consent_at: Mapped[datetime | None]
    sms_opted_out_at: Mapped[datetime | None]
    email_opted_out_at: Mapped[datetime | None]
    deceased_at: Mapped[datetime | None]


class InboundMessage(SyncedMixin, Base):
    """An SMS reply taken by the clinic server's webhook: what it meant (confirm, cancel, stop,
    other) and what was done; "other" replies wait in the inbox until handled."""

    __tablename__ = "inbound_messages"
    __table_args__ = (Index("ix_inbound_messages_open", "handled_at"),)

    provider: Mapped[str] = mapped_column(String(20))
    provider_ref: Mapped[str] = mapped_column(String(80), unique=True)
    from_number: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    meaning: Mapped[str] = mapped_column(String(10))
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), index=True)
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    in_reply_to_id: Mapped[str | None] = mapped_column(String(36))
    outcome: Mapped[str] = mapped_column(String(300), default="")
    handled_at: Mapped[datetime | None]
    handled_by_id: Mapped[str | None] = mapped_column(String(36))


class MessagingSettings(SyncedMixin, Base):
    """The clinic's messaging switches: which SMS provider, the sender name, quiet hours
    (clinic-time minutes), the segment limit and the cost of one segment (integer cents).
    Provider secrets are never here: they live in the keychain of the machine that sends."""

    __tablename__ = "messaging_settings"

    enabled: Mapped[bool] = mapped_column(default=False)
    sms_provider: Mapped[str] = mapped_column(String(20), default="")
    sms_sender: Mapped[str] = mapped_column(String(20), default="")
    provider_account: Mapped[str] = mapped_column(String(80), default="")
    provider_base_url: Mapped[str] = mapped_column(String(200), default="")
    smtp_host: Mapped[str] = mapped_column(String(200), default="")
    smtp_port: Mapped[int] = mapped_column(default=587)
    smtp_username: Mapped[str] = mapped_column(String(200), default="")
    email_from: Mapped[str] = mapped_column(String(200), default="")
    quiet_start_minute: Mapped[int] = mapped_column(default=20 * 60)
    quiet_end_minute: Mapped[int] = mapped_column(default=8 * 60)
    segment_limit: Mapped[int] = mapped_column(default=3)
    segment_cost_cents: Mapped[int] = mapped_column(default=8)
    cancellation_policy: Mapped[str] = mapped_column(Text, default="")
