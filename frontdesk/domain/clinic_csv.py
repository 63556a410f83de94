"""Reading practitioners, appointment types and future appointments from another system's CSV
export (Cliniko's data export, whose columns are named as in its API, or any spreadsheet with a
mapping chosen by hand). Each row becomes plain fields or a reason it cannot be imported; the
file is read as the patient import reads it (``patient_csv.read_table``). Pure: no database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from frontdesk.domain.clinic_setup import HEX_COLOUR, check_length
from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.patient_csv import CsvTable, RowResult


class ClinicImport(StrEnum):
    PRACTITIONERS = "practitioners"
    TYPES = "types"
    APPOINTMENTS = "appointments"

    @property
    def label(self) -> str:
        return {"practitioners": "Practitioners", "types": "Appointment types",
                "appointments": "Future appointments"}[self.value]  # fmt: skip


# Our field → header spellings (lower case, letters and digits only). Cliniko's data export
# names its columns as its API does (first_name, designation, duration_in_minutes, color,
# max_attendees, show_in_online_bookings, appointment_start, patient_name …); the rest are
# the spellings spreadsheets use.
SYNONYMS: dict[ClinicImport, dict[str, tuple[str, ...]]] = {
    ClinicImport.PRACTITIONERS: {
        "title": ("title",),
        "first_name": ("firstname", "givenname", "first"),
        "last_name": ("lastname", "surname", "familyname", "last"),
        "profession": ("designation", "profession", "discipline", "occupation", "role"),
        "email": ("email", "emailaddress"),
        "phone": ("phone", "mobile", "phonenumber"),
        "registration_number": ("registrationnumber", "ahpranumber", "ahpra", "registration"),
        "provider_number": ("providernumber", "medicareprovidernumber", "provider"),
        "colour": ("colour", "color"),
    },
    ClinicImport.TYPES: {
        "name": ("name", "appointmenttype", "type", "appointmenttypename"),
        "duration": ("durationinminutes", "duration", "length", "minutes", "durationminutes"),
        "colour": ("color", "colour"),
        "profession": ("category", "profession", "designation"),
        "capacity": ("maxattendees", "capacity", "maxpatients"),
        "online_bookable": ("showinonlinebookings", "onlinebookable", "bookonline"),
        "price": ("price", "fee", "amount", "defaultprice"),
    },
    ClinicImport.APPOINTMENTS: {
        "starts": ("appointmentstart", "startsat", "start", "starttime", "startdatetime",
                   "datetime", "when"),
        "date": ("date", "appointmentdate"),
        "ends": ("appointmentend", "endsat", "end", "endtime", "enddatetime"),
        "duration": ("durationinminutes", "duration", "length", "minutes"),
        "practitioner": ("practitionername", "practitioner", "provider", "clinician"),
        "type": ("appointmenttypename", "appointmenttype", "type", "service"),
        "patient": ("patientname", "patient", "client", "clientname"),
        "patient_number": ("patientnumber", "chartnumber"),
        "date_of_birth": ("patientdateofbirth", "dateofbirth", "dob"),
        "notes": ("notes", "appointmentnotes"),
        "cancelled": ("cancelledat", "cancelled"),
    },
}  # fmt: skip
REQUIRED: dict[ClinicImport, tuple[tuple[str, ...], ...]] = {
    # each inner tuple: at least one of these columns
    ClinicImport.PRACTITIONERS: (("first_name",), ("last_name",)),
    ClinicImport.TYPES: (("name",), ("duration",)),
    ClinicImport.APPOINTMENTS: (
        ("starts",),
        ("ends", "duration"),
        ("practitioner",),
        ("patient", "patient_number"),
    ),
}
LABELS = {
    "first_name": "First name", "last_name": "Last name", "title": "Title",
    "profession": "Profession", "email": "Email", "phone": "Phone",
    "registration_number": "Registration number", "provider_number": "Medicare provider number",
    "colour": "Colour", "name": "Name", "duration": "Length (minutes)",
    "capacity": "Class size", "online_bookable": "Bookable online", "price": "Price",
    "starts": "Start (date and time)", "date": "Date (when start is a time)",
    "ends": "End", "practitioner": "Practitioner", "type": "Appointment type",
    "patient": "Patient name", "patient_number": "Patient number",
    "date_of_birth": "Patient's date of birth", "notes": "Notes", "cancelled": "Cancelled",
}  # fmt: skip
_TRUE = {"1", "true", "yes", "y", "t"}
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y")
_TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p", "%I %p")


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def fields_of(kind: ClinicImport) -> tuple[str, ...]:
    return tuple(SYNONYMS[kind])


def guess_mapping(kind: ClinicImport, headers: list[str]) -> dict[str, int]:
    keys = [_key(h) for h in headers]
    mapping: dict[str, int] = {}
    taken: set[int] = set()
    for fld, spellings in SYNONYMS[kind].items():
        for spelling in spellings:
            if spelling in keys and keys.index(spelling) not in taken:
                mapping[fld] = keys.index(spelling)
                taken.add(mapping[fld])
                break
    return mapping


def check_mapping(kind: ClinicImport, mapping: dict[str, int]) -> None:
    missing = [
        " or ".join(LABELS[f] for f in need)
        for need in REQUIRED[kind]
        if not any(f in mapping for f in need)
    ]
    if missing:
        raise ValidationFailed(
            f"Choose which column holds {' and '.join(missing)}: every row needs it.",
            field="mapping",
        )


# -- values -----------------------------------------------------------------------------------
def parse_minutes(text: str) -> int:
    """``30``, ``30 min``, ``0:30`` or ``1h 15m`` as minutes."""
    raw = text.strip().lower()
    if m := re.fullmatch(r"(\d{1,2}):(\d{2})(?::00)?", raw):
        return int(m.group(1)) * 60 + int(m.group(2))
    hours_minutes = r"(?:(\d+)\s*h(?:ours?|rs?)?)?\s*(?:(\d+)\s*m(?:in(?:ute)?s?)?)?"
    if (m := re.fullmatch(hours_minutes, raw)) and (m.group(1) or m.group(2)):
        return int(m.group(1) or 0) * 60 + int(m.group(2) or 0)
    if m := re.fullmatch(r"(\d+)(?:\.0+)?", raw):
        return int(m.group(1))
    raise ValidationFailed(f"“{text.strip()}” is not a length in minutes", field="duration")


def parse_cents(text: str) -> int:
    raw = text.strip().replace("$", "").replace(",", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationFailed(f"“{text.strip()}” is not a price", field="price") from None
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValidationFailed(f"“{text.strip()}” is not a price in dollars and cents",
                               field="price")  # fmt: skip
    return int(value * 100)


def _parse_date(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _parse_time(text: str) -> time | None:
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text.upper(), fmt).time()
        except ValueError:
            continue
    return None


def parse_instant(text: str, tz: ZoneInfo, day: str = "") -> datetime:
    """A start or end as an aware UTC instant. ISO 8601 with an offset or ``Z`` (Cliniko) is
    taken as it says; a local date and time (``2026-12-01 09:00``, ``01/12/2026 9:00 am``) or a
    time with ``day`` given separately is in the clinic's zone."""
    raw = text.strip()
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None:
        when = _parse_time(raw)
        on = _parse_date(day.strip()) if day.strip() else None
        if when is not None and on is not None:
            parsed = datetime.combine(on, when)
        else:
            parts = raw.split(None, 1)
            on = _parse_date(parts[0]) if parts else None
            when = _parse_time(parts[1]) if len(parts) == 2 else None
            if on is None or when is None:
                raise ValidationFailed(
                    f"“{raw}” is not a date and time (such as 2026-12-01 09:00)", field="starts"
                )
            parsed = datetime.combine(on, when)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(ZoneInfo("UTC"))


