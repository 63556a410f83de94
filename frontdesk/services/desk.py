"""Opening a desk's database: migrate (backing up first), then make sure the desk has its
identity, number series and clinic settings."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy import Engine, MetaData, select

from frontdesk.db import backup_store, health, migrate
from frontdesk.db.backup import Progress, is_compressed, materialise
from frontdesk.db.engine import make_engine
from frontdesk.domain.clock import Clock, SystemClock
from frontdesk.domain.errors import DamagedDatabase, EnvironmentProblem
from frontdesk.domain.ids import uuid7
from frontdesk.models.clinic import ClinicSettings
from frontdesk.models.system import SyncState
from frontdesk.paths import DeskPaths, private_dir
from frontdesk.store import balances
from frontdesk.store.context import ServiceContext
from frontdesk.store.numbering import ensure_series


def open_engine(paths: DeskPaths) -> Engine:
    try:
        private_dir(paths.data_dir)
    except OSError as exc:
        raise EnvironmentProblem(
            f"The data folder {paths.data_dir} cannot be created: {exc.strerror}."
        ) from exc
    return make_engine(paths.database)


def check_database(
    paths: DeskPaths,
    *,
    what: str = "frontdesk will not open it",
    thorough: bool = True,
    early: health.EarlyCheck | None = None,
) -> None:
    """Refuse a damaged database file before anything writes to it (db/health.py), naming the
    newest good backup; a missing file is fine (a new clinic). Not ``thorough``: the quick
    structural check of a start after a clean exit (``health.problem_of``). ``early``: the
    same check, begun on a thread as the app started (its answer is waited for here)."""
    from frontdesk.models import Base

    if early is not None and early.path == paths.database:
        problem = early.problem(Base.metadata, migrate.EXPECTED_HEAD)
    else:
        problem = health.problem_of(
            paths.database, Base.metadata, migrate.EXPECTED_HEAD, thorough=thorough
        )
    if problem is None:
        return
    good = newest_good_backup(paths)
    offer = (
        f"The newest good backup is {good.name} (made {_when(good)}). Restore it with "
        f'"frontdesk restore {good}" (the damaged file is kept beside the backups).'
        if good is not None
        else f"No good backup was found in {paths.backups}. Keep the file and ask for help."
    )
    raise DamagedDatabase(
        f"The clinic's database {paths.database} {problem}. Nothing was changed and {what}; "
        f"it will not start a new clinic over it. {offer}",
        backup=good,
    )


def _check_upgraded(paths: DeskPaths, engine: Engine) -> None:
    """After an upgrade the file must hold every table and column this version uses. A file
    stamped by a build whose upgrades were chained differently (a test build, a branch) skips
    some: without this it opened and then failed on the first query ("no such column")."""
    from frontdesk.models import Base

    problem = health.problem_of(
        paths.database, Base.metadata, migrate.EXPECTED_HEAD, thorough=False
    )
    if problem is None:
        return
    engine.dispose()
    raise DamagedDatabase(
        f"After upgrading, the clinic's database {paths.database} {problem}: it was written "
        "by a frontdesk build whose upgrades differ from this one's, and frontdesk will not "
        f"open it. Its copy from before the upgrade is in {paths.backups}. Ask for help.",
        backup=None,
    )


def newest_good_backup(paths: DeskPaths) -> Path | None:
    """The newest file in the backups folder that passes the start-up checks."""
    from frontdesk.models import Base

    if not paths.backups.is_dir():
        return None
    found = sorted(
        [
            *paths.backups.glob("*.sqlite3"),
            *paths.backups.glob("*.sqlite3.zst"),
            *paths.backups.glob(f"*{backup_store.MANIFEST_SUFFIX}"),
        ],
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for path in found:
        if _backup_problem(path, Base.metadata) is None:
            return path
    return None


def _backup_problem(path: Path, metadata: MetaData) -> str | None:
    """health.problem_of for a backup, compressed or in the store (restored into a temporary
    file: every chunk's digest compared) or not."""
    if not is_compressed(path) and not backup_store.is_manifest(path):
        return health.problem_of(path, metadata, migrate.EXPECTED_HEAD)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".check-") as tmp:
        plain = Path(tmp) / "backup.sqlite3"
        try:
            materialise(path, plain)
        except (OSError, sqlite3.DatabaseError) as exc:
            return f"does not restore ({exc})"
        return health.problem_of(plain, metadata, migrate.EXPECTED_HEAD)


def _when(path: Path) -> str:
    from datetime import UTC, datetime

    made = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return f"{made:%Y-%m-%d %H:%M} UTC"


def open_desk(
    paths: DeskPaths,
    *,
    clock: Clock | None = None,
    thorough_check: bool = True,
    progress: Progress | None = None,
    early_check: health.EarlyCheck | None = None,
) -> ServiceContext:
    """Check the desk database, migrate it and return a ServiceContext for the services.
    ``progress(what, fraction)`` is called only while an upgrade runs (backup, upgrade,
    compacting the file). ``early_check``: the check, already begun (``health.EarlyCheck``)."""
    check_database(paths, thorough=thorough_check, early=early_check)
    engine = open_engine(paths)
    if migrate.upgrade(engine, backup_dir=paths.backups, progress=progress):
        _check_upgraded(paths, engine)
    clock = clock or SystemClock()
    device_id, chain = _ensure_identity(engine, clock)
    ctx = ServiceContext(
        engine=engine, device_id=device_id, clock=clock, paths=paths, audit_chain=chain
    )
    with ctx.write("set up desk") as session:
        ensure_series(session, clock.now())
        if session.scalars(select(ClinicSettings).limit(1)).first() is None:
            session.add(ClinicSettings(name="My clinic"))
    balances.resume_stopped_load(ctx)  # killed mid-first-sync: balances right from the start
    return ctx


def _ensure_identity(engine: Engine, clock: Clock) -> tuple[str, str | None]:
    """(device id, audit chain key if it differs from the device id)."""
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        state = session.get(SyncState, 1)
        if state is None:
            state = SyncState(id=1, device_id=uuid7(), created_at=clock.now())
            session.add(state)
        return state.device_id, state.audit_chain_id
