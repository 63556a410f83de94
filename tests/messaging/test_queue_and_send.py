"""Booking, moving and cancelling queue the right messages; the sender hands them to real local
SMTP and SMS servers once, retries timeouts, 500s and 429s with backoff, and withdraws a
reminder whose appointment was moved or cancelled after it was queued."""

from __future__ import annotations

import email
from datetime import timedelta

import pytest
from sqlalchemy import select

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.messaging import MessageKind, UnknownPlaceholder
from frontdesk.domain.vocab import MessageChannel
from frontdesk.models import Appointment, OutgoingMessage, Patient
from frontdesk.services.diary import appointments as appts
from frontdesk.services.messaging import queueing, sender
from frontdesk.services.messaging.providers import (
    ClickSendSms,
    Outgoing,
    PermanentFailure,
    TwilioSms,
)
from frontdesk.services.messaging.setup import (
    build_providers,
    save_settings,
    save_template,
    set_preference,
)
from frontdesk.store.context import ServiceContext
from tests.diary_clinic import MONDAY, Clinic
from tests.messaging.local_providers import (
    CLICKSEND_KEY,
    CLICKSEND_USER,
    LocalSms,
    LocalSmtp,
)


def consent(ctx: ServiceContext, patient_id: str, *, sms: bool = True, email: str = "") -> None:
    with ctx.write("test consent") as s:
        p = s.get(Patient, patient_id)
        assert p is not None
        p.mobile_phone = "0412 345 678"
        p.sms_consent = sms
        if email:
            p.email = email
            p.email_consent = True


def book(c: Clinic, day=MONDAY, hh: int = 10, patient: str | None = None) -> str:
    aid = appts.book(c.ctx, appts.BookingRequest(
        practitioner_id=c.anna, starts_at=c.at(day, hh), ends_at=c.at(day, hh, 30),
        patient_id=patient or c.pat, appointment_type_id=c.standard))  # fmt: skip
    queueing.appointments_changed(c.ctx, [aid])
    return aid


def messages(ctx: ServiceContext) -> list[OutgoingMessage]:
    with ctx.read() as s:
        rows = list(
            s.scalars(
                select(OutgoingMessage).order_by(OutgoingMessage.queued_at, OutgoingMessage.kind)
            )
        )
        s.expunge_all()
        return rows


def send(c: Clinic, smtp: LocalSmtp) -> sender.SendReport:
    providers = build_providers(c.ctx, smtp_tls=smtp.client_tls())
    return sender.send_due(c.ctx, providers, sender_id="desk-test")


def test_booking_queues_a_confirmation_and_a_reminder_and_sends_them_once(
    clinic: Clinic, sms: LocalSms, smtp: LocalSmtp, clock: FakeClock
) -> None:
    consent(clinic.ctx, clinic.pat)
    book(clinic)
    rows = messages(clinic.ctx)
    assert sorted(m.kind for m in rows) == ["confirmation", "reminder"]
    confirmation = next(m for m in rows if m.kind == "confirmation")
    assert confirmation.to_address == "+61412345678"
    assert "Anna Allen" in confirmation.body and "Mon 30 Nov at 10:00am" in confirmation.body
    assert confirmation.body.endswith("Reply STOP to opt out")
    reminder = next(m for m in rows if m.kind == "reminder")
    # 2 days before at 10:00 Sydney: Sat 28 Nov 10:00 AEDT = 23:00 UTC on the 27th
    assert reminder.send_after is not None
    assert reminder.send_after.isoformat() == "2026-11-27T23:00:00+00:00"
    # Friday 09:00: only the confirmation is due
    report = send(clinic, smtp)
    assert (report.sent, len(sms.state.sent)) == (1, 1)
    assert sms.state.sent[0]["body"] == confirmation.body
    assert send(clinic, smtp).sent == 0  # nothing twice
    clock.set(reminder.send_after + timedelta(minutes=1))
    assert send(clinic, smtp).sent == 1
    assert [r["body"][:20] for r in sms.state.sent][1].startswith("Hi Pat, a reminder")
    with clinic.ctx.read() as s:
        appt = s.scalars(select(Appointment)).one()
        assert appt.reminder_sent_at is not None
    assert {m.status for m in messages(clinic.ctx)} == {"sent"}
    # queueing again changes nothing: the ids come from what the message is about
    queueing.appointments_changed(clinic.ctx, [appt.id])
    assert len(messages(clinic.ctx)) == 2


