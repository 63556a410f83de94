"""Settings → Messages: the clinic's messaging settings, templates and patient preferences,
each written through ``ctx.write`` (synced, audited). Providers are built here from the
settings and the keychain for whichever machine sends."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from frontdesk.domain import messaging as rules
from frontdesk.domain.errors import NotFound, ValidationFailed
from frontdesk.domain.vocab import MessageChannel
from frontdesk.models import MessagePreference, MessageTemplate, MessagingSettings, Patient
from frontdesk.services.messaging.providers import Provider, SmtpEmail, sms_provider
from frontdesk.services.messaging.queueing import preference, settings
from frontdesk.services.messaging.secrets import load_secret
from frontdesk.store.context import ServiceContext

SETTING_FIELDS = frozenset(
    c.name
    for c in MessagingSettings.__table__.columns
    if c.name not in {"id", "version", "created_at", "updated_at", "deleted_at"}
)


@dataclass(frozen=True)
class MessagingSettingsView:
    values: dict[str, Any]


def read_settings(ctx: ServiceContext) -> MessagingSettingsView:
    with ctx.read() as session:
        row = settings(session)
        return MessagingSettingsView({k: getattr(row, k) for k in sorted(SETTING_FIELDS)})


def save_settings(ctx: ServiceContext, **changes: Any) -> None:
    unknown = set(changes) - SETTING_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown messaging setting(s): {', '.join(sorted(unknown))}.")
    for key in ("quiet_start_minute", "quiet_end_minute"):
        if key in changes and not 0 <= int(changes[key]) < 1440:
            raise ValidationFailed("Quiet hours are times of day (00:00–23:59).", field=key)
    if "segment_limit" in changes and not 1 <= int(changes["segment_limit"]) <= 10:
        raise ValidationFailed("The SMS segment limit is between 1 and 10.", field="segment_limit")
    if "sms_provider" in changes and changes["sms_provider"] not in {"", "twilio", "clicksend"}:
        raise ValidationFailed("Choose Twilio or ClickSend.", field="sms_provider")
    with ctx.write("changed the messaging settings") as session:
        row = session.scalars(
            select(MessagingSettings)
            .where(MessagingSettings.deleted_at.is_(None))
            .order_by(MessagingSettings.created_at, MessagingSettings.id)
            .limit(1)
        ).first()
        if row is None:
            row = MessagingSettings()
            session.add(row)
        for key, value in changes.items():
            setattr(row, key, value)


def save_template(
    ctx: ServiceContext,
    *,
    kind: rules.MessageKind,
    channel: MessageChannel,
    body: str,
    subject: str = "",
    appointment_type_id: str | None = None,
    days_before: int = 2,
    send_at_minute: int = 600,
    name: str = "",
) -> str:
    """Create or replace the template for a kind, channel and (optional) appointment type.
    An unknown placeholder, or an SMS over the clinic's segment limit once filled with long
    sample values, is refused with a clear message and nothing is saved."""
    rules.check_template(body)
    rules.check_template(subject)
    if not 0 <= days_before <= 60:
        raise ValidationFailed("Send reminders 0 to 60 days before.", field="days_before")
    if not 0 <= send_at_minute < 1440:
        raise ValidationFailed("The send time is a time of day.", field="send_at_minute")
    with ctx.write("saved a message template") as session:
        if channel is MessageChannel.SMS:
            sample = rules.render(body, SAMPLE_VALUES)
            rules.check_segments(sample, settings(session).segment_limit)
        row = session.scalars(
            select(MessageTemplate).where(
                MessageTemplate.kind == kind.value,
                MessageTemplate.channel == channel.value,
                MessageTemplate.appointment_type_id.is_(None)
                if appointment_type_id is None
                else MessageTemplate.appointment_type_id == appointment_type_id,
                MessageTemplate.archived_at.is_(None),
                MessageTemplate.deleted_at.is_(None),
            )
        ).first()
        if row is None:
            row = MessageTemplate(kind=kind.value, channel=channel.value, body=body,
                                  appointment_type_id=appointment_type_id, name="")  # fmt: skip
            session.add(row)
        row.name = name or f"{kind.value.replace('_', ' ').capitalize()} ({channel.value})"
        row.body = body
        row.subject = subject
        row.days_before = days_before
        row.send_at_minute = send_at_minute
        session.flush()
        return row.id


SAMPLE_VALUES = {
    "preferred_name": "Alexandra",
    "patient_name": "Alexandra Montgomery",
    "practitioner": "Dr Christopher Papadopoulos",
    "date": "Wed 30 Sep",
    "time": "10:30am",
    "appointment_type": "Initial consultation",
    "location": "Main clinic",
    "address": "Suite 4, 120 Pacific Highway, St Leonards NSW 2065",
    "clinic": "Harbour Physio",
    "clinic_phone": "02 9000 0000",
    "cancellation_policy": "Please give 24 hours' notice.",
}


def set_preference(ctx: ServiceContext, patient_id: str, **changes: Any) -> None:
    allowed = {"preferred_channel", "marketing_consent", "sms_opted_out_at",
               "email_opted_out_at", "deceased_at"}  # fmt: skip
    if set(changes) - allowed:
        raise ValidationFailed("Unknown messaging preference.")
    with ctx.write("changed a patient's messaging preferences") as session:
        if session.get(Patient, patient_id) is None:
            raise NotFound("That patient no longer exists.")
        row = preference(session, patient_id)
        if row is None:
            row = MessagePreference(patient_id=patient_id)
            session.add(row)
        for key, value in changes.items():
            setattr(row, key, value)
        if changes.get("marketing_consent"):
            row.marketing_consent_at = ctx.clock.now()


def build_providers(
    ctx: ServiceContext, *, smtp_tls: ssl.SSLContext | None = None, callback: str = ""
) -> dict[MessageChannel, Provider]:
    """The providers Settings → Messages names, with their secrets from this machine's keychain;
    a channel with nothing configured is left out (its messages wait)."""
    view = read_settings(ctx).values
    out: dict[MessageChannel, Provider] = {}
    if view["sms_provider"]:
        out[MessageChannel.SMS] = sms_provider(
            view["sms_provider"], view["provider_account"], load_secret(view["sms_provider"]),
            view["sms_sender"], view["provider_base_url"], callback,
        )  # fmt: skip
    if view["smtp_host"]:
        out[MessageChannel.EMAIL] = SmtpEmail(
            view["smtp_host"], view["smtp_port"], view["smtp_username"], load_secret("smtp"),
            view["email_from"], tls=smtp_tls,
        )  # fmt: skip
    return out
