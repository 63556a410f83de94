"""The set-up rules: ABN checksum, lengths, colours, times, rosters, rooms, who offers a type."""

from __future__ import annotations

from datetime import date

import pytest

from frontdesk.domain.clinic_setup import (
    RosterBlock,
    check_abn,
    check_colour,
    check_length,
    check_offered_by,
    check_room_at_location,
    check_room_name_free,
    check_roster,
    check_state,
    offers,
    parse_hhmm,
)
from frontdesk.domain.errors import ValidationFailed

MONDAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("51824753556", "51 824 753 556"),  # the ATO's own example
        ("53 004 085 616", "53 004 085 616"),
        (" 83 914 571 673 ", "83 914 571 673"),
        ("", ""),
    ],
)
def test_valid_abns_are_kept_spaced(typed: str, stored: str) -> None:
    assert check_abn(typed) == stored


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("51824753557", "not a valid ABN"),  # last digit off by one
        ("15824753556", "not a valid ABN"),  # two digits swapped
        ("5182475355", "11 digits"),
        ("51-824-753-556", "11 digits"),
        ("ABN 51824753556", "11 digits"),
    ],
)
def test_bad_abns_are_refused_naming_the_field(typed: str, says: str) -> None:
    with pytest.raises(ValidationFailed, match=says) as caught:
        check_abn(typed)
    assert caught.value.field == "business_number"


def test_lengths() -> None:
    assert check_length(30) == 30
    for bad, says in ((0, "at least 5"), (-5, "at least 5"), (7, "steps of 5"), (725, "12 hours")):
        with pytest.raises(ValidationFailed, match=says) as caught:
            check_length(bad)
        assert caught.value.field == "duration"


def test_colours_times_states() -> None:
    assert check_colour(" #4F86C6 ") == "#4f86c6"
    with pytest.raises(ValidationFailed, match="not a colour"):
        check_colour("blue")
    assert [parse_hhmm(t, field="x") for t in ("9", "9:30", "0930", "17.00", "24:00")] == [
        540, 570, 570, 1020, 1440,
    ]  # fmt: skip
    for bad in ("25:00", "9:75", "nine", "24:30"):
        with pytest.raises(ValidationFailed):
            parse_hhmm(bad, field="start")
    assert check_state("nsw") == "NSW"
    with pytest.raises(ValidationFailed, match="state or territory"):
        check_state("Sydney")


def test_roster_overlapping_work_blocks_are_refused_naming_the_line() -> None:
    blocks = [RosterBlock(0, 9 * 60, 13 * 60), RosterBlock(0, 12 * 60, 17 * 60)]
    with pytest.raises(ValidationFailed, match="Monday hours 12:00–17:00 overlaps") as caught:
        check_roster(blocks, 1, MONDAY)
    assert caught.value.field == "roster.1"
    # the same hours in different weeks of a fortnightly roster do not overlap
    check_roster([RosterBlock(0, 540, 780), RosterBlock(0, 720, 1020, week=1)], 2, MONDAY)
    # touching blocks are fine
    check_roster([RosterBlock(0, 540, 780), RosterBlock(0, 780, 1020)], 1, MONDAY)


def test_roster_break_outside_hours_is_refused() -> None:
    blocks = [RosterBlock(1, 540, 1020), RosterBlock(1, 1000, 1050, is_break=True)]
    with pytest.raises(ValidationFailed, match="Tuesday break 16:40–17:30 is outside") as c:
        check_roster(blocks, 1, MONDAY)
    assert c.value.field == "roster.1"
    # a break on a day with no hours at all
    with pytest.raises(ValidationFailed, match="outside the hours"):
        check_roster([RosterBlock(2, 720, 750, is_break=True)], 1, MONDAY)
    check_roster([RosterBlock(1, 540, 1020), RosterBlock(1, 720, 750, is_break=True)], 1, MONDAY)


def test_roster_times_and_cycle() -> None:
    with pytest.raises(ValidationFailed, match="must be after the start") as c:
        check_roster([RosterBlock(3, 600, 600)], 1, MONDAY)
    assert c.value.field == "roster.0"
    with pytest.raises(ValidationFailed, match="every 1 to 8 weeks") as c:
        check_roster([], 0, MONDAY)
    assert c.value.field == "every_weeks"
    with pytest.raises(ValidationFailed, match="Week 3 is not in a 2-week roster"):
        check_roster([RosterBlock(0, 540, 600, week=2)], 2, MONDAY)


def test_a_room_is_at_one_location() -> None:
    check_room_at_location("Room 1", "north", "north", "North")
    check_room_at_location("Room 1", "north", None, "")
    with pytest.raises(ValidationFailed, match="Room 1 is not at South") as c:
        check_room_at_location("Room 1", "north", "south", "South")
    assert c.value.field == "room"
    with pytest.raises(ValidationFailed, match="already a room called gym"):
        check_room_name_free("Gym", ["gym", "Room 2"])


def test_archived_practitioners_cannot_offer_a_type() -> None:
    check_offered_by(["a", "b"], {"c": "Cy"})
    with pytest.raises(ValidationFailed, match="Cy is archived") as c:
        check_offered_by(["a", "c"], {"c": "Cy"})
    assert c.value.field == "practitioners"


def test_who_offers_a_type() -> None:
    assert offers("Physiotherapy", "", "p1", "physiotherapy")
    assert not offers("Dietetics", "", "p1", "Chiropractic")
    assert offers("", "", "p1", "Chiropractic")  # no profession, nobody chosen: everyone
    assert offers("Dietetics", "p1 p2", "p1", "Chiropractic")  # chosen by name
    assert not offers("", "p2", "p1", "Physiotherapy")
