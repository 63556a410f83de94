"""SQLite online backups of the desk database, verified with an integrity check."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from frontdesk.domain.errors import EnvironmentProblem
from frontdesk.paths import keep_private, private_dir


def backup_file(source: Path, destination: Path) -> Path:
    """Copy a live database with SQLite's online backup API (safe while others write),
    then check the copy. A full disk or unwritable folder becomes an EnvironmentProblem."""
    private_dir(destination.parent)
    partial = destination.with_suffix(destination.suffix + ".partial")
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)
                # A backup is one self-contained file: no -wal/-shm beside it, ever.
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        verify(partial)
        keep_private(partial)
        partial.replace(destination)
    except sqlite3.OperationalError as exc:
        raise EnvironmentProblem(
            f"The backup could not be written to {destination.parent}: {exc}. "
            "Check there is free disk space and that the folder can be written to.",
        ) from exc
    except OSError as exc:
        raise EnvironmentProblem(
            f"The backup could not be written to {destination.parent}: {exc.strerror}. "
            "Check there is free disk space and that the folder can be written to.",
        ) from exc
    finally:  # whatever stopped it (a damaged source too), no .partial file is left behind
        partial.unlink(missing_ok=True)
    return destination


def verify(path: Path) -> None:
    """Raise EnvironmentProblem unless ``path`` is an intact SQLite database."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise EnvironmentProblem(
            f"{path.name} is not a readable frontdesk database ({exc})."
        ) from exc
    if rows != [("ok",)]:
        raise EnvironmentProblem(f"{path.name} failed its integrity check: {rows[0][0]}")


def timestamped_name(prefix: str, when: datetime) -> str:
    return f"{prefix}-{when.strftime('%Y%m%d-%H%M%S')}.sqlite3"
