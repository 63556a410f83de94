"""Column types shared by every table: aware-UTC datetimes that work on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# SQL that turns a stored time (integer microseconds) into whole seconds for SQLite's date
# functions: ``datetime({col} / 1000000, 'unixepoch')`` (integer division floors for times
# after 1970, which every stored time is).
MICROS_PER_SECOND = 1_000_000
MICROS_PER_MINUTE = 60_000_000


class _Micros(TypeEngine[Any]):
    """What UTCDateTime is on SQLite: the column is still declared ``DATETIME`` (NUMERIC
    affinity, so an integer stays an integer), but values pass to the driver untouched (not a
    DateTime subclass, which SQLite's dialect would swap for its text-formatting DATETIME)."""

    __visit_name__ = "DATETIME"

    def literal_processor(self, dialect: Dialect) -> Callable[[Any], str]:
        return lambda value: str(int(value))  # SQL compiled with its values (benchmarks)

    @property
    def python_type(self) -> type:
        return datetime


class UTCDateTime(TypeDecorator[datetime]):
    """Accepts only aware datetimes, returns aware UTC.

    On SQLite the stored value is an integer: microseconds since 1970-01-01 00:00 UTC
    (8 bytes or fewer instead of the 26-character text ``YYYY-MM-DD HH:MM:SS.ffffff``; exact
    for every value Python's datetime holds, and it sorts in time order). Raw SQL binds
    ``sqlite_utc_value(at)``. On PostgreSQL it stays a native ``timestamp`` holding naive UTC.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return _Micros()
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        if dialect.name == "sqlite":
            return sqlite_utc_value(value)
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int):
            return from_sqlite_utc_value(value)
        if isinstance(value, str):
            # never written since 0390_inttimes: a text time is a raw-SQL site that was missed
            raise TypeError(f"a time stored as text ({value[:26]!r}), not integer microseconds")
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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


def blob_keys(dialect: Dialect) -> bool:
    """Whether keys are stored as 16-byte blobs through this dialect: on every SQLite engine
    (the desk's file) except those made with ``make_engine(..., text_keys=True)`` (the clinic
    server's SQLite keeps them as text, as its PostgreSQL does)."""
    return dialect.name == "sqlite" and not getattr(dialect, "frontdesk_text_keys", False)


class UUIDKey(TypeDecorator[str]):
    """A key (a row's id or a reference to one): the canonical UUID text in Python, the wire
    format and the API; on a desk's SQLite file stored as its 16 bytes (a third of the text's
    36). The declared column type stays ``VARCHAR(36)``: SQLite keeps a blob in a text-affinity
    column as it is, and the server (PostgreSQL, or SQLite made with ``text_keys``) keeps text.

    Raw SQL that binds or reads a key on the desk converts with :func:`key_blob` /
    :func:`key_text` (tests/db/test_blob_keys.py runs the raw statements on such a file)."""

    impl = String(36)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value == "":  # "no key" in a comparison (``id != ''``): matches no stored key
            return ""
        if blob_keys(dialect):
            return key_blob(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, bytes):
            return key_text(value)
        assert isinstance(value, str)
        return value


def is_key(column: Any) -> bool:
    """Whether a table's column is a key (:class:`UUIDKey`)."""
    return isinstance(column.type, UUIDKey)
