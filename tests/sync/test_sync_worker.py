"""The background worker syncs off the GUI thread and reports status; a change notice from the
server (long-poll) makes another desk sync."""

from __future__ import annotations

from datetime import timedelta

from frontdesk.models import Appointment
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.sync_worker import SyncWorker
from tests.sync.clinic import START, Clinic


def test_worker_syncs_in_background_and_reports(qtbot, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    a, b = clinic.add_desk(), clinic.add_desk()
    prac = a.add_practitioner()
    bus = ChangeBus()
    b.ctx.listeners.append(bus.publish)
    statuses: list[tuple[str, bool]] = []
    worker = SyncWorker(b.ctx, bus, engine_factory=lambda _ctx: b.engine, debounce_ms=50)
    worker.status.connect(lambda text, problem: statuses.append((text, problem)))
    worker.start()
    qtbot.waitUntil(lambda: any(t.startswith("Sync: online") for t, _p in statuses), timeout=10_000)
    appt = a.book(prac, None, START + timedelta(hours=1))
    assert a.sync()
    worker.sync_now()
    qtbot.waitUntil(lambda: appt in b.ids(Appointment), timeout=10_000)
    b.plain.online = False
    worker.sync_now()
    qtbot.waitUntil(lambda: statuses[-1][0].startswith("Sync: offline"), timeout=10_000)
    assert statuses[-1][1] is True
    worker.stop()
