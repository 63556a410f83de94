"""Online booking rules: how much notice a booking made online (through the integration API)
needs, and how far ahead it may be — per appointment type, optionally tightened per
practitioner — and the checks of a time against them. Plain functions, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.errors import ValidationFailed

LONGEST_NOTICE_MINUTES = 90 * 24 * 60  # 90 days
LONGEST_AHEAD_DAYS = 730


@dataclass(frozen=True)
class OnlineRules:
    """Book at least ``notice`` before the start and at most ``ahead_days`` days ahead (the
    clinic's days: today + N, to that day's end); ``None`` is no limit."""

    notice: timedelta = timedelta(0)
    ahead_days: int | None = None

    def earliest(self, now: datetime) -> datetime:
        return now + self.notice

    def latest(self, now: datetime, tz: ZoneInfo) -> datetime | None:
        """The first instant a booking may no longer start at (None: no limit)."""
        if self.ahead_days is None:
            return None
        today = now.astimezone(tz).date()
        return day_bounds_utc(today + timedelta(days=self.ahead_days), tz)[1]


def combined(
    type_notice: int | None,
    type_ahead: int | None,
    practitioner_notice: int | None = None,
    practitioner_ahead: int | None = None,
) -> OnlineRules:
    """The type's rules and the practitioner's together: the stricter of each applies."""
    notice = max(type_notice or 0, practitioner_notice or 0)
    aheads = [d for d in (type_ahead, practitioner_ahead) if d is not None]
    return OnlineRules(timedelta(minutes=notice), min(aheads) if aheads else None)


def _when(instant: datetime, tz: ZoneInfo) -> str:
    local = instant.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def _span(minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


def problem(rules: OnlineRules, start: datetime, now: datetime, tz: ZoneInfo) -> str | None:
    """Why ``start`` breaks the rules (a sentence for the developer and the caller), or None."""
    if start < rules.earliest(now):
        minutes = int(rules.notice.total_seconds() // 60)
        return (
            f"Online bookings need at least {_span(minutes)} notice: choose a time from "
            f"{_when(rules.earliest(now), tz)} on, or ring the clinic."
        )
    latest = rules.latest(now, tz)
    if latest is not None and start >= latest:
        last_day = (latest - timedelta(seconds=1)).astimezone(tz)
        return (
            f"Online bookings open at most {rules.ahead_days} days ahead: choose a time on or "
            f"before {last_day:%a} {last_day.day} {last_day:%b %Y}."
        )
    return None


def check_notice(value: int | None, *, optional: bool, field: str) -> int | None:
    """A notice in minutes as typed on a settings form (0 … 90 days)."""
    if value is None:
        if optional:
            return None
        return 0
    if not 0 <= value <= LONGEST_NOTICE_MINUTES:
        raise ValidationFailed(
            "Minimum notice is between 0 and 90 days (129,600 minutes).", field=field
        )
    return value


def check_ahead(value: int | None, *, field: str) -> int | None:
    """How far ahead in days (1 … 730), or None for no limit."""
    if value is None:
        return None
    if not 1 <= value <= LONGEST_AHEAD_DAYS:
        raise ValidationFailed(
            f"Online bookings reach between 1 and {LONGEST_AHEAD_DAYS} days ahead "
            "(leave it empty for no limit).",
            field=field,
        )
    return value
