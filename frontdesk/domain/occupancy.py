"""Rostered minutes: how long a practitioner was rostered to work on given days.

Roster entries are local wall-clock minutes on a weekday, every N weeks from ``effective_from``;
breaks are subtracted, and whole days of leave remove the day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class RosterRule:
    weekday: int
    start_minute: int
    end_minute: int
    every_weeks: int
    week_offset: int
    effective_from: date
    effective_until: date | None
    is_break: bool


def applies(rule: RosterRule, day: date) -> bool:
    if day.weekday() != rule.weekday or day < rule.effective_from:
        return False
    if rule.effective_until is not None and day > rule.effective_until:
        return False
    weeks = (day - rule.effective_from).days // 7
    return weeks % rule.every_weeks == rule.week_offset


def working_spans(rules: Iterable[RosterRule], day: date) -> list[tuple[int, int]]:
    """The day's working minutes as sorted, disjoint ``(start, end)`` spans: work entries
    joined, breaks cut out. A break counts once whether the work entries already stop for it
    or run through it."""
    work: list[tuple[int, int]] = []
    breaks: list[tuple[int, int]] = []
    for rule in rules:
        if applies(rule, day):
            (breaks if rule.is_break else work).append((rule.start_minute, rule.end_minute))
    joined: list[tuple[int, int]] = []
    for start, end in sorted(work):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    for b_start, b_end in breaks:
        cut: list[tuple[int, int]] = []
        for start, end in joined:
            if b_end <= start or b_start >= end:
                cut.append((start, end))
                continue
            if start < b_start:
                cut.append((start, b_start))
            if b_end < end:
                cut.append((b_end, end))
        joined = cut
    return joined


def rostered_minutes(rules: Iterable[RosterRule], first: date, last: date, off: set[date]) -> int:
    """Working minutes (work less breaks) from ``first`` to ``last`` inclusive, skipping ``off``."""
    by_weekday: dict[int, list[RosterRule]] = {}
    for rule in rules:
        by_weekday.setdefault(rule.weekday, []).append(rule)
    total = 0
    day = first
    while day <= last:
        if day not in off:
            spans = working_spans(by_weekday.get(day.weekday(), ()), day)
            total += sum(end - start for start, end in spans)
        day += timedelta(days=1)
    return total
