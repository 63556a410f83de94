"""Money as integer cents. Never a float: parsing goes through Decimal, display through str."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from frontdesk.domain.errors import ValidationFailed

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 12  # far beyond any clinic's invoice; keeps cents in 64 bits


def parse_money(text: str, *, field: str = "amount") -> int:
    """Turn what a person typed ("$1,234.50", "80", "-5.5") into cents, or explain why not."""
    cleaned = text.strip().replace(",", "").replace("$", "").replace(" ", "")
    if not cleaned:
        raise ValidationFailed("Enter an amount.", field=field)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationFailed(f"“{text}” is not an amount of money.", field=field) from None
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise ValidationFailed(f"“{text}” is not an amount of money.", field=field)
    if value != value.quantize(CENT):
        raise ValidationFailed("Amounts have at most two decimal places.", field=field)
    return int(value * 100)


def format_money(cents: int, symbol: str = "$") -> str:
    """``-123456`` → ``-$1,234.56``."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{symbol}{whole:,}.{part:02d}"


def round_half_up(value: Decimal) -> int:
    """Round a Decimal number of cents to a whole cent, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def tax_exclusive(amount_cents: int, rate_bp: int) -> int:
    """Tax to add on top of a tax-exclusive amount, at ``rate_bp`` basis points (1000 = 10 %)."""
    return round_half_up(Decimal(amount_cents) * rate_bp / 10_000)


def tax_inclusive(amount_cents: int, rate_bp: int) -> int:
    """Tax contained in a tax-inclusive amount (one eleventh at 10 %)."""
    return round_half_up(Decimal(amount_cents) * rate_bp / (10_000 + rate_bp))
