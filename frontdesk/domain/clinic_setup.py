"""Rules for setting a clinic up: ABNs, lengths, rosters, rooms and locations, who offers a type.

Plain functions over plain values; each refusal is a ValidationFailed naming the field, so a
screen can show the message beside it. Services call these before they write anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from frontdesk.domain.errors import ValidationFailed

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MINUTES_PER_DAY = 1440
ABN_WEIGHTS = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_TYPE_MINUTES = 12 * 60
AU_STATES = ("ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA")


# -- small values -----------------------------------------------------------------------------
def check_abn(text: str, *, field: str = "business_number") -> str:
    """An Australian Business Number, checked with the ATO's checksum; returns it spaced as
    ``51 824 753 556`` ("" stays "": the ABN is optional until the clinic issues invoices).

    The ATO's rule: subtract 1 from the first digit, weight the 11 digits 10, 1, 3, 5 … 19;
    the sum must divide by 89.
    """
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text.strip():
        return ""
    if len(digits) != 11 or any(not (ch.isdigit() or ch.isspace()) for ch in text.strip()):
        raise ValidationFailed("An ABN has 11 digits, such as 51 824 753 556.", field=field)
    values = [int(ch) for ch in digits]
    values[0] -= 1
    if sum(w * v for w, v in zip(ABN_WEIGHTS, values, strict=True)) % 89 != 0:
        raise ValidationFailed(
            f"{digits[:2]} {digits[2:5]} {digits[5:8]} {digits[8:]} is not a valid ABN: "
            "check the digits against the ABN Lookup.",
            field=field,
        )
    return f"{digits[:2]} {digits[2:5]} {digits[5:8]} {digits[8:]}"


def check_name(text: str, what: str, *, field: str = "name", longest: int = 120) -> str:
    name = " ".join(text.split())
    if not name:
        raise ValidationFailed(f"Give the {what} a name.", field=field)
    if len(name) > longest:
        raise ValidationFailed(
            f"A {what}'s name can be at most {longest} characters long.", field=field
        )
    return name


def check_colour(text: str, *, field: str = "colour") -> str:
    colour = text.strip()
    if not HEX_COLOUR.match(colour):
        raise ValidationFailed(f"“{colour}” is not a colour: use the form #4f86c6.", field=field)
    return colour.lower()


def check_length(minutes: int, *, field: str = "duration") -> int:
    """An appointment type's length: at least 5 minutes, whole slots of 5, at most 12 hours."""
    if minutes <= 0:
        raise ValidationFailed("An appointment type needs a length of at least 5 minutes.",
                               field=field)  # fmt: skip
    if minutes % 5:
        raise ValidationFailed("Lengths go in steps of 5 minutes.", field=field)
    if minutes > MAX_TYPE_MINUTES:
        raise ValidationFailed("An appointment type can be at most 12 hours long.", field=field)
    return minutes


def check_capacity(capacity: int, *, field: str = "capacity") -> int:
    if capacity < 1:
        raise ValidationFailed("A class has room for at least one patient.", field=field)
    if capacity > 200:
        raise ValidationFailed("A class can hold at most 200 patients.", field=field)
    return capacity


def check_state(state: str, *, field: str = "state") -> str:
    value = state.strip().upper()
    if value and value not in AU_STATES:
        raise ValidationFailed(
            f"Choose the clinic's state or territory ({', '.join(AU_STATES)}).", field=field
        )
    return value


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_hhmm(text: str, *, field: str) -> int:
    """``9``, ``9:30``, ``09:30``, ``930`` or ``17.00`` as minutes after midnight."""
    raw = text.strip().replace(".", ":")
    match = re.fullmatch(r"(\d{1,2})(?::?(\d{2}))?", raw)
    if not match:
        raise ValidationFailed(f"“{text.strip()}” is not a time: type it as 9:00 or 17:30.",
                               field=field)  # fmt: skip
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise ValidationFailed(f"“{text.strip()}” is not a time of day.", field=field)
    return hours * 60 + minutes


# -- rooms and locations ----------------------------------------------------------------------
def check_room_at_location(
    room_name: str, room_location_id: str, location_id: str | None, location_name: str,
    *, field: str = "room",
) -> None:  # fmt: skip
    """A room is at one location: choosing it somewhere else puts it at two."""
    if location_id is not None and room_location_id != location_id:
        raise ValidationFailed(
            f"{room_name} is not at {location_name}: a room belongs to one location. "
            f"Choose a room at {location_name}, or another location.",
            field=field,
        )


def check_room_name_free(name: str, names_elsewhere: Iterable[str], *, field: str = "name") -> None:
    """Two rooms of the same name at different locations confuse a booking made by phone."""
    taken = {n.casefold(): n for n in names_elsewhere}
    if name.casefold() in taken:
        raise ValidationFailed(
            f"There is already a room called {taken[name.casefold()]}: one room is at one "
            "location. "
            "Give this one another name (such as “Room 1 (North)”).",
            field=field,
        )


