"""Check digits of Australian identifiers, and their messages for people."""

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


def medicare_problem(number: str) -> str | None:
    """Why a typed Medicare number cannot be right, or None when it can."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if any(not (ch.isdigit() or ch.isspace() or ch == "-") for ch in number):
        return "A Medicare number has only digits."
    if len(digits) not in (10, 11):
        return f"A Medicare number has 10 digits (this one has {len(digits)})."
    if digits[0] not in "23456":
        return "A Medicare number starts with 2, 3, 4, 5 or 6."
    if not is_valid_medicare(digits):
        return "This Medicare number fails its check digit: please check it against the card."
    return None


def is_valid_ndis(number: str) -> bool:
    """An NDIS number: 9 digits starting 43."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return len(digits) == 9 and digits.startswith("43")
