"""Reading a patient CSV from another system (Cliniko's patient export or any spreadsheet):
decoding with a clear message, the column mapping guessed from the headers, and each row turned
into card fields or a reason it cannot be imported. Pure: no database."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from frontdesk.domain.errors import FrontdeskError, ValidationFailed
from frontdesk.domain.patient_rules import clean_value, label

ENCODINGS = {"utf-8-sig": "UTF-8", "cp1252": "Windows (Excel, cp1252)", "latin-1": "Latin-1"}

# Our field → header spellings (compared lower case, letters and digits only). The first
# spelling of each is what our own export writes.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "patient_number": ("patientnumber", "id", "patientid", "clientid", "chartnumber"),
    "title": ("title",),
    "first_name": ("firstname", "givenname", "givennames", "forename", "first"),
    "middle_name": ("middlename", "middlenames"),
    "last_name": ("lastname", "surname", "familyname", "last"),
    "preferred_name": ("preferredname", "preferredfirstname", "knownas", "nickname"),
    "pronouns": ("pronouns",),
    "date_of_birth": ("dateofbirth", "dob", "birthdate", "birthday"),
    "sex": ("sex", "gender", "genderidentity"),
    "mobile_phone": ("mobile", "mobilephone", "mobilenumber", "cellphone", "phone",
                     "phonenumber", "patientphonenumber"),
    "home_phone": ("homephone", "home"),
    "work_phone": ("workphone", "work", "businessphone"),
    "email": ("email", "emailaddress"),
    "address_line1": ("address1", "address", "addressline1", "street"),
    "address_line2": ("address2", "addressline2"),
    "suburb": ("city", "suburb", "town"),
    "state": ("state",),
    "postcode": ("postcode", "postalcode", "zip", "zipcode"),
    "country": ("country",),
    "emergency_contact_name": ("emergencycontact", "emergencycontactname"),
    "emergency_contact_phone": ("emergencycontactphone",),
    "referrer_name": ("referrername", "referrer", "referralsource", "referredby"),
    "gp_name": ("gp", "gpname", "doctor"),
    "medicare_number": ("medicare", "medicarenumber", "medicarecardnumber"),
    "medicare_irn": ("medicareirn", "medicarereferencenumber", "irn", "medicarereference"),
    "dva_number": ("dvanumber", "dvacardnumber", "dva"),
    "ndis_number": ("ndisnumber", "ndis"),
    "admin_notes": ("notes", "adminnotes", "appointmentnotes"),
    "sms_consent": ("smsconsent", "acceptedsmsmarketing"),
    "email_consent": ("emailconsent", "acceptedemailmarketing"),
}  # fmt: skip
IMPORTABLE = tuple(f for f in SYNONYMS if f != "patient_number")
EXPORT_HEADERS = {f: label(f) for f in SYNONYMS}
_TRUE = {"1", "true", "yes", "y", "t"}


class ImportCancelled(FrontdeskError):
    """The person pressed Cancel: nothing was imported."""


@dataclass
class CsvTable:
    name: str
    headers: list[str]
    rows: list[list[str]]
    lines: list[int]  # the file line each row starts on, for messages
    encoding: str = "utf-8-sig"


@dataclass
class RowResult:
    line: int
    fields: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def _check_quotes_closed(name: str, text: str, last_start: int) -> None:
    """A quote opened and never closed swallows every later line into one cell: refuse the
    file, naming the line where the quote opened (an odd number of quotes from there on)."""
    tail = text.split("\n")[last_start - 1 :]
    if len(tail) > 1 and "".join(tail).count('"') % 2 == 1:
        raise ValidationFailed(
            f'“{name}” has a quote (") opened on line {last_start} that is never closed, so '
            "every line after it would run together. Close or remove the quote and try again. "
            "Nothing was imported.",
            field="file",
        )


def read_table(name: str, data: bytes, encoding: str = "utf-8-sig") -> CsvTable:
    """Decode and split a CSV file. Raises ValidationFailed with a message for a person when
    the file is empty, not text in the chosen encoding, or has no header row."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"  # a BOM says so, whatever was chosen (Excel's "Unicode text")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationFailed(
            f"“{name}” is not {ENCODINGS.get(encoding, encoding)} text: line {line} has "
            "characters that cannot be read. If the file came from Excel, choose the "
            "Windows (Excel) encoding, or save it again as “CSV UTF-8”. Nothing was imported.",
            field="encoding",
        ) from exc
    if "\x00" in text[:4096]:
        raise ValidationFailed(
            f"“{name}” is not a CSV file (it looks like a spreadsheet or other binary file). "
            "Save it as CSV and try again.",
            field="file",
        )
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ValidationFailed(
            f"“{name}” has a NUL character on line {line}, which no record may hold. Remove "
            "it (or save the file again from the program that made it). Nothing was imported.",
            field="file",
        )
    if not text.strip():
        raise ValidationFailed(f"“{name}” is empty.", field="file")
    header_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(",;\t", key=header_line.count)  # the separator the header uses most
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter)
    headers: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for row in reader:
            if headers is None:
                headers = [h.strip() for h in row]
            elif any(cell.strip() for cell in row):
                rows.append(row)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ValidationFailed(
            f"“{name}” cannot be read as CSV near line {reader.line_num}: {exc}. "
            "Nothing was imported.",
            field="file",
        ) from exc
    _check_quotes_closed(name, text, lines[-1] if lines else 1)
    if not headers or not any(headers):
        raise ValidationFailed(f"“{name}” has no header row naming its columns.", field="file")
    return CsvTable(name, headers, rows, lines, encoding)


