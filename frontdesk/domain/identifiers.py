"""Check digits of Australian identifiers."""

from __future__ import annotations

_MEDICARE_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9)


def medicare_check_digit(first_eight: str) -> int:
    return sum(int(d) * w for d, w in zip(first_eight, _MEDICARE_WEIGHTS, strict=True)) % 10


def is_valid_medicare(number: str) -> bool:
    """A Medicare card number: 10 digits (11 with the IRN), first 2–6, 9th a check digit."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) not in (10, 11) or digits[0] not in "23456":
        return False
    return medicare_check_digit(digits[:8]) == int(digits[8])
