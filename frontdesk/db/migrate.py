"""Alembic, configured from code: the scripts ship inside the package and run at start-up.

Before an upgrade the file is backed up (compressed); a database stamped with a revision this
app does not know was written by a newer frontdesk and is refused, never downgraded. After an
upgrade that left a meaningful share of the file free (dropped or narrowed indexes), the file
is compacted (``VACUUM``), with progress.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, MetaData, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from frontdesk.db.backup import Progress, backup_file, timestamped_name
from frontdesk.db.head import EXPECTED_HEAD as SHIPPED_HEAD
from frontdesk.domain.errors import DatabaseTooNew

if TYPE_CHECKING:
    from alembic.config import Config

# The newest revision this version of frontdesk ships (db/head.py, where a start reads it before
# SQLAlchemy is imported). A database already stamped with it opens without importing Alembic
# at all (a tenth of a second off every start). The migrations test keeps it equal to the
# scripts' head.
EXPECTED_HEAD = SHIPPED_HEAD

log = logging.getLogger(__name__)

# Compact after an upgrade only when the free pages are at least this many bytes and this share
# of the file: VACUUM rewrites the whole file (a minute or more on a ten-year clinic).
COMPACT_MIN_BYTES = 16 << 20
COMPACT_MIN_SHARE = 0.02
# VACUUM reports no progress of its own: SQLite's progress handler counts virtual-machine steps,
# about 190 per page of the 10-year and demo clinics (measured); the estimate is capped below 1.
_VACUUM_STEPS_PER_PAGE = 190
_VACUUM_TICK = 10_000


def _script_location() -> str:
    return str(resources.files("frontdesk.db") / "migrations")


def config_for(script_location: str, metadata: Any = None) -> Config:
    """An Alembic config from code (no alembic.ini); the clinic server's chain uses it too."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.attributes["target_metadata"] = metadata
    return cfg


def head_of(cfg: Config) -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def alembic_config(metadata: MetaData | None = None) -> Config:
    return config_for(_script_location(), metadata)


def head_revision() -> str:
    return head_of(alembic_config())


def current_revision(engine: Engine) -> str | None:
    """The revision the database is stamped with (None for a new, empty file)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except (OperationalError, ProgrammingError):  # no alembic_version table yet
        return None
    return str(rows[0][0]) if rows else None


def _no_progress(_what: str, _fraction: float) -> None:
    return None


def upgrade(
    engine: Engine,
    *,
    backup_dir: Path | None = None,
    target: str = "head",
    progress: Progress | None = None,
) -> bool:
    """Bring the database to ``target``: back it up (with ``backup_dir``), apply the revisions,
    then compact the file when that frees a meaningful amount. ``progress(what, fraction)``
    follows the three steps. Returns True when anything was applied."""
    report = progress or _no_progress
    current = current_revision(engine)
    if target == "head" and current == EXPECTED_HEAD:
        return False
    from alembic import command
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    if current is not None:
        try:
            script.get_revision(current)
        except Exception as exc:
            raise DatabaseTooNew(
                "This data file was saved by a newer version of frontdesk. "
                "Install the latest version to open it; nothing has been changed.",
                detail=f"unknown revision {current}",
            ) from exc
    wanted = script.get_current_head() if target == "head" else target
    if current == wanted:
        return False
    if current is None:  # a new, empty file: nothing to show
        report = _no_progress
    if backup_dir is not None and current is not None and engine.url.database:
        source = Path(engine.url.database)
        name = timestamped_name(f"before-upgrade-{current}", datetime.now(UTC), compressed=True)
        backup_file(source, backup_dir / name, lambda what, f: report(what, 0.4 * f))
    report("Upgrading the database", 0.4)
    with engine.connect() as conn:
        # Foreign keys off while revisions rewrite keys (0400_blobkeys): a parent's key and its
        # children's change in one transaction; checked again on the next connection.
        raw = conn.connection.driver_connection  # outside SQLAlchemy's transaction
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg = alembic_config()
                cfg.attributes["connection"] = conn
                cfg.attributes["progress"] = _revisions_progress(
                    report, len(list(script.iterate_revisions(wanted, current)))
                )
                command.upgrade(cfg, target)
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
    if current is not None and engine.url.database:
        engine.dispose()  # VACUUM needs the file to itself
        always = bool(cfg.attributes.get("compact"))
        compact(
            Path(engine.url.database),
            lambda what, f: report(what, 0.5 + 0.5 * f),
            min_bytes=0 if always else None,
            min_share=0.0 if always else None,
        )
    report("Upgraded", 1.0)
    return True


def _revisions_progress(report: Progress, revisions: int) -> Progress:
    """The revisions' share of the upgrade window (0.4 to 0.5), for the revisions that report
    progress of their own (a long conversion: 0390_inttimes, 0400_blobkeys): each step it names
    takes the next part of the share, in the order they first report, and the bar only moves
    on."""
    steps: list[str] = []
    shown = [0.4]
    parts = max(revisions, 1)

    def step(what: str, fraction: float) -> None:
        if what not in steps:
            steps.append(what)
        slot = min(steps.index(what), parts - 1)
        shown[0] = max(shown[0], 0.4 + 0.1 * (slot + min(max(fraction, 0.0), 1.0)) / parts)
        report(what, shown[0])

    return step


def free_bytes(database: Path) -> tuple[int, int]:
    """(bytes in free pages, bytes of the whole file) of a database."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    finally:
        conn.close()
    return free * size, pages * size


def compact(
    database: Path,
    progress: Progress | None = None,
    *,
    min_bytes: int | None = None,
    min_share: float | None = None,
) -> int:
    """``VACUUM`` the file (outside any transaction) when its free pages are at least
    ``min_bytes`` and ``min_share`` of it (by default ``COMPACT_MIN_BYTES`` and
    ``COMPACT_MIN_SHARE``) and its disk has room for the rebuilt copy. Returns the bytes given
    back: 0 when it was not worth it or could not be done (a busy file, a full disk), and then
    the file is as it was and a note is logged."""
    report = progress or _no_progress
    free, total = free_bytes(database)
    least = COMPACT_MIN_BYTES if min_bytes is None else min_bytes
    share = COMPACT_MIN_SHARE if min_share is None else min_share
    if free < least or free < share * total:
        return 0
    room = shutil.disk_usage(database.parent).free
    if room < 2 * (total - free):  # the rebuilt copy and its write-ahead log
        log.warning("the database was not compacted: %d MB free on its disk", room >> 20)
        return 0
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        expected = max(1, (total - free) // page_size * _VACUUM_STEPS_PER_PAGE)
        steps = 0

        def tick() -> int:
            nonlocal steps
            steps += _VACUUM_TICK
            report("Compacting the database", min(0.99, steps / expected))
            return 0

        report("Compacting the database", 0.0)
        conn.execute("PRAGMA temp_store=FILE")  # the rebuilt copy on disk, not in memory
        conn.set_progress_handler(tick, _VACUUM_TICK)
        try:
            conn.execute("VACUUM")
        except sqlite3.OperationalError as exc:  # a full disk or a busy file: stays as it was
            log.warning("the database was not compacted: %s", exc)
            return 0
        finally:
            conn.set_progress_handler(None, 0)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    report("Compacting the database", 1.0)
    return total - free_bytes(database)[1]
