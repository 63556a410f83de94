"""A new clinic with its owner signed in, a location with two rooms, and a physiotherapist
rostered Monday to Friday; helpers to book a patient."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from frontdesk.domain.clinic_setup import RosterBlock
from frontdesk.services import diary, patients
from frontdesk.services.setup import locations, practitioners, rosters
from frontdesk.store.context import ServiceContext

SYDNEY = ZoneInfo("Australia/Sydney")
# the clock fixture is Friday 27 Nov 2026, 09:00 in Sydney; the next week starts on 30 Nov
NEXT_MONDAY = date(2026, 11, 30)


@dataclass
class Clinic:
    ctx: ServiceContext
    north: str
    room1: str
    gym: str
    physio: str

    def book(self, day: date, hh: int, mm: int = 0, minutes: int = 30, **kw: str) -> str:
        patient = patients.create_patient(self.ctx, {"first_name": "Ana", "last_name": "Silva"})
        start = datetime.combine(day, time(hh, mm), SYDNEY)
        req = diary.BookingRequest(
            practitioner_id=kw.get("practitioner_id", self.physio),
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            patient_id=patient.patient_id,
            room_id=kw.get("room_id"),
            location_id=kw.get("location_id", self.north),
        )
        return diary.book(self.ctx, req)


def weekdays(start: int = 9 * 60, end: int = 17 * 60) -> tuple[RosterBlock, ...]:
    return tuple(RosterBlock(d, start, end) for d in range(5))


@pytest.fixture
def clinic(owner: ServiceContext) -> Clinic:
    north = locations.add_location(owner, locations.LocationEntry("North", "1 Main St"))
    room1 = locations.add_room(owner, locations.RoomEntry("Room 1", north))
    gym = locations.add_room(owner, locations.RoomEntry("Gym", north, suits="classes, rehab"))
    physio = practitioners.add_practitioner(
        owner,
        practitioners.PractitionerEntry(
            "Priya", "Shah", "Physiotherapy", default_location_id=north, default_room_id=room1
        ),
    )
    rosters.save_roster(owner, physio, rosters.RosterPlan(1, NEXT_MONDAY, weekdays()))
    return Clinic(owner, north, room1, gym, physio)
