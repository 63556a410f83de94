"""Diary rules without Qt or a database: slots, rosters, clashes, recurrence, next free slot."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from frontdesk.domain.diary import (
    Availability,
    Block,
    ProblemKind,
    RosterRule,
    assess,
    availability_on,
    clashes,
    covered,
    free_slots_on,
    local_instant,
    past_problem,
    recurrence,
    roster_problems,
    snap_down,
    snap_minute,
    validate_length,
)
from frontdesk.domain.errors import ValidationFailed

SYD = ZoneInfo("Australia/Sydney")
MON = date(2026, 11, 30)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return local_instant(day, hh * 60 + mm, SYD)


def week_roster(pid: str = "p1") -> list[RosterRule]:
    rules = []
    for wd in range(5):
        rules.append(RosterRule(pid, wd, 8 * 60, 17 * 60, effective_from=date(2026, 1, 5)))
        rules.append(
            RosterRule(pid, wd, 12 * 60 + 30, 13 * 60, "break", effective_from=date(2026, 1, 5),
                       label="Lunch")
        )  # fmt: skip
    return rules


def test_snap_to_nearest_slot_and_down() -> None:
    assert snap_minute(8 * 60 + 7, 15) == 8 * 60 + 0
    assert snap_minute(8 * 60 + 8, 15) == 8 * 60 + 15
    assert snap_minute(-20, 5) == 0
    assert snap_minute(2000, 30) == 1440
    assert snap_down(8 * 60 + 14, 15) == 8 * 60
    with pytest.raises(ValidationFailed):
        snap_minute(10, 7)


def test_zero_or_negative_length_refused() -> None:
    start = at(MON, 9)
    with pytest.raises(ValidationFailed, match="end after it starts"):
        validate_length(start, start)
    with pytest.raises(ValidationFailed):
        validate_length(start, start - timedelta(minutes=5))


def test_fortnightly_roster_counts_weeks_from_effective_date() -> None:
    rule = RosterRule("p", 5, 8 * 60, 12 * 60, every_weeks=2, week_offset=0,
                      effective_from=date(2026, 11, 2))  # fmt: skip
    assert rule.applies_on(date(2026, 11, 7))
    assert not rule.applies_on(date(2026, 11, 14))
    assert rule.applies_on(date(2026, 11, 21))
    other = RosterRule("p", 5, 8 * 60, 12 * 60, every_weeks=2, week_offset=1,
                       effective_from=date(2026, 11, 2))  # fmt: skip
    assert other.applies_on(date(2026, 11, 14))
    assert not rule.applies_on(date(2026, 10, 31))  # before it took effect


def test_roster_problems_outside_hours_break_and_leave() -> None:
    leave = [Block(at(MON, 15), at(MON, 17), "p1", label="Dentist")]
    avail = availability_on(week_roster(), leave, MON, SYD)
    assert roster_problems(at(MON, 9), at(MON, 9, 30), avail, SYD) == []
    kinds = {p.kind for p in roster_problems(at(MON, 7, 30), at(MON, 8, 30), avail, SYD)}
    assert kinds == {ProblemKind.OUTSIDE_ROSTER}
    kinds = {p.kind for p in roster_problems(at(MON, 12, 15), at(MON, 12, 45), avail, SYD)}
    assert kinds == {ProblemKind.BREAK}
    problems = roster_problems(at(MON, 15), at(MON, 15, 30), avail, SYD)
    assert [p.kind for p in problems] == [ProblemKind.LEAVE]
    assert "Dentist" in problems[0].message
    weekend = availability_on(week_roster(), [], date(2026, 12, 5), SYD)
    msg = roster_problems(at(date(2026, 12, 5), 9), at(date(2026, 12, 5), 10), weekend, SYD)
    assert "not rostered" in msg[0].message


def test_roster_keeps_wall_clock_hours_across_dst() -> None:
    # Sydney moves clocks forward on Sun 4 Oct 2026: Friday before and Monday after.
    rule = RosterRule("p", 0, 9 * 60, 17 * 60, effective_from=date(2026, 1, 5))
    before = availability_on([rule], [], date(2026, 9, 28), SYD).work[0]
    after = availability_on([rule], [], date(2026, 10, 5), SYD).work[0]
    assert before.start.astimezone(SYD).hour == 9
    assert after.start.astimezone(SYD).hour == 9
    assert before.start.astimezone(UTC).hour != after.start.astimezone(UTC).hour


def test_covered_joins_adjacent_spans() -> None:
    spans = [Block(at(MON, 8), at(MON, 12)), Block(at(MON, 12), at(MON, 17))]
    assert covered(at(MON, 11), at(MON, 13), spans)
    assert not covered(at(MON, 16), at(MON, 18), spans)


def test_clashes_by_practitioner_and_room_ignoring_self() -> None:
    busy = [
        Block(at(MON, 9), at(MON, 9, 30), "p1", "r1", "a1", "Smith"),
        Block(at(MON, 10), at(MON, 10, 30), "p2", "r2", "a2", "Jones"),
    ]
    found = clashes(at(MON, 9, 15), at(MON, 9, 45), "p1", None, busy, tz=SYD)
    assert [p.kind for p in found] == [ProblemKind.PRACTITIONER_CLASH]
    assert "09:00" in found[0].message and "Smith" in found[0].message
    assert clashes(at(MON, 9, 30), at(MON, 10), "p1", None, busy) == []  # touching is fine
    assert clashes(at(MON, 9), at(MON, 9, 30), "p1", None, busy, ignore_id="a1") == []
    room = clashes(at(MON, 10), at(MON, 10, 15), "p1", "r2", busy)
    assert [p.kind for p in room] == [ProblemKind.ROOM_CLASH]


def test_assess_follows_overlap_policy() -> None:
    busy = [Block(at(MON, 9), at(MON, 9, 30), "p1", "r1", "a1")]
    problems = clashes(at(MON, 9), at(MON, 9, 30), "p1", "r1", busy)
    assert assess(problems, "allow").ok
    warn = assess(problems, "warn")
    assert not warn.ok and warn.warnings and not warn.refusals
    assert assess(problems, "block").refusals
    late = past_problem(at(MON, 8), at(MON, 9), timedelta(minutes=15))
    assert late is not None
    assert assess([late], "allow").refusals
    assert past_problem(at(MON, 8, 50), at(MON, 9), timedelta(minutes=15)) is None


def test_weekly_recurrence_keeps_local_time_across_dst() -> None:
    first = at(date(2026, 9, 22), 9)  # Tuesday, standard time
    times = recurrence(first, timedelta(minutes=30), SYD, every_weeks=1, count=3)
    assert [s.astimezone(SYD).hour for s, _ in times] == [9, 9, 9]
    assert times[0][0].astimezone(UTC).hour == 23  # 09:00 AEST = 23:00 UTC the day before
    assert times[2][0].astimezone(UTC).hour == 22  # 09:00 AEDT = 22:00 UTC
    assert all(e - s == timedelta(minutes=30) for s, e in times)


def test_recurrence_back_to_standard_time_and_until() -> None:
    first = at(date(2026, 3, 24), 17, 30)  # Sydney returns to standard time on 5 Apr 2026
    times = recurrence(first, timedelta(hours=1), SYD, every_weeks=2, until=date(2026, 5, 5))
    assert [s.astimezone(SYD).date() for s, _ in times] == [
        date(2026, 3, 24), date(2026, 4, 7), date(2026, 4, 21), date(2026, 5, 5)
    ]  # fmt: skip
    assert {s.astimezone(SYD).strftime("%H:%M") for s, _ in times} == {"17:30"}


def test_recurrence_needs_an_end_and_sane_count() -> None:
    with pytest.raises(ValidationFailed):
        recurrence(at(MON, 9), timedelta(minutes=30), SYD)
    with pytest.raises(ValidationFailed):
        recurrence(at(MON, 9), timedelta(minutes=30), SYD, count=0)
    with pytest.raises(ValidationFailed):
        recurrence(at(MON, 9), timedelta(minutes=30), SYD, until=MON - timedelta(days=1))


def test_free_slots_skip_bookings_breaks_and_leave() -> None:
    leave = [Block(at(MON, 14), at(MON, 17), "p1")]
    avail = availability_on(week_roster(), leave, MON, SYD)
    busy = [Block(at(MON, 8), at(MON, 9), "p1", ref_id="x")]
    slots = list(free_slots_on("p1", MON, avail, busy, timedelta(minutes=45), SYD, slot=15))
    starts = [s.start.astimezone(SYD).strftime("%H:%M") for s in slots]
    assert starts[0] == "09:00"
    assert "12:00" not in starts  # would run into lunch
    assert "11:45" in starts
    assert "13:00" in starts
    assert all(s.end <= at(MON, 14) or s.start >= at(MON, 17) for s in slots)
    later = list(
        free_slots_on("p1", MON, avail, busy, timedelta(minutes=30), SYD, slot=15,
                      not_before=at(MON, 10, 5), earliest_minute=10 * 60, latest_minute=11 * 60)
    )  # fmt: skip
    assert [s.start.astimezone(SYD).strftime("%H:%M") for s in later] == [
        "10:15", "10:30", "10:45"
    ]  # fmt: skip


def test_no_slots_on_unrostered_day() -> None:
    avail = Availability()
    assert list(free_slots_on("p1", MON, avail, [], timedelta(minutes=30), SYD)) == []
