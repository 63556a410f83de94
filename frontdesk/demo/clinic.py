"""The demo clinic's set-up, done through the same services a practice manager's set-up uses
(services/setup, the catalogue), so there is one definition of a valid clinic: the ABN passes
the ATO checksum, rosters pass their rules, types are offered by profession, leave and public
holidays are closures the diary and the booking rules already know.

Only the funders (reference data with no screen of their own) are written in one plain
transaction. The history (patients, appointments, invoices) is bulk-written afterwards by
``generator.py``, which reads this clinic back and books only inside its rosters.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from frontdesk.demo import words
from frontdesk.domain.clinic_setup import RosterBlock
from frontdesk.domain.vocab import CatalogueKind
from frontdesk.models import Funder
from frontdesk.services.billing import catalogue
from frontdesk.services.setup import appointment_types as types
from frontdesk.services.setup import clinic, leave, locations, practitioners, rosters
from frontdesk.store.context import ServiceContext

NAME = "Harbourside Health & Movement"
ABN = "53 004 085 616"
# the state whose public holidays the demo closes on, from its time zone
STATE_OF_ZONE = {
    "Australia/Perth": "WA", "Australia/Brisbane": "QLD", "Australia/Melbourne": "VIC",
    "Australia/Adelaide": "SA", "Australia/Darwin": "NT", "Australia/Hobart": "TAS",
}  # fmt: skip
LUNCH = (12 * 60 + 30, 13 * 60)
SATURDAY = (8 * 60, 12 * 60)


@dataclass
class DemoClinic:
    """What the history generator needs of the clinic it books into."""

    location: str = ""
    rooms: list[str] = field(default_factory=list)
    services: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # code -> id, ¢, min
    health_funds: list[str] = field(default_factory=list)
    other_funders: dict[str, str] = field(default_factory=dict)
    pracs: list[dict[str, Any]] = field(default_factory=list)
    group_type: str | None = None


def monday_on_or_before(day: date) -> date:
    return day - timedelta(days=day.weekday())


def define_clinic(
    ctx: ServiceContext, rng: random.Random, practitioner_count: int, first: date, last: date,
    time_zone: str,
) -> DemoClinic:  # fmt: skip
    """Set the demo clinic up; ``first`` .. ``last`` is the span of its history."""
    out = DemoClinic()
    profile = clinic.ClinicProfile(
        NAME, ABN, "Level 2, 118 King Street\nNewtown NSW 2042", "(02) 9550 1234",
        "hello@harbourside.example", time_zone, True, STATE_OF_ZONE.get(time_zone, "NSW"),
    )  # fmt: skip
    clinic.save_profile(ctx, profile)
    with ctx.write("set up the demo clinic's payers") as session:
        settings = ctx.settings(session)
        settings.legal_name, settings.website = "Harbourside Health Pty Ltd", "harbourside.example"
        funds = [Funder(kind="health_fund", name=n) for n in words.HEALTH_FUNDS]
        others = {name: Funder(kind=kind, name=name) for kind, name in words.OTHER_FUNDERS}
        session.add_all([*funds, *others.values()])
        session.flush()
        out.health_funds = [f.id for f in funds]
        out.other_funders = {name: f.id for name, f in others.items()}
    ctx._tz = None  # the zone was just set
    for code, name, price, taxable, duration, _prof in words.CATALOGUE:
        kind = CatalogueKind.PRODUCT if code.startswith("PRD") else CatalogueKind.SERVICE
        item = catalogue.add_item(
            ctx, catalogue.CatalogueEntry(code, name, price, kind, taxable, duration)
        )
        out.services[code] = (item, price, duration or 0)
    out.location = locations.add_location(
        ctx, locations.LocationEntry("Newtown", "Level 2, 118 King Street, Newtown NSW 2042")
    )
    out.rooms = [
        locations.add_room(ctx, locations.RoomEntry(f"Room {i + 1}", out.location))
        for i in range(max(3, practitioner_count // 3))
    ]
    profession_types = _types(ctx, out, {_profession(i)[0] for i in range(practitioner_count)})
    effective = monday_on_or_before(first - timedelta(weeks=1))
    used: set[str] = set()
    for i in range(practitioner_count):
        out.pracs.append(_practitioner(ctx, rng, out, i, used, profession_types, effective))
    for prac in out.pracs:
        _annual_leave(ctx, rng, prac["id"], first, last)
    for year in range(first.year, last.year + 1):
        leave.close_for_holidays(ctx, leave.public_holidays(ctx, year), confirm=True)
    if practitioner_count:
        out.group_type = types.add_type(ctx, types.TypeEntry(
            "Clinical pilates class", 60, "#0ea5e9", profession="Physiotherapist", capacity=6,
            service_id=out.services["GRP-PIL"][0],
        ))  # fmt: skip
    return out


def _profession(i: int) -> tuple[str, str]:
    if i < len(words.PROFESSIONS):
        return words.PROFESSIONS[i]
    profession = words.HIGH_VOLUME[i % len(words.HIGH_VOLUME)]
    return profession, dict(words.PROFESSIONS)[profession]


def _types(
    ctx: ServiceContext, out: DemoClinic, professions: set[str]
) -> dict[str, list[tuple[str, tuple[str, int, int]]]]:
    """Initial, standard and review types for each profession practised, with the health
    funds' item numbers on their services."""
    first_of = {p: code.split("-")[0] for code, *_r, p in words.CATALOGUE if p}
    made: dict[str, list[tuple[str, tuple[str, int, int]]]] = {}
    for profession, colour in words.PROFESSIONS:
        if profession not in professions:
            continue
        code = first_of[profession]
        std = out.services[f"{code}-STD"]
        ini = out.services.get(f"{code}-INI") or std
        rev = out.services.get(f"{code}-REV") or std
        kinds: list[tuple[str, tuple[str, int, int]]] = []
        for label, svc, is_new in (("initial", ini, True), ("standard", std, False),
                                   ("review", rev, False)):  # fmt: skip
            if label == "review" and rev is std:
                kinds.append(kinds[-1])
                continue
            prices = tuple(
                types.FunderPrice(fund, f"{500 + i * 5 + (1 if svc is ini else 2)}", svc[1])
                for i, fund in enumerate(out.health_funds[:4])
            )
            tid = types.add_type(ctx, types.TypeEntry(
                f"{profession} {label}", svc[2], colour, profession=profession,
                is_new_patient=is_new, service_id=svc[0], funder_prices=prices,
            ))  # fmt: skip
            kinds.append((tid, svc))
        made[profession] = kinds
    return made


