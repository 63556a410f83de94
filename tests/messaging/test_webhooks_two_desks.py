"""The clinic server takes the providers' callbacks: a reply "C" posted to the webhook is
applied by the messaging desk (the appointment is cancelled, "patient cancelled by SMS") and
reaches a second desk's diary by sync; a delivery receipt marks the message delivered there
too. A wrong key is refused; a callback missing its documented fields gets a clear 400."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from frontdesk.domain.vocab import MessageChannel
from frontdesk.models import Appointment, OutgoingMessage, Patient
from frontdesk.protocol import Endpoint
from frontdesk.server.webhooks import webhook_key
from frontdesk.services.messaging import queueing, sender
from frontdesk.services.messaging.providers import TwilioSms, twilio_signature
from frontdesk.services.messaging.secrets import save_secret
from frontdesk.services.messaging.setup import save_settings
from frontdesk.sync.sms_events import take_sms_events
from tests.messaging.local_providers import TWILIO_ACCOUNT, TWILIO_TOKEN, LocalSms
from tests.sync.clinic import START, Clinic
from tests.sync.fakes import MemoryKeyring


def signed(key: str, path: str, form: dict[str, str]) -> dict[str, str]:
    """Twilio's X-Twilio-Signature for a callback posted through the test client."""
    return {
        "X-Twilio-Signature": twilio_signature(
            TWILIO_TOKEN, f"http://testserver{path}?key={key}", form
        )
    }


@pytest.fixture
def two(tmp_path: Path, keychain: MemoryKeyring) -> Iterator[Clinic]:
    save_secret("twilio", TWILIO_TOKEN)  # the server checks Twilio's signatures with it
    c = Clinic(tmp_path, str(tmp_path / "server.sqlite3"))
    yield c
    c.close()


def test_a_c_reply_reaches_the_other_desk_and_receipts_mark_delivered(
    two: Clinic, sms: LocalSms
) -> None:
    messaging, reception = two.add_desk("messaging"), two.add_desk("reception")
    prac = messaging.add_practitioner("Anna")
    pat = messaging.add_patient("Pat", "Patient")
    with messaging.ctx.write("consent") as s:
        p = s.get(Patient, pat)
        assert p is not None
        p.mobile_phone, p.sms_consent = "0412 345 678", True
    save_settings(messaging.ctx, enabled=True)
    appt = messaging.book(prac, pat, START + timedelta(days=3, hours=1))
    queueing.appointments_changed(messaging.ctx, [appt])
    twilio = TwilioSms(TWILIO_ACCOUNT, TWILIO_TOKEN, "+61400999999", base_url=sms.url)
    report = sender.send_due(messaging.ctx, {MessageChannel.SMS: twilio}, sender_id="srv")
    assert report.sent == 1
    two.settle()
    with reception.ctx.read() as s:
        assert s.get(Appointment, appt).status == "booked"  # type: ignore[union-attr]
    [row] = sms.state.sent
    key = webhook_key(two.store)
    hook = Endpoint.SMS_WEBHOOK.path(provider="twilio", kind="inbound")
    status = Endpoint.SMS_WEBHOOK.path(provider="twilio", kind="status")
    assert (
        two.client.post(hook, params={"key": "nope"}, data={"MessageSid": "x"}).status_code == 403
    )
    bad = two.client.post(hook, params={"key": key}, data={"From": "+61412345678"},
                          headers=signed(key, hook, {"From": "+61412345678"}))  # fmt: skip
    assert bad.status_code == 400 and "MessageSid" in bad.json()["message"]
    form = {"MessageSid": "SMreply1", "From": "+61412345678", "To": "+61400999999", "Body": "C"}
    answer = two.client.post(hook, params={"key": key}, data=form, headers=signed(key, hook, form))
    assert answer.status_code == 200 and answer.text == "<Response/>"
    # the provider retries the same callback: kept once
    again = two.client.post(hook, params={"key": key}, data=form, headers=signed(key, hook, form))
    assert again.status_code == 200
    delivered = {"MessageSid": row["sid"], "MessageStatus": "delivered"}
    receipt = signed(key, status, delivered)
    assert (
        two.client.post(status, params={"key": key}, data=delivered, headers=receipt).status_code
        == 200
    )
    engine = messaging.engine
    assert take_sms_events(engine) == 2
    assert take_sms_events(engine) == 0  # taken
    two.settle()
    with reception.ctx.read() as s:
        seen = s.get(Appointment, appt)
        assert seen is not None and seen.status == "cancelled"
        assert seen.cancellation_note == "patient cancelled by SMS"
        msg = s.scalars(select(OutgoingMessage).where(OutgoingMessage.kind == "confirmation")).one()
        assert msg.status == "delivered"


