"""Diary rules: slots, rosters, leave, clashes, recurrence and the next free slot.

Plain functions over plain dataclasses (no Qt, no database). Instants are aware UTC; rosters are
minutes after local midnight in the clinic's zone, so they keep their wall-clock hours across
daylight-saving changes.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from frontdesk.domain.errors import ValidationFailed

SLOT_SIZES = (5, 10, 15, 30)
MINUTES_PER_DAY = 1440


# -- plain data -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RosterRule:
    """One roster line: a practitioner works (or breaks) on a weekday, local minutes."""

    practitioner_id: str
    weekday: int
    start_minute: int
    end_minute: int
    kind: str = "work"  # "work" or "break"
    every_weeks: int = 1
    week_offset: int = 0
    effective_from: date = date(2000, 1, 3)
    effective_until: date | None = None
    room_id: str | None = None
    label: str = ""

    def applies_on(self, day: date) -> bool:
        if day.weekday() != self.weekday or day < self.effective_from:
            return False
        if self.effective_until is not None and day > self.effective_until:
            return False
        weeks = (day - self.effective_from).days // 7
        return weeks % self.every_weeks == self.week_offset


@dataclass(frozen=True)
class Block:
    """A stretch of time that is busy or closed: an appointment, leave, a break."""

    start: datetime
    end: datetime
    practitioner_id: str | None = None
    room_id: str | None = None
    ref_id: str | None = None  # the appointment (or leave) id
    label: str = ""

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


class ProblemKind(StrEnum):
    PAST = "past"
    OUTSIDE_ROSTER = "outside_roster"
    BREAK = "break"
    LEAVE = "leave"
    PRACTITIONER_CLASH = "practitioner_clash"
    ROOM_CLASH = "room_clash"
    HELD_ONLINE = "held_online"  # the integration API holds the time for a caller


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    message: str
    ref_id: str | None = None


@dataclass(frozen=True)
class Availability:
    """What a practitioner's day offers: work spans and break spans (UTC), leave blocks."""

    work: tuple[Block, ...] = ()
    breaks: tuple[Block, ...] = ()
    leave: tuple[Block, ...] = ()


@dataclass(frozen=True)
class Occurrence:
    index: int
    start: datetime
    end: datetime
    problems: tuple[Problem, ...] = field(default=())


