"""Backups of the desk database: automatic daily ones (kept 7 daily / 4 weekly / 12 monthly),
"Back up now", and a restore that checks the file first and keeps the current database aside.

Daily and "Back up now" backups go into the deduplicating store in the backups folder
(db/backup_store.py): each is a manifest ``daily-YYYYmmdd-HHMMSS+HHMM.fdbackup`` (the clinic's
time and its offset) listing chunks kept once in ``backups/chunks/``. Earlier versions wrote
whole files — plain ``.sqlite3``, then Zstandard ``.sqlite3.zst`` (db/backup.py), named in UTC
without an offset at first: all are still listed, restored and pruned. "Back up now" writes
``manual-…``; ``frontdesk backup --out FILE`` writes one self-contained ``.sqlite3.zst`` file
(to take off-site); a restore keeps the replaced database as ``before-restore-…``, an upgrade
the database it upgraded as ``before-upgrade-<revision>-…`` (db/migrate.py). ``daily-``
backups are pruned by age (7 daily, 4 weekly, 12 monthly), ``before-upgrade-`` ones to the
newest two, then chunks no manifest lists, and then daily ones, oldest first, until the folder
holds at most ``SIZE_BUDGET`` times the database (the newest daily backup always stays).
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from frontdesk.db import backup_store, health, migrate
from frontdesk.db.backup import (
    Progress,
    backup_file,
    materialise,
    timestamped_name,
)
from frontdesk.db.engine import make_engine
from frontdesk.db.types import maybe_key_text
from frontdesk.domain.backup_retention import backups_to_keep
from frontdesk.domain.clock import Clock
from frontdesk.domain.errors import DatabaseTooNew, EnvironmentProblem, RuleViolation
from frontdesk.domain.ids import uuid7
from frontdesk.models import SyncState
from frontdesk.paths import DeskPaths, private_dir
from frontdesk.services.desk import check_database, open_desk
from frontdesk.services.permissions import Action, require
from frontdesk.store import outbox
from frontdesk.store.context import Actor, ServiceContext
from frontdesk.store.numbering import start_new_generation
from frontdesk.store.tracking import record_event

log = logging.getLogger("frontdesk.backups")

_NAME = re.compile(
    r"^(daily|manual|before-restore|before-upgrade)(?:-[0-9A-Za-z_]+?)?-(\d{8}-\d{6})([+-]\d{4})?"
    r"(?:\.\d+)?(?:\.sqlite3(?:\.zst)?|\.fdbackup)$"
)
KEEP_BEFORE_UPGRADE = 2  # the copies made before the last two upgrades
SIZE_BUDGET = 3  # the backups folder stays within this many times the database


def local_name(
    prefix: str, when: datetime, tz: ZoneInfo, suffix: str = backup_store.MANIFEST_SUFFIX
) -> str:
    """``daily-20261207-083000+1100.fdbackup``: the clinic's date and time (what a person
    looks for), with its offset so the moment is exact."""
    return f"{prefix}-{when.astimezone(tz):%Y%m%d-%H%M%S%z}{suffix}"


NOT_CHANGED = "Nothing has been changed."


@dataclass(frozen=True)
class BackupFile:
    path: Path
    kind: str  # "daily", "manual", "before-restore" or "before-upgrade"
    made_at: datetime  # UTC
    size: int  # of the file itself (a manifest's is small: see store_usage)

    @property
    def in_store(self) -> bool:
        return backup_store.is_manifest(self.path)


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds, read before anything is restored from it."""

    path: Path
    clinic_id: str
    clinic_name: str
    revision: str
    patients: int
    appointments: int
    staff: int


@dataclass(frozen=True)
class DeskIdentity:
    """Who this computer is to the clinic server, read from the database being replaced."""

    device_id: str
    device_name: str
    server_url: str | None
    server_certificate: str | None
    last_outbox_seq: int
    invoice_prefix: str | None


@dataclass(frozen=True)
class RestoreResult:
    info: BackupInfo
    set_aside: Path | None  # the database that was replaced, kept in the backups folder
    identity: DeskIdentity | None = None  # of the replaced database, when it had one


def _paths(ctx: ServiceContext) -> DeskPaths:
    if ctx.paths is None:
        raise EnvironmentProblem("This desk has no data folder, so it cannot be backed up.")
    return ctx.paths


