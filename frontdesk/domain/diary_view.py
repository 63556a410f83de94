"""What the diary draws for some days, as plain values, and the rules a drag preview checks
against them: no database here, so the diary's first paint (read with plain ``sqlite3``, before
SQLAlchemy is imported: ``store/first_day.py``) and ``services.diary.view.load_view`` fill the
same shapes, and the scene mirrors them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from frontdesk.domain.clinic_setup import offers
from frontdesk.domain.diary import (
    Availability,
    Block,
    Problem,
    ProblemKind,
    RosterRule,
    SlotCheck,
    assess,
    availability_on,
    clashes,
    held_online,
    past_problem,
    roster_problems,
)


@dataclass(frozen=True)
class PractitionerInfo:
    id: str
    name: str
    profession: str
    colour: str
    overlap_policy: str
    default_location_id: str | None


@dataclass(frozen=True)
class TypeInfo:
    id: str
    name: str
    duration_minutes: int
    colour: str
    is_group: bool
    capacity: int
    is_new_patient: bool
    profession: str
    practitioner_ids: str = ""  # "" offered by the whole profession


def types_offered(
    types: Sequence[TypeInfo], practitioner_id: str, profession: str
) -> list[TypeInfo]:
    """The types a practitioner offers, in the order given."""
    return [
        t for t in types if offers(t.profession, t.practitioner_ids, practitioner_id, profession)
    ]


@dataclass(frozen=True)
class RoomInfo:
    id: str
    name: str
    overlap_policy: str


@dataclass(frozen=True)
class DiaryAppointment:
    """One appointment as the diary draws it, with the flags for its icons."""

    id: str
    practitioner_id: str
    patient_id: str | None
    patient_name: str
    patient_phone: str
    starts_at: datetime
    ends_at: datetime
    status: str
    type_id: str | None
    type_name: str
    colour: str
    room_id: str | None
    notes: str
    cancellation_reason: str | None
    is_group: bool
    capacity: int
    attendees: int
    series_id: str | None
    new_patient: bool
    reminder_sent: bool
    pinned: bool
    clash_flagged: bool
    alert: str  # the patient's alert texts, "" when none
    invoiced: bool
    unpaid: bool
    confirmed: bool = False  # the patient confirmed (an SMS "Y"), issue 18
    replied: bool = False  # an SMS reply about it waits in the inbox, not yet handled
    cancellation_note: str = ""  # why, in words (e.g. "patient cancelled by SMS")


def appointment_of(r: Sequence[Any]) -> DiaryAppointment:
    """One row of the diary's appointment statement (``services.diary.view``; the first paint's
    ``store/first_day.py`` runs the same statement through ``sqlite3``), with its keys as text
    and its times as aware datetimes."""
    return DiaryAppointment(
        r[0], r[1], r[2], r[3] or "", r[4] or "", r[5], r[6], r[7], r[8], r[9] or "",
        r[10] or "#94a3b8", r[11], r[12] or "", r[13], bool(r[14]), r[15], r[16] or 0, r[17],
        bool(r[18]), bool(r[19]), bool(r[20]), bool(r[21]), r[22] or "", bool(r[23]),
        bool(r[24]), bool(r[25]), bool(r[26]), r[27] or "",
    )  # fmt: skip


@dataclass
class DiaryData:
    days: tuple[date, ...]
    practitioners: list[PractitionerInfo]
    appointments: list[DiaryAppointment]
    availability: dict[tuple[str, date], Availability] = field(default_factory=dict)
    rules: dict[str, list[RosterRule]] = field(default_factory=dict)
    leave: dict[str, list[Block]] = field(default_factory=dict)
    room_policies: dict[str, str] = field(default_factory=dict)
    # rooms in use by practitioners who are not shown, so a drag previews a busy room too
    room_busy: list[Block] = field(default_factory=list)
    room_names: dict[str, str] = field(default_factory=dict)  # every active room, in order
    room_closed: dict[str, list[Block]] = field(default_factory=dict)  # room id -> closures
    holds: list[DiaryHold] = field(default_factory=list)  # the API's active holds, tentative


@dataclass(frozen=True)
class DiaryHold:
    """A time an integration (a phone assistant, a booking page) holds while its caller
    decides: drawn as tentative until it lapses, is released or becomes a booking."""

    id: str
    practitioner_id: str
    room_id: str | None
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime

    def active(self, now: datetime) -> bool:
        return self.expires_at > now


def hold_problems(
    holds: Sequence[DiaryHold], practitioner_id: str, start: datetime, end: datetime,
    now: datetime, tz: ZoneInfo, room_id: str | None = None,
) -> list[Problem]:  # fmt: skip
    """The running holds over [start, end) on the practitioner or on the room (a caller's hold
    keeps its room too, whoever is booked into it at the desk): each asks a person to confirm.
    ``now`` is the clinic server's time: the server decides when a hold lapses."""
    return [
        held_online(h.id, h.expires_at, tz)
        for h in holds
        if (h.practitioner_id == practitioner_id or (room_id is not None and h.room_id == room_id))
        and h.starts_at < end and h.ends_at > start and h.active(now)
    ]  # fmt: skip


