from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdesk.domain.clinic_time import day_bounds_utc, local_to_utc, zone
from frontdesk.domain.clock import FakeClock
from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.hlc import MAX_DRIFT_MS, HybridClock, Stamp
from frontdesk.domain.identifiers import is_valid_medicare
from frontdesk.domain.ids import uuid7
from frontdesk.domain.money import format_money, parse_money, tax_exclusive, tax_inclusive


def test_uuid7_is_version_7_and_time_ordered() -> None:
    ids = [uuid7() for _ in range(5000)]
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("80", 8000), ("$1,234.50", 123450), ("0.05", 5), ("-5.5", -550), (" 12 ", 1200)],
)
def test_parse_money(typed: str, cents: int) -> None:
    assert parse_money(typed) == cents


@pytest.mark.parametrize("typed", ["", "abc", "1.234", "NaN", "inf", "1e400"])
def test_parse_money_rejects_with_a_message(typed: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_money(typed)
    assert err.value.user_message


def test_format_money() -> None:
    assert format_money(-123456) == "-$1,234.56"
    assert format_money(5) == "$0.05"


@given(st.integers(min_value=0, max_value=10**9))
def test_inclusive_tax_is_one_eleventh_rounded(cents: int) -> None:
    tax = tax_inclusive(cents, 1000)
    assert abs(tax * 11 - cents) <= 6  # within half a cent of one eleventh
    assert tax_exclusive(cents, 0) == 0


def test_medicare_check_digit() -> None:
    assert is_valid_medicare("2123 45670 1")
    assert not is_valid_medicare("2123 45671 1")
    assert not is_valid_medicare("7123456701")


def test_day_bounds_follow_daylight_saving() -> None:
    sydney = zone("Australia/Sydney")
    start, end = day_bounds_utc(date(2026, 10, 4), sydney)  # clocks go forward: 23 hours
    assert end - start == timedelta(hours=23)
    start, end = day_bounds_utc(date(2026, 4, 5), sydney)  # clocks go back: 25 hours
    assert end - start == timedelta(hours=25)
    assert local_to_utc(date(2026, 11, 27), time(9), sydney) == datetime(
        2026, 11, 26, 22, 0, tzinfo=UTC
    )


def test_hlc_orders_and_clamps_future_stamps() -> None:
    clock = FakeClock()
    hlc = HybridClock(clock, "deskA")
    a = hlc.tick()
    b = hlc.tick()
    assert a < b and a.encode() < b.encode()
    far = Stamp(a.wall_ms + 10 * 3600 * 1000, 0, "deskB")
    merged = hlc.observe(far)
    assert merged.wall_ms <= a.wall_ms + MAX_DRIFT_MS
    assert Stamp.decode(merged.encode()) == merged
