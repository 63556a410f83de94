"""The one bulk writer: rows inserted with ``executemany`` on the raw SQLite connection,
skipping per-row ORM and bind processing. Used by the demo clinic, the patient import and the
sync snapshot loader, which write tens of thousands of rows at a time.

``sqlite_value`` is what SQLAlchemy would bind on SQLite for a Python value; every raw write
goes through it so the rows read back exactly as ORM-written ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Table
from sqlalchemy.orm import Session

from frontdesk.db.types import is_key, maybe_key_blob, sqlite_utc_value
from frontdesk.domain.ids import uuid7


class RawConnection(Protocol):
    """A DB-API connection or cursor (sqlite3)."""

    def executemany(self, sql: str, rows: Any, /) -> Any: ...


_STORED_AS_IS = frozenset({str, int, float, bytes, type(None)})


def sqlite_value(value: Any) -> Any:
    """A Python value as SQLite stores it (UTC datetimes as integer microseconds, dates ISO,
    booleans 0/1)."""
    if type(value) in _STORED_AS_IS:  # the hot path of every bulk write
        return value
    if isinstance(value, datetime):
        return sqlite_utc_value(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def stored_value(column: Any, value: Any) -> Any:
    """``sqlite_value`` for one of a table's columns: a key (``UUIDKey``) as its 16 bytes."""
    return maybe_key_blob(value) if is_key(column) else sqlite_value(value)


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def insert_sql(table: str, columns: Sequence[str], tail: str = "") -> str:
    """``INSERT INTO table (columns) VALUES (?, …)`` plus an optional ``ON CONFLICT`` tail."""
    return (
        f"INSERT INTO {quoted(table)} ({', '.join(map(quoted, columns))}) "
        f"VALUES ({', '.join('?' * len(columns))}){tail}"
    )


def raw_connection(session: Session) -> RawConnection:
    """The session's own DB-API connection: writes through it join the session's transaction."""
    driver = session.connection().connection.driver_connection
    assert driver is not None
    return driver  # type: ignore[no-any-return]


def write_many(conn: RawConnection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    if rows:
        conn.executemany(sql, rows)


def scalar_defaults(table: Table) -> dict[str, Any]:
    """Column defaults that are plain values (not functions)."""
    return {
        c.name: getattr(c.default, "arg", None)
        for c in table.columns
        if not callable(getattr(c.default, "arg", None))
    }


_SHAPES: dict[Table, tuple[list[str], list[int], dict[str, Any], str]] = {}


class BulkWriter:
    """Collects rows for one table as tuples in column order and inserts them in chunks.

    Missing columns take their defaults; synced rows get version 0 and ``now`` as their
    created/updated time. ``on_full`` runs when a chunk is full (the demo flushes every table
    then, parents before children)."""

    CHUNK = 50_000

    def __init__(
        self,
        conn: RawConnection,
        table: Table,
        *,
        now: datetime | None = None,
        on_full: Callable[[], None] | None = None,
    ) -> None:
        self.conn, self.table = conn, table
        self.on_full = on_full or self.flush
        if table not in _SHAPES:  # worked out once per table: a booking makes four writers
            cols = [c.name for c in table.columns]
            keys = [i for i, c in enumerate(table.columns) if is_key(c)]
            defaults = {k: sqlite_value(v) for k, v in scalar_defaults(table).items()}
            _SHAPES[table] = (cols, keys, defaults, insert_sql(table.name, cols))
        self.cols, self.keys, defaults, self.sql = _SHAPES[table]
        self.defaults = dict(defaults)
        if now is not None:
            now_text = sqlite_value(now)
            self.defaults.update({"version": 0, "created_at": now_text, "updated_at": now_text})
        self.rows: list[tuple[Any, ...]] = []
        self.count = 0

    def add(self, **values: Any) -> str:
        """Queue one row (``id`` made if missing); returns its id."""
        if "id" in self.table.c:
            values.setdefault("id", uuid7())
        merged = {**self.defaults, **values}
        row = list(map(sqlite_value, map(merged.get, self.cols)))
        for i in self.keys:
            row[i] = maybe_key_blob(row[i])
        self.rows.append(tuple(row))
        if len(self.rows) >= self.CHUNK:
            self.on_full()
        return str(values.get("id"))

    def flush(self) -> None:
        write_many(self.conn, self.sql, self.rows)
        self.count += len(self.rows)
        self.rows = []
