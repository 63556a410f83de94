"""A small clinic for the integration API's tests, made on a desk and synced to the server the
normal way: one location, two physiotherapists rostered Monday to Friday 09:00–17:00 with a
lunch break 12:00–13:00 (Sydney), a 30-minute online-bookable type, and a patient."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from frontdesk.domain.vocab import SeriesKind
from frontdesk.models import (
    AppointmentType,
    Location,
    Patient,
    Practitioner,
    RosterEntry,
)
from frontdesk.server.api.keys import create_key, parse_scopes
from frontdesk.server.store import ServerStore
from frontdesk.store.numbering import next_number
from tests.sync.clinic import Clinic, Desk

ALL_SCOPES = ("availability:read", "appointments:write", "patients:read", "patients:write")
API = "/api/v1"


@dataclass
class World:
    desk: Desk
    location_id: str
    practitioners: list[str]
    type_id: str
    patient_id: str


def build(clinic: Clinic) -> World:
    desk = clinic.add_desk("front")
    with desk.ctx.write("set up the clinic") as s:
        loc = Location(name="Main street")
        s.add(loc)
        s.flush()
        pracs = []
        for first in ("Alex", "Bea"):
            p = Practitioner(
                first_name=first,
                last_name="Ng",
                display_name=f"{first} Ng",
                profession="Physiotherapist",
                default_location_id=loc.id,
            )
            s.add(p)
            s.flush()
            pracs.append(p.id)
            for weekday in range(5):
                s.add(
                    RosterEntry(
                        practitioner_id=p.id,
                        weekday=weekday,
                        start_minute=540,
                        end_minute=1020,
                        effective_from=date(2026, 1, 5),
                    )
                )
                s.add(
                    RosterEntry(
                        practitioner_id=p.id,
                        weekday=weekday,
                        start_minute=720,
                        end_minute=780,
                        kind="break",
                        label="lunch",
                        effective_from=date(2026, 1, 5),
                    )
                )
        t = AppointmentType(
            name="Standard consult",
            duration_minutes=30,
            profession="Physiotherapist",
            online_bookable=True,
        )
        s.add(t)
        _sid, number = next_number(s, SeriesKind.PATIENT)
        pat = Patient(
            patient_number=number,
            first_name="Sam",
            last_name="Lee",
            date_of_birth=date(1980, 5, 17),
            mobile_phone="0412 345 678",
            email="sam@example.com",
        )
        s.add(pat)
        s.flush()
        world = World(desk, loc.id, pracs, t.id, pat.id)
    assert desk.sync()
    return world


def key(store: ServerStore, *scopes: str, name: str = "test", **kw: Any) -> str:
    _k, token = create_key(store, name, parse_scopes(list(scopes or ALL_SCOPES)), **kw)
    return token


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)
