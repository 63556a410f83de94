"""A few rows of a table read and written on the desk's own SQLite connection, with every value
bound and read by its column type's own processors (what SQLAlchemy applies to the same
columns: keys as 16 bytes, times as integer microseconds, dates, booleans), but with no
statement built per call: the SQL text and the processors are worked out once per table and
column set.

For the small, frequent statements of a woken desk's sync (applying a one-row page, the
fingerprints of the rows it touched, the audit anchors, the sync state), where building
SQLAlchemy statements was most of the desk's CPU (docs/performance.md, section 9). The rows
read back exactly as ORM-read ones (tests/sync/test_sync_woken_fast.py compares them).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from frontdesk.store.bulk import RawConnection, quoted, raw_connection

Processor = Callable[[Any], Any] | None
IN_CHUNK = 500
# Off: every caller takes its SQLAlchemy path instead (the equivalence tests run a sync both ways)
ENABLED = True


def usable(dialect: Dialect) -> bool:
    """Whether the raw path serves this connection (a desk's SQLite file)."""
    return ENABLED and dialect.name == "sqlite"


class RawCursor(RawConnection, Protocol):
    """A DB-API connection (sqlite3) that also runs single statements."""

    def execute(self, sql: str, params: Any = ..., /) -> Any: ...


_RAW_KEY = "frontdesk.raw_rows"


@contextmanager
def as_sqlalchemy_errors(sql: str) -> Iterator[None]:
    """A driver error raised as SQLAlchemy raises it (``IntegrityError`` and the rest), so
    callers handle both paths alike (the sync's clash message); never with the values."""
    try:
        yield
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, None, exc, sqlite3.Error, hide_parameters=True) from exc


def connection(session: Session) -> RawCursor | None:
    """The session's own DB-API connection when the raw path serves it (writes through it
    join the session's transaction), else None."""
    transaction = session.get_transaction()
    kept = session.info.get(_RAW_KEY)
    if kept is not None and transaction is not None and kept[0] is transaction:
        return kept[1]  # type: ignore[no-any-return]
    if not usable(session.get_bind().dialect):
        return None
    raw = raw_connection(session)
    session.info[_RAW_KEY] = (session.get_transaction(), raw)
    return raw  # type: ignore[return-value]


@lru_cache(maxsize=1024)
def _binders(table: Table, cols: tuple[str, ...], dialect: Dialect) -> tuple[Processor, ...]:
    return tuple(table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in cols)


@lru_cache(maxsize=1024)
def _readers(table: Table, cols: tuple[str, ...], dialect: Dialect) -> tuple[Processor, ...]:
    return tuple(
        table.c[c].type.dialect_impl(dialect).result_processor(dialect, None) for c in cols
    )


def bound(
    table: Table, cols: tuple[str, ...], values: Mapping[str, Any], dialect: Dialect
) -> tuple[Any, ...]:
    """``values`` of these columns as the driver receives them from SQLAlchemy."""
    return tuple(
        v if p is None or v is None else p(v)
        for p, v in zip(_binders(table, cols, dialect), map(values.__getitem__, cols), strict=True)
    )


def read(
    table: Table, cols: tuple[str, ...], row: Sequence[Any], dialect: Dialect
) -> dict[str, Any]:
    """A driver row of these columns as SQLAlchemy returns it (keys as text, aware times...)."""
    return {
        c: v if p is None or v is None else p(v)
        for c, p, v in zip(cols, _readers(table, cols, dialect), row, strict=True)
    }


def key_values(table: Table, ids: Iterable[str], dialect: Dialect) -> list[Any]:
    """Row ids as the driver binds them for ``table.id``."""
    p = _binders(table, ("id",), dialect)[0]
    return [i if p is None else p(i) for i in ids]


def select_by_ids(
    conn: RawCursor,
    table: Table,
    ids: Sequence[str],
    dialect: Dialect,
    cols: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """The rows of ``table`` with these ids (all columns unless ``cols``), as SQLAlchemy
    reads them."""
    cols = cols or _all_columns(table)
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), IN_CHUNK):
        chunk = key_values(table, ids[start : start + IN_CHUNK], dialect)
        sql = _select_sql(table, cols, len(chunk))
        with as_sqlalchemy_errors(sql):
            rows = conn.execute(sql, chunk).fetchall()
        out.extend(read(table, cols, row, dialect) for row in rows)
    return out


@lru_cache(maxsize=1024)
def _defaults(table: Table, given: frozenset[str]) -> dict[str, Any] | None:
    """The Python-side defaults SQLAlchemy's insert would add for the columns not ``given``;
    None when one is a function (that insert is left to SQLAlchemy)."""
    out: dict[str, Any] = {}
    for c in table.columns:
        if c.name in given or c.default is None:
            continue
        arg = getattr(c.default, "arg", None)
        if callable(arg) or not getattr(c.default, "is_scalar", False):
            return None
        out[c.name] = arg
    return out


def insert_many(
    conn: RawCursor, table: Table, rows: Sequence[Mapping[str, Any]], dialect: Dialect
) -> bool:
    """Insert rows that all name the same columns (one executemany), the columns they leave
    out taking their defaults as SQLAlchemy's insert gives them. False, writing nothing,
    when a default left out is a function."""
    if not rows:
        return True
    defaults = _defaults(table, frozenset(rows[0]))
    if defaults is None:
        return False
    if defaults:
        rows = [{**defaults, **r} for r in rows]
    cols = tuple(rows[0])
    sql = _insert_sql(table, cols)
    with as_sqlalchemy_errors(sql):
        conn.executemany(sql, [bound(table, cols, r, dialect) for r in rows])
    return True


def update_many(
    conn: RawCursor,
    table: Table,
    cols: tuple[str, ...],
    rows: Sequence[Mapping[str, Any]],
    dialect: Dialect,
    *,
    key: str = "id",
) -> None:
    """Set ``cols`` of the rows whose ``key`` column equals each row's ``key`` value (one
    executemany)."""
    if not rows:
        return
    everything = (*cols, key)
    sql = _update_sql(table, cols, key)
    with as_sqlalchemy_errors(sql):
        conn.executemany(sql, [bound(table, everything, r, dialect) for r in rows])


# The statements' text, made once per table and columns (a woken sync writes the same few)
@lru_cache(maxsize=256)
def _all_columns(table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns)


@lru_cache(maxsize=1024)
def _select_sql(table: Table, cols: tuple[str, ...], n: int) -> str:
    return (
        f"SELECT {', '.join(map(quoted, cols))} FROM {quoted(table.name)} "
        f"WHERE id IN ({', '.join('?' * n)})"
    )


@lru_cache(maxsize=1024)
def _insert_sql(table: Table, cols: tuple[str, ...]) -> str:
    return (
        f"INSERT INTO {quoted(table.name)} ({', '.join(map(quoted, cols))}) "
        f"VALUES ({', '.join('?' * len(cols))})"
    )


@lru_cache(maxsize=1024)
def _update_sql(table: Table, cols: tuple[str, ...], key: str) -> str:
    sets = ", ".join(f"{quoted(c)} = ?" for c in cols)
    return f"UPDATE {quoted(table.name)} SET {sets} WHERE {quoted(key)} = ?"
