"""``free_slots_window`` (one pass over many days, interval arithmetic in local minutes) gives
exactly the slots of
``free_slots_on`` day by day: random rosters, breaks, leave and bookings (some at odd seconds,
some across midnight), both daylight-saving changes, limits on the first and last start."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.diary import (
    Block,
    FreeSlot,
    RosterRule,
    availability_on,
    free_slots_on,
    free_slots_window,
)

TZ = ZoneInfo("Australia/Sydney")
# a fortnight either side of each change: 5 Apr 2026 (back) and 4 Oct 2026 (forward)
FIRST_DAYS = (date(2026, 3, 30), date(2026, 9, 28), date(2026, 6, 1))


def _seconds(blocks: list[Block]) -> list[tuple[float, float]]:
    """Busy times as the server reads them for the search: seconds after the epoch."""
    return [(b.start.timestamp(), b.end.timestamp()) for b in blocks]


def _day_by_day(
    days: list[date],
    rules: list[RosterRule],
    leave: list[Block],
    busy: list[Block],
    length: timedelta,
    slot: int,
    not_before: datetime | None,
    not_from: datetime | None,
    earliest: int,
    latest: int,
) -> list[FreeSlot]:
    out: list[FreeSlot] = []
    for day in days:
        lo, hi = day_bounds_utc(day, TZ)
        avail = availability_on(rules, leave, day, TZ)
        for s in free_slots_on(
            "p", day, avail, [b for b in busy if b.overlaps(lo, hi)], length, TZ, slot=slot,
            not_before=not_before, earliest_minute=earliest, latest_minute=latest,
        ):  # fmt: skip
            if not_from is None or s.start < not_from:
                out.append(s)
    return out


def _rule(wd: int, s: int, n: int, brk: bool, every: int, off: int) -> RosterRule:
    return RosterRule(
        "p", wd, s * 15, min(1440, s * 15 + n * 15), "break" if brk else "work",
        every_weeks=every, week_offset=min(off, every - 1),
    )  # fmt: skip


rule = st.builds(
    _rule,
    st.integers(0, 6),
    st.integers(0, 90),
    st.integers(1, 40),
    st.booleans(),
    st.integers(1, 2),
    st.integers(0, 1),
)


@st.composite
def blocks(draw: st.DrawFn, first: date) -> list[Block]:
    base = day_bounds_utc(first, TZ)[0]
    out = []
    for _ in range(draw(st.integers(0, 25))):
        start = base + timedelta(seconds=draw(st.integers(0, 14 * 86400)))
        length = timedelta(seconds=draw(st.sampled_from([900, 1800, 2700, 3600, 5430, 86400])))
        out.append(Block(start, start + length, "p", ref_id=str(len(out))))
    return out


@settings(max_examples=150, deadline=None)
@given(
    first=st.sampled_from(FIRST_DAYS),
    rules=st.lists(rule, max_size=8),
    data=st.data(),
    minutes=st.sampled_from([15, 30, 45, 60, 20]),
    slot=st.sampled_from([5, 15, 30]),
    earliest=st.sampled_from([0, 600]),
    latest=st.sampled_from([1440, 780]),
    nb_hours=st.one_of(st.none(), st.integers(0, 14 * 24)),
    nf_hours=st.one_of(st.none(), st.integers(0, 14 * 24)),
)
def test_window_gives_the_same_slots_as_day_by_day(
    first: date,
    rules: list[RosterRule],
    data: st.DataObject,
    minutes: int,
    slot: int,
    earliest: int,
    latest: int,
    nb_hours: int | None,
    nf_hours: int | None,
) -> None:
    days = [first + timedelta(days=n) for n in range(14)]
    leave = data.draw(blocks(first))
    busy = data.draw(blocks(first))
    base = day_bounds_utc(first, TZ)[0]
    not_before = None if nb_hours is None else base + timedelta(hours=nb_hours, seconds=7)
    not_from = None if nf_hours is None else base + timedelta(hours=nf_hours)
    length = timedelta(minutes=minutes)
    want = _day_by_day(
        days, rules, leave, busy, length, slot, not_before, not_from, earliest, latest
    )
    got = list(
        free_slots_window(
            "p", days, rules, leave, _seconds(busy), length, TZ, slot=slot,
            not_before=not_before, not_from=not_from, earliest_minute=earliest,
            latest_minute=latest,
        )
    )  # fmt: skip
    assert got == want


def test_a_fixed_week_with_a_booking_and_leave() -> None:
    """A readable case: Monday 9–12, a 10:00 booking and Tuesday's leave."""
    mon = date(2026, 6, 1)
    rules = [RosterRule("p", d, 540, 720) for d in (0, 1)]
    at = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # 10:00 in Sydney (AEST, +10)
    busy = [Block(at, at + timedelta(minutes=30), "p")]
    leave = [Block(*day_bounds_utc(mon + timedelta(days=1), TZ), "p")]
    got = list(
        free_slots_window(
            "p", [mon, mon + timedelta(days=1)], rules, leave, _seconds(busy),
            timedelta(minutes=60), TZ, slot=30,
        )
    )  # fmt: skip
    assert [s.start.astimezone(TZ).strftime("%a %H:%M") for s in got] == [
        "Mon 09:00", "Mon 10:30", "Mon 11:00",
    ]  # fmt: skip
