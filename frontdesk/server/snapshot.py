"""Snapshot pages, encoded once as JSON: the rows of one table in id order after a given id.

Two shapes: ``rows`` as one object per row (the original form), or ``columns`` once and each
row as an array of values in that order (``form=columns``: about half the bytes, and the desk
decodes it column by column). Values are the JSON forms of ``models.codec.to_json_value``.
On SQLite each row's array is built by SQLite itself (``json_array``), so the server does no
Python work per value; other databases (and tables with binary columns) encode in Python.
"""

from __future__ import annotations

import functools
import json

from sqlalchemy import Boolean, Connection, Date, Integer, String, Table, Text, select

from frontdesk.db.int_times import micros_to_text
from frontdesk.db.types import UTCDateTime
from frontdesk.models.codec import to_json_value


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_expr(table: Table, name: str) -> str | None:
    """A SQLite expression giving the column's JSON value inside ``json_array``, or None when
    only Python can encode it. Datetimes are stored as integer microseconds since 1970 UTC
    (``db/types.py``) and go out as ISO 8601 with six fraction digits and the zone
    (``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``, the wire form before 0390_inttimes too); booleans
    (stored 0/1) as true/false."""
    column = table.c[name]
    q = _quoted(name)
    ctype = column.type
    if isinstance(ctype, UTCDateTime):
        return micros_to_text(q, "T") + " || '+00:00'"
    if isinstance(ctype, Boolean):
        return f"CASE WHEN {q} IS NULL THEN NULL WHEN {q} THEN json('true') ELSE json('false') END"
    if isinstance(ctype, Date | Integer | String | Text):  # Text is a String; listed for clarity
        return q
    return None


@functools.cache
def _sqlite_select(table: Table) -> str | None:
    exprs = [_sqlite_expr(table, c.name) for c in table.columns]
    if any(e is None for e in exprs):
        return None
    return (
        f"SELECT {_quoted('id')}, json_array({', '.join(e for e in exprs if e)}) "
        f"FROM {_quoted(table.name)} WHERE {_quoted('id')} > ? ORDER BY {_quoted('id')} LIMIT ?"
    )


def _encoded_rows(conn: Connection, table: Table, after: str, limit: int) -> tuple[list[str], str]:
    """(each row as a JSON array text, the last id) for up to ``limit`` rows after ``after``."""
    sql = _sqlite_select(table) if conn.dialect.name == "sqlite" else None
    if sql is not None:
        rows = conn.exec_driver_sql(sql, (after, limit)).all()
        return [r[1] for r in rows], (rows[-1][0] if rows else after)
    result = conn.execute(
        select(*table.columns).where(table.c.id > after).order_by(table.c.id).limit(limit)
    ).all()
    dumps = json.dumps
    encoded = [dumps([to_json_value(v) for v in r]) for r in result]
    return encoded, (result[-1].id if result else after)


def page_json(conn: Connection, table: Table, after: str, limit: int, *, columns: bool) -> str:
    """One snapshot page as JSON text: ``rows``, ``next_after`` (the last id sent) and ``done``;
    with ``columns``, the column names once and each row as an array."""
    names = [c.name for c in table.columns]
    arrays, last = _encoded_rows(conn, table, after, limit)
    tail = json.dumps({"next_after": last, "done": len(arrays) < limit})
    if columns:
        return f'{{"columns": {json.dumps(names)}, "rows": [{", ".join(arrays)}], {tail[1:]}'
    rows = [dict(zip(names, json.loads(a), strict=True)) for a in arrays]
    return f'{{"rows": {json.dumps(rows)}, {tail[1:]}'
