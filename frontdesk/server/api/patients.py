"""Finding the caller: patients by phone number in any format (``phonenumbers``), by name and
date of birth, by email; creating a patient answers with the likely existing record instead of
making a duplicate. What a key sees of a patient depends on its scopes."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import Connection, func, insert, or_, select

from frontdesk.domain.ids import uuid7
from frontdesk.server import schema as s
from frontdesk.server import trust
from frontdesk.server.api.booking import iso
from frontdesk.server.api.phone_index import PHONES, TAIL, PhoneIndex
from frontdesk.server.api.problems import ApiProblem
from frontdesk.server.changelog import TABLES, full_row, log_change
from frontdesk.server.store import API_DEVICE, ServerStore

REGION = "AU"
MAX_MATCHES = 10


def normalise_phone(raw: str, region: str = REGION) -> str | None:
    """E.164 for a number in any format ("0412 345 678", "+61412345678"), None if it is not one."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _digits(column: Any) -> Any:
    """A phone column with spaces, dashes, dots, brackets and '+' taken out (in SQL)."""
    out = column
    for ch in (" ", "-", ".", "(", ")", "+"):
        out = func.replace(out, ch, "")
    return out


def patient_json(row: dict[str, Any], tz: ZoneInfo, *, full: bool) -> dict[str, Any]:
    """The fields a key may see: contact details and birth date only with patients:read."""
    out = {
        "id": row["id"],
        "patient_number": row["patient_number"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "updated_at": iso(row["updated_at"], tz),
    }
    if full:
        out |= {
            "preferred_name": row["preferred_name"],
            "date_of_birth": row["date_of_birth"].isoformat() if row["date_of_birth"] else None,
            "mobile_phone": row["mobile_phone"],
            "email": row["email"],
        }
    return out


def _live() -> list[Any]:
    p = TABLES["patients"].c
    return [p.deleted_at.is_(None), p.archived_at.is_(None), p.merged_into_id.is_(None)]


def by_phone(conn: Connection, raw: str, index: PhoneIndex | None = None) -> list[dict[str, Any]]:
    """The live patients with this number (any of their three), normalised; ``index`` (the
    server's ``PhoneIndex``) proposes the candidates, else every patient's numbers are read."""
    wanted = normalise_phone(raw)
    if wanted is None:
        raise ApiProblem(
            422,
            f"{raw[:40]!r} is not a phone number (try the format the caller ID shows).",
            "bad_phone",
        )
    t = TABLES["patients"]
    ids = index.candidates(conn, wanted) if index is not None else None
    if ids is not None:
        where: Any = t.c.id.in_(ids[:200])
    else:
        last = wanted[-TAIL:]
        where = or_(*(_digits(t.c[col]).like(f"%{last}") for col in PHONES))
    rows = conn.execute(select(t).where(*_live(), where).limit(200)).mappings()
    return [
        dict(r) for r in rows if any(r[col] and normalise_phone(r[col]) == wanted for col in PHONES)
    ][:MAX_MATCHES]


def by_name(conn: Connection, first: str, last: str, born: date) -> list[dict[str, Any]]:
    t = TABLES["patients"]
    rows = conn.execute(
        select(t).where(
            *_live(),
            t.c.date_of_birth == born,
            func.lower(t.c.last_name) == last.strip().lower(),
        )
    ).mappings()
    first_l = first.strip().lower()
    return [
        dict(r)
        for r in rows
        if first_l in (r["first_name"].lower(), (r["preferred_name"] or "").lower())
    ][:MAX_MATCHES]


def by_email(conn: Connection, email: str) -> list[dict[str, Any]]:
    t = TABLES["patients"]
    rows = conn.execute(
        select(t).where(*_live(), func.lower(t.c.email) == email.strip().lower()).limit(MAX_MATCHES)
    ).mappings()
    return [dict(r) for r in rows]


def likely_existing(conn: Connection, body: dict[str, Any]) -> dict[str, Any] | None:
    """The record a new patient most likely already is: same name and birth date, or same
    name and phone, or same name and email."""

    def same_name(r: dict[str, Any]) -> bool:
        return bool(
            r["last_name"].lower() == body["last_name"].strip().lower()
            and body["first_name"].strip().lower()
            in (r["first_name"].lower(), (r["preferred_name"] or "").lower())
        )

    if body.get("date_of_birth"):
        found = by_name(conn, body["first_name"], body["last_name"], body["date_of_birth"])
        if found:
            return found[0]
    if body.get("mobile_phone") and normalise_phone(body["mobile_phone"]):
        found = [r for r in by_phone(conn, body["mobile_phone"]) if same_name(r)]
        if found:
            return found[0]
    if body.get("email"):
        found = [r for r in by_email(conn, body["email"]) if same_name(r)]
        if found:
            return found[0]
    return None


def create(
    store: ServerStore, conn: Connection, key_name: str, body: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """(the patient, made now) — an existing likely match is answered instead of a new one."""
    existing = likely_existing(conn, body)
    if existing is not None:
        return existing, False
    now = store.now()
    seq = (
        int(
            conn.execute(
                select(s.server_info.c.value).where(s.server_info.c.key == "api_patient_seq")
            ).scalar()
            or 0
        )
        + 1
    )
    store.put_info(conn, "api_patient_seq", str(seq))
    table = TABLES["patients"]
    phone = body.get("mobile_phone") or ""
    values = full_row(
        table,
        {
            "id": uuid7(),
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "deleted_at": None,
            "patient_number": f"APIP-{seq:06d}",
            "first_name": body["first_name"].strip(),
            "last_name": body["last_name"].strip(),
            "date_of_birth": body.get("date_of_birth"),
            "mobile_phone": phone.strip(),
            "email": (body.get("email") or "").strip(),
        },
    )
    values = {k: v for k, v in values.items() if k in table.c}
    conn.execute(insert(table).values(**values))
    log_change(store, conn, "patients", values["id"], "insert", 1, values, API_DEVICE, None)
    trust.record_server_event(
        store,
        conn,
        action="created a patient",
        entity="patients",
        entity_id=values["id"],
        patient_id=values["id"],
        summary=f"Created through the integration API, key {key_name!r}",
        staff_name=f"API: {key_name}",
    )
    return values, True
