"""SMS replies: "Y" confirms, "C" cancels with the reason "patient cancelled by SMS", STOP opts
out and withdraws what is queued, anything else waits in the inbox; receipts move a message to
delivered; a reply delivered twice by the provider is applied once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from frontdesk.domain.clock import FakeClock
from frontdesk.models import Appointment, MessagePreference, OutgoingMessage
from frontdesk.services.diary.view import appointments_between
from frontdesk.services.messaging import replies
from frontdesk.services.messaging.replies import Receipt, Reply
from frontdesk.ui.diary.items import flag_icons
from tests.diary_clinic import MONDAY, Clinic
from tests.messaging.local_providers import LocalSms, LocalSmtp
from tests.messaging.test_queue_and_send import book, consent, messages, send


def _reply(clock: FakeClock, body: str, ref: str) -> Reply:
    return Reply("twilio", ref, "0412 345 678", body, clock.now())


def test_y_confirms_c_cancels_and_anything_else_waits_in_the_inbox(
    clinic: Clinic, sms: LocalSms, smtp: LocalSmtp, clock: FakeClock
) -> None:
    consent(clinic.ctx, clinic.pat)
    first = book(clinic, MONDAY, 10)
    send(clinic, smtp)
    clock.advance(timedelta(minutes=5))
    second = book(clinic, MONDAY, 14)
    send(clinic, smtp)
    clock.advance(timedelta(minutes=5))
    # a reply answers the newest message sent to the number: the 14:00 booking
    row = replies.apply_reply(clinic.ctx, _reply(clock, " c ", "SMa"))
    assert row.meaning == "cancel" and row.appointment_id == second
    with clinic.ctx.read() as s:
        appt = s.get(Appointment, second)
        assert appt is not None and appt.status == "cancelled"
        assert appt.cancellation_note == "patient cancelled by SMS"
        queued = s.scalars(
            select(OutgoingMessage).where(
                OutgoingMessage.appointment_id == second, OutgoingMessage.kind == "reminder"
            )
        ).one()
        assert queued.status == "cancelled"
    # the provider retries its webhook: applied once
    again = replies.apply_reply(clinic.ctx, _reply(clock, " c ", "SMa"))
    assert again.id == row.id
    # naming the message answered (Twilio/ClickSend give it) reaches the first booking
    conf = next(m for m in messages(clinic.ctx) if m.appointment_id == first)
    yes = replies.apply_reply(
        clinic.ctx,
        Reply("twilio", "SMb", "+61412345678", "Yes", clock.now(), conf.provider_ref or ""),
    )
    assert yes.appointment_id == first and yes.outcome == "confirmed the appointment"
    with clinic.ctx.read() as s:
        assert s.get(Appointment, first).confirmed_at is not None  # type: ignore[union-attr]
        # the diary shows it: a ✓ beside the ✉ of the reminder
        day = appointments_between(s, [clinic.anna], clinic.at(MONDAY, 0),
                                   clinic.at(MONDAY, 23))  # fmt: skip
    shown = {a.id: a for a in day}
    assert shown[first].confirmed and not shown[second].confirmed
    assert ("✓", "#15803d") in flag_icons(shown[first])
    other = replies.apply_reply(clinic.ctx, _reply(clock, "Can I bring my son?", "SMc"))
    assert other.meaning == "other"
    [waiting] = replies.inbox(clinic.ctx)
    assert waiting.body == "Can I bring my son?" and waiting.patient_name == "Pat Patient"
    replies.mark_handled(clinic.ctx, waiting.id)
    assert replies.inbox(clinic.ctx) == []


def test_stop_opts_out_at_once_and_withdraws_queued_messages(
    clinic: Clinic, sms: LocalSms, smtp: LocalSmtp, clock: FakeClock
) -> None:
    consent(clinic.ctx, clinic.pat)
    book(clinic)
    send(clinic, smtp)
    replies.apply_reply(clinic.ctx, _reply(clock, "STOP", "SMs"))
    with clinic.ctx.read() as s:
        pref = s.scalars(select(MessagePreference)).one()
        assert pref.sms_opted_out_at is not None
    assert {m.status for m in messages(clinic.ctx) if m.kind == "reminder"} == {"cancelled"}
    book(clinic, MONDAY, 15)  # nothing more is queued for this number
    assert not [m for m in messages(clinic.ctx) if m.status == "queued"]


def test_receipts_move_messages_forward_only(
    clinic: Clinic, sms: LocalSms, smtp: LocalSmtp
) -> None:
    consent(clinic.ctx, clinic.pat)
    book(clinic)
    send(clinic, smtp)
    [sent] = [m for m in messages(clinic.ctx) if m.status == "sent"]
    assert sent.provider_ref
    assert replies.apply_receipt(clinic.ctx, Receipt("twilio", sent.provider_ref, "delivered"))
    assert not replies.apply_receipt(clinic.ctx, Receipt("twilio", "SMnope", "delivered"))
    replies.apply_receipt(clinic.ctx, Receipt("twilio", sent.provider_ref, "sent"))
    [now] = [m for m in messages(clinic.ctx) if m.id == sent.id]
    assert now.status == "delivered" and now.delivered_at is not None
