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


def rostered_minutes(rules: Iterable[RosterRule], first: date, last: date, off: set[date]) -> int:
    """Working minutes (work less breaks) from ``first`` to ``last`` inclusive, skipping ``off``."""
    rules = list(rules)
    total = 0
    day = first
    while day <= last:
        if day not in off:
            for rule in rules:
                if applies(rule, day):
                    span = rule.end_minute - rule.start_minute
                    total += -span if rule.is_break else span
        day += timedelta(days=1)
    return max(total, 0)
