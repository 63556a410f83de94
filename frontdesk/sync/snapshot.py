"""Writing snapshot pages into the desk database quickly: the first sync of a big clinic.

A page arrives as column names plus one array of JSON values per row (``form=columns``). For
each table and column list a plan is made once: which columns this desk knows, one converter
per column from JSON values to what SQLAlchemy would store (checked as strictly as
``models.codec.from_json_value``), and one upsert statement. A page is then converted column
by column and written with one ``executemany`` on the session's own connection, inside the
caller's ``ctx.write`` transaction. A newer local row or a row with a local change still
waiting to be pushed is left alone, as for pulled changes.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, LargeBinary, Table
from sqlalchemy.orm import Session

from frontdesk.db.types import EPOCH, MICROSECOND, NotAKeyError, UTCDateTime, UUIDKey, key_blob
from frontdesk.store import outbox
from frontdesk.store.bulk import insert_sql, raw_connection, write_many
from frontdesk.store.bulk import quoted as _q
from frontdesk.store.tracking import TRACKING_KEY, Tracking

Converter = Callable[[list[Any]], list[Any]]
NOTICE_MAX_ROWS = 5000  # a bigger page announces its table without listing every id
_NONE = type(None)


def _utc_value(name: str, value: Any) -> int:
    """An ISO 8601 datetime with a zone → the integer UTCDateTime stores on SQLite."""
    parsed = datetime.fromisoformat(str(value))  # raises ValueError when malformed
    if parsed.tzinfo is None:
        raise ValueError(f"{name}: datetime without a zone")
    return (parsed - EPOCH) // MICROSECOND


def _key(name: str, value: Any) -> bytes:
    try:
        return key_blob(value)
    except NotAKeyError as err:
        raise NotAKeyError(f"{name}: {err}") from None


def _check_types(name: str, values: list[Any], kind: type, what: str) -> None:
    if not set(map(type, values)) <= {kind, _NONE}:
        raise ValueError(f"{name}: expected {what}")


def converter(column: Column[Any]) -> Converter:
    """One column's JSON values → stored values, raising ValueError on a bad value."""
    ctype = column.type
    name = column.name
    if isinstance(ctype, UUIDKey):  # a key: its 16 bytes on the desk (NotAKeyError otherwise)
        return lambda vs: [None if v is None else _key(name, v) for v in vs]
    if isinstance(ctype, UTCDateTime):
        return lambda vs: [None if v is None else _utc_value(name, v) for v in vs]
    if isinstance(ctype, Date):
        return lambda vs: [
            None if v is None else date.fromisoformat(str(v)).isoformat() for v in vs
        ]
    if isinstance(ctype, LargeBinary):
        return lambda vs: [
            None if v is None else base64.b64decode(str(v), validate=True) for v in vs
        ]
    python_type = ctype.python_type
    if python_type is bool:
        return _checked(name, bool, "true or false")
    if python_type is int:
        return _checked(name, int, "a whole number")  # type() is int: a bool is refused
    if python_type is str:
        length: int | None = getattr(ctype, "length", None)
        check = _checked(name, str, "text")
        if length is None:
            return check

        def text_of_length(vs: list[Any]) -> list[Any]:
            check(vs)
            if max(map(len, filter(None, vs)), default=0) > length:
                raise ValueError(f"{name}: longer than {length} characters")
            return vs

        return text_of_length
    return lambda vs: vs


def _checked(name: str, kind: type, what: str) -> Converter:
    def check(vs: list[Any]) -> list[Any]:
        _check_types(name, vs, kind, what)
        return vs

    return check


@dataclass(frozen=True)
class Plan:
    """How pages with one column list are written into one desk table."""

    keep: tuple[int, ...]  # positions of the columns this desk knows, in the page's rows
    converters: tuple[Converter, ...]
    fixed: tuple[Any, ...]  # default values of desk columns the page does not carry
    id_position: int
    sql: str


@functools.cache
def plan(table: Table, columns: tuple[str, ...]) -> Plan:
    keep = tuple(i for i, c in enumerate(columns) if c in table.c)  # unknown: a newer server
    names = [columns[i] for i in keep]
    if "id" not in names:
        raise ValueError(f"{table.name}: snapshot rows without an id")
    fixed_names = [
        c.name
        for c in table.columns
        if c.name not in names and c.default is not None and c.default.is_scalar
    ]
    fixed = tuple(table.c[n].default.arg for n in fixed_names)  # type: ignore[union-attr]
    all_names = names + fixed_names
    if "version" in table.c and "version" in names:
        sets = ", ".join(f"{_q(n)} = excluded.{_q(n)}" for n in all_names if n != "id")
        tail = (
            f" ON CONFLICT ({_q('id')}) DO UPDATE SET {sets} "
            f"WHERE {_q(table.name)}.{_q('version')} < excluded.{_q('version')}"
        )
    else:  # number_series placeholders: only add what is missing (by id, kind and prefix)
        tail = " ON CONFLICT DO NOTHING"
    sql = insert_sql(table.name, all_names, tail)
    return Plan(keep, tuple(converter(table.c[n]) for n in names), fixed, names.index("id"), sql)


def as_columns(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """A page of one object per row (an older server) as column names and row arrays."""
    names = list(dict.fromkeys(k for r in rows for k in r))
    return names, [[r.get(n) for n in names] for r in rows]


def waiting_rows(session: Session) -> set[str]:
    """Ids of rows with local changes not yet accepted by the server."""
    return outbox.pending_row_ids(session)


def apply_page(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: list[list[Any]],
    waiting: set[str],
) -> int:
    """Upsert one page of rows; rows in ``waiting`` (pending local changes) are left alone.
    Returns how many rows were offered to the database."""
    if not rows:
        return 0
    p = plan(table, tuple(columns))
    by_column = list(zip(*rows, strict=True))
    if len(by_column) != len(columns):
        raise ValueError(f"{table.name}: snapshot rows do not match their columns")
    values = [convert(list(by_column[i])) for i, convert in zip(p.keep, p.converters, strict=True)]
    ids: list[str] = list(by_column[p.keep[p.id_position]])  # as text (stored as blobs)
    values += [[v] * len(rows) for v in p.fixed]
    params = list(zip(*values, strict=True))
    if waiting:
        params = [r for r, row_id in zip(params, ids, strict=True) if row_id not in waiting]
        ids = [i for i in ids if i not in waiting]
    write_many(raw_connection(session), p.sql, params)
    tracking: Tracking | None = session.info.get(TRACKING_KEY)
    if tracking is not None:
        if len(ids) <= NOTICE_MAX_ROWS:
            for row_id in ids:
                tracking.collector.add(table.name, row_id)
        else:
            tracking.collector.ids.setdefault(table.name, set())
    return len(params)