def test_a_reminder_for_an_appointment_moved_or_cancelled_after_queueing_is_not_sent(
    clinic: Clinic, sms: LocalSms, smtp: LocalSmtp, clock: FakeClock
) -> None:
    consent(clinic.ctx, clinic.pat)
    moved = book(clinic, hh=10)
    cancelled = book(clinic, hh=14)
    send(clinic, smtp)  # the two confirmations
    # another desk moves and cancels them; this desk's sender has not heard of it by queueing
    appts.move(clinic.ctx, moved, clinic.at(MONDAY, 11))
    appts.cancel(clinic.ctx, cancelled, "sick")
    clock.advance(timedelta(days=1, hours=2))
    report = send(clinic, smtp)
    assert report.cancelled == 2 and report.sent == 0
    stale = [m for m in messages(clinic.ctx) if m.kind == "reminder"]
    assert {m.status for m in stale} == {"cancelled"}
    assert "moved" in (stale[0].error or "") or "moved" in (stale[1].error or "")
    # the desk that moved/cancelled queues the notices and the new reminder
    clock.advance(timedelta(hours=-2))
    queueing.appointments_changed(clinic.ctx, [moved, cancelled])
    kinds = sorted(m.kind for m in messages(clinic.ctx) if m.status == "queued")
    assert kinds == ["cancelled", "moved", "reminder"]


def test_provider_timeouts_500_and_429_are_retried_with_backoff_and_nothing_is_lost(
    clinic: Clinic, sms: LocalSms, smtp: LocalSmtp, clock: FakeClock
) -> None:
    consent(clinic.ctx, clinic.pat)
    book(clinic)
    sms.state.fail_next = ["500", "429", "slow"]
    sms.state.slow_seconds = 1.5
    providers = build_providers(clinic.ctx)
    assert isinstance(providers[MessageChannel.SMS], TwilioSms)
    providers[MessageChannel.SMS].timeout = 0.5  # type: ignore[union-attr]
    first = sender.send_due(clinic.ctx, providers, sender_id="s")
    assert (first.retried, first.sent) == (1, 0)
    assert "500" in first.errors[0]
    [m] = [m for m in messages(clinic.ctx) if m.kind == "confirmation"]
    assert m.status == "queued" and m.attempts == 1 and m.next_attempt_at is not None
    assert sender.send_due(clinic.ctx, providers, sender_id="s").handled == 0  # backing off
    clock.advance(timedelta(seconds=31))
    second = sender.send_due(clinic.ctx, providers, sender_id="s")
    assert second.retried == 1 and "429" in second.errors[0]
    clock.advance(timedelta(minutes=2))
    third = sender.send_due(clinic.ctx, providers, sender_id="s")
    assert third.retried == 1 and "in time" in third.errors[0]
    clock.advance(timedelta(minutes=5))
    assert sender.send_due(clinic.ctx, providers, sender_id="s").sent == 1
    assert len(sms.state.sent) == 1


def test_clicksend_sends_with_the_custom_string_and_refuses_a_bad_number(
    clinic: Clinic, sms: LocalSms, smtp: LocalSmtp
) -> None:
    consent(clinic.ctx, clinic.pat)
    book(clinic)
    provider = ClickSendSms(CLICKSEND_USER, CLICKSEND_KEY, base_url=sms.url)
    report = sender.send_due(clinic.ctx, {MessageChannel.SMS: provider}, sender_id="s")
    assert report.sent == 1
    [row] = sms.state.sent
    [m] = [m for m in messages(clinic.ctx) if m.status == "sent"]
    assert row["custom_string"] == m.idempotency_key and m.provider_ref == row["message_id"]
    wrong = ClickSendSms(CLICKSEND_USER, "wrong", base_url=sms.url)
    with pytest.raises(PermanentFailure, match="account details"):
        wrong.send(_out(m))


