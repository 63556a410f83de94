"""Column types shared by every table: aware-UTC datetimes that work on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from frontdesk.db.raw_values import (
    EPOCH,
    MICROS_PER_MINUTE,
    MICROS_PER_SECOND,
    MICROSECOND,
    NotAKeyError,
    from_sqlite_utc_value,
    key_blob,
    key_text,
    maybe_key_blob,
    maybe_key_text,
    sqlite_utc_value,
)

__all__ = [
    "EPOCH", "MICROSECOND", "MICROS_PER_MINUTE", "MICROS_PER_SECOND", "NotAKeyError",
    "UTCDateTime", "UUIDKey", "blob_keys", "from_sqlite_utc_value", "is_key", "key_blob",
    "key_text", "maybe_key_blob", "maybe_key_text", "sqlite_utc_value",
]  # fmt: skip


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
