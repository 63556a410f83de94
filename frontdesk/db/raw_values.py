"""How the desk stores times and keys, for raw ``sqlite3`` reads and writes: integer
microseconds since 1970 UTC, and keys as 16 bytes. No SQLAlchemy here (``db/types.py``'s column
types use these; the diary's first paint reads with them before SQLAlchemy is imported)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# SQL that turns a stored time (integer microseconds) into whole seconds for SQLite's date
# functions: ``datetime({col} / 1000000, 'unixepoch')`` (integer division floors for times
# after 1970, which every stored time is).
MICROS_PER_SECOND = 1_000_000
MICROS_PER_MINUTE = 60_000_000


@lru_cache(maxsize=256)  # a bulk write stamps thousands of rows with the same instant
def sqlite_utc_value(value: datetime) -> int:
    """The exact integer UTCDateTime stores on SQLite, for raw-SQL queries and bulk inserts."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
    return (value - EPOCH) // MICROSECOND


def from_sqlite_utc_value(value: int) -> datetime:
    """The aware UTC datetime of a stored integer (the inverse of ``sqlite_utc_value``)."""
    return EPOCH + timedelta(microseconds=value)


class NotAKeyError(ValueError):
    """A value given for a key column that is not a canonical (lower-case, 36-character) UUID."""


def key_blob(value: str) -> bytes:
    """The 16 bytes a desk stores for a key given as its canonical text, which must be exactly
    a lower-case 36-character UUID: anything else would not come back as it went in (or not at
    all), so it is refused with :class:`NotAKeyError` rather than stored or matched wrongly."""
    if isinstance(value, str) and len(value) == 36:
        try:
            raw = bytes.fromhex(value.replace("-", ""))
        except ValueError:
            raw = b""
        if len(raw) == 16 and key_text(raw) == value:
            return raw
    shown = repr(value) if len(repr(value)) <= 44 else repr(value)[:40] + "…"
    raise NotAKeyError(
        f"{shown} is not a key: keys are lower-case 36-character UUIDs "
        "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
    )


def key_text(raw: bytes) -> str:
    """The canonical text of a key stored as 16 bytes (the inverse of :func:`key_blob`)."""
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def maybe_key_blob(value: str | None) -> bytes | None:
    return None if value is None else key_blob(value)


def maybe_key_text(value: Any) -> Any:
    """A value read by raw SQL from a key column as the text the rest of the app uses (a
    16-byte blob as its UUID text; anything else as it is)."""
    return key_text(value) if isinstance(value, bytes) and len(value) == 16 else value