def _out(m: OutgoingMessage) -> Outgoing:
    assert m.queued_at is not None
    return Outgoing(m.id, m.to_address, m.subject, m.body, m.idempotency_key, m.queued_at)


def test_email_goes_over_starttls_with_login(
    clinic: Clinic, sms: LocalSms, smtp: LocalSmtp
) -> None:
    consent(clinic.ctx, clinic.pat, sms=False, email="pat@example.com")
    book(clinic)
    report = send(clinic, smtp)
    assert report.sent == 1, report.errors
    [(_mail_from, rcpts, raw)] = smtp.messages
    assert rcpts == ["pat@example.com"]
    parsed = email.message_from_bytes(raw)
    assert "Mon 30 Nov at 10:00am" in parsed.get_payload(decode=True).decode()
    assert parsed["Message-ID"].startswith("<")
    assert "24 hours" in parsed.get_payload(decode=True).decode()


def test_a_wrong_smtp_password_fails_clearly_and_keeps_the_message(
    clinic: Clinic, smtp: LocalSmtp, keychain: object
) -> None:
    from frontdesk.services.messaging.secrets import save_secret

    consent(clinic.ctx, clinic.pat, sms=False, email="pat@example.com")
    book(clinic)
    save_secret("smtp", "wrong")
    report = send(clinic, smtp)
    assert report.failed == 1 and "user name or password" in report.errors[0]
    [m] = [m for m in messages(clinic.ctx) if m.kind == "confirmation"]
    assert m.status == "failed" and "password" in (m.error or "")
    assert smtp.messages == []


def test_no_message_without_consent_to_the_deceased_or_archived(
    clinic: Clinic, clock: FakeClock
) -> None:
    book(clinic)  # no consent yet
    assert messages(clinic.ctx) == []
    consent(clinic.ctx, clinic.pat)
    set_preference(clinic.ctx, clinic.pat, deceased_at=clock.now())
    book(clinic, hh=11)
    assert messages(clinic.ctx) == []
    set_preference(clinic.ctx, clinic.pat, deceased_at=None, sms_opted_out_at=clock.now())
    book(clinic, hh=15)
    assert messages(clinic.ctx) == []


def test_a_shared_number_says_whose_appointment_it_is(clinic: Clinic) -> None:
    consent(clinic.ctx, clinic.pat)
    consent(clinic.ctx, clinic.other)
    book(clinic)
    [conf] = [m for m in messages(clinic.ctx) if m.kind == "confirmation"]
    assert conf.body.startswith("For Pat Patient: ")


def test_templates_refuse_unknown_placeholders_and_long_sms(clinic: Clinic) -> None:
    with pytest.raises(UnknownPlaceholder, match=r"\{first_name\}"):
        save_template(clinic.ctx, kind=MessageKind.REMINDER, channel=MessageChannel.SMS,
                      body="Hi {first_name}")  # fmt: skip
    save_settings(clinic.ctx, segment_limit=1)
    with pytest.raises(ValidationFailed, match="over the clinic's limit of 1"):
        save_template(clinic.ctx, kind=MessageKind.REMINDER, channel=MessageChannel.SMS,
                      body="Hi {preferred_name}, " + "see you soon " * 12)  # fmt: skip
    save_template(clinic.ctx, kind=MessageKind.REMINDER, channel=MessageChannel.SMS,
                  body="{preferred_name}: {practitioner} {date} {time}. Y/C?",
                  appointment_type_id=clinic.standard, days_before=1,
                  send_at_minute=17 * 60)  # fmt: skip
    consent(clinic.ctx, clinic.pat)
    book(clinic)
    [rem] = [m for m in messages(clinic.ctx) if m.kind == "reminder"]
    assert rem.body.startswith("Pat: Anna Allen Mon 30 Nov 10:00am. Y/C?")
    assert rem.send_after is not None
    assert rem.send_after.isoformat() == "2026-11-29T06:00:00+00:00"  # Sun 17:00 Sydney