def _practitioner(
    ctx: ServiceContext, rng: random.Random, out: DemoClinic, i: int, used: set[str],
    profession_types: dict[str, list[tuple[str, tuple[str, int, int]]]], effective: date,
) -> dict[str, Any]:  # fmt: skip
    profession, colour = _profession(i)
    while True:
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        if f"{first} {last}" not in used:
            used.add(f"{first} {last}")
            break
    room = out.rooms[i] if i < len(out.rooms) else None
    number = (
        f"{rng.randrange(200000, 699999)}{rng.choice('ABCDEFGHJK')}"
        f"{rng.choice('ABCDEFGHJKLMNPQRSTWXY')}"
    )
    pid = practitioners.add_practitioner(ctx, practitioners.PractitionerEntry(
        first, last, profession, colour=colour, default_location_id=out.location,
        default_room_id=room,
        email=f"{first.lower()}.{last.lower().replace(' ', '')}@harbourside.example",
        registration_number=f"{profession[:3].upper()}000{rng.randrange(100000, 999999)}",
        provider_numbers=(practitioners.ProviderNumberEntry(number, None, out.location),),
    ))  # fmt: skip
    start_h = rng.choice((7, 8, 8, 9))
    high_volume = profession in words.HIGH_VOLUME and i >= len(words.PROFESSIONS)
    off = 0 if high_volume else rng.choice((0, 0, 1, 1, 2))
    days_off = set(rng.sample(range(5), off))
    saturdays = high_volume or i % 3 == 0
    # a Saturday morning every week (high-volume) or every second week: a two-week roster
    weeks = 1 if high_volume or not saturdays else 2
    blocks: list[RosterBlock] = []
    for week in range(weeks):
        for day in (d for d in range(5) if d not in days_off):
            blocks += [
                RosterBlock(day, start_h * 60, (start_h + 10) * 60, week=week,
                            location_id=out.location),
                RosterBlock(day, *LUNCH, is_break=True, week=week, location_id=out.location,
                            label="Lunch"),
            ]  # fmt: skip
    if saturdays:
        blocks.append(RosterBlock(5, *SATURDAY, week=0, location_id=out.location))
    rosters.save_roster(ctx, pid, rosters.RosterPlan(weeks, effective, tuple(blocks)))
    return {
        "id": pid, "name": f"{first} {last}", "types": profession_types[profession],
        "room": room, "short_share": 0.7 if high_volume else 0.5, "profession": profession,
    }  # fmt: skip


def _annual_leave(
    ctx: ServiceContext, rng: random.Random, pid: str, first: date, last: date
) -> None:
    """Two weeks' leave a year (one week in a short demo), from a Monday."""
    span = (last - first).days
    for _ in range(max(1, span // 182)):
        start_day = monday_on_or_before(first + timedelta(days=rng.randrange(max(1, span - 14))))
        length = 7 if span < 200 else 14
        start, end = leave.whole_days(ctx, start_day, start_day + timedelta(days=length - 1))
        leave.add_leave(
            ctx, leave.LeaveEntry(start, end, practitioner_id=pid, reason="Annual leave"),
            confirm=True,
        )  # fmt: skip