# -- who offers an appointment type -----------------------------------------------------------
def check_offered_by(
    chosen: Iterable[str], archived: dict[str, str], *, field: str = "practitioners"
) -> None:
    """No archived practitioner may be chosen to offer a type (``archived``: id → name)."""
    names = [archived[pid] for pid in chosen if pid in archived]
    if names:
        raise ValidationFailed(
            f"{', '.join(sorted(names))} "
            f"{'is' if len(names) == 1 else 'are'} archived and cannot offer appointments: "
            "untick them.",
            field=field,
        )


def offers(type_profession: str, type_practitioner_ids: str, practitioner_id: str,
           profession: str) -> bool:  # fmt: skip
    """Whether a practitioner offers a type: chosen by name when the type lists practitioners,
    otherwise by profession ("" profession: every practitioner)."""
    chosen = type_practitioner_ids.split()
    if chosen:
        return practitioner_id in chosen
    return not type_profession or type_profession.casefold() == profession.casefold()


# -- rosters ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RosterBlock:
    """One line of a practitioner's week as typed: work (or a break) on a weekday."""

    weekday: int
    start_minute: int
    end_minute: int
    is_break: bool = False
    week: int = 0  # which week of an N-week cycle, 0-based
    location_id: str | None = None
    room_id: str | None = None
    label: str = ""

    def describe(self) -> str:
        week = f" (week {self.week + 1})" if self.week else ""
        what = "break" if self.is_break else "hours"
        return (
            f"{WEEKDAYS[self.weekday]}{week} {what} "
            f"{hhmm(self.start_minute)}–{hhmm(self.end_minute)}"
        )


def check_roster(blocks: Sequence[RosterBlock], every_weeks: int, effective_from: date) -> None:
    """A week (or N-week cycle) that can be saved: sensible times, work blocks that do not
    overlap, breaks inside the hours worked. Fields are ``roster.<index>`` of the line."""
    if not 1 <= every_weeks <= 8:
        raise ValidationFailed("A roster repeats every 1 to 8 weeks.", field="every_weeks")
    if effective_from.year < 2000:
        raise ValidationFailed("Choose the day the roster starts.", field="effective_from")
    for i, b in enumerate(blocks):
        field = f"roster.{i}"
        if not 0 <= b.weekday <= 6:
            raise ValidationFailed("Choose a day of the week.", field=field)
        if not 0 <= b.week < every_weeks:
            raise ValidationFailed(
                f"Week {b.week + 1} is not in a {every_weeks}-week roster.", field=field
            )
        if not 0 <= b.start_minute < MINUTES_PER_DAY or not 0 < b.end_minute <= MINUTES_PER_DAY:
            raise ValidationFailed("Times are between 00:00 and 24:00.", field=field)
        if b.end_minute <= b.start_minute:
            raise ValidationFailed(
                f"{WEEKDAYS[b.weekday]}: the end ({hhmm(b.end_minute)}) must be after the "
                f"start ({hhmm(b.start_minute)}).",
                field=field,
            )
    for kind in (False, True):
        same = sorted(
            (b.week, b.weekday, b.start_minute, b.end_minute, i)
            for i, b in enumerate(blocks)
            if b.is_break is kind
        )
        for prev, cur in pairwise(same):
            if prev[:2] == cur[:2] and cur[2] < prev[3]:
                raise ValidationFailed(
                    f"{blocks[cur[4]].describe()} overlaps {blocks[prev[4]].describe()}: "
                    "change one or join them into one block.",
                    field=f"roster.{cur[4]}",
                )
    for i, b in enumerate(blocks):
        if not b.is_break:
            continue
        inside = any(
            not w.is_break
            and (w.week, w.weekday) == (b.week, b.weekday)
            and w.start_minute <= b.start_minute
            and b.end_minute <= w.end_minute
            for w in blocks
        )
        if not inside:
            raise ValidationFailed(
                f"{b.describe()} is outside the hours worked that day: a break must fall "
                "within the practitioner's hours.",
                field=f"roster.{i}",
            )


def parse_spans(text: str, *, field: str) -> list[tuple[int, int]]:
    """Typed hours such as ``9-12:30, 13:30-17`` as (start, end) minutes; "" is none."""
    spans = []
    for part in re.split(r"[,;]", text):
        if not part.strip():
            continue
        pieces = re.split(r"\s*(?:-|–|to)\s*", part.strip())
        if len(pieces) != 2:
            raise ValidationFailed(
                f"“{part.strip()}” is not a span of time: type it as 9:00-17:00.", field=field
            )
        spans.append((parse_hhmm(pieces[0], field=field), parse_hhmm(pieces[1], field=field)))
    return spans


def format_spans(spans: Iterable[tuple[int, int]]) -> str:
    return ", ".join(f"{hhmm(s)}–{hhmm(e)}" for s, e in spans)