def test_quiet_hours_hold_a_confirmation_booked_late_at_night(
    clinic: Clinic, clock: FakeClock
) -> None:
    consent(clinic.ctx, clinic.pat)
    clock.advance(timedelta(hours=13))  # Friday 22:00 Sydney
    book(clinic)
    [conf] = [m for m in messages(clinic.ctx) if m.kind == "confirmation"]
    assert conf.send_after is not None
    assert conf.send_after.isoformat() == "2026-11-27T21:00:00+00:00"  # Sat 08:00 Sydney


def test_a_desk_without_a_server_plans_and_sends_by_itself(
    clinic: Clinic, sms: LocalSms, smtp: LocalSmtp, clock: FakeClock
) -> None:
    from frontdesk.commands.messages import one_round

    consent(clinic.ctx, clinic.pat)
    # booked before messaging knew of it (e.g. imported): no messages yet
    aid = appts.book(clinic.ctx, appts.BookingRequest(
        practitioner_id=clinic.anna, starts_at=clinic.at(MONDAY, 9),
        ends_at=clinic.at(MONDAY, 9, 30), patient_id=clinic.pat))  # fmt: skip
    assert messages(clinic.ctx) == []
    clock.set(clinic.at(MONDAY, 9) - timedelta(days=2, hours=1))  # Saturday 08:00
    text = one_round(clinic.ctx)  # plans tomorrow's (Sunday's)… nothing on Sunday
    assert "reminders planned 0" in text
    assert queueing.plan_reminders(clinic.ctx, MONDAY) == 1
    assert queueing.plan_reminders(clinic.ctx, MONDAY) == 0  # safe to repeat
    clock.advance(timedelta(hours=3))
    assert "sent 1" in one_round(clinic.ctx)
    [m] = messages(clinic.ctx)
    assert (m.kind, m.status, m.appointment_id) == ("reminder", "sent", aid)


def test_the_desk_listener_queues_at_booking_and_moving(clinic: Clinic) -> None:
    clinic.ctx.listeners.append(queueing.queue_on_change(clinic.ctx))
    consent(clinic.ctx, clinic.pat)
    aid = appts.book(clinic.ctx, appts.BookingRequest(
        practitioner_id=clinic.anna, starts_at=clinic.at(MONDAY, 9),
        ends_at=clinic.at(MONDAY, 9, 30), patient_id=clinic.pat))  # fmt: skip
    assert sorted(m.kind for m in messages(clinic.ctx)) == ["confirmation", "reminder"]
    appts.move(clinic.ctx, aid, clinic.at(MONDAY, 11))
    # nothing was sent yet: the queued ones are withdrawn and queued afresh for 11:00
    live = sorted((m.kind, m.status) for m in messages(clinic.ctx))
    assert live == [("confirmation", "cancelled"), ("confirmation", "queued"),
                    ("reminder", "cancelled"), ("reminder", "queued")]  # fmt: skip


def test_settings_before_any_are_saved_are_the_defaults_and_off(ctx: ServiceContext) -> None:
    from frontdesk.services.messaging.setup import read_settings
    from frontdesk.services.messaging.views import preview

    values = read_settings(ctx).values
    assert values["enabled"] is False and values["quiet_start_minute"] == 20 * 60
    assert values["segment_limit"] == 3 and values["sms_provider"] == ""
    shown = preview(ctx, "Hi {preferred_name}", MessageChannel.SMS)
    assert shown.text.startswith("Hi Alexandra") and shown.segments == 1
