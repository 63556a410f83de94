"""Opening a desk's database: migrate (backing up first), then make sure the desk has its
identity, number series and clinic settings."""

from __future__ import annotations

from sqlalchemy import Engine, select

from frontdesk.db import migrate
from frontdesk.db.engine import make_engine
from frontdesk.domain.clock import Clock, SystemClock
from frontdesk.domain.errors import EnvironmentProblem
from frontdesk.domain.ids import uuid7
from frontdesk.models.clinic import ClinicSettings
from frontdesk.models.system import SyncState
from frontdesk.paths import DeskPaths, private_dir
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


def open_desk(paths: DeskPaths, *, clock: Clock | None = None) -> ServiceContext:
    """Migrate the desk database and return a ServiceContext ready for the services."""
    engine = open_engine(paths)
    migrate.upgrade(engine, backup_dir=paths.backups)
    clock = clock or SystemClock()
    device_id, chain = _ensure_identity(engine, clock)
    ctx = ServiceContext(
        engine=engine, device_id=device_id, clock=clock, paths=paths, audit_chain=chain
    )
    with ctx.write("set up desk") as session:
        ensure_series(session, clock.now())
        if session.scalars(select(ClinicSettings).limit(1)).first() is None:
            session.add(ClinicSettings(name="My clinic"))
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
