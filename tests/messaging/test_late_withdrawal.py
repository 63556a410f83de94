"""A desk cancels or moves an appointment before it has heard that the messaging desk sent the
confirmation meanwhile (the walk under Xvfb met this: cancelled seconds after booking). On the
desk's copy nothing had gone, so it withdrew the confirmation and queued no notice. The clinic
server keeps the message "sent" (it reached the patient), and the sender's next round queues
the notice the desk could not know it owed — once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from frontdesk.domain.vocab import MessageChannel
from frontdesk.models import OutgoingMessage, Patient
from frontdesk.services.messaging import queueing, sender
from frontdesk.services.messaging.providers import TwilioSms
from frontdesk.services.messaging.setup import save_settings
from tests.messaging.local_providers import TWILIO_ACCOUNT, TWILIO_TOKEN, LocalSms
from tests.sync.clinic import START, Clinic, Desk
from tests.sync.fakes import MemoryKeyring


@pytest.fixture
def two(tmp_path: Path, keychain: MemoryKeyring) -> Iterator[Clinic]:
    c = Clinic(tmp_path, str(tmp_path / "server.sqlite3"))
    yield c
    c.close()


def _kinds(desk: Desk) -> dict[str, str]:
    """kind → status; the first confirmation (for the booked time) as "confirmation"."""
    with desk.ctx.read() as s:
        rows = s.scalars(select(OutgoingMessage).order_by(OutgoingMessage.queued_at)).all()
    out: dict[str, str] = {}
    for m in rows:
        out.setdefault(m.kind if m.kind not in out else f"{m.kind} again", m.status)
    return out


@pytest.mark.parametrize("change", ["cancel", "move"])
def test_a_message_sent_meanwhile_stays_sent_and_the_notice_follows(
    two: Clinic, sms: LocalSms, change: str
) -> None:
    messaging, reception = two.add_desk("messaging"), two.add_desk("reception")
    prac = reception.add_practitioner("Anna")
    pat = reception.add_patient("Pat", "Patient")
    with reception.ctx.write("consent") as s:
        p = s.get(Patient, pat)
        assert p is not None
        p.mobile_phone, p.sms_consent = "0412 345 678", True
    save_settings(reception.ctx, enabled=True)
    start = START + timedelta(days=3, hours=1)
    appt = reception.book(prac, pat, start)
    queueing.appointments_changed(reception.ctx, [appt])
    two.settle()
    twilio = TwilioSms(TWILIO_ACCOUNT, TWILIO_TOKEN, "+61400999999", base_url=sms.url)
    sms_only = {MessageChannel.SMS: twilio}
    assert sender.send_due(messaging.ctx, sms_only, sender_id="srv").sent == 1
    assert messaging.sync()
    # reception has not pulled since: on its copy the confirmation is still queued
    assert _kinds(reception)["confirmation"] == "queued"
    if change == "cancel":
        reception.cancel(appt)
    else:
        reception.move(appt, start + timedelta(hours=2))
    queueing.appointments_changed(reception.ctx, [appt])  # as the desk's listener does
    assert _kinds(reception)["confirmation"] == "cancelled"  # withdrawn on what it knew
    two.settle()
    for desk in (messaging, reception):
        assert _kinds(desk)["confirmation"] == "sent", desk.name  # it reached the patient
    # a cancellation's notice is owed; a move had queued a confirmation of the new time
    assert queueing.notices_owed(messaging.ctx) == (1 if change == "cancel" else 0)
    assert queueing.notices_owed(messaging.ctx) == 0  # once
    assert sender.send_due(messaging.ctx, sms_only, sender_id="srv").sent == 1
    notice = "cancelled" if change == "cancel" else "confirmation again"
    assert _kinds(messaging)[notice] == "sent"
    assert len(sms.state.sent) == 2
    two.settle()
    two.assert_converged()
