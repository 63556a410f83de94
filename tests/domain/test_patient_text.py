"""Reading names, dates and phone numbers as reception types them; card validation rules."""

from __future__ import annotations

from datetime import date

import pytest

from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.identifiers import medicare_check_digit, medicare_problem
from frontdesk.domain.patient_rules import clean_dob, clean_email, clean_fields, clean_phone
from frontdesk.domain.patient_text import build_query, fold, parse_date, phone_variants, tokens

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("3/7/85", date(1985, 7, 3)),
        ("03-07-1985", date(1985, 7, 3)),
        ("3.7.1985", date(1985, 7, 3)),
        ("1985-07-03", date(1985, 7, 3)),
        ("1/1/12", date(2012, 1, 1)),
        ("1/1/27", date(1927, 1, 1)),
        ("31/2/1990", None),
        ("3/7", None),
        ("smith", None),
    ],
)
def test_dates_as_people_type_them(typed: str, expected: date | None) -> None:
    assert parse_date(typed, TODAY) == expected


def test_folding_and_tokens() -> None:
    assert fold("Nguyễn Thị Đặng") == "nguyen thi dang"
    assert fold("Siobhán Ó Briain") == "siobhan o briain"
    assert tokens("O'Brien") == ["obrien"]
    assert tokens("Smith-Jones") == ["smithjones"]
    assert tokens("王小明") == ["王小明"]
    assert tokens("  ") == []


def test_phone_variants() -> None:
    assert phone_variants("+61 412 345 678") == ["61412345678", "0412345678"]
    assert phone_variants("(02) 9550-1234") == ["0295501234", "295501234"]


def test_queries() -> None:
    q = build_query("3/7/85", TODAY)
    assert q is not None and q.match == 'dob : "19850703"'
    q = build_query("0412 345", TODAY)
    assert q is not None and "phones" in q.match and '"0412345"*' in q.match
    q = build_query("MacDonald", TODAY)
    assert q is not None and '"mcdonald"*' in q.match and q.words == ("macdonald",)
    assert build_query("   ", TODAY) is None
    assert build_query("'-", TODAY) is None


def test_phone_rules() -> None:
    assert clean_phone("0412345678") == "0412 345 678"
    assert clean_phone("+61 2 9550 1234") == "(02) 9550 1234"
    assert clean_phone("+44 20 7946 0958") == "+44 20 7946 0958"
    assert clean_phone("") == ""
    with pytest.raises(ValidationFailed) as err:
        clean_phone("12345", "home_phone")
    assert err.value.field == "home_phone" and "Home phone" in err.value.user_message


def test_email_dob_medicare_rules() -> None:
    assert clean_email(" a.b@example.com ") == "a.b@example.com"
    with pytest.raises(ValidationFailed):
        clean_email("a.b@example")
    with pytest.raises(ValidationFailed, match="future"):
        clean_dob(date(2027, 1, 1), TODAY)
    assert clean_dob("3/7/85", TODAY) == date(1985, 7, 3)
    good = "2123456" + "0"
    number = f"{good}{medicare_check_digit(good)}1"
    assert medicare_problem(number) is None
    bad = number[:8] + str((int(number[8]) + 1) % 10) + number[9]
    assert "check digit" in (medicare_problem(bad) or "")
    assert "10 digits" in (medicare_problem("123") or "")


def test_clean_fields_needs_names() -> None:
    with pytest.raises(ValidationFailed) as err:
        clean_fields({"first_name": "Ann", "last_name": " "}, TODAY, creating=True)
    assert err.value.field == "last_name"
    out = clean_fields({"mobile_phone": "+61412345678"}, TODAY, creating=False)
    assert out == {"mobile_phone": "0412 345 678"}


def test_unlisted_australian_ranges_are_accepted() -> None:
    # The phonenumbers metadata does not list every allocated range; the shape is enough.
    assert clean_phone("0441 183 688") == "0441 183 688"
    assert clean_phone("+61441183688") == "0441 183 688"
    with pytest.raises(ValidationFailed, match="area code"):
        clean_phone("9550 1234")


def test_dates_and_phones_being_typed_do_not_match_everyone() -> None:
    assert build_query("4/", TODAY) is None and build_query("19/1/", TODAY) is None
    assert build_query("3/7/8", TODAY) is None
    q = build_query("04", TODAY)
    assert q is not None and q.match == 'ids : "04"'
    q = build_query("0412", TODAY)
    assert q is not None and q.match.startswith("{phones ids}")