def list_backups(backups_dir: Path) -> list[BackupFile]:
    """Newest first."""
    found = []
    if backups_dir.is_dir():
        for path in backups_dir.iterdir():
            match = _NAME.match(path.name)
            if match:
                if match.group(3):  # clinic time with its offset
                    made = datetime.strptime(match.group(2) + match.group(3), "%Y%m%d-%H%M%S%z")
                else:  # named in UTC by earlier versions
                    made = datetime.strptime(match.group(2), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
                made = made.astimezone(UTC)
                found.append(BackupFile(path, match.group(1), made, path.stat().st_size))
    return sorted(found, key=lambda b: b.made_at, reverse=True)


def backup_now(
    ctx: ServiceContext,
    out: Path | None = None,
    progress: Progress | None = None,
    *,
    thorough: bool = True,
) -> Path:
    """ "Back up now": a verified backup in the store (or, with ``out``, ``frontdesk backup
    --out FILE``: one self-contained file, compressed when it ends in ``.zst``), audited.
    ``progress(what, fraction)`` is called from the thread doing the work. Not ``thorough``
    (Settings → Backups): the live file gets the quick structural check instead of SQLite's
    quick_check, which reads every page (seconds on a ten-year clinic); the daily backup and
    the command line run the full check, and every restore checks the restored copy."""
    require(ctx.actor, Action.BACKUP)
    paths = _paths(ctx)
    target = out or paths.backups / local_name("manual", ctx.clock.now(), ctx.tz)
    if out is None:
        n = 1
        while target.exists():  # two backups in one second: keep both
            n += 1
            stem = target.name.split(".")[0]
            target = target.with_name(f"{stem}.{n}{backup_store.MANIFEST_SUFFIX}")
    if target.exists():
        raise RuleViolation(f"{target} already exists; choose another name. {NOT_CHANGED}")
    check_database(paths, what="no backup was made of it", thorough=thorough)
    made = write_backup(paths.database, target, progress)
    with ctx.write("back up") as session:
        record_event(session, "backup made", summary=f"Backed up to {made.name}")
    return made


def daily_backup_if_due(paths: DeskPaths, clock: Clock, tz: ZoneInfo) -> Path | None:
    """Make today's automatic backup unless there is one, then prune old ones. Needs no
    session, so the app runs it off the GUI thread."""
    now = clock.now().astimezone(UTC)
    today = now.astimezone(tz).date()
    existing = [b for b in list_backups(paths.backups) if b.kind == "daily"]
    made = None
    if not any(b.made_at.astimezone(tz).date() == today for b in existing):
        made = write_backup(paths.database, paths.backups / local_name("daily", now, tz))
    prune(paths.backups, tz, budget=SIZE_BUDGET * database_bytes(paths.database))
    if made is not None:
        # The full check (every chunk unpacked and compared) of the day's backup: finds a
        # chunk spoilt on the disk since an earlier backup wrote it (and sets it aside).
        try:
            check_backup(made)
        except EnvironmentProblem:
            # Made again at once: it writes the part set aside afresh, which mends every
            # earlier backup listing it too (else none could be restored until tomorrow's).
            # A second failure is the person's to hear of (the caller shows it).
            log.warning("the day's backup held a damaged part; backing up again")
            made.unlink(missing_ok=True)
            made = write_backup(paths.database, paths.backups / local_name("daily", now, tz))
            check_backup(made)
    return made


def write_backup(database: Path, target: Path, progress: Progress | None = None) -> Path:
    """A backup of ``database`` at ``target``: into the store for a manifest name, else one
    whole file (db/backup.py). A full disk or unwritable folder becomes an EnvironmentProblem;
    a damaged earlier part, a clear message (it is set aside and written afresh next time)."""
    if not backup_store.is_manifest(target):
        return backup_file(database, target, progress)
    private_dir(target.parent)
    try:
        backup_store.write_backup(database, target, progress)
    except backup_store.StoreDamaged as exc:
        raise EnvironmentProblem(f"The backup was not made: {exc}") from exc
    except (OSError, sqlite3.OperationalError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise EnvironmentProblem(
            f"The backup could not be written to {target.parent}: {reason}. "
            "Check there is free disk space and that the folder can be written to.",
        ) from exc
    return target


def check_backup(path: Path, progress: Progress | None = None) -> None:
    """Read every byte a backup holds back and compare its digests (store backups) or unpack
    and check it (whole files); EnvironmentProblem naming what is missing or damaged."""
    if backup_store.is_manifest(path):
        try:
            backup_store.check(path, progress)
        except backup_store.StoreDamaged as exc:
            mended = ""
            if exc.chunk is not None:  # set aside: the next backup writes it afresh
                with contextlib.suppress(OSError):
                    exc.chunk.replace(exc.chunk.with_name(exc.chunk.name + ".damaged"))
                    mended = " The next backup writes that part afresh."
            raise EnvironmentProblem(
                f"{exc} This backup cannot be restored as it is.{mended}"
            ) from exc
        return
    from frontdesk.db.backup import check_restores

    check_restores(path)


def describe(path: Path) -> str:
    """A few words on a backup just made, for the command line."""
    if not backup_store.is_manifest(path):
        return f"{path.stat().st_size / 1e6:.1f} MB, checked"
    own, shared = store_usage(path.parent).get(path, (0, 0))
    return (
        f"checked; {own / 1e6:.1f} MB of its own and {shared / 1e6:.1f} MB shared with other "
        f"backups in {path.parent}, which must be copied whole"
    )


def store_usage(backups_dir: Path) -> dict[Path, tuple[int, int]]:
    """For each backup in the store: (bytes only it holds, bytes it shares with others)."""
    return backup_store.usage(sorted(backups_dir.glob(f"*{backup_store.MANIFEST_SUFFIX}")))


def folder_bytes(backups_dir: Path) -> int:
    """Everything the backups take: whole files, manifests and the store's chunks."""
    return sum(b.size for b in list_backups(backups_dir)) + backup_store.chunks_bytes(backups_dir)


def database_bytes(database: Path) -> int:
    """The database's bytes, with those still in its write-ahead log."""
    total = 0
    for part in (database, Path(f"{database}-wal")):
        if part.exists():
            total += part.stat().st_size
    return total


def prune(backups_dir: Path, tz: ZoneInfo, budget: int | None = None) -> list[Path]:
    """Remove daily backups the retention no longer keeps, then, with a ``budget`` (bytes),
    the oldest daily ones until the folder fits it; the newest daily backup always stays."""
    found = list_backups(backups_dir)
    daily = [b for b in found if b.kind == "daily"]
    keep = backups_to_keep([b.made_at for b in daily], tz)
    upgrades = [b for b in found if b.kind == "before-upgrade"]  # newest first
    removed = []
    for b in [*daily, *upgrades[KEEP_BEFORE_UPGRADE:]]:
        if b.kind != "daily" or b.made_at not in keep:
            b.path.unlink(missing_ok=True)
            removed.append(b.path)
    # manifests first, then the chunks none of those left lists
    backup_store.collect_garbage(backups_dir)
    if budget and backup_store.collecting_blocked(backups_dir):
        log.warning("backups over their size limit left as they are: a backup is being written")
        budget = None  # removing backups now would free nothing: the next prune tries again
    if budget:
        total = folder_bytes(backups_dir)
        for b in sorted((b for b in daily if b.path not in removed), key=lambda b: b.made_at)[:-1]:
            if total <= budget:
                break
            b.path.unlink(missing_ok=True)
            removed.append(b.path)
            if b.in_store:
                backup_store.collect_garbage(backups_dir)
                before, total = total, folder_bytes(backups_dir)
                if total >= before:  # nothing freed (a backup began meanwhile): stop here
                    break
            else:
                total -= b.size
    return removed


# -- restore ----------------------------------------------------------------------------------
def inspect_backup(path: Path, work_dir: Path | None = None) -> BackupInfo:
    """Check a file is an intact frontdesk database this version can open. Reads a private copy
    (in ``work_dir``, else a temporary folder), so the user's file is never even opened for
    writing: a backup on a read-only USB stick works, and no -wal file appears beside it."""
    with tempfile.TemporaryDirectory(dir=work_dir, prefix=".inspect-") as tmp:
        return _inspect_copy(path, Path(tmp) / "backup.sqlite3")


def _inspect_copy(path: Path, staging: Path) -> BackupInfo:
    if not path.is_file():
        raise EnvironmentProblem(f"There is no backup file at {path}. {NOT_CHANGED}")
    broken = (
        f"{path.name} is damaged or is not a frontdesk backup (perhaps it was cut short while "
        f"copying). {NOT_CHANGED} Try another backup file."
    )
    try:
        materialise(path, staging)
    except OSError as exc:
        raise EnvironmentProblem(
            f"{path.name} cannot be read: {exc.strerror}. {NOT_CHANGED}"
        ) from exc
    except backup_store.StoreDamaged as exc:
        raise EnvironmentProblem(
            f"{exc} {NOT_CHANGED} Try another backup.", detail=str(exc)
        ) from exc
    except sqlite3.DatabaseError as exc:
        raise EnvironmentProblem(broken, detail=str(exc)) from exc
    try:
        conn = sqlite3.connect(staging)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
            if rows != [("ok",)]:
                raise EnvironmentProblem(broken, detail=str(rows[:3]))
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if not {"alembic_version", "clinic_settings", "staff_users"} <= tables:
                raise EnvironmentProblem(
                    f"{path.name} is an SQLite file, but not a frontdesk backup. {NOT_CHANGED}"
                )
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            from frontdesk.models import Base

            differs = health.problem_of(staging, Base.metadata, migrate.EXPECTED_HEAD)
            if differs is not None:  # e.g. a column dropped by hand
                raise EnvironmentProblem(
                    f"{path.name} {differs}, so it is not a usable frontdesk backup. "
                    f"{NOT_CHANGED} Try another backup file."
                )
            clinic = conn.execute(
                "SELECT id, name FROM clinic_settings WHERE deleted_at IS NULL LIMIT 1"
            ).fetchone()

            def count(table: str) -> int:
                return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

            counts = (count("patients"), count("appointments"), count("staff_users"))
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise EnvironmentProblem(broken, detail=str(exc)) from exc
    if revision is None or clinic is None:
        raise EnvironmentProblem(broken, detail="no revision or clinic settings")
    try:
        from alembic.script import ScriptDirectory  # only when restoring: keeps start-up lean

        ScriptDirectory.from_config(migrate.alembic_config()).get_revision(revision[0])
    except Exception as exc:
        raise DatabaseTooNew(
            f"{path.name} was made by a newer version of frontdesk. Install the latest version "
            f"to restore it. {NOT_CHANGED}",
            detail=f"unknown revision {revision[0]}",
        ) from exc
    # a backup from before 0400_blobkeys holds its keys as text, a newer one as blobs
    return BackupInfo(path, maybe_key_text(clinic[0]), clinic[1], revision[0], *counts)


def _current_clinic(database: Path) -> tuple[str, str, bool] | None:
    """(id, name, holds any data) of the database being replaced, or None when there is none."""
    if not database.exists():
        return None
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT id, name FROM clinic_settings WHERE deleted_at IS NULL LIMIT 1"
        ).fetchone()
        used = any(
            conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()
            for t in ("practitioners", "patients", "staff_users")
        )
    except sqlite3.DatabaseError:
        return None  # a damaged current database can always be replaced
    finally:
        conn.close()
    return (maybe_key_text(row[0]), row[1], used) if row else None


def _current_identity(database: Path) -> DeskIdentity | None:
    if not database.exists():
        return None
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        state = conn.execute(
            "SELECT device_id, device_name, server_url, server_certificate FROM sync_state "
            "WHERE id = 1"
        ).fetchone()
        # What the server holds of this desk (answered changes; any it holds beyond them are
        # found by the next push and the waiting changes renumbered after them).
        seq = outbox.last_seq_in_file(conn, answered_only=True)
        prefix = conn.execute(
            "SELECT prefix FROM number_series WHERE kind = 'invoice' AND active"
        ).fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()
    if state is None:
        return None
    return DeskIdentity(
        device_id=state[0],
        device_name=state[1],
        server_url=state[2],
        server_certificate=state[3],
        last_outbox_seq=int(seq),
        invoice_prefix=prefix[0] if prefix else None,
    )


def restore_database(
    paths: DeskPaths, backup: Path, *, now: datetime, force: bool = False
) -> RestoreResult:
    """Replace the desk database with ``backup``. The caller makes sure no app has it open.

    Order: check the file; refuse another clinic's backup (unless ``force``, or this desk holds
    no data yet); copy the current database aside; upgrade a copy of the backup to this
    version; copy it over the live file with SQLite's backup API (one transaction)."""
    private_dir(paths.backups)
    info = inspect_backup(backup, paths.backups)
    current = _current_clinic(paths.database)
    identity = _current_identity(paths.database)
    if current is not None and current[0] != info.clinic_id and current[2] and not force:
        raise RuleViolation(
            f"{backup.name} is a backup of another clinic (“{info.clinic_name}”), not of "
            f"“{current[1]}”. {NOT_CHANGED} To replace this clinic's data with it anyway, "
            "restore with --force."
        )
    private_dir(paths.backups)
    stamp = now.astimezone(UTC)
    aside = None
    if health.problem_of(paths.database) is not None:
        aside = _set_damaged_aside(paths.database, paths.backups, stamp)
    elif paths.database.exists():
        aside = backup_file(
            paths.database,
            paths.backups / timestamped_name("before-restore", stamp, compressed=True),
        )
    staging = paths.backups / f".restoring-{stamp:%Y%m%d%H%M%S}.sqlite3"
    try:
        materialise(backup, staging)
        engine = make_engine(staging)
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        src = sqlite3.connect(staging)
        try:
            dst = sqlite3.connect(paths.database)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=WAL")
            finally:
                dst.close()
        finally:
            src.close()
    except (OSError, sqlite3.Error) as exc:
        raise EnvironmentProblem(
            f"The restore could not be finished ({exc}). The database as it was is kept in "
            f"{aside or 'place'}; check there is free disk space and try again."
        ) from exc
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{staging}{suffix}").unlink(missing_ok=True)
    return RestoreResult(info, aside, identity)


def _set_damaged_aside(database: Path, backups_dir: Path, stamp: datetime) -> Path:
    """A damaged database cannot be copied with SQLite: move the file (and its -wal and -shm)
    aside as it is, for someone to look at; the restore then writes a fresh file."""
    aside = backups_dir / f"damaged-{stamp:%Y%m%d-%H%M%S}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{database}{suffix}")
        if part.exists():
            part.replace(Path(f"{aside}{suffix}"))
    return aside


