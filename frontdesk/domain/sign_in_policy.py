"""How repeated wrong passwords slow sign-in down and then lock the account for a while."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

FREE_ATTEMPTS = 3  # wrong passwords before any waiting
LOCK_AFTER = 6  # wrong passwords in a row that lock the account
LOCK_FOR = timedelta(minutes=15)


def hold_after_failure(failures: int, now: datetime) -> datetime | None:
    """When the account may be tried again after ``failures`` wrong passwords in a row
    (None: straight away). 4th and 5th failures wait 10 and 30 s; the 6th locks for 15 min."""
    if failures >= LOCK_AFTER:
        return now + LOCK_FOR
    if failures > FREE_ATTEMPTS:
        return now + timedelta(seconds=10 * 3 ** (failures - FREE_ATTEMPTS - 1))
    return None


def is_locked_out(failures: int) -> bool:
    return failures >= LOCK_AFTER


def wait_text(until: datetime, now: datetime) -> str:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"