def _cell(row: list[str], mapping: dict[str, int], fld: str) -> str:
    index = mapping.get(fld)
    return row[index].strip() if index is not None and index < len(row) else ""


# -- rows -------------------------------------------------------------------------------------
def convert_row(
    kind: ClinicImport, row: list[str], line: int, headers: list[str], mapping: dict[str, int],
    tz: ZoneInfo,
) -> RowResult:  # fmt: skip
    if len(row) > len(headers) and any(cell.strip() for cell in row[len(headers) :]):
        return RowResult(
            line, problem=f"has {len(row)} values but the header names {len(headers)} columns"
        )
    cell: dict[str, str] = {f: _cell(row, mapping, f) for f in mapping}
    out: dict[str, Any] = {}
    problems: list[str] = []
    for need in REQUIRED[kind]:
        if not any(cell.get(f) for f in need):
            problems.append(f"{' or '.join(LABELS[f] for f in need)} is empty")
    try:
        if kind is ClinicImport.PRACTITIONERS:
            out = {f: cell.get(f, "") for f in SYNONYMS[kind]}
        elif kind is ClinicImport.TYPES:
            out = _type_fields(cell)
        else:
            out = _appointment_fields(cell, tz)
    except ValidationFailed as exc:
        problems.append(exc.user_message.rstrip("."))
    colour = cell.get("colour", "")
    if colour and not HEX_COLOUR.match(colour if colour.startswith("#") else f"#{colour}"):
        problems.append(f"“{colour}” is not a colour such as #4f86c6")
    elif colour:
        out["colour"] = (colour if colour.startswith("#") else f"#{colour}").lower()
    if problems:
        return RowResult(line, problem="; ".join(dict.fromkeys(problems)))
    return RowResult(line, fields=out)


