"""Holds made through the integration API, judged at the desk the way the server judges them:
a hold keeps its room too (another practitioner booked into that room at the desk is asked to
confirm), and a hold lapses by the clinic server's clock, not by a desk's clock that is ahead
or behind (the desk measures its offset to the server on every pull).

The first test is a real ``frontdesk-server run`` and a desk over HTTP whose clock
time-machine puts ten minutes ahead (the server, another process, keeps the real time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from sqlalchemy import select

from frontdesk.domain.diary import ProblemKind
from frontdesk.models import AppointmentHold, Practitioner, Room
from frontdesk.services.desk import DeskPaths, open_desk
from frontdesk.services.diary.appointments import check_time
from frontdesk.services.diary.view import check_in_view, load_view
from frontdesk.sync.setup import engine_for, enrol
from tests.server.api_world import API, World, auth, build, key
from tests.server.live import start_server
from tests.server.test_api_live import _cli_key
from tests.sync.clinic import Clinic
from tests.sync.fakes import install_memory_keyring

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture(autouse=True)
def _keychain() -> None:
    install_memory_keyring()


def _first_slot(client: Any, token: str, world: World, **params: Any) -> dict[str, Any]:
    r = client.get(
        f"{API}/availability", headers=auth(token),
        params={"appointment_type_id": world.type_id, "limit": 1, **params},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return dict(r.json()["slots"][0])


def _hold(client: Any, token: str, world: World, slot: dict[str, Any], minutes: int) -> str:
    r = client.post(
        f"{API}/holds", headers=auth(token),
        json={"practitioner_id": slot["practitioner_id"], "appointment_type_id": world.type_id,
              "start": slot["start"], "minutes": minutes},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _held_problems(
    ctx: Any, practitioner_id: str, room_id: str | None, start: datetime
) -> list[str]:
    """What the desk says when someone books there: the service's check (booking dialog, drop)
    and the drag preview's check from the loaded view, which must agree."""
    end = start + timedelta(minutes=30)
    with ctx.read() as s:  # what booking, moving or dropping there checks
        check = check_time(s, ctx, practitioner_id, room_id, start, end)
    by_service = [p.message for p in check.warnings if p.kind is ProblemKind.HELD_ONLINE]
    with ctx.read() as s:
        everyone = list(s.scalars(select(Practitioner.id)).all())
    data = load_view(ctx, [start.astimezone(ctx.tz).date()], everyone)
    preview = check_in_view(
        data, ctx.tz, ctx.clock.now(), practitioner_id, room_id, start, end,
        server_now=ctx.server_now(),
    )  # fmt: skip
    by_view = [p.message for p in preview.warnings if p.kind is ProblemKind.HELD_ONLINE]
    assert by_service == by_view
    return by_service


def test_a_desk_whose_clock_is_ahead_still_shows_a_running_hold(tmp_path: Path) -> None:
    url = str(tmp_path / "server.sqlite3")
    clinic = Clinic(tmp_path / "desks", url)
    world = build(clinic)
    clinic.close()
    server = start_server(tmp_path / "srv", url)
    try:
        token = _cli_key(server, "availability:read", "appointments:write")
        api = httpx.Client(base_url=server.base, timeout=60)
        slot = _first_slot(api, token, world, **{"from": datetime.now(UTC).isoformat()})
        hold_id = _hold(api, token, world, slot, minutes=5)
        start = datetime.fromisoformat(slot["start"])
        with time_machine.travel(datetime.now(UTC) + timedelta(minutes=10), tick=True):
            ctx = open_desk(DeskPaths(tmp_path / "desk"))
            enrol(ctx, server.base, server.code("Back office"), device_name="Back office")
            engine_for(ctx).sync()
            # measured on the pull: the server is ten minutes behind this desk
            assert abs(ctx.server_offset + timedelta(minutes=10)) < timedelta(seconds=20)
            with ctx.read() as s:
                row = s.get(AppointmentHold, hold_id)
                assert row is not None and row.expires_at < ctx.clock.now()  # by the desk: gone
            data = load_view(ctx, [start.astimezone(ctx.tz).date()], world.practitioners)
            assert [h.id for h in data.holds] == [hold_id]  # by the server: running
            problems = _held_problems(ctx, slot["practitioner_id"], None, start)
            assert len(problems) == 1 and problems[0].startswith("Held online until")
            ctx.engine.dispose()
        api.close()
    finally:
        server.stop()


def test_a_desk_whose_clock_is_behind_lets_a_lapsed_hold_go(tmp_path: Path) -> None:
    clinic = Clinic(tmp_path, str(tmp_path / "server.sqlite3"))
    try:
        world = build(clinic)
        desk = world.desk
        token = key(clinic.store)
        slot = _first_slot(clinic.client, token, world)
        hold_id = _hold(clinic.client, token, world, slot, minutes=5)
        start = datetime.fromisoformat(slot["start"])
        clinic.server_clock.advance(timedelta(minutes=6))  # the hold has lapsed on the server
        desk.clock.advance(timedelta(minutes=-4))  # this desk's clock is ten minutes behind
        assert desk.sync()
        assert desk.ctx.server_offset == timedelta(minutes=10)
        with desk.ctx.read() as s:
            row = s.get(AppointmentHold, hold_id)
            assert row is not None and row.expires_at > desk.clock.now()  # by the desk: running
        data = load_view(desk.ctx, [start.astimezone(desk.ctx.tz).date()], world.practitioners)
        assert data.holds == []
        assert _held_problems(desk.ctx, slot["practitioner_id"], None, start) == []
    finally:
        clinic.close()


def test_a_hold_keeps_its_room_from_another_practitioner_booked_at_the_desk(
    tmp_path: Path,
) -> None:
    clinic = Clinic(tmp_path, str(tmp_path / "server.sqlite3"))
    try:
        world = build(clinic)
        desk = world.desk
        alex, bea = world.practitioners
        with desk.ctx.write("rooms") as s:
            room = Room(location_id=world.location_id, name="Room 1", overlap_policy="warn")
            s.add(room)
            s.flush()
            room_id = room.id
            s.get(Practitioner, alex).default_room_id = room_id  # type: ignore[union-attr]
        assert desk.sync()
        token = key(clinic.store)
        slot = _first_slot(clinic.client, token, world, practitioner_id=alex)
        hold_id = _hold(clinic.client, token, world, slot, minutes=5)
        assert desk.sync()
        with desk.ctx.read() as s:
            assert s.get(AppointmentHold, hold_id).room_id == room_id  # type: ignore[union-attr]
        start = datetime.fromisoformat(slot["start"])
        # Bea is free then, but the caller's hold keeps Room 1: booking her into it asks first
        problems = _held_problems(desk.ctx, bea, room_id, start)
        assert len(problems) == 1 and problems[0].startswith("Held online until")
        # and over part of the held time too
        assert _held_problems(desk.ctx, bea, room_id, start + timedelta(minutes=15))
        # Bea in no room, or after the held time: nothing held there
        assert _held_problems(desk.ctx, bea, None, start + timedelta(hours=1)) == []
        assert _held_problems(desk.ctx, bea, room_id, start + timedelta(minutes=30)) == []
    finally:
        clinic.close()