def check_in_view(
    data: DiaryData,
    tz: ZoneInfo,
    now: datetime,
    practitioner_id: str,
    room_id: str | None,
    start: datetime,
    end: datetime,
    *,
    ignore_id: str | None = None,
    server_now: datetime | None = None,
) -> SlotCheck:
    """The rules for a drag preview, from what the view already loaded (no database), so each
    mouse move costs microseconds. The service checks again, against the database, on drop.
    ``server_now`` (the clinic server's time) judges holds; ``now`` (the desk's) the past."""
    if end <= start:
        return SlotCheck(refusals=(Problem(ProblemKind.OUTSIDE_ROSTER, "Too short."),))
    problems: list[Problem] = []
    late = past_problem(start, now, timedelta(minutes=15))
    if late is not None:
        problems.append(late)
    day = start.astimezone(tz).date()
    if practitioner_id:  # "" when booking into a room column: only the room is checked here
        availability = data.availability.get((practitioner_id, day))
        if availability is None:
            availability = availability_on(
                data.rules.get(practitioner_id, []), data.leave.get(practitioner_id, []), day, tz
            )
        problems += roster_problems(start, end, availability, tz)
    busy = [
        Block(a.starts_at, a.ends_at, a.practitioner_id, a.room_id, a.id, a.patient_name)
        for a in data.appointments
        if a.status != "cancelled" and a.starts_at < end and a.ends_at > start
    ]
    busy += [b for b in data.room_busy if b.overlaps(start, end)]
    problems += clashes(start, end, practitioner_id, room_id, busy, ignore_id=ignore_id, tz=tz)
    problems += hold_problems(data.holds, practitioner_id, start, end, server_now or now, tz,
                              room_id)  # fmt: skip
    problems += [
        Problem(ProblemKind.LEAVE, f"The room is closed then ({b.label}).", b.ref_id)
        for b in data.room_closed.get(room_id or "", []) if b.overlaps(start, end)
    ]  # fmt: skip
    policy = next((p.overlap_policy for p in data.practitioners if p.id == practitioner_id), "warn")
    room_policy = data.room_policies.get(room_id or "", "block")
    return assess(problems, policy, room_policy)


@dataclass(frozen=True)
class RoomChoice:
    """The room an appointment takes when it moves to another practitioner, and why."""

    room_id: str | None
    note: str


def room_for_move(
    data: DiaryData, tz: ZoneInfo, practitioner_id: str, current_room: str | None,
    start: datetime, end: datetime, *, ignore_id: str | None = None,
) -> RoomChoice:  # fmt: skip
    """The target practitioner's rostered room for that time if it is free; else the room the
    appointment had if free; else the first free room; else no room. From the loaded view (no
    database): the service checks the room again on drop."""
    local = start.astimezone(tz)
    day, minute = local.date(), local.hour * 60 + local.minute
    rostered = [
        r.room_id for r in data.rules.get(practitioner_id, [])
        if r.kind == "work" and r.room_id and r.applies_on(day)
        and r.start_minute <= minute < r.end_minute
    ]  # fmt: skip
    busy = {
        a.room_id for a in data.appointments
        if a.room_id and a.id != ignore_id and a.status != "cancelled"
        and a.starts_at < end and a.ends_at > start
    }  # fmt: skip
    busy |= {b.room_id for b in data.room_busy if b.room_id and b.overlaps(start, end)}
    who = next((p.name for p in data.practitioners if p.id == practitioner_id), "")
    candidates = [*rostered, *([current_room] if current_room else []), *data.room_names]
    for room in dict.fromkeys(c for c in candidates if c in data.room_names):
        if room in busy:
            continue
        name = data.room_names[room]
        if room in rostered:
            return RoomChoice(room, f"Room: {name} ({who}'s rostered room)")
        if room == current_room:
            return RoomChoice(room, f"Room: {name} (stays)")
        return RoomChoice(room, f"Room: {name} (free)")
    if not data.room_names or current_room is None:
        return RoomChoice(None, "")  # no room before, none free now: nothing to say
    return RoomChoice(None, "Room: none (no room is free then)")