def _type_fields(cell: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": cell.get("name", ""), "profession": cell.get("profession", "")}
    if cell.get("duration"):
        out["duration"] = check_length(parse_minutes(cell["duration"]))
    capacity = cell.get("capacity") or "1"
    if not capacity.isdigit():
        raise ValidationFailed(f"“{capacity}” is not a number of patients", field="capacity")
    out["capacity"] = int(capacity)
    out["online_bookable"] = cell.get("online_bookable", "").lower() in _TRUE
    out["price_cents"] = parse_cents(cell["price"]) if cell.get("price") else None
    return out


def _appointment_fields(cell: dict[str, str], tz: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "practitioner": cell.get("practitioner", ""), "type": cell.get("type", ""),
        "patient": " ".join(cell.get("patient", "").split()),
        "patient_number": cell.get("patient_number", ""), "notes": cell.get("notes", ""),
        "cancelled": bool(cell.get("cancelled")) and cell["cancelled"].lower() not in
        {"0", "false", "no", "n", "f"},
        "date_of_birth": _parse_date(cell["date_of_birth"]) if cell.get("date_of_birth")
        else None,
    }  # fmt: skip
    if not cell.get("starts"):
        return out
    out["starts_at"] = parse_instant(cell["starts"], tz, cell.get("date", ""))
    if cell.get("ends"):
        out["ends_at"] = parse_instant(cell["ends"], tz, cell.get("date", ""))
    elif cell.get("duration"):
        out["ends_at"] = out["starts_at"] + timedelta(minutes=parse_minutes(cell["duration"]))
    if "ends_at" in out and out["ends_at"] <= out["starts_at"]:
        raise ValidationFailed("the end is not after the start", field="ends")
    return out


def convert_rows(
    kind: ClinicImport, table: CsvTable, mapping: dict[str, int], tz: ZoneInfo
) -> list[RowResult]:
    return [
        convert_row(kind, row, line, table.headers, mapping, tz)
        for row, line in zip(table.rows, table.lines, strict=True)
    ]


@dataclass(frozen=True)
class NameKey:
    """A person's name folded for matching rows to records (case, spacing and accents)."""

    text: str

    @staticmethod
    def of(name: str) -> NameKey:
        import unicodedata

        folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        return NameKey(" ".join(folded.casefold().replace(".", " ").split()))
