"""Where this desk stands with the clinic server: enrolled where and as what, when it last
synced, how many changes wait, how many the server refused and how many conflicts are open.
Read by the status bar and the server settings screen (through the sync worker)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from frontdesk.models import SyncConflict, SyncState
from frontdesk.store import outbox
from frontdesk.store.context import ServiceContext
from frontdesk.sync.conflicts import count_refused


@dataclass(frozen=True)
class SyncStatus:
    server_url: str | None
    device_name: str | None
    server_certificate: str | None
    last_sync_at: datetime | None
    last_error: str | None
    pending: int
    refused: int
    conflicts: int

    @property
    def enrolled(self) -> bool:
        return bool(self.server_url)


def is_enrolled(ctx: ServiceContext) -> bool:
    with ctx.read() as session:
        return bool(session.scalar(select(SyncState.server_url).where(SyncState.id == 1)))


def sync_status(ctx: ServiceContext) -> SyncStatus:
    with ctx.read() as session:
        state = session.get(SyncState, 1)
        conflicts = session.scalar(
            select(func.count()).select_from(SyncConflict).where(SyncConflict.resolved_at.is_(None))
        )
        return SyncStatus(
            server_url=state.server_url if state else None,
            device_name=state.device_name if state else None,
            server_certificate=state.server_certificate if state else None,
            last_sync_at=_latest(state.last_sync_at if state else None, ctx.last_sync_at),
            last_error=state.last_error if state else None,
            pending=outbox.pending_count(session),
            refused=count_refused(session),
            conflicts=int(conflicts or 0),
        )


def _latest(written: datetime | None, kept: datetime | None) -> datetime | None:
    """The newer of the file's last sync time and the one this run of the desk kept."""
    if written is None or kept is None:
        return written or kept
    return max(written, kept)