def restore(ctx: ServiceContext, backup: Path, *, force: bool = False) -> RestoreResult:
    """Restore from inside the app. Afterwards the app must close: everything on screen and the
    sign-in belong to the database that was replaced."""
    require(ctx.actor, Action.RESTORE)
    paths = _paths(ctx)
    ctx.engine.dispose()  # restore_database checks the file before it touches anything
    result = restore_database(paths, backup, now=ctx.clock.now(), force=force)
    note_restore(paths, ctx.clock, ctx.actor, result)
    return result


def note_restore(paths: DeskPaths, clock: Clock, actor: Actor, result: RestoreResult) -> None:
    """Start the restored database's new life, then audit the restore in it (where people will
    look for it). Numbers handed out after the backup was made (printed invoices, receipts,
    patient cards) are unknown here, so numbering carries on from fresh series; this desk's
    audit entries continue in a new chain (the old chain's later entries may come back from the
    clinic server); and the sync engine is told to fetch this desk's own later changes in full."""
    restored = open_desk(paths, clock=clock)
    restored.actor = actor
    chain = uuid7()
    try:
        with restored.write("restore a backup") as session:
            state = session.get(SyncState, 1)
            assert state is not None
            root = None
            mine = result.identity
            if mine is not None and mine.device_id != state.device_id:
                _stay_this_desk(session, state, mine)
                root = mine.invoice_prefix
            state.audit_chain_id = chain
            state.restored_at = clock.now()
            prefix = start_new_generation(session, clock.now(), chain, root=root)
        restored.audit_chain = chain
        with restored.write("restore a backup") as session:
            record_event(
                session,
                "database restored",
                summary=(
                    f"Restored from {result.info.path.name}; invoice numbers continue from {prefix}"
                )[:300],
            )
    finally:
        restored.engine.dispose()


def _stay_this_desk(session: Session, state: SyncState, mine: DeskIdentity) -> None:
    """A backup made on another desk (say the reception PC, restored onto the spare laptop):
    this computer stays the desk it was enrolled as (its access key in the keychain belongs to
    that desk). The other desk's answered conversation with the server is dropped; its changes
    still waiting are kept and numbered after this desk's own last change, so they are sent."""
    outbox.drop_answered(session)
    outbox.renumber_pending(session, mine.last_outbox_seq + 1)
    state.refusals_seen_seq = None  # the other desk's answered changes are gone with it
    state.device_id = mine.device_id
    state.device_name = mine.device_name
    state.server_url = mine.server_url
    state.server_certificate = mine.server_certificate
