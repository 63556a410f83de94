"""Holds made through the integration API, on a desk's diary: drawn as a tentative block in
the practitioner's column, reaching the desk through its ordinary pull of the change log
(device ``server-api``), and gone when the hold lapses, is released or becomes a booking.

The first test is two real processes: ``frontdesk-server run`` on loopback and a desk enrolled
over HTTP, syncing with its own background worker (long-polling the server), its diary open."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import QSettings

from frontdesk.domain.clock import FakeClock
from frontdesk.services.desk import DeskPaths, open_desk
from frontdesk.sync.setup import enrol
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.diary.page import DiaryPage
from frontdesk.ui.sync_worker import SyncWorker
from tests.server.api_world import API, World, auth, build, key
from tests.server.live import start_server
from tests.server.test_api_live import _cli_key
from tests.sync.clinic import Clinic
from tests.sync.fakes import install_memory_keyring

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture(autouse=True)
def _keychain() -> None:
    install_memory_keyring()  # the desk keeps its server token here (a fake: no desktop)


def _page(qtbot: Any, ctx: Any, bus: ChangeBus, tmp: Path) -> DiaryPage:
    prefs = QSettings(str(tmp / "desk.ini"), QSettings.Format.IniFormat)
    page = DiaryPage(ctx, bus, prefs)
    qtbot.addWidget(page)
    page.setMinimumSize(1000, 700)
    page.resize(1200, 800)
    page.show()
    qtbot.waitExposed(page)
    return page


def _hold(client: Any, token: str, world: World, slot: dict[str, Any], minutes: int = 5) -> str:
    r = client.post(
        f"{API}/holds",
        headers=auth(token),
        json={
            "practitioner_id": slot["practitioner_id"],
            "appointment_type_id": world.type_id,
            "start": slot["start"],
            "minutes": minutes,
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _shown(page: DiaryPage) -> set[str]:
    return {h.id for h in page.scene.holds_shown}


def test_a_hold_reaches_a_syncing_desks_diary_from_a_real_server(
    qtbot: Any, tmp_path: Path
) -> None:
    url = str(tmp_path / "server.sqlite3")
    clinic = Clinic(tmp_path / "desks", url)
    world = build(clinic)
    clinic.close()
    server = start_server(tmp_path / "srv", url)
    worker: SyncWorker | None = None
    try:
        ctx = open_desk(DeskPaths(tmp_path / "desk"))
        enrol(ctx, server.base, server.code("Back office"), device_name="Back office")
        bus = ChangeBus()
        ctx.listeners.append(bus.publish)
        worker = SyncWorker(ctx, bus, debounce_ms=50)
        worker.start()
        page = _page(qtbot, ctx, bus, tmp_path)
        qtbot.waitUntil(lambda: len(page.practitioners) == 2, timeout=60_000)
        token = _cli_key(server, "availability:read", "appointments:write", "patients:read")
        api = httpx.Client(base_url=server.base, timeout=60)
        now = datetime.now(UTC)
        slots = api.get(
            f"{API}/availability",
            headers=auth(token),
            params={"appointment_type_id": world.type_id, "from": now.isoformat(), "limit": 5},
        ).json()["slots"]
        slot = slots[0]
        page.go_to(datetime.fromisoformat(slot["start"]).date())
        hold_id = _hold(api, token, world, slot)
        sent = time.monotonic()
        qtbot.waitUntil(lambda: hold_id in _shown(page), timeout=20_000)
        took = time.monotonic() - sent
        print(f"hold on the desk's diary {took * 1000:.0f} ms after the API answered")
        item = next(i for i in page.scene.hold_items if i.hold.id == hold_id)
        column = page.layout_.columns[int(item.rect.x() // page.layout_.column_width)]  # type: ignore[union-attr]
        assert column.practitioner_id == slot["practitioner_id"]
        assert hold_id not in page.scene.items_by_id  # tentative: not an appointment
        # booked from the hold: the hold goes, the booking is drawn in its place
        booked = api.post(
            f"{API}/appointments",
            headers=auth(token, **{"Idempotency-Key": "desk-sees-it"}),
            json={"patient_id": world.patient_id, "hold_id": hold_id},
        )
        assert booked.status_code == 201, booked.text
        appt_id = booked.json()["id"]
        qtbot.waitUntil(
            lambda: hold_id not in _shown(page) and appt_id in page.scene.items_by_id,
            timeout=20_000,
        )
        # another hold, released by the caller: it vanishes too
        second = _hold(api, token, world, slots[-1])
        qtbot.waitUntil(lambda: second in _shown(page), timeout=20_000)
        assert api.delete(f"{API}/holds/{second}", headers=auth(token)).status_code == 204
        qtbot.waitUntil(lambda: second not in _shown(page), timeout=20_000)
        api.close()
    finally:
        if worker is not None:
            worker.stop()
        server.stop()


def test_a_hold_lapses_on_the_desk_by_itself(qtbot: Any, tmp_path: Path) -> None:
    clinic = Clinic(tmp_path, str(tmp_path / "server.sqlite3"))
    try:
        world = build(clinic)
        desk = world.desk
        token = key(clinic.store)
        slot = clinic.client.get(
            f"{API}/availability", headers=auth(token),
            params={"appointment_type_id": world.type_id, "limit": 1},
        ).json()["slots"][0]  # fmt: skip
        hold_id = _hold(clinic.client, token, world, slot, minutes=3)
        assert desk.sync()
        bus = ChangeBus()
        desk.ctx.listeners.append(bus.publish)
        page = _page(qtbot, desk.ctx, bus, tmp_path)
        page.go_to(datetime.fromisoformat(slot["start"]).date())
        assert _shown(page) == {hold_id}
        item = page.scene.hold_items[0]
        assert item.isVisible() and "Held online" in item.toolTip()
        if shots := os.environ.get("FRONTDESK_SHOTS"):  # to look at: scripts/tour.py's folder
            page.view.centerOn(item)
            page.grab().save(str(Path(shots) / "diary-api-hold.png"))
        clock = desk.clock
        assert isinstance(clock, FakeClock)
        clock.advance(timedelta(minutes=2))
        page._tick()
        assert _shown(page) == {hold_id}  # still running
        clock.advance(timedelta(minutes=1, seconds=1))
        page._tick()  # the page's one-second timer: the lapsed hold is no longer drawn
        assert _shown(page) == set() and page.scene.hold_items == []
        page.go_to(page.day + timedelta(days=1))
        page.go_to(page.day - timedelta(days=1))
        assert _shown(page) == set()  # and not read back either
    finally:
        clinic.close()
