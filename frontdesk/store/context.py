"""The service context: engine, clock, desk identity and who is signed in, passed to services.

``ctx.write(action)`` is the one way to change data: a BEGIN IMMEDIATE transaction whose flushes
record outbox rows and audit events (services/tracking.py); after commit every listener gets a
ChangeNotice. ``ctx.read()`` is a plain read transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from frontdesk.db.checkpoint import Checkpointer
from frontdesk.db.engine import make_session_factory
from frontdesk.domain.clock import Clock, SystemClock
from frontdesk.domain.hlc import HybridClock
from frontdesk.models.clinic import ClinicSettings
from frontdesk.paths import DeskPaths
from frontdesk.store.actor import SYSTEM, Actor
from frontdesk.store.changes import ChangeCollector, ChangeNotice, Listener, Origin
from frontdesk.store.tracking import TRACKING_KEY, Tracking

__all__ = ["SYSTEM", "Actor", "ServiceContext"]  # Actor and SYSTEM live in store/actor.py


@dataclass
class ServiceContext:
    engine: Engine
    device_id: str
    clock: Clock = field(default_factory=SystemClock)
    actor: Actor = field(default_factory=Actor)
    # The desk's files (database, backups, desk.ini); None for a bare engine (tests, server).
    paths: DeskPaths | None = None
    listeners: list[Listener] = field(default_factory=list)
    # The key of this desk's audit chain: the device id, or a new one after a restore.
    audit_chain: str | None = None
    # The clinic server's clock minus this desk's, measured at each sync (zero until then):
    # what the server decides by its own clock (a hold lapsing) is judged by server_now().
    server_offset: timedelta = timedelta(0)
    # The sync engine's (sync/engine.py): the pull's page, and the check after it, that a woken
    # long-poll brought — kept here, since the app's listener and its sync are two engines.
    woken_page: Any = None
    # When this desk last synced well (sync/engine.py): a sync shortly after another one keeps
    # its time here only, not in the file (a sync with nothing to do writes nothing).
    last_sync_at: datetime | None = None

    def __post_init__(self) -> None:
        self._read: sessionmaker[Session] = make_session_factory(self.engine)
        self._write: sessionmaker[Session] = make_session_factory(self.engine, write=True)
        self.hlc = HybridClock(self.clock, self.device_id[-12:])
        self._tz: ZoneInfo | None = None
        # A desk file's WAL is checkpointed while the desk is idle, not inside a write.
        database = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        self.checkpoints = (
            Checkpointer(Path(database)) if database and database != ":memory:" else None
        )

    def server_now(self) -> datetime:
        """The clinic server's time as this desk last measured it (its own clock before the
        first sync). The desk's clock still dates what the desk does."""
        return self.clock.now() + self.server_offset

    @property
    def data_dir(self) -> Path | None:
        return self.paths.data_dir if self.paths is not None else None

    # -- transactions -----------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._read()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @contextmanager
    def write(self, action: str = "", *, origin: Origin = "local") -> Iterator[Session]:
        """One transaction that changes data; announces a ChangeNotice after it commits."""
        session = self._write()
        collector = ChangeCollector()
        session.info[TRACKING_KEY] = Tracking(
            device_id=self.audit_chain or self.device_id,
            now=self.clock.now(),
            hlc=self.hlc,
            actor_id=self.actor.staff_user_id,
            actor_name=self.actor.name,
            signer=self.actor.signer,
            action=action,
            origin=origin,
            collector=collector,
        )
        try:
            with session.begin():
                yield session
        finally:
            session.close()
        if self.checkpoints is not None:
            self.checkpoints.wrote()
        if collector.ids:
            self.announce(collector.notice(origin, self.actor.staff_user_id, action))

    def announce(self, notice: ChangeNotice) -> None:
        if notice.touches("clinic_settings"):
            self._tz = None
        for listener in list(self.listeners):
            listener(notice)

    # -- clinic-wide facts --------------------------------------------------------------------
    def settings(self, session: Session) -> ClinicSettings:
        row = session.scalars(
            select(ClinicSettings)
            .where(ClinicSettings.deleted_at.is_(None))
            # Desks that started apart each made settings; the oldest is the clinic's (the sync
            # engine tombstones the others), so every desk reads the same row meanwhile.
            .order_by(ClinicSettings.created_at, ClinicSettings.id)
            .limit(1)
        ).first()
        if row is None:
            raise LookupError("clinic settings missing: the database was not initialised")
        return row

    @property
    def tz(self) -> ZoneInfo:
        if self._tz is None:
            with self.read() as session:
                self._tz = ZoneInfo(self.settings(session).time_zone)
        return self._tz
