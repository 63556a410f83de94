"""Patient messaging rules, pure: templates and their placeholders, SMS encoding and segments,
Australian mobile numbers, quiet hours, the reminder schedule, consent (Spam Act 2003) and what
a patient's SMS reply means. No database, no Qt, no network (services/messaging uses these).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers

from frontdesk.domain.errors import ValidationFailed

# -- templates ---------------------------------------------------------------------------------

# Every placeholder a template may use, with what it becomes (shown in Settings → Messages).
PLACEHOLDERS: dict[str, str] = {
    "preferred_name": "the patient's preferred name (else first name)",
    "patient_name": "the patient's full name",
    "practitioner": "the practitioner's name",
    "date": "the appointment's date in the clinic's time zone, e.g. Tue 8 Dec",
    "time": "the appointment's start time in the clinic's time zone, e.g. 9:30am",
    "appointment_type": "the appointment type",
    "location": "the location's name",
    "address": "the location's street address",
    "clinic": "the clinic's name (the sender)",
    "clinic_phone": "the clinic's phone number",
    "cancellation_policy": "the clinic's cancellation policy",
}


class UnknownPlaceholder(ValidationFailed):
    def __init__(self, names: list[str]) -> None:
        known = ", ".join("{" + k + "}" for k in PLACEHOLDERS)
        listed = ", ".join("{" + n + "}" for n in names)
        super().__init__(
            f"The template uses {listed}, which frontdesk does not know. "
            f"Placeholders it knows: {known}.",
            field="body",
        )
        self.names = names


def placeholders_in(template: str) -> list[str]:
    """The placeholder names a template uses, in order; a malformed brace is a clear error."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValidationFailed(
            "The template has an unmatched { or }. Write placeholders as {preferred_name}; "
            "a literal brace is written twice ({{ or }}).",
            field="body",
        ) from exc
    names: list[str] = []
    for _literal, name, spec, conv in parsed:
        if name is None:
            continue
        if spec or conv or not name.isidentifier():
            raise ValidationFailed(
                f"The template has {{{name}{'!' + conv if conv else ''}"
                f"{':' + spec if spec else ''}}}; placeholders are plain names like {{time}}.",
                field="body",
            )
        names.append(name)
    return names


def check_template(template: str) -> None:
    unknown = [n for n in dict.fromkeys(placeholders_in(template)) if n not in PLACEHOLDERS]
    if unknown:
        raise UnknownPlaceholder(unknown)


def render(template: str, values: Mapping[str, str]) -> str:
    """The template with its placeholders filled; unknown ones are refused, never left in."""
    check_template(template)
    return template.format_map({k: values.get(k, "") for k in PLACEHOLDERS})


def clinic_date(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b}"


def clinic_time(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}:{local:%M}{suffix}"


# -- SMS encoding ------------------------------------------------------------------------------

# GSM 03.38 default alphabet and its extension table (each extension character costs two).
_GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = "^{}\\[~]|€\f"
_GSM_SET = frozenset(_GSM_BASIC) - {"\x1b"}
_GSM_EXT_SET = frozenset(_GSM_EXTENDED)
_GSM_ALL = _GSM_SET | _GSM_EXT_SET


class SmsEncoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True)
class SmsLength:
    encoding: SmsEncoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    per_segment: int  # capacity of each segment at this length (single or concatenated)

    def describe(self) -> str:
        return (
            f"{self.units} characters ({self.encoding.value}), "
            f"{self.segments} SMS segment{'s' if self.segments != 1 else ''}"
        )


