"""A tiny clinic for diary tests: two practitioners rostered 8:00–17:00 with lunch, a room, a
type, two patients. Imported by the service and UI diary tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from frontdesk.domain.diary import local_instant
from frontdesk.models import (
    AppointmentType,
    Location,
    Patient,
    Practitioner,
    Room,
    RosterEntry,
)
from frontdesk.store.context import ServiceContext

MONDAY = date(2026, 11, 30)  # the Monday after the fixture clock's Friday 27 Nov 2026


@dataclass
class Clinic:
    ctx: ServiceContext
    anna: str
    ben: str
    room: str
    standard: str
    group: str
    pat: str
    other: str

    def at(self, day: date, hh: int, mm: int = 0) -> datetime:
        return local_instant(day, hh * 60 + mm, self.ctx.tz)


def make_clinic(ctx: ServiceContext, *, policy: str = "warn") -> Clinic:
    with ctx.write("test clinic") as s:
        loc = Location(name="Main")
        s.add(loc)
        s.flush()
        room = Room(location_id=loc.id, name="Room 1", overlap_policy="block")
        anna = Practitioner(first_name="Anna", last_name="Allen", display_name="Anna Allen",
                            profession="Physiotherapist", overlap_policy=policy,
                            default_location_id=loc.id, sort_order=0)  # fmt: skip
        ben = Practitioner(first_name="Ben", last_name="Brown", display_name="Ben Brown",
                           profession="Podiatrist", overlap_policy=policy,
                           default_location_id=loc.id, sort_order=1)  # fmt: skip
        standard = AppointmentType(name="Physio standard", duration_minutes=30, colour="#60a5fa")
        group = AppointmentType(name="Pilates class", duration_minutes=60, colour="#0ea5e9",
                                is_group=True, capacity=2)  # fmt: skip
        pat = Patient(patient_number="P1", first_name="Pat", last_name="Patient",
                      mobile_phone="0400 000 001")  # fmt: skip
        other = Patient(patient_number="P2", first_name="Olive", last_name="Other")
        s.add_all([room, anna, ben, standard, group, pat, other])
        s.flush()
        for prac in (anna, ben):
            for wd in range(6):
                s.add(RosterEntry(practitioner_id=prac.id, weekday=wd, start_minute=8 * 60,
                                  end_minute=17 * 60, effective_from=date(2026, 1, 5)))  # fmt: skip
                s.add(RosterEntry(practitioner_id=prac.id, weekday=wd, kind="break",
                                  start_minute=12 * 60 + 30, end_minute=13 * 60, label="Lunch",
                                  effective_from=date(2026, 1, 5)))  # fmt: skip
        return Clinic(ctx, anna.id, ben.id, room.id, standard.id, group.id, pat.id, other.id)
