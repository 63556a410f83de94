"""Holds are the server's alone: a hostile desk holding a valid token, pushing straight to a
real ``frontdesk-server run`` on loopback, cannot create, stretch or release a hold. Each such
change is answered "rejected" (code ``server_only``, the row put back as the clinic has it),
recorded in the server's audit chain, and nothing of it reaches an honest desk's diary. Nor
can a desk enrol under the API's own device id to pass for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from frontdesk.domain.ids import uuid7
from frontdesk.models import AppointmentHold, AuditEvent
from frontdesk.protocol import Endpoint
from frontdesk.services.desk import DeskPaths, open_desk
from frontdesk.services.diary.view import active_holds
from frontdesk.sync.setup import engine_for, enrol
from tests.server.api_world import API, auth, build
from tests.server.live import start_server
from tests.server.test_api_live import _cli_key
from tests.sync.clinic import Clinic
from tests.sync.fakes import install_memory_keyring

# A real server process reads the real clock: the hold is made for real times.
pytestmark = pytest.mark.dates


def _change(seq: int, row_id: str, op: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"mutation_id": uuid7(), "seq": seq, "entity": "appointment_holds", "row_id": row_id,
            "op": op, "base_version": 1 if op == "update" else 0, "hlc": "",
            "fields": fields}  # fmt: skip


def test_a_hostile_desk_cannot_make_or_alter_a_hold(tmp_path: Path) -> None:
    install_memory_keyring()
    url = str(tmp_path / "server.sqlite3")
    clinic = Clinic(tmp_path / "desks", url)
    world = build(clinic)
    clinic.close()
    server = start_server(tmp_path / "srv", url)
    try:
        honest = open_desk(DeskPaths(tmp_path / "honest"))
        enrol(honest, server.base, server.code("Front"), device_name="Front")
        sync = engine_for(honest)
        token = _cli_key(server, "availability:read", "appointments:write")
        now = datetime.now(UTC)
        slots = httpx.get(
            server.base + f"{API}/availability", headers=auth(token),
            params={"appointment_type_id": world.type_id, "from": now.isoformat(), "limit": 20},
        ).json()["slots"]  # fmt: skip
        made = httpx.post(
            server.base + f"{API}/holds", headers=auth(token),
            json={"practitioner_id": slots[0]["practitioner_id"],
                  "appointment_type_id": world.type_id, "start": slots[0]["start"],
                  "minutes": 5},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        real = made.json()
        # the API's own device id cannot be taken by a desk
        body = {"code": server.code("Mimic"), "device_id": "server-api", "device_name": "Mimic"}
        mimic = server.call("POST", Endpoint.ENROL, json=body)
        assert mimic.status_code == 422 and "clinic server" in mimic.json()["message"]

        hostile = server.enrol(uuid7(), "Hostile")
        seq = int(server.call("GET", Endpoint.DEVICE, hostile).json()["last_seq"]) + 1
        fake_id = uuid7()
        start = datetime.fromisoformat(slots[-1]["start"]).astimezone(UTC)
        fake = {"id": fake_id, "practitioner_id": slots[-1]["practitioner_id"],
                "appointment_type_id": world.type_id, "room_id": None,
                "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(),
                "expires_at": (now + timedelta(days=30)).isoformat(), "released_at": None,
                "appointment_id": None, "created_at": now.isoformat(),
                "updated_at": now.isoformat(), "deleted_at": None}  # fmt: skip
        far = (now + timedelta(days=30)).isoformat()
        attack = [
            _change(seq, fake_id, "insert", fake),  # a made-up hold blocking the diary
            _change(seq + 1, real["id"], "update", {"expires_at": far}),  # stretched
            _change(seq + 2, real["id"], "update", {"released_at": now.isoformat()}),  # freed
            _change(seq + 3, real["id"], "insert", {**fake, "id": real["id"]}),  # overwritten
        ]
        reply = server.call("POST", Endpoint.PUSH, hostile, json={"mutations": attack}).json()
        results = reply["results"]
        assert [r["status"] for r in results] == ["rejected"] * 4, results
        assert {r["code"] for r in results} == {"server_only"}
        assert "only the clinic server writes appointment_holds" in results[0]["reason"]
        put_back = results[1]["row"]  # the desk is told the hold as the clinic has it
        assert put_back["id"] == real["id"] and put_back["released_at"] is None
        assert datetime.fromisoformat(put_back["expires_at"]) == datetime.fromisoformat(
            real["expires_at"]
        )
        assert reply["stopped"] is None and reply["last_seq"] == seq + 3  # its sync goes on

        sync.sync()
        with honest.read() as s:
            rows = s.scalars(select(AppointmentHold)).all()
            assert [(h.id, h.released_at) for h in rows] == [(real["id"], None)]
            assert rows[0].expires_at == datetime.fromisoformat(real["expires_at"])
            drawn = active_holds(s, world.practitioners, now, now + timedelta(days=100), now)
            assert [h.id for h in drawn] == [real["id"]]
            refusals = s.scalars(
                select(AuditEvent).where(AuditEvent.action == "refused a change")
            ).all()
            assert len(refusals) == 4
            assert {e.entity for e in refusals} == {"appointment_holds"}
            assert all("Hostile" in (e.summary or "") for e in refusals)
        # the server itself still makes and ends holds
        assert (
            httpx.delete(server.base + f"{API}/holds/{real['id']}", headers=auth(token)).status_code
            == 204
        )
        sync.sync()
        with honest.read() as s:
            assert active_holds(s, world.practitioners, now, now + timedelta(days=100), now) == []
    finally:
        server.stop()