def guess_mapping(headers: list[str]) -> dict[str, int]:
    """Our field → column index, from the header names (Cliniko's and common spellings)."""
    keys = [_key(h) for h in headers]
    mapping: dict[str, int] = {}
    taken: set[int] = set()
    for fld, spellings in SYNONYMS.items():
        for spelling in spellings:
            if spelling in keys and keys.index(spelling) not in taken:
                mapping[fld] = keys.index(spelling)
                taken.add(mapping[fld])
                break
    return mapping


def unmapped_columns(headers: list[str], mapping: dict[str, int]) -> list[str]:
    used = set(mapping.values())
    return [h for i, h in enumerate(headers) if i not in used and h]


def check_mapping(mapping: dict[str, int]) -> None:
    missing = [label(f) for f in ("first_name", "last_name") if f not in mapping]
    if missing:
        raise ValidationFailed(
            f"Choose which column holds {' and '.join(missing)}: every patient needs both.",
            field="mapping",
        )


def convert_row(
    row: list[str], line: int, headers: list[str], mapping: dict[str, int], today: date
) -> RowResult:
    """Card fields for one row, or the reason it cannot be imported."""
    if len(row) > len(headers) and any(cell.strip() for cell in row[len(headers) :]):
        return RowResult(
            line, problem=f"has {len(row)} values but the header names {len(headers)} columns"
        )
    out: dict[str, Any] = {}
    problems: list[str] = []
    for fld, index in mapping.items():
        if fld == "patient_number":
            continue
        raw = row[index].strip() if index < len(row) else ""
        if fld in ("sms_consent", "email_consent"):
            out[fld] = raw.lower() in _TRUE
            continue
        if not raw:
            continue
        try:
            out[fld] = clean_value(fld, raw, today)
        except ValidationFailed as exc:
            problems.append(exc.user_message.rstrip("."))
    for fld in ("first_name", "last_name"):
        if not out.get(fld):
            problems.insert(0, f"{label(fld)} is empty")
        elif len(out[fld]) > 100:
            problems.append(f"{label(fld)} is longer than 100 characters")
    if problems:
        return RowResult(line, problem="; ".join(problems))
    return RowResult(line, fields=out)


def convert_rows(
    table: CsvTable, mapping: dict[str, int], today: date
) -> Iterator[tuple[int, RowResult]]:
    for i, (row, line) in enumerate(zip(table.rows, table.lines, strict=True)):
        yield i, convert_row(row, line, table.headers, mapping, today)