def sms_length(text: str) -> SmsLength:
    """GSM-7 when every character is in the GSM alphabet, else UCS-2; segments as carriers
    count them (160/153 septets, 70/67 UTF-16 units once concatenated)."""
    chars = set(text)  # each distinct character once (a day's plan measures hundreds)
    if chars <= _GSM_ALL:
        units = len(text) + sum(text.count(c) for c in chars & _GSM_EXT_SET)
        single, multi, enc = 160, 153, SmsEncoding.GSM7
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, enc = 70, 67, SmsEncoding.UCS2
    if units <= single:
        return SmsLength(enc, units, 1 if units else 0, single)
    return SmsLength(enc, units, -(-units // multi), multi)


def non_gsm_characters(text: str) -> list[str]:
    """The characters that force UCS-2 (shown so a person can replace, say, curly quotes)."""
    return list(dict.fromkeys(c for c in text if c not in _GSM_SET and c not in _GSM_EXT_SET))


def check_segments(text: str, limit: int) -> SmsLength:
    length = sms_length(text)
    if length.segments > limit:
        odd = non_gsm_characters(text)
        hint = (
            f" The characters {' '.join(odd)} make it UCS-2 (70 a segment); replacing them "
            "would make it shorter."
            if odd
            else ""
        )
        raise ValidationFailed(
            f"This SMS is {length.describe()}, over the clinic's limit of {limit}.{hint}",
            field="body",
        )
    return length


# -- Australian mobile numbers -----------------------------------------------------------------


def normalise_mobile(raw: str) -> str:
    """An Australian mobile number as E.164 (+614XXXXXXXX); a landline, a foreign or malformed
    number is refused with a sentence saying which."""
    return _normalise_mobile(raw.strip())


@lru_cache(maxsize=8192)  # a day's planning checks each number; parsing is the slow part
def _normalise_mobile(text: str) -> str:
    if not text:
        raise ValidationFailed("The patient has no mobile number for SMS.", field="mobile_phone")
    try:
        number = phonenumbers.parse(text, "AU")
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(
            f"“{text}” is not a phone number; an Australian mobile looks like 0412 345 678.",
            field="mobile_phone",
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(
            f"“{text}” is not a valid phone number; an Australian mobile looks like 0412 345 678.",
            field="mobile_phone",
        )
    if number.country_code != 61:
        raise ValidationFailed(
            f"“{text}” is not an Australian number; SMS goes only to Australian mobiles.",
            field="mobile_phone",
        )
    kind = phonenumbers.number_type(number)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE,):
        raise ValidationFailed(
            f"“{text}” is a landline or other non-mobile number and cannot receive SMS.",
            field="mobile_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(raw: str) -> str:
    text = raw.strip()
    if not _EMAIL.match(text):
        raise ValidationFailed(
            f"“{text}” is not an email address." if text else "The patient has no email address.",
            field="email",
        )
    return text


# -- when to send ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    """No message between ``start`` and ``end`` clinic time (e.g. 20:00 to 08:00)."""

    start: time = time(20, 0)
    end: time = time(8, 0)

    def is_quiet(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def next_allowed(at: datetime, tz: ZoneInfo, quiet: QuietHours) -> datetime:
    """``at`` if it is outside quiet hours in the clinic's zone, else the end of them (UTC)."""
    local = at.astimezone(tz)
    if not quiet.is_quiet(local.time().replace(tzinfo=None)):
        return at
    day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        day += timedelta(days=1)
    # combine in the zone: a DST gap moves the wall-clock forward, never to a skipped instant
    end_local = datetime.combine(day, quiet.end, tzinfo=tz)
    return end_local.astimezone(at.tzinfo)


@dataclass(frozen=True)
class ReminderSchedule:
    """Reminders ``days_before`` the appointment at ``at`` clinic time; none if the booking was
    made within ``skip_if_booked_within`` of the appointment (the confirmation is enough)."""

    days_before: int = 2
    at: time = time(10, 0)
    skip_if_booked_within: timedelta = timedelta(hours=24)


def reminder_due(
    starts_at: datetime, booked_at: datetime, tz: ZoneInfo, schedule: ReminderSchedule
) -> datetime | None:
    """When the reminder goes (UTC), or None when it should not be sent at all."""
    if starts_at - booked_at <= schedule.skip_if_booked_within:
        return None
    local_day: date = starts_at.astimezone(tz).date() - timedelta(days=schedule.days_before)
    due = datetime.combine(local_day, schedule.at, tzinfo=tz).astimezone(starts_at.tzinfo)
    if due >= starts_at:
        return None
    return max(due, booked_at)


# -- consent and the law -----------------------------------------------------------------------


class MessageKind(StrEnum):
    CONFIRMATION = "confirmation"
    REMINDER = "reminder"
    MOVED = "moved"
    CANCELLED = "cancelled"
    RECALL = "recall"
    WAITLIST_OFFER = "waitlist_offer"
    WAITLIST_GONE = "waitlist_gone"
    BIRTHDAY = "birthday"
    MARKETING = "marketing"
    TEST = "test"
    INVOICE = "invoice"  # an invoice emailed to the plan manager or insurer who pays it

    @property
    def commercial(self) -> bool:
        """Marketing (birthday, newsletters) needs express consent under the Spam Act;
        appointment messages are sent under the clinic's relationship with the patient."""
        return self in (MessageKind.MARKETING, MessageKind.BIRTHDAY)


@dataclass(frozen=True)
class Recipient:
    channel_consent: bool  # the patient agreed to this channel (SMS / email)
    opted_out: bool  # replied STOP / unsubscribed on this channel
    marketing_consent: bool
    archived: bool
    deceased: bool


def refusal(kind: MessageKind, who: Recipient) -> str | None:
    """Why this message may not go to this patient, or None when it may."""
    if who.deceased:
        return "the patient is recorded as deceased"
    if who.archived and kind is not MessageKind.TEST:
        return "the patient's card is archived"
    if who.opted_out:
        return "the patient opted out (STOP) on this channel"
    if not who.channel_consent:
        return "the patient has not agreed to messages on this channel"
    if kind.commercial and not who.marketing_consent:
        return "marketing messages need the patient's marketing consent"
    return None


STOP_LINE = "Reply STOP to opt out"


def with_sender_and_opt_out(body: str, clinic: str, *, sms: bool) -> str:
    """The Spam Act's two musts on every message: who sent it and how to stop more; added
    only when the template does not already say them."""
    out = body.rstrip()
    if clinic and clinic.lower() not in out.lower():
        out += f"\n– {clinic}" if not sms else f" - {clinic}"
    if sms and "stop" not in out.lower():
        out += f". {STOP_LINE}"
    elif not sms and "unsubscribe" not in out.lower():
        out += "\n\nTo stop these emails, reply with the word UNSUBSCRIBE."
    return out


def shared_number_prefix(patient_name: str) -> str:
    """Said first when one number belongs to several patients (a family mobile)."""
    return f"For {patient_name}: "


class ReplyMeaning(StrEnum):
    CONFIRM = "confirm"
    CANCEL = "cancel"
    STOP = "stop"
    START = "start"
    OTHER = "other"


_STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel all", "end", "quit", "optout"})
_CONFIRM_WORDS = frozenset({"y", "yes", "yes.", "confirm", "confirmed", "ok", "y."})
_CANCEL_WORDS = frozenset({"c", "c.", "cancel", "cancelled"})


def reply_meaning(text: str) -> ReplyMeaning:
    """What an SMS reply asks for: STOP words are handled automatically; "Y"/"C" confirm or
    cancel the appointment the reminder was about; anything else goes to a person."""
    word = " ".join(text.strip().lower().split())
    if word in _STOP_WORDS:
        return ReplyMeaning.STOP
    if word in {"start", "unstop"}:
        return ReplyMeaning.START
    if word in _CONFIRM_WORDS:
        return ReplyMeaning.CONFIRM
    if word in _CANCEL_WORDS:
        return ReplyMeaning.CANCEL
    return ReplyMeaning.OTHER


SMS_CANCEL_NOTE = "patient cancelled by SMS"


def retry_delay(attempt: int, *, base: float = 30.0, cap: float = 3600.0) -> timedelta:
    """Exponential backoff for a provider that timed out or answered 429/5xx."""
    return timedelta(seconds=min(cap, base * (2 ** max(0, attempt - 1))))
