"""Messaging rules: templates, SMS segments, mobile numbers, quiet hours, schedule, consent."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.messaging import (
    MessageKind,
    QuietHours,
    Recipient,
    ReminderSchedule,
    ReplyMeaning,
    SmsEncoding,
    UnknownPlaceholder,
    check_segments,
    clinic_time,
    next_allowed,
    normalise_mobile,
    refusal,
    reminder_due,
    render,
    reply_meaning,
    sms_length,
    with_sender_and_opt_out,
)

SYD = ZoneInfo("Australia/Sydney")
PERTH = ZoneInfo("Australia/Perth")


def test_render_fills_placeholders_and_refuses_unknown_ones() -> None:
    text = render(
        "Hi {preferred_name}, see {practitioner} at {time}",
        {"preferred_name": "Jo", "practitioner": "Dr Lee", "time": "9:30am"},
    )
    assert text == "Hi Jo, see Dr Lee at 9:30am"
    with pytest.raises(UnknownPlaceholder) as err:
        render("Hi {first}, at {tiem}", {})
    assert "{first}, {tiem}" in err.value.user_message
    assert "{preferred_name}" in err.value.user_message
    with pytest.raises(ValidationFailed, match="unmatched"):
        render("Hi {preferred_name", {})
    with pytest.raises(ValidationFailed, match="plain names"):
        render("Hi {time:%H}", {})
    assert render("Braces {{like this}}", {}) == "Braces {like this}"


def test_time_is_shown_in_the_clinic_zone() -> None:
    at = datetime(2026, 12, 8, 22, 30, tzinfo=UTC)  # Wed 9:30am in Sydney (AEDT), 6:30am Perth
    assert clinic_time(at, SYD) == "9:30am"
    assert clinic_time(at, PERTH) == "6:30am"


def test_gsm7_and_ucs2_segments() -> None:
    assert sms_length("a" * 160) == sms_length("a" * 160)
    one = sms_length("a" * 160)
    assert (one.encoding, one.segments) == (SmsEncoding.GSM7, 1)
    assert sms_length("a" * 161).segments == 2
    assert sms_length("a" * 306).segments == 2
    assert sms_length("a" * 307).segments == 3
    # € is in the extension table: two septets
    assert sms_length("€" * 80).segments == 1
    assert sms_length("€" * 81).segments == 2
    curly = sms_length("See you at 9’o")
    assert curly.encoding is SmsEncoding.UCS2
    assert sms_length("’" * 70).segments == 1
    assert sms_length("’" * 71).segments == 2
    # an emoji is two UTF-16 units
    assert sms_length("😀" * 35).units == 70
    assert sms_length("").segments == 0


def test_segment_limit_names_the_characters_that_cost() -> None:
    with pytest.raises(ValidationFailed, match="’"):
        check_segments("’" * 150, 2)
    assert check_segments("plain", 1).segments == 1


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0412 345 678", "+61412345678"),
        ("+61 412 345 678", "+61412345678"),
        ("61412345678", "+61412345678"),
        ("(04) 1234-5678", "+61412345678"),
    ],
)
def test_mobile_numbers_are_normalised(raw: str, e164: str) -> None:
    assert normalise_mobile(raw) == e164


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("02 9876 5432", "landline"),
        ("", "no mobile"),
        ("hello", "not a"),
        ("0412 345", "not a valid"),
        ("+1 415 555 2671", "not an Australian"),
    ],
)
def test_bad_numbers_get_a_clear_message(raw: str, says: str) -> None:
    with pytest.raises(ValidationFailed, match=says):
        normalise_mobile(raw)


def test_quiet_hours_move_a_message_to_the_morning_in_clinic_time() -> None:
    quiet = QuietHours(time(20, 0), time(8, 0))
    # 21:00 Sydney on 7 Dec (10:00 UTC) -> 08:00 Sydney on 8 Dec (21:00 UTC on 7 Dec)
    late = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert next_allowed(late, SYD, quiet) == datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
    # 06:00 Sydney -> 08:00 the same day
    early = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)
    assert next_allowed(early, SYD, quiet) == datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
    noon = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    assert next_allowed(noon, SYD, quiet) == noon
    assert next_allowed(late, SYD, QuietHours(time(9), time(9))) == late


def test_reminder_schedule_in_clinic_time_and_skip_when_booked_late() -> None:
    sched = ReminderSchedule(days_before=2, at=time(10, 0))
    starts = datetime(2026, 12, 9, 23, 0, tzinfo=UTC)  # Thu 10 Dec 10:00 Sydney
    booked = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    # Tue 8 Dec 10:00 Sydney = 23:00 UTC on 7 Dec
    assert reminder_due(starts, booked, SYD, sched) == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    assert reminder_due(starts, starts - timedelta(hours=23), SYD, sched) is None
    # booked after the reminder time but more than a day ahead: goes at once
    late_booking = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
    assert reminder_due(starts, late_booking, SYD, sched) == late_booking


def test_consent_rules() -> None:
    ok = Recipient(
        channel_consent=True,
        opted_out=False,
        marketing_consent=False,
        archived=False,
        deceased=False,
    )
    assert refusal(MessageKind.REMINDER, ok) is None
    assert "marketing" in (refusal(MessageKind.MARKETING, ok) or "")
    assert "STOP" in (
        refusal(MessageKind.REMINDER, Recipient(True, True, True, False, False)) or ""
    )
    assert "deceased" in (
        refusal(MessageKind.REMINDER, Recipient(True, False, True, False, True)) or ""
    )
    assert "archived" in (
        refusal(MessageKind.REMINDER, Recipient(True, False, True, True, False)) or ""
    )
    assert "agreed" in (
        refusal(MessageKind.REMINDER, Recipient(False, False, True, False, False)) or ""
    )


def test_every_sms_names_the_sender_and_how_to_stop() -> None:
    body = with_sender_and_opt_out("See you Tue 9:30am", "Harbour Physio", sms=True)
    assert "Harbour Physio" in body
    assert body.endswith("Reply STOP to opt out")
    already = "Harbour Physio: see you. Reply STOP to opt out"
    assert with_sender_and_opt_out(already, "Harbour Physio", sms=True) == already
    assert "UNSUBSCRIBE" in with_sender_and_opt_out("Hi", "Harbour Physio", sms=False)


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("Y", ReplyMeaning.CONFIRM),
        (" yes ", ReplyMeaning.CONFIRM),
        ("c", ReplyMeaning.CANCEL),
        ("STOP", ReplyMeaning.STOP),
        ("Stop", ReplyMeaning.STOP),
        ("unsubscribe", ReplyMeaning.STOP),
        ("Can I come at 3?", ReplyMeaning.OTHER),
        ("start", ReplyMeaning.START),
    ],
)
def test_reply_meaning(text: str, meaning: ReplyMeaning) -> None:
    assert reply_meaning(text) is meaning
