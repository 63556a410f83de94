"""Validation of what is typed on a patient card: names, phones (Australian and international,
through the phonenumbers library), email, date of birth, Medicare, IRN. Pure functions that
return the cleaned value or raise ValidationFailed naming the field."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from frontdesk.domain.errors import FieldProblems, ValidationFailed
from frontdesk.domain.identifiers import is_valid_ndis, medicare_problem
from frontdesk.domain.patient_text import parse_date

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
PHONE_FIELDS = ("mobile_phone", "home_phone", "work_phone", "emergency_contact_phone")
TEXT_LIMITS = {
    "title": 20, "first_name": 100, "middle_name": 100, "last_name": 100, "preferred_name": 100,
    "pronouns": 30, "sex": 20, "email": 200, "address_line1": 200, "address_line2": 200,
    "suburb": 100, "state": 40, "postcode": 12, "country": 60, "emergency_contact_name": 200,
    "emergency_contact_relationship": 60, "referrer_name": 200, "referrer_provider_number": 40,
    "gp_name": 200, "gp_practice": 200, "dva_number": 20, "dva_card_colour": 10,
    "ndis_number": 20, "medicare_expiry": 7,
}  # fmt: skip
LABELS = {
    "first_name": "First name", "last_name": "Last name", "date_of_birth": "Date of birth",
    "mobile_phone": "Mobile", "home_phone": "Home phone", "work_phone": "Work phone",
    "emergency_contact_phone": "Emergency contact phone", "email": "Email",
    "medicare_number": "Medicare number", "medicare_irn": "Medicare IRN",
    "ndis_number": "NDIS number", "referral_date": "Referral date", "gp_name": "GP name",
    "gp_practice": "GP practice", "dva_number": "DVA number", "sms_consent": "SMS consent",
    "address_line1": "Address line 1", "address_line2": "Address line 2",
    "dva_card_colour": "DVA card colour",
}  # fmt: skip


def label(field: str) -> str:
    return LABELS.get(field, field.replace("_", " ").capitalize())


def clean_phone(value: str, field: str = "mobile_phone", region: str = "AU") -> str:
    """The number written the clinic's way: national format for Australian numbers
    (0412 345 678, (02) 9550 1234), international format otherwise (+44 20 7946 0958)."""
    value = value.strip()
    if not value:
        return ""
    if region == "AU":
        quick = _australian_shape(value)
        if quick:
            return quick
    import phonenumbers  # not on the start-up path: only a number not of the quick shape

    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_valid_number(parsed):
        if phonenumbers.region_code_for_number(parsed) == region:
            fmt = phonenumbers.PhoneNumberFormat.NATIONAL
        else:
            fmt = phonenumbers.PhoneNumberFormat.INTERNATIONAL
        return str(phonenumbers.format_number(parsed, fmt))
    # The library's list of allocated ranges ages: an Australian number of the right shape
    # (9 digits after the 0, a mobile or an area code) is accepted even if it is not listed.
    nsn = str(parsed.national_number) if parsed is not None else ""
    if parsed is not None and parsed.country_code == 61 and len(nsn) == 9 and nsn[0] in "234578":
        if nsn[0] == "4":
            return f"0{nsn[:3]} {nsn[3:6]} {nsn[6:]}"
        return f"(0{nsn[0]}) {nsn[1:5]} {nsn[5:]}"
    raise ValidationFailed(
        f"{label(field)}: “{value}” is not a phone number we recognise. "
        "Type an Australian number with its area code (0412 345 678, 02 9550 1234) "
        "or start with + and the country code.",
        field=field,
    )


_AU_SHAPE = re.compile(r"^(?:\+?61|0)([2378]\d{8}|4\d{8})$")


def _australian_shape(value: str) -> str | None:
    """The common case without the phonenumbers library (a hundred times faster, which an
    import of 100,000 rows needs): an Australian mobile or landline with its area code."""
    compact = value.replace(" ", "").replace("(", "").replace(")", "").replace("-", "")
    m = _AU_SHAPE.match(compact)
    if m is None:
        return None
    nsn = m[1]
    if nsn[0] == "4":
        return f"0{nsn[:3]} {nsn[3:6]} {nsn[6:]}"
    return f"(0{nsn[0]}) {nsn[1:5]} {nsn[5:]}"


def clean_email(value: str) -> str:
    value = value.strip()
    if value and not EMAIL.match(value):
        raise ValidationFailed(
            f"Email: “{value}” is not an email address (it needs a name, @ and a domain).",
            field="email",
        )
    return value


def clean_dob(value: date | str | None, today: date, field: str = "date_of_birth") -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parsed = parse_date(value, today)
        if parsed is None:
            raise ValidationFailed(
                f"{label(field)}: “{value}” is not a date. "
                "Type it as day/month/year, e.g. 3/7/1985.",
                field=field,
            )
        value = parsed
    if field == "date_of_birth":
        if value > today:
            raise ValidationFailed("Date of birth cannot be in the future.", field=field)
        if value.year < 1900:
            raise ValidationFailed(
                "Date of birth is before 1900: please check the year.", field=field
            )
    return value


SEX_CHOICES = ("Female", "Male", "Another term", "Not stated")
_SEX_WORDS = {
    "f": "Female", "female": "Female", "woman": "Female", "m": "Male", "male": "Male",
    "man": "Male", "x": "Another term", "another term": "Another term", "other": "Another term",
    "intersex": "Another term", "non-binary": "Another term", "nonbinary": "Another term",
    "u": "Not stated", "unknown": "Not stated", "not stated": "Not stated",
    "prefer not to say": "Not stated",
}  # fmt: skip


def clean_sex(value: str) -> str:
    """One of ``SEX_CHOICES`` (or empty); common spellings from imports are understood."""
    if not value:
        return ""
    found = _SEX_WORDS.get(value.casefold())
    if found is None:
        raise ValidationFailed(
            f"Sex: choose {', '.join(SEX_CHOICES[:-1])} or {SEX_CHOICES[-1]}.", field="sex"
        )
    return found


def clean_value(key: str, value: Any, today: date) -> Any:
    """One field, validated and normalised."""
    if isinstance(value, str):
        value = value.strip()
    if key == "sex":
        return clean_sex(value or "")
    if key in PHONE_FIELDS:
        return clean_phone(value or "", key)
    if key == "email":
        return clean_email(value or "")
    if key in ("date_of_birth", "referral_date"):
        return clean_dob(value, today, key)
    if key == "medicare_number":
        value = "".join(ch for ch in (value or "") if not ch.isspace())
        problem = medicare_problem(value) if value else None
        if problem:
            raise ValidationFailed(f"Medicare number: {problem}", field=key)
        return "".join(ch for ch in value if ch.isdigit())[:10]
    if key == "medicare_irn":
        value = value or ""
        if value and not (value.isdigit() and 1 <= int(value) <= 9):
            raise ValidationFailed("Medicare IRN is one digit from 1 to 9.", field=key)
    elif key == "ndis_number" and value and not is_valid_ndis(value):
        raise ValidationFailed(
            "NDIS number: an NDIS number has 9 digits and starts with 43.", field=key
        )
    limit = TEXT_LIMITS.get(key)
    if limit is not None and isinstance(value, str) and len(value) > limit:
        raise ValidationFailed(f"{label(key)} is longer than {limit} characters.", field=key)
    return value


def clean_fields(fields: dict[str, Any], today: date, *, creating: bool) -> dict[str, Any]:
    """Validate and normalise the patient fields given. Every bad field is found at once:
    raises ``FieldProblems`` naming each, in the order given."""
    out: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for key, value in fields.items():
        try:
            out[key] = clean_value(key, value, today)
        except ValidationFailed as exc:
            problems[exc.field or key] = exc.user_message
    for key in ("first_name", "last_name"):
        if key in problems:
            continue
        if (creating or key in fields) and not (out.get(key) or "").strip():
            problems[key] = f"{label(key)} is needed."
        elif len(out.get(key) or "") > 100:
            problems[key] = f"{label(key)} is limited to 100 characters."
    if problems:
        order = [k for k in fields if k in problems] + [k for k in problems if k not in fields]
        raise FieldProblems({k: problems[k] for k in order})
    return out
