"""Is a desk database file fit to open? Checked at start-up and before a backup, before anything
writes to it (issue 15, item 5): an empty or cut-short file, one whose header is not SQLite's,
one that fails SQLite's quick check, or one whose tables differ from what its revision should
have is *damaged*: it is never opened for writing and never replaced by a new, empty clinic.
The newest backup that passes the same checks is offered instead."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from frontdesk.db.live_file import read_at

if TYPE_CHECKING:  # SQLAlchemy is not imported here: a start begins this check before it
    from sqlalchemy import MetaData

HEADER = b"SQLite format 3\x00"


def _page_size(header: bytes) -> int:
    size = int.from_bytes(header[16:18], "big")
    return 65536 if size == 1 else size


def problem_of(
    path: Path,
    expected: MetaData | None = None,
    head: str | None = None,
    *,
    thorough: bool = True,
) -> str | None:
    """What is wrong with the database file at ``path`` (words for a person), or None when it
    is fine or does not exist yet. With ``expected`` and ``head``: a file at revision ``head``
    must hold every table and column of ``expected``. Not ``thorough`` (a start after a clean
    exit): instead of SQLite's quick_check, which reads every page (seconds on a ten-year
    clinic), every table and index must open."""
    if not path.exists():
        return None
    try:
        header = read_at(path, 0, 100)  # never close a handle on a file SQLite may hold
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if size == 0:
        return "is empty (0 bytes)"
    if not header.startswith(HEADER):
        return "is not a database file (its first bytes have been overwritten or it is not SQLite)"
    page = _page_size(header)
    if len(header) < 100 or page < 512 or size % page:
        return "is cut short (its size is not a whole number of pages)"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if thorough:
                rows = conn.execute("PRAGMA quick_check").fetchall()
                if rows != [("ok",)]:
                    return "fails SQLite's own check (parts of it are damaged)"
            elif not _opens_everywhere(conn):
                return "fails SQLite's own check (parts of it are damaged)"
            if expected is not None and head is not None:
                return _schema_problem(conn, expected, head)
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return "cannot be read by SQLite (it is damaged)"
    return None


def schema_problem_of(path: Path, expected: MetaData, head: str) -> str | None:
    """The tables-and-columns part of ``problem_of`` alone (a file already found sound)."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return _schema_problem(conn, expected, head)
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return "cannot be read by SQLite (it is damaged)"


class EarlyCheck:
    """``problem_of`` of the file's structure, begun on a thread as the process starts.

    SQLite reads the pages with Python's lock released, so the check runs while the main
    thread imports Qt, SQLAlchemy and the models, instead of after them. ``problem()`` waits
    for it, and ``open_desk`` calls it before anything opens the file for writing: a damaged
    file is refused exactly as before, only sooner."""

    def __init__(self, path: Path, *, thorough: bool) -> None:
        self.path = path
        self.thorough = thorough
        self._outcome: tuple[str | None, BaseException | None] = (None, None)
        self._thread = threading.Thread(target=self._run, name="structure-check", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._outcome = (problem_of(self.path, thorough=self.thorough), None)
        except BaseException as exc:  # handed to the thread that waits for the answer
            self._outcome = (None, exc)

    def sound(self) -> bool:
        """Once the check ends: whether it found the file sound (it exists, SQLite reads its
        structure, or its every page after a crash). The diary's first paint reads the file
        only then; ``problem()`` still decides, before anything writes."""
        self._thread.join()
        return self._outcome == (None, None) and self.path.exists()

    def problem(self, expected: MetaData, head: str) -> str | None:
        """What ``problem_of(path, expected, head, thorough=...)`` says, once the check ends."""
        self._thread.join()
        found, failed = self._outcome
        if failed is not None:
            raise failed
        return found if found is not None else schema_problem_of(self.path, expected, head)


def _opens_everywhere(conn: sqlite3.Connection) -> bool:
    """The first entry of every table and index reads (their root pages and the way down):
    what a damaged or overwritten file fails first, in milliseconds whatever the clinic's
    size (a file cut short is caught before, by its size)."""
    names = conn.execute(
        "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index') "
        "AND sql IS NOT NULL AND name NOT LIKE '%fts%'"
    ).fetchall()
    for kind, name, table in names:
        if kind == "table":
            conn.execute(f'SELECT * FROM "{name}" LIMIT 1').fetchall()
            continue
        try:
            conn.execute(f'SELECT 1 FROM "{table}" INDEXED BY "{name}" LIMIT 1').fetchall()
        except sqlite3.OperationalError as exc:
            if "no query solution" not in str(exc):  # a partial index this query cannot use
                raise
    return True


def _schema_problem(conn: sqlite3.Connection, expected: MetaData, head: str) -> str | None:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "alembic_version" not in tables:
        return None if not tables else "holds tables but no frontdesk version"
    revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    if revision is None or revision[0] != head:
        return None  # an older file: the migrations bring it up to date
    for name, table in expected.tables.items():
        if name not in tables:
            return f"is missing its {name} table"
        have = {r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')}
        missing = [c.name for c in table.columns if c.name not in have]
        if missing:
            return f"is missing the column {name}.{missing[0]}"
    return None