# -- time helpers -----------------------------------------------------------------------------
def local_instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """Local minutes after midnight on ``day`` as an aware UTC instant (1440 is next midnight)."""
    extra, minute = divmod(minute, MINUTES_PER_DAY)
    when = datetime.combine(day + timedelta(days=extra), time(minute // 60, minute % 60), tz)
    return when.astimezone(UTC)


def local_minute(instant: datetime, tz: ZoneInfo) -> tuple[date, int]:
    local = instant.astimezone(tz)
    return local.date(), local.hour * 60 + local.minute


def snap_minute(minute: float, slot: int) -> int:
    """The nearest slot boundary to a local minute (clamped to the day)."""
    if slot not in SLOT_SIZES:
        raise ValidationFailed(f"A slot is 5, 10, 15 or 30 minutes, not {slot}.", field="slot")
    snapped = round(minute / slot) * slot
    return max(0, min(MINUTES_PER_DAY, snapped))


def snap_down(minute: float, slot: int) -> int:
    return max(0, min(MINUTES_PER_DAY - slot, int(minute // slot) * slot))


def validate_length(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("naive datetime: pass aware UTC instants")
    if end <= start:
        raise ValidationFailed(
            "An appointment must end after it starts: choose a length of at least 5 minutes.",
            field="duration",
        )
    if end - start > timedelta(hours=12):
        raise ValidationFailed("An appointment cannot be longer than 12 hours.", field="duration")


# -- rosters ----------------------------------------------------------------------------------
def availability_on(
    rules: Iterable[RosterRule], leave: Iterable[Block], day: date, tz: ZoneInfo
) -> Availability:
    """One practitioner's rostered work, breaks and leave on a local day, as UTC blocks."""
    work: list[Block] = []
    breaks: list[Block] = []
    for rule in rules:
        if not rule.applies_on(day):
            continue
        block = Block(
            local_instant(day, rule.start_minute, tz),
            local_instant(day, rule.end_minute, tz),
            rule.practitioner_id,
            rule.room_id,
            label=rule.label,
        )
        (breaks if rule.kind == "break" else work).append(block)
    start = local_instant(day, 0, tz)
    end = local_instant(day, MINUTES_PER_DAY, tz)
    day_leave = tuple(b for b in leave if b.overlaps(start, end))
    work.sort(key=lambda b: b.start)
    breaks.sort(key=lambda b: b.start)
    return Availability(tuple(work), tuple(breaks), day_leave)


def covered(start: datetime, end: datetime, spans: Sequence[Block]) -> bool:
    """Whether [start, end) lies wholly inside the union of ``spans``."""
    cursor = start
    for span in sorted(spans, key=lambda b: b.start):
        if span.start > cursor:
            break
        cursor = max(cursor, span.end)
        if cursor >= end:
            return True
    return cursor >= end


def roster_problems(
    start: datetime, end: datetime, availability: Availability, tz: ZoneInfo
) -> list[Problem]:
    """Why [start, end) is not bookable by the roster: outside hours, a break, leave."""
    problems: list[Problem] = []
    for block in availability.leave:
        if block.overlaps(start, end):
            problems.append(
                Problem(
                    ProblemKind.LEAVE,
                    f"The practitioner is away then ({block.label or 'leave'}).",
                    block.ref_id,
                )
            )
    if not covered(start, end, availability.work):
        if availability.work:
            hours = ", ".join(f"{_hhmm(b.start, tz)}–{_hhmm(b.end, tz)}" for b in availability.work)
            message = f"That is outside the practitioner's rostered hours ({hours})."
        else:
            message = "The practitioner is not rostered on that day."
        problems.append(Problem(ProblemKind.OUTSIDE_ROSTER, message))
    for block in availability.breaks:
        if block.overlaps(start, end):
            what = block.label or "a break"
            problems.append(
                Problem(
                    ProblemKind.BREAK,
                    f"That runs into {what} ({_hhmm(block.start, tz)}–{_hhmm(block.end, tz)}).",
                )
            )
    return problems


def _hhmm(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%H:%M")


# -- clashes ----------------------------------------------------------------------------------
def clashes(
    start: datetime,
    end: datetime,
    practitioner_id: str,
    room_id: str | None,
    busy: Iterable[Block],
    *,
    ignore_id: str | None = None,
    tz: ZoneInfo | None = None,
) -> list[Problem]:
    """Existing bookings that overlap [start, end) for the same practitioner or the same room."""
    problems: list[Problem] = []
    for block in busy:
        if block.ref_id is not None and block.ref_id == ignore_id:
            continue
        if not block.overlaps(start, end):
            continue
        when = f" at {_hhmm(block.start, tz)}" if tz is not None else ""
        who = f" ({block.label})" if block.label else ""
        if block.practitioner_id == practitioner_id:
            problems.append(
                Problem(
                    ProblemKind.PRACTITIONER_CLASH,
                    f"The practitioner already has an appointment{when}{who}.",
                    block.ref_id,
                )
            )
        elif room_id is not None and block.room_id == room_id:
            problems.append(
                Problem(
                    ProblemKind.ROOM_CLASH,
                    f"The room is already in use{when}{who}.",
                    block.ref_id,
                )
            )
    return problems


def held_online(hold_id: str, until: datetime, tz: ZoneInfo) -> Problem:
    """A time the integration API holds for a caller who is deciding (until ``until``)."""
    return Problem(
        ProblemKind.HELD_ONLINE, f"Held online until {_hhmm(until, tz)} for a caller.", hold_id
    )


# -- recurrence -------------------------------------------------------------------------------
MAX_OCCURRENCES = 104


def recurrence(
    first_start: datetime,
    duration: timedelta,
    tz: ZoneInfo,
    *,
    every_weeks: int = 1,
    count: int | None = None,
    until: date | None = None,
) -> list[tuple[datetime, datetime]]:
    """Occurrences of a weekly series at the same local wall-clock time (DST-safe).

    Ends after ``count`` occurrences or on ``until`` (inclusive), whichever is given.
    """
    if every_weeks < 1:
        raise ValidationFailed("Repeat at least every week.", field="every_weeks")
    if count is None and until is None:
        raise ValidationFailed("Say how many times, or until which date.", field="count")
    if count is not None and not 1 <= count <= MAX_OCCURRENCES:
        raise ValidationFailed(
            f"A series has between 1 and {MAX_OCCURRENCES} appointments.", field="count"
        )
    local = first_start.astimezone(tz)
    wall = local.time().replace(tzinfo=None)
    out: list[tuple[datetime, datetime]] = []
    n = 0
    while True:
        day = local.date() + timedelta(weeks=every_weeks * n)
        if until is not None and day > until:
            break
        if count is not None and n >= count:
            break
        if len(out) >= MAX_OCCURRENCES:
            break
        start = datetime.combine(day, wall, tz).astimezone(UTC)
        out.append((start, start + duration))
        n += 1
    if not out:
        raise ValidationFailed("The end date is before the first appointment.", field="until")
    return out


# -- free slots -------------------------------------------------------------------------------
class FreeSlot(NamedTuple):
    """A free time (immutable). A named tuple, not a frozen dataclass: a month's search makes
    thousands, and a frozen dataclass's ``__init__`` cost several times as much each."""

    practitioner_id: str
    start: datetime
    end: datetime


def free_slots_on(
    practitioner_id: str,
    day: date,
    availability: Availability,
    busy: Sequence[Block],
    duration: timedelta,
    tz: ZoneInfo,
    *,
    slot: int = 15,
    not_before: datetime | None = None,
    earliest_minute: int = 0,
    latest_minute: int = MINUTES_PER_DAY,
    room_busy: Sequence[Block] = (),
) -> Iterator[FreeSlot]:
    """Slot-aligned starts on ``day`` where ``duration`` fits inside the roster, clear of
    breaks, leave, the practitioner's bookings and (if given) the room's bookings."""
    closed = [*availability.breaks, *availability.leave, *busy, *room_busy]
    for work in availability.work:
        _day, first = local_minute(work.start, tz)
        minute = max(first, earliest_minute)
        minute = -(-minute // slot) * slot
        while True:
            start = local_instant(day, minute, tz)
            end = start + duration
            if end > work.end or minute >= latest_minute:
                break
            if not_before is not None and start < not_before:
                minute += slot
                continue
            hit = next((b for b in closed if b.overlaps(start, end)), None)
            if hit is None:
                yield FreeSlot(practitioner_id, start, end)
                minute += slot
            else:
                _d, after = local_minute(hit.end, tz)
                if _d != day:
                    break
                minute = max(minute + slot, -(-after // slot) * slot)


# -- overlap policy ---------------------------------------------------------------------------
class Policy(StrEnum):
    ALLOW = "allow"
    WARN = "warn"
    BLOCK = "block"


@dataclass(frozen=True)
class SlotCheck:
    """The verdict on a time: refusals stop it, warnings need a person's yes."""

    refusals: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    allowed: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.refusals and not self.warnings

    @property
    def problems(self) -> tuple[Problem, ...]:
        return (*self.refusals, *self.warnings, *self.allowed)

    def summary(self) -> str:
        return " ".join(p.message for p in (*self.refusals, *self.warnings))


def assess(
    problems: Iterable[Problem], practitioner_policy: str, room_policy: str = "block"
) -> SlotCheck:
    """Sort problems by the overlap policy: roster, leave and past always refuse; a clash
    refuses, warns or passes as the practitioner's (or room's) policy says; a time held online
    always warns (the desk may book it once a person confirms)."""
    refusals: list[Problem] = []
    warnings: list[Problem] = []
    allowed: list[Problem] = []
    for problem in problems:
        if problem.kind is ProblemKind.PRACTITIONER_CLASH:
            policy = practitioner_policy
        elif problem.kind is ProblemKind.ROOM_CLASH:
            policy = room_policy
        elif problem.kind is ProblemKind.HELD_ONLINE:
            policy = Policy.WARN
        else:
            policy = Policy.BLOCK
        {Policy.BLOCK: refusals, Policy.WARN: warnings}.get(Policy(policy), allowed).append(problem)
    return SlotCheck(tuple(refusals), tuple(warnings), tuple(allowed))


def past_problem(start: datetime, now: datetime, grace: timedelta) -> Problem | None:
    """Booking into time that has gone: refused, with a little grace for a walk-in."""
    if start < now - grace:
        return Problem(ProblemKind.PAST, "That time has already passed: choose a later time.")
    return None


# -- free slots over a window -----------------------------------------------------------------
def free_slots_window(
    practitioner_id: str,
    days: Sequence[date],
    rules: Sequence[RosterRule],
    leave: Sequence[Block],
    closed: Sequence[tuple[float, float]],
    duration: timedelta,
    tz: ZoneInfo,
    *,
    slot: int = 15,
    not_before: datetime | None = None,
    not_from: datetime | None = None,
    earliest_minute: int = 0,
    latest_minute: int = MINUTES_PER_DAY,
) -> Iterator[FreeSlot]:
    """``free_slots_on`` over many days in one pass: the same slots, worked out as interval
    arithmetic in local minutes. ``closed`` are busy times as (start, end) seconds after the
    Unix epoch (bookings, holds, the rooms' other bookings), bucketed once into the local
    days they touch, with the leave; each day's breaks and closed spans are then taken out of
    its roster lines, and no instant is built except for the slots given back.
    ``not_from``: no slot starts at or after it. A day with a daylight-saving change goes
    through ``free_slots_on`` itself."""
    spans = [*closed, *((b.start.timestamp(), b.end.timestamp()) for b in leave)]
    for _day, slots in _window_days(
        practitioner_id, days, rules, spans, duration, tz, slot, not_before, not_from,
        earliest_minute, latest_minute,
    ):  # fmt: skip
        yield from slots


def free_slots_by_day(
    practitioner_id: str,
    days: Sequence[date],
    rules: Sequence[RosterRule],
    closed: Sequence[tuple[float, float]],
    duration: timedelta,
    tz: ZoneInfo,
    *,
    slot: int = 15,
    earliest_minute: int = 0,
    latest_minute: int = MINUTES_PER_DAY,
) -> dict[date, list[FreeSlot]]:
    """``free_slots_window``'s slots (leave given in ``closed`` as seconds, like the rest),
    by the local day they start on: each day of ``days`` that has any."""
    return dict(
        _window_days(
            practitioner_id, days, rules, closed, duration, tz, slot, None, None,
            earliest_minute, latest_minute,
        )
    )  # fmt: skip


@lru_cache(maxsize=256)
def _midnights(first: date, days: int, tz: ZoneInfo) -> tuple[float, ...]:
    """Each local midnight from ``first`` on, as seconds after the Unix epoch (the same for
    every practitioner of a search)."""
    return tuple(local_instant(first + timedelta(days=n), 0, tz).timestamp() for n in range(days))


# a whole number of minutes as a timedelta, made once: a month's slots add thousands of them
_MINUTES = [timedelta(minutes=m) for m in range(MINUTES_PER_DAY + 1)]


def _window_days(
    practitioner_id: str,
    days: Sequence[date],
    rules: Sequence[RosterRule],
    closed: Sequence[tuple[float, float]],
    duration: timedelta,
    tz: ZoneInfo,
    slot: int,
    not_before: datetime | None,
    not_from: datetime | None,
    earliest_minute: int,
    latest_minute: int,
) -> Iterator[tuple[date, list[FreeSlot]]]:
    """``free_slots_window``'s work: each day with free slots, in order, and its slots."""
    if not days:
        return
    first, last = min(days), max(days)
    mids = _midnights(first, (last - first).days + 2, tz)
    buckets: list[list[tuple[float, float]]] = [[] for _ in mids[:-1]]
    for b0, b1 in closed:
        lo = max(bisect_right(mids, b0) - 1, 0)
        hi = min(bisect_left(mids, b1), len(buckets))
        for i in range(lo, hi):
            buckets[i].append((b0, b1))
    by_weekday: dict[int, list[RosterRule]] = {}
    for rule in rules:
        by_weekday.setdefault(rule.weekday, []).append(rule)
    need = duration.total_seconds()
    minutes = int(need // 60)
    floor_at = not_before.timestamp() if not_before is not None else None
    ceiling_at = not_from.timestamp() if not_from is not None else None
    step = _MINUTES
    for day in sorted(days):
        todays = [r for r in by_weekday.get(day.weekday(), ()) if r.applies_on(day)]
        if not any(r.kind != "break" for r in todays):
            continue
        i = (day - first).days
        midnight, after = mids[i], mids[i + 1]
        if ceiling_at is not None and midnight >= ceiling_at:
            return
        found: list[FreeSlot] = []
        if after - midnight != 86400 or need % 60:  # a daylight-saving day: the exact path
            blocks = [Block(_instant(b0), _instant(b1), practitioner_id) for b0, b1 in buckets[i]]
            avail = availability_on(todays, [], day, tz)
            for free in free_slots_on(
                practitioner_id, day, avail, blocks, duration, tz, slot=slot,
                not_before=not_before, earliest_minute=earliest_minute,
                latest_minute=latest_minute,
            ):  # fmt: skip
                if not_from is not None and free.start >= not_from:
                    if found:
                        yield day, found
                    return
                found.append(free)
            if found:
                yield day, found
            continue
        # local minutes of this day: breaks and closed spans (floats: seconds count), merged
        # into a sorted union, walked once per roster line
        spans = [(float(r.start_minute), float(r.end_minute)) for r in todays if r.kind == "break"]
        spans += [((b0 - midnight) / 60, (b1 - midnight) / 60) for b0, b1 in buckets[i]]
        union = _union(spans)
        ends = len(union)
        floor = -1e9 if floor_at is None else (floor_at - midnight) / 60
        ceiling = 1e9 if ceiling_at is None else (ceiling_at - midnight) / 60
        base = _instant(midnight)
        first_start = max(earliest_minute, int(-(-floor // slot)) * slot)
        for work in sorted((r for r in todays if r.kind != "break"), key=lambda r: r.start_minute):
            # each free stretch between closed spans gives its starts on the grid at once
            minute = -(-max(work.start_minute, first_start) // slot) * slot
            stop = min(work.end_minute - minutes, latest_minute - 1)  # the last start that fits
            j = 0
            while minute <= stop:
                while j < ends and union[j][1] <= minute:
                    j += 1  # closed spans wholly before this start
                # the starts from here that end before the next closed span begins
                upto = stop if j == ends else min(stop, math.floor(union[j][0] - minutes))
                starts = range(minute, upto + 1, slot)
                if starts:
                    past = starts[-1] >= ceiling  # a free start at or after ``not_from``
                    found += [
                        FreeSlot(practitioner_id, base + step[m], base + step[m + minutes])
                        for m in starts
                        if not past or m < ceiling
                    ]
                    if past:
                        if found:
                            yield day, found
                        return
                if j == ends or union[j][1] >= MINUTES_PER_DAY:
                    break
                minute = max(minute, int(-(-union[j][1] // slot)) * slot)
        if found:
            yield day, found


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping or touching spans merged, in order."""
    out: list[tuple[float, float]] = []
    for s0, s1 in sorted(spans):
        if out and s0 <= out[-1][1]:
            if s1 > out[-1][1]:
                out[-1] = (out[-1][0], s1)
        else:
            out.append((s0, s1))
    return out


def _instant(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
