"""The clinic zone's UTC offset over a stretch of time, as a few spans between daylight-saving
changes. Reports turn stored UTC instants into clinic wall-clock time inside SQL with them
(one ``CASE`` over the spans), so a month or an hour of day is the clinic's, at any scale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def _offset_minutes(tz: ZoneInfo, at: datetime) -> int:
    off = at.astimezone(tz).utcoffset()
    return int(off.total_seconds() // 60) if off is not None else 0


def offset_spans(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """``[(until_utc, offset_minutes), …]``: the offset holds before each ``until`` (the last
    span's ``until`` is ``end``). Changes are found day by day, then to the minute by halving."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    spans: list[tuple[datetime, int]] = []
    current = _offset_minutes(tz, start)
    at = start
    while at < end:
        step = min(at + timedelta(days=1), end)
        nxt = _offset_minutes(tz, step)
        if nxt != current:
            lo, hi = at, step  # offset(lo) == current, offset(hi) != current
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if _offset_minutes(tz, mid) == current:
                    lo = mid
                else:
                    hi = mid
            change = hi.replace(second=0, microsecond=0)
            spans.append((change, current))
            current = _offset_minutes(tz, change)
        at = step
    spans.append((end, current))
    return spans
