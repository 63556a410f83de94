"""The declarative base, naming conventions, and the columns every synced table carries.

The model modules do not use ``from __future__ import annotations``: with it every
``Mapped[...]`` is a string that SQLAlchemy evaluates as it declares the class, a fifth of the
time of importing the models at every start (tests/test_startup_imports.py keeps them so)."""

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, Index, MetaData, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from frontdesk.db.types import UTCDateTime, UUIDKey
from frontdesk.domain.ids import uuid7
from frontdesk.domain.vocab import values

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


class SyncedMixin:
    """Columns of every table that syncs between desks (ARCHITECTURE.md, Data).

    ``version`` is the server's row version the desk last saw (0: never synced); ``deleted_at`` is
    the tombstone. ``__sensitive__`` names fields whose concurrent edits become conflicts for a
    person rather than last-writer-wins. ``__server_only__`` tables are written by the clinic
    server alone: the server refuses any desk's change to them.
    """

    __sync__: ClassVar[bool] = True
    __sensitive__: ClassVar[frozenset[str]] = frozenset()
    __server_only__: ClassVar[bool] = False

    id: Mapped[str] = mapped_column(UUIDKey(), primary_key=True, default=uuid7)
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def one_of(column: str, enum: type[StrEnum], *, nullable: bool = False) -> CheckConstraint:
    """A CHECK that a text column holds one of an enum's values."""
    allowed = ", ".join(f"'{v}'" for v in values(enum))
    expr = f"{column} IN ({allowed})"
    if nullable:
        expr = f"{column} IS NULL OR {expr}"
    return CheckConstraint(expr, name=f"{column}_valid")


def filled_index(name: str, column: str, *more: str) -> Index:
    """An index over the rows whose ``column`` is filled in (a partial index): for a column
    that is empty in most rows and only ever looked up by value (``column = ?``), the empty
    rows cost bytes and a write each and are never read through it."""
    where = text(f"{column} IS NOT NULL")
    index = Index(name, column, *more, sqlite_where=where)
    _FILLED.append(index)
    return index


# The filled indexes, given PostgreSQL's spelling of the same predicate by
# ``postgresql_partial_indexes`` (the clinic server calls it): declaring ``postgresql_where``
# here imported SQLAlchemy's PostgreSQL dialect, with all its drivers and asyncio, into every
# start of the desk app, which never talks to PostgreSQL (docs/performance.md, cold start).
_FILLED: list[Index] = []


def postgresql_partial_indexes() -> None:
    """Give each filled index its ``postgresql_where`` (the same predicate as SQLite's)."""
    for index in _FILLED:
        options = index.dialect_options["postgresql"]
        if options["where"] is None:
            options["where"] = index.dialect_options["sqlite"]["where"]


def synced_tables() -> dict[str, type[SyncedMixin]]:
    """Table name → mapped class, for every synced table."""
    out: dict[str, type[SyncedMixin]] = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if isinstance(cls, type) and issubclass(cls, SyncedMixin):
            out[mapper.local_table.name] = cls  # type: ignore[attr-defined]
    return dict(sorted(out.items()))
