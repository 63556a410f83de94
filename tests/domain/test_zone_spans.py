"""Offset spans find daylight-saving changes to the minute (Sydney, Adelaide, UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from frontdesk.domain.zone_spans import offset_spans


def test_sydney_year_has_two_changes_at_the_right_instants() -> None:
    spans = offset_spans(
        ZoneInfo("Australia/Sydney"),
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    # AEDT ends 2026-04-05 03:00 local (16:00 UTC the day before); AEST ends 2026-10-04 02:00.
    assert spans == [
        (datetime(2026, 4, 4, 16, 0, tzinfo=UTC), 660),
        (datetime(2026, 10, 3, 16, 0, tzinfo=UTC), 600),
        (datetime(2027, 1, 1, tzinfo=UTC), 660),
    ]


def test_half_hour_zone_and_utc() -> None:
    adelaide = offset_spans(
        ZoneInfo("Australia/Adelaide"),
        datetime(2026, 5, 1, tzinfo=UTC),
        datetime(2026, 6, 1, tzinfo=UTC),
    )
    assert adelaide == [(datetime(2026, 6, 1, tzinfo=UTC), 570)]
    utc = offset_spans(
        ZoneInfo("UTC"), datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    )
    assert utc == [(datetime(2030, 1, 1, tzinfo=UTC), 0)]