def test_the_other_desks_diary_shows_the_confirmation_and_the_sms_cancellation(  # type: ignore[no-untyped-def]
    qtbot, two: Clinic, sms: LocalSms
) -> None:
    import os

    from PySide6.QtCore import QSettings

    from frontdesk.services.diary.view import appointments_between
    from frontdesk.ui.bus import ChangeBus
    from frontdesk.ui.main_window import MainWindow
    from frontdesk.ui.style import apply_style

    messaging, reception = two.add_desk("messaging"), two.add_desk("reception")
    prac = messaging.add_practitioner("Anna")
    pat = messaging.add_patient("Pat", "Patient")
    with messaging.ctx.write("consent") as s:
        p = s.get(Patient, pat)
        assert p is not None
        p.mobile_phone, p.sms_consent = "0412 345 678", True
    save_settings(messaging.ctx, enabled=True)
    twilio = TwilioSms(TWILIO_ACCOUNT, TWILIO_TOKEN, "+61400999999", base_url=sms.url)
    key = webhook_key(two.store)
    hook = Endpoint.SMS_WEBHOOK.path(provider="twilio", kind="inbound")
    monday = START + timedelta(days=3, hours=1)  # Mon 30 Nov 10:00 Sydney
    ids = []
    for n, (hours, answer) in enumerate(((0, "Y"), (4, "C"))):
        appt = messaging.book(prac, pat, monday + timedelta(hours=hours))
        ids.append(appt)
        queueing.appointments_changed(messaging.ctx, [appt])
        assert sender.send_due(messaging.ctx, {MessageChannel.SMS: twilio}, sender_id="s").sent
        messaging.clock.advance(timedelta(minutes=1))
        form = {"MessageSid": f"SMr{n}", "From": "+61412345678", "Body": answer}
        posted = two.client.post(
            hook, params={"key": key}, data=form, headers=signed(key, hook, form)
        )
        assert posted.status_code == 200
        assert take_sms_events(messaging.engine) == 1
    two.settle()
    with reception.ctx.read() as s:
        shown = {a.id: a for a in appointments_between(s, [prac], monday - timedelta(hours=2),
                                                        monday + timedelta(hours=10))}  # fmt: skip
    assert shown[ids[0]].confirmed and shown[ids[0]].status == "booked"
    assert shown[ids[1]].status == "cancelled"
    app = qtbot  # the QApplication exists once qtbot does
    _ = app
    from PySide6.QtWidgets import QApplication

    apply_style(QApplication.instance())  # type: ignore[arg-type]
    bus = ChangeBus()
    reception.ctx.listeners.append(bus.publish)
    prefs = QSettings(str(two.root / "reception.ini"), QSettings.Format.IniFormat)
    window = MainWindow(reception.ctx, bus, prefs)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    window.show_area("diary")
    page = window.pages["diary"]
    page.set_show_cancelled(True)  # type: ignore[attr-defined]
    page.go_to(monday.astimezone(reception.ctx.tz).date())  # type: ignore[attr-defined]
    qtbot.wait(300)
    folder = os.environ.get("FRONTDESK_SHOTS")
    if folder:
        window.grab().save(os.path.join(folder, "reception_diary_after_sms.png"))
