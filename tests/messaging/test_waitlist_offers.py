"""Waitlist offers end to end, with the clinic server and the local SMS provider: a patient's "C"
frees Monday 10:00; the first two waiting patients it suits get an offer (the third suitable one
is not offered, nor one who wants afternoons); the first "Y" takes the slot through the booking
service and is confirmed, the second is told it has gone; the reception desk sees the booking.
A cancellation on a desk offers its slot too, once; a slot filled again is not offered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from frontdesk.domain.vocab import CancellationReason, MessageChannel
from frontdesk.models import (
    Appointment,
    InboundMessage,
    OutgoingMessage,
    Patient,
    RosterEntry,
    WaitlistEntry,
)
from frontdesk.protocol import Endpoint
from frontdesk.server.webhooks import webhook_key
from frontdesk.services import diary
from frontdesk.services.diary import groups
from frontdesk.services.messaging import queueing, sender, waitlist
from frontdesk.services.messaging.providers import TwilioSms
from frontdesk.services.messaging.secrets import save_secret
from frontdesk.services.messaging.setup import save_settings
from frontdesk.services.messaging.worker import QueueingWorker
from frontdesk.sync.sms_events import take_sms_events
from tests.messaging.local_providers import TWILIO_ACCOUNT, TWILIO_TOKEN, LocalSms
from tests.messaging.test_webhooks_two_desks import signed
from tests.sync.clinic import START, Clinic, Desk
from tests.sync.fakes import MemoryKeyring

MONDAY_10 = START + timedelta(days=3, hours=1)  # Mon 30 Nov 10:00 Sydney


@pytest.fixture
def two(tmp_path: Path, keychain: MemoryKeyring) -> Iterator[Clinic]:
    save_secret("twilio", TWILIO_TOKEN)
    c = Clinic(tmp_path, str(tmp_path / "server.sqlite3"))
    yield c
    c.close()


def _patient(desk: Desk, first: str, mobile: str) -> str:
    pid = desk.add_patient(first, "Waiting")
    with desk.ctx.write("consent") as s:
        p = s.get(Patient, pid)
        assert p is not None
        p.mobile_phone, p.sms_consent = mobile, True
    return pid


def _rostered(desk: Desk, first: str) -> str:
    """A practitioner working 8:00-17:00 every weekday (the booking service checks it)."""
    prac = desk.add_practitioner(first)
    with desk.ctx.write("roster") as s:
        for wd in range(5):
            s.add(RosterEntry(practitioner_id=prac, weekday=wd, start_minute=8 * 60,
                              end_minute=17 * 60, effective_from=date(2026, 1, 5)))  # fmt: skip
    return prac


def _reply(two: Clinic, sid: str, number: str, body: str) -> None:
    key = webhook_key(two.store)
    hook = Endpoint.SMS_WEBHOOK.path(provider="twilio", kind="inbound")
    form = {"MessageSid": sid, "From": number, "Body": body}
    answer = two.client.post(hook, params={"key": key}, data=form, headers=signed(key, hook, form))
    assert answer.status_code == 200


def test_first_yes_takes_the_freed_slot_and_the_others_hear_it_has_gone(
    two: Clinic, sms: LocalSms, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(waitlist, "OFFERS_PER_SLOT", 2)
    messaging, reception = two.add_desk("messaging"), two.add_desk("reception")
    anna = _rostered(messaging, "Anna")
    pat = _patient(messaging, "Pat", "0412 345 678")
    wendy = _patient(messaging, "Wendy", "0412 345 001")
    wally = _patient(messaging, "Wally", "0412 345 002")
    late = _patient(messaging, "Lena", "0412 345 003")  # wants afternoons only
    third = _patient(messaging, "Theo", "0412 345 004")  # suitable, but third in line
    groups.add_to_waitlist(messaging.ctx, late, earliest_minute=13 * 60)
    groups.add_to_waitlist(messaging.ctx, wendy, practitioner_ids=[anna], urgency=3)
    messaging.clock.advance(timedelta(minutes=1))
    groups.add_to_waitlist(messaging.ctx, wally)
    messaging.clock.advance(timedelta(minutes=1))
    groups.add_to_waitlist(messaging.ctx, third)
    save_settings(messaging.ctx, enabled=True)
    twilio = {MessageChannel.SMS: TwilioSms(TWILIO_ACCOUNT, TWILIO_TOKEN, "+61400999999",
                                            base_url=sms.url)}  # fmt: skip
    appt = messaging.book(anna, pat, MONDAY_10)
    queueing.appointments_changed(messaging.ctx, [appt])
    assert sender.send_due(messaging.ctx, twilio, sender_id="srv").sent == 1  # Pat's confirmation

    _reply(two, "SMc", "+61412345678", "C")
    assert take_sms_events(messaging.engine) == 1
    assert sender.send_due(messaging.ctx, twilio, sender_id="srv").sent == 2
    offers = [r for r in sms.state.sent if "spot has opened" in r["body"]]
    assert sorted(r["to"] for r in offers) == ["+61412345001", "+61412345002"]  # Wendy, Wally
    assert all("Mon 30 Nov at 10:00am" in r["body"] and "Reply Y" in r["body"] for r in offers)

    messaging.clock.advance(timedelta(minutes=2))
    _reply(two, "SMw1", "+61412345002", "Y")  # Wally first
    _reply(two, "SMw2", "+61412345001", "yes")  # then Wendy
    assert take_sms_events(messaging.engine) == 2
    report = sender.send_due(messaging.ctx, twilio, sender_id="srv")
    tail = sms.state.sent[3:]
    assert report.sent == len(tail)
    to_wendy = [r["body"] for r in tail if r["to"] == "+61412345001"]
    to_wally = [r["body"] for r in tail if r["to"] == "+61412345002"]
    assert len(to_wendy) == 1 and "has now been taken" in to_wendy[0]
    assert any("you're booked" in b for b in to_wally)
    assert not any(r["to"] in ("+61412345003", "+61412345004") for r in sms.state.sent)
    with messaging.ctx.read() as s:
        answers = {m.provider_ref: m for m in s.scalars(select(InboundMessage))}
        assert answers["SMw1"].outcome == waitlist.TAKEN_OUTCOME and answers["SMw1"].handled_at
        assert "already gone" in answers["SMw2"].outcome
        entries = {e.patient_id: e for e in s.scalars(select(WaitlistEntry))}
        assert entries[wally].resolved_at is not None and entries[wendy].resolved_at is None
        assert entries[third].resolved_at is None

    two.settle()
    with reception.ctx.read() as s:
        booked = s.scalars(
            select(Appointment).where(
                Appointment.patient_id == wally, Appointment.status == "booked"
            )
        ).one()
        assert booked.starts_at == MONDAY_10 and booked.practitioner_id == anna
        assert s.get(Appointment, appt).status == "cancelled"  # type: ignore[union-attr]


def test_a_desk_cancellation_offers_its_slot_once_and_a_filled_slot_is_not_offered(
    two: Clinic, sms: LocalSms
) -> None:
    desk = two.add_desk("reception")
    anna = _rostered(desk, "Anna")
    pat = _patient(desk, "Pat", "0412 345 678")
    wendy = _patient(desk, "Wendy", "0412 345 001")
    groups.add_to_waitlist(desk.ctx, wendy)
    save_settings(desk.ctx, enabled=True)
    worker = QueueingWorker(desk.ctx)
    desk.ctx.listeners.append(worker.listen)
    try:
        first = desk.book(anna, pat, MONDAY_10)
        second = desk.book(anna, pat, MONDAY_10 + timedelta(hours=2))
        diary.cancel(desk.ctx, first, CancellationReason.SICK)
        assert worker.drain()
        queueing.appointments_changed(desk.ctx, [first])  # again: no second offer
        # the other slot is double-booked: when one leaves, it is still filled, so no offer
        desk.book(anna, wendy, MONDAY_10 + timedelta(hours=2))
        diary.cancel(desk.ctx, second, CancellationReason.SICK)
        assert worker.drain()
    finally:
        worker.stop()
    with desk.ctx.read() as s:
        offers = s.scalars(
            select(OutgoingMessage).where(OutgoingMessage.kind == "waitlist_offer")
        ).all()
    assert [(o.patient_id, o.appointment_starts_at) for o in offers] == [(wendy, MONDAY_10)]
