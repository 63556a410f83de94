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
from diary_ui_support import drag, point, show_day, when_dialog_opens
from PySide6.QtCore import QPoint, QSettings, Qt

from frontdesk.domain.clock import FakeClock
from frontdesk.models import Appointment
from frontdesk.services import diary
from frontdesk.services.desk import DeskPaths, open_desk
from frontdesk.services.diary import BookingRequest
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
        # the last of the slots may be on the next day (late in the clinic's day): show its day
        page.go_to(datetime.fromisoformat(slots[-1]["start"]).date())
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


def _held_page(qtbot: Any, tmp_path: Path) -> tuple[Clinic, World, DiaryPage, dict[str, Any]]:
    """A desk's diary showing a five-minute hold (made through the API, pulled by sync)."""
    clinic = Clinic(tmp_path, str(tmp_path / "server.sqlite3"))
    world = build(clinic)
    token = key(clinic.store)
    slot = clinic.client.get(
        f"{API}/availability", headers=auth(token),
        params={"appointment_type_id": world.type_id, "limit": 1},
    ).json()["slots"][0]  # fmt: skip
    made = clinic.client.post(
        f"{API}/holds", headers=auth(token),
        json={"practitioner_id": slot["practitioner_id"], "appointment_type_id": world.type_id,
              "start": slot["start"], "minutes": 5},
    ).json()  # fmt: skip
    assert world.desk.sync()
    bus = ChangeBus()
    world.desk.ctx.listeners.append(bus.publish)
    page = _page(qtbot, world.desk.ctx, bus, tmp_path)
    show_day(qtbot, page, datetime.fromisoformat(slot["start"]).date())
    assert _shown(page) == {made["id"]}
    return clinic, world, page, made


def _spot(page: DiaryPage, hold: dict[str, Any], into: int = 10) -> Any:
    """The point on the diary ``into`` minutes into the held time, in its practitioner's column."""
    start = datetime.fromisoformat(hold["start"])
    column = page.layout_.column_of(hold["practitioner_id"], None, start.date())  # type: ignore[union-attr]
    assert column is not None
    return point(page, column, start.hour * 60 + start.minute + into)


def _local(ctx: Any, appointment_id: str) -> tuple[str, str]:
    with ctx.read() as s:
        a = s.get(Appointment, appointment_id)
        return a.practitioner_id, a.starts_at.astimezone(ctx.tz).isoformat()


def test_booking_over_a_hold_warns_and_books_only_once_confirmed(
    qtbot: Any, tmp_path: Path
) -> None:
    clinic, world, page, hold = _held_page(qtbot, tmp_path)
    try:
        until = datetime.fromisoformat(hold["expires_at"]).strftime("%H:%M")
        asked: list[str] = []
        state: dict[str, Any] = {}
        page.controller.confirm = lambda text: asked.append(text) or False  # type: ignore[func-returns-value]

        def fill_and_book(dialog: Any) -> None:
            qtbot.keyClicks(dialog.search, "Lee")
            qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
            qtbot.keyClick(dialog.type, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            when_dialog_opens(again)  # declined: the dialog comes back with what was typed

        def again(dialog: Any) -> None:
            state["error"] = dialog.error.text()
            state["booked_then"] = len(world.desk.ids(Appointment))
            page.controller.confirm = lambda text: asked.append(text) or True  # type: ignore[func-returns-value]
            qtbot.keyClick(dialog.type, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

        when_dialog_opens(fill_and_book)
        spot = _spot(page, hold, 2)
        drag(qtbot, page, spot, spot + QPoint(0, 40))  # drag over the held time: book it
        assert len(asked) == 2, asked
        assert f"Held online until {until} for a caller." in asked[0]
        assert "Book it anyway?" in asked[0]
        assert state["booked_then"] == 0 and "Not booked" in state["error"]
        (appt_id,) = world.desk.ids(Appointment)
        start = datetime.fromisoformat(hold["start"])
        assert _local(world.desk.ctx, appt_id) == (hold["practitioner_id"], start.isoformat())
    finally:
        clinic.close()


def test_dragging_a_booking_onto_a_hold_warns_first(qtbot: Any, tmp_path: Path) -> None:
    clinic, world, page, hold = _held_page(qtbot, tmp_path)
    try:
        start = datetime.fromisoformat(hold["start"])
        until = datetime.fromisoformat(hold["expires_at"]).strftime("%H:%M")
        req = BookingRequest(hold["practitioner_id"], start + timedelta(hours=2),
                             start + timedelta(hours=2, minutes=30), world.patient_id,
                             world.type_id)  # fmt: skip
        appt_id = diary.book(world.desk.ctx, req)
        qtbot.waitUntil(lambda: appt_id in page.scene.items_by_id)
        asked: list[str] = []
        page.controller.confirm = lambda text: asked.append(text) or False  # type: ignore[func-returns-value]
        grab = _spot(page, {**hold, "start": req.starts_at.astimezone(start.tzinfo).isoformat()})
        onto = _spot(page, hold)
        drag(qtbot, page, grab, onto, release=False)
        ghost = page.scene.ghost
        assert ghost.verdict == "warn" and f"Held online until {until}" in ghost.text
        if shots := os.environ.get("FRONTDESK_SHOTS"):  # to look at: the warning before a drop
            page.grab().save(str(Path(shots) / "diary-drag-onto-hold.png"))
        qtbot.mouseRelease(page.view.viewport(), Qt.MouseButton.LeftButton, pos=onto)
        assert len(asked) == 1 and f"Held online until {until} for a caller." in asked[0]
        assert "Nothing was changed" in page.banner.text()
        assert (
            _local(world.desk.ctx, appt_id)[1] == req.starts_at.astimezone(start.tzinfo).isoformat()
        )
        page.controller.confirm = lambda text: asked.append(text) or True  # type: ignore[func-returns-value]
        drag(qtbot, page, grab, onto)
        assert len(asked) == 2
        assert _local(world.desk.ctx, appt_id) == (hold["practitioner_id"], start.isoformat())
    finally:
        clinic.close()
