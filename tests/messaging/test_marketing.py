"""Birthday and marketing messages go only with marketing consent: none until the clinic saves a
birthday template; then one a year to each consenting patient born that day (not to one
without consent, nor after STOP), naming the clinic and saying how to stop, handed to the local
SMS and SMTP servers (the email carries List-Unsubscribe). A campaign honours the same rules."""

from __future__ import annotations

import email
from datetime import date, timedelta

import pytest

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.messaging import MessageKind
from frontdesk.domain.vocab import MessageChannel
from frontdesk.models import Patient
from frontdesk.services.messaging import marketing, replies
from frontdesk.services.messaging.replies import Reply
from frontdesk.services.messaging.setup import save_template, set_preference
from tests.diary_clinic import Clinic
from tests.messaging.local_providers import LocalSms, LocalSmtp
from tests.messaging.test_queue_and_send import consent, messages, send


def _born(clinic: Clinic, patient_id: str, dob: date) -> None:
    with clinic.ctx.write("dob") as s:
        p = s.get(Patient, patient_id)
        assert p is not None
        p.date_of_birth = dob


def test_birthdays_need_a_template_and_marketing_consent_and_stop_is_honoured(
    clinic: Clinic, sms: LocalSms, smtp: LocalSmtp, clock: FakeClock
) -> None:
    today = clock.now().astimezone(clinic.ctx.tz).date()
    consent(clinic.ctx, clinic.pat)  # SMS consent, 0412 345 678
    consent(clinic.ctx, clinic.other, sms=False, email="olive@example.com")
    _born(clinic, clinic.pat, today.replace(year=1980))
    _born(clinic, clinic.other, today.replace(year=1975))
    assert marketing.queue_birthdays(clinic.ctx, today).queued == 0  # no template: no birthdays
    save_template(clinic.ctx, kind=MessageKind.BIRTHDAY, channel=MessageChannel.SMS,
                  body="Happy birthday {preferred_name}!", send_at_minute=10 * 60)  # fmt: skip
    save_template(clinic.ctx, kind=MessageKind.BIRTHDAY, channel=MessageChannel.EMAIL,
                  subject="From {clinic}", body="Happy birthday {preferred_name}!")  # fmt: skip
    none_yet = marketing.queue_birthdays(clinic.ctx, today)
    assert none_yet.queued == 0
    assert none_yet.not_sent == {"marketing messages need the patient's marketing consent": 2}
    set_preference(clinic.ctx, clinic.pat, marketing_consent=True)
    set_preference(clinic.ctx, clinic.other, marketing_consent=True)
    assert marketing.queue_birthdays(clinic.ctx, today).queued == 2
    assert marketing.queue_birthdays(clinic.ctx, today).queued == 0  # once a year
    assert marketing.queue_birthdays(clinic.ctx, today + timedelta(days=1)).queued == 0
    clock.advance(timedelta(hours=3))  # past 10:00 clinic time
    assert send(clinic, smtp).sent == 2
    [text] = [r["body"] for r in sms.state.sent]
    assert text.startswith("Happy birthday Pat!") and "- My clinic" in text and "Reply STOP" in text
    [(_from, to, raw)] = smtp.messages
    mail = email.message_from_bytes(raw)
    assert to == ["olive@example.com"] and mail["List-Unsubscribe"]
    assert "UNSUBSCRIBE" in mail.get_payload(decode=True).decode()  # type: ignore[union-attr]

    replies.apply_reply(clinic.ctx, Reply("twilio", "SMstop", "0412 345 678", "STOP", clock.now()))
    campaign = marketing.queue_campaign(clinic.ctx, "winter", "Flu season: we're open Saturdays.")
    assert campaign.queued == 1  # Olive by email; Pat replied STOP
    assert campaign.not_sent["the patient opted out (STOP) on this channel"] == 1
    assert "not sent" in campaign.describe()
    assert marketing.queue_campaign(clinic.ctx, "winter", "again").queued == 0  # once per name
    kinds = sorted(m.kind for m in messages(clinic.ctx))
    assert kinds == ["birthday", "birthday", "marketing"]
    with pytest.raises(ValidationFailed, match="does not know"):
        marketing.queue_campaign(clinic.ctx, "bad", "Hi {nickname}")


def test_a_29_february_birthday_is_sent_on_28_february_in_other_years(
    clinic: Clinic, clock: FakeClock
) -> None:
    consent(clinic.ctx, clinic.pat)
    _born(clinic, clinic.pat, date(2000, 2, 29))
    set_preference(clinic.ctx, clinic.pat, marketing_consent=True)
    save_template(clinic.ctx, kind=MessageKind.BIRTHDAY, channel=MessageChannel.SMS,
                  body="Happy birthday {preferred_name}!")  # fmt: skip
    assert marketing.queue_birthdays(clinic.ctx, date(2027, 2, 27)).queued == 0
    assert marketing.queue_birthdays(clinic.ctx, date(2027, 2, 28)).queued == 1
    assert marketing.queue_birthdays(clinic.ctx, date(2028, 2, 28)).queued == 0  # leap year
    assert marketing.queue_birthdays(clinic.ctx, date(2028, 2, 29)).queued == 1
