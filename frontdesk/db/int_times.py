"""Stored times as integers (desk revision 0390_inttimes, server s0009_inttimes).

Every ``UTCDateTime`` column is declared ``DATETIME`` on SQLite (NUMERIC affinity). Until 0390 it
held the 26-character text ``YYYY-MM-DD HH:MM:SS.ffffff`` (naive UTC); since, the integer
microseconds since 1970-01-01 00:00 UTC (``db/types.py``). ``convert`` rewrites a file's time
columns either way in place, in slices of rows so progress moves; ``text_times`` lists any value
still stored as text (a raw-SQL site that was missed writes text, and text never compares equal
to an integer, so the tests assert there is none after their workflows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

# text → integer microseconds: whole seconds from SQLite's own calendar, the six digits of the
# fraction from the text (a value without a fraction gets .000000); NULL when it is no time
TEXT_TO_MICROS = (
    "CAST(strftime('%s', {c}) AS INTEGER) * 1000000 "
    "+ CAST(substr({c} || '.000000', 21, 6) AS INTEGER)"
)


def micros_to_text(c: str, sep: str = " ") -> str:
    """SQL: integer microseconds ``c`` → ``YYYY-MM-DD HH:MM:SS.ffffff`` (naive UTC; the text
    SQLAlchemy stored before 0390, and what PostgreSQL reads as a timestamp); ``sep`` "T" for
    ISO 8601. NULL stays NULL."""
    return (
        f"(strftime('%Y-%m-%d{sep}%H:%M:%S', {c} / 1000000, 'unixepoch') "
        f"|| printf('.%06d', {c} % 1000000))"
    )


MICROS_TO_TEXT = micros_to_text("{c}")
# hand-made tables that keep a time copied from a model's column (db/report_summary.py)
HAND_MADE = {("report_summary_first_visits", "first_at")}

Execute = Callable[[str], Any]
Query = Callable[[str], Sequence[Sequence[Any]]]
Progress = Callable[[str, float], None]
SLICE_ROWS = 50_000


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def time_columns(query: Query) -> dict[str, list[str]]:
    """Table → its columns declared DATETIME (every UTCDateTime column), as the file has them."""
    out: dict[str, list[str]] = {}
    tables = [
        str(r[0])
        for r in query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name"
        )
    ]
    for table in tables:
        cols = [str(r[1]) for r in query(f"PRAGMA table_info({_q(table)})")
                if "DATETIME" in str(r[2]).upper()]  # fmt: skip
        if cols:
            out[table] = cols
    return out


def text_times(query: Query) -> list[tuple[str, str, int]]:
    """(table, column, rows) for every time column holding text: empty on a converted file."""
    out = []
    columns = time_columns(query)
    for table, col in sorted(HAND_MADE):  # declared VARCHAR(26) before 0390, DATETIME since
        have = query(f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{table}'")
        if have and col not in columns.get(table, []):
            columns.setdefault(table, []).append(col)
    for table, cols in columns.items():
        counts = ", ".join(f"sum(typeof({_q(c)}) = 'text')" for c in cols)
        row = query(f"SELECT {counts} FROM {_q(table)}")[0]
        out += [(table, c, int(n)) for c, n in zip(cols, row, strict=True) if n]
    return out


def convert(
    execute: Execute, query: Query, *, to_integer: bool, progress: Progress | None = None
) -> int:
    """Rewrite every time column to integers (``to_integer``) or back to text, in slices of
    ``SLICE_ROWS`` rowids, reporting ``progress(table, fraction of all rows)``. A text value
    that is no time is left as it is and then raises ValueError naming it: the caller's
    transaction (an Alembic revision's) rolls every change back. Returns the rows visited. The
    caller pauses the summaries' triggers."""
    columns = time_columns(query)
    source, expr = ("text", TEXT_TO_MICROS) if to_integer else ("integer", MICROS_TO_TEXT)
    spans = {}
    for table in columns:
        low, high = query(f"SELECT min(rowid), max(rowid) FROM {_q(table)}")[0]
        spans[table] = (int(low or 0), int(high or 0))
    total = sum(high - low + 1 for low, high in spans.values() if high) or 1
    done = 0
    for table, cols in columns.items():
        # a text value that is no time stays text (coalesce), found below
        sets = ", ".join(
            f"{_q(c)} = CASE WHEN typeof({_q(c)}) = '{source}' "
            f"THEN coalesce({expr.format(c=_q(c))}, {_q(c)}) ELSE {_q(c)} END"
            for c in cols
        )
        low, high = spans[table]
        if not high:
            continue
        start = low
        while start <= high:
            end = start + SLICE_ROWS
            execute(f"UPDATE {_q(table)} SET {sets} WHERE rowid >= {start} AND rowid < {end}")
            done += min(end, high + 1) - start
            start = end
            if progress is not None:
                progress(table, done / total)
    if to_integer:
        left = text_times(query)
        if left:
            table, col, n = left[0]
            raise ValueError(f"{table}.{col}: {n} values are not times; nothing changed")
    return done
