"""Column types shared by every table: aware-UTC datetimes that work on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime
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
