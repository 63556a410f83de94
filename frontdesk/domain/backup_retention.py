"""Which automatic backups to keep: the newest of each of the last 7 days, 4 weeks and 12 months
that have a backup (grandfather-father-son, as restic's --keep-daily/weekly/monthly)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

KEEP_DAILY = 7
KEEP_WEEKLY = 4
KEEP_MONTHLY = 12


def backups_to_keep(
    stamps: Iterable[datetime],
    tz: ZoneInfo,
    *,
    daily: int = KEEP_DAILY,
    weekly: int = KEEP_WEEKLY,
    monthly: int = KEEP_MONTHLY,
) -> set[datetime]:
    newest_first = sorted(stamps, reverse=True)
    rules: list[tuple[int, Callable[[datetime], Hashable]]] = [
        (daily, lambda d: d.date()),
        (weekly, lambda d: tuple(d.isocalendar())[:2]),
        (monthly, lambda d: (d.year, d.month)),
    ]
    keep: set[datetime] = set()
    for count, bucket_of in rules:
        seen: set[Hashable] = set()
        for stamp in newest_first:
            bucket = bucket_of(stamp.astimezone(tz))
            if bucket in seen:
                continue
            if len(seen) >= count:
                break
            seen.add(bucket)
            keep.add(stamp)
    return keep
