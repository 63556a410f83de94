"""The integration API against someone who means harm (issue 17): another clinic's ids, ids
that are not ids, an Idempotency-Key another API key used first, and a key revoked while its
event stream is open. Each gets a clear 4xx (or, for the stream, its end) and nothing changes
or leaks."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from frontdesk.server import schema as s
from tests.server.api_world import API, World, auth, build, key
from tests.server.live import server_command, start_server
from tests.server.test_api_live import _cli_key
from tests.sync.clinic import Clinic


def _count(clinic: Clinic, table: str) -> int:
    t = s.data_tables()[table]
    with clinic.store.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)


def _slot(clinic: Clinic, token: str, world: World) -> dict[str, Any]:
    r = clinic.client.get(
        f"{API}/availability", headers=auth(token),
        params={"appointment_type_id": world.type_id, "limit": 1},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return dict(r.json()["slots"][0])


def _problem(r: Any, status: int) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail.endswith("."), detail
    return detail


def test_another_clinics_ids_are_not_found_and_change_nothing(tmp_path: Path) -> None:
    ours, theirs = (Clinic(tmp_path / n, str(tmp_path / f"{n}.sqlite3")) for n in "ab")
    try:
        world, other = build(ours), build(theirs)
        token, their_token = key(ours.store), key(theirs.store)
        slot = _slot(ours, token, world)
        their_slot = _slot(theirs, their_token, other)
        # the other clinic's own hold and booking: real ids, valid UUIDs, just not ours
        their_hold = theirs.client.post(
            f"{API}/holds", headers=auth(their_token),
            json={"practitioner_id": their_slot["practitioner_id"],
                  "appointment_type_id": other.type_id, "start": their_slot["start"],
                  "minutes": 5},
        ).json()["id"]  # fmt: skip
        their_appt = theirs.client.post(
            f"{API}/appointments", headers=auth(their_token, **{"Idempotency-Key": "theirs"}),
            json={"patient_id": other.patient_id, "hold_id": their_hold},
        ).json()["id"]  # fmt: skip
        before = {t: _count(ours, t) for t in ("appointments", "appointment_holds", "patients")}
        body = {"patient_id": world.patient_id, "practitioner_id": slot["practitioner_id"],
                "appointment_type_id": world.type_id, "start": slot["start"]}  # fmt: skip
        c = ours.client
        for field, theirs_id, noun in (
            ("patient_id", other.patient_id, "patient"),
            ("practitioner_id", other.practitioners[0], "practitioner"),
            ("appointment_type_id", other.type_id, "appointment type"),
        ):
            r = c.post(f"{API}/appointments", json={**body, field: theirs_id},
                       headers=auth(token, **{"Idempotency-Key": field}))  # fmt: skip
            assert noun in _problem(r, 404).lower(), r.text
        r = c.post(
            f"{API}/appointments",
            json={"patient_id": world.patient_id, "hold_id": their_hold},
            headers=auth(token, **{"Idempotency-Key": "h"}),
        )
        assert "hold" in _problem(r, 404).lower()
        _problem(c.get(f"{API}/appointments/{their_appt}", headers=auth(token)), 404)
        r = c.post(f"{API}/appointments/{their_appt}/move", headers=auth(token),
                   json={"start": slot["start"]})  # fmt: skip
        _problem(r, 404)
        r = c.post(f"{API}/appointments/{their_appt}/cancel", headers=auth(token),
                   json={"reason": "work"})  # fmt: skip
        _problem(r, 404)
        _problem(c.delete(f"{API}/holds/{their_hold}", headers=auth(token)), 404)
        r = c.get(f"/fhir/R4/Patient/{other.patient_id}", headers=auth(token))
        assert r.status_code == 404
        # and the other clinic's key is simply unknown here
        r = c.get(f"{API}/practitioners", headers=auth(their_token))
        assert "not known" in _problem(r, 401)
        assert {t: _count(ours, t) for t in before} == before
    finally:
        ours.close()
        theirs.close()


MALFORMED = ["not-an-id", "0", "' OR '1'='1", "..%2F..%2Fserver.sqlite3", "%00", "💥", "x" * 5000,
             "a\x00b", "\x00"]  # fmt: skip
NUL_SENTENCE = "NUL character"


def test_malformed_ids_get_a_clear_4xx_and_change_nothing(tmp_path: Path, server_url: str) -> None:
    """On SQLite and PostgreSQL (which cannot keep a NUL in text: it was a 500 there)."""
    clinic = Clinic(tmp_path, server_url)
    try:
        world = build(clinic)
        token = key(clinic.store)
        slot = _slot(clinic, token, world)
        before = {t: _count(clinic, t) for t in ("appointments", "appointment_holds")}
        c = clinic.client
        for n, bad in enumerate(MALFORMED):
            in_path = bad.replace("\x00", "%00")  # as a URL carries it
            for r in (
                c.get(f"{API}/appointments/{in_path}", headers=auth(token)),
                c.post(f"{API}/appointments/{in_path}/move", headers=auth(token),
                       json={"start": slot["start"]}),
                c.post(f"{API}/appointments/{in_path}/cancel", headers=auth(token),
                       json={"reason": "work"}),
                c.delete(f"{API}/holds/{in_path}", headers=auth(token)),
                c.get(f"/fhir/R4/Appointment/{in_path}", headers=auth(token)),
            ):  # fmt: skip
                assert 400 <= r.status_code < 500, (bad[:20], r.status_code, r.text[:200])
            for field in ("patient_id", "practitioner_id", "appointment_type_id", "hold_id"):
                r = c.post(
                    f"{API}/appointments",
                    json={"patient_id": world.patient_id, "practitioner_id": slot[
                          "practitioner_id"], "appointment_type_id": world.type_id,
                          "start": slot["start"], field: bad},
                    headers=auth(token, **{"Idempotency-Key": f"{field}-{n}"}),
                )  # fmt: skip
                assert r.status_code in (404, 422), (field, bad[:20], r.status_code, r.text)
                assert r.headers["content-type"].startswith("application/problem+json")
        # a NUL anywhere — a path, a query, any text of a body, FHIR's too — a sentence
        for r in (
            c.get(f"{API}/patients", params={"phone": "0412\x00345"}, headers=auth(token)),
            c.get(f"{API}/availability", params={"appointment_type_id": "\x00"},
                  headers=auth(token)),
            c.post(f"{API}/holds", headers=auth(token),
                   json={"practitioner_id": "\x00", "appointment_type_id": world.type_id,
                         "start": slot["start"], "minutes": 5}),
            c.post(f"{API}/appointments/x/cancel", headers=auth(token),
                   json={"reason": "work", "note": "a\x00"}),
            c.post("/fhir/R4/Appointment/$hold", headers=auth(token),
                   json={"resourceType": "Parameters", "id": "\x00"}),
        ):  # fmt: skip
            assert r.status_code == 422, (r.request.url, r.status_code, r.text[:200])
            assert NUL_SENTENCE in r.text
        # a backslash and "u0000" is text like any other: not taken for a NUL
        r = c.post(f"{API}/holds", headers=auth(token),
                   json={"practitioner_id": "\\u0000", "appointment_type_id": world.type_id,
                         "start": slot["start"], "minutes": 5})  # fmt: skip
        assert r.status_code == 404 and NUL_SENTENCE not in r.text, r.text
        # ids of the wrong type in a body: a sentence, not a crash
        for wrong in (12345, None, ["a"], {"id": "a"}, True):
            r = c.post(f"{API}/holds", headers=auth(token),
                       json={"practitioner_id": wrong, "appointment_type_id": world.type_id,
                             "start": slot["start"], "minutes": 5})  # fmt: skip
            _problem(r, 422)
        assert {t: _count(clinic, t) for t in before} == before
    finally:
        clinic.close()


def test_an_idempotency_key_another_api_key_used_first_leaks_nothing(tmp_path: Path) -> None:
    clinic = Clinic(tmp_path, str(tmp_path / "server.sqlite3"))
    try:
        world = build(clinic)
        alice, mallory = key(clinic.store, name="alice"), key(clinic.store, name="mallory")
        slots = clinic.client.get(
            f"{API}/availability", headers=auth(alice),
            params={"appointment_type_id": world.type_id, "limit": 10},
        ).json()["slots"]  # fmt: skip
        first, other = slots[0], next(x for x in slots if x["start"] >= slots[0]["end"])

        def book(token: str, slot: dict[str, Any]) -> Any:
            return clinic.client.post(
                f"{API}/appointments",
                headers=auth(token, **{"Idempotency-Key": "booking-1"}),
                json={"patient_id": world.patient_id, "practitioner_id": slot["practitioner_id"],
                      "appointment_type_id": world.type_id, "start": slot["start"]},
            )  # fmt: skip

        mine = book(alice, first)
        assert mine.status_code == 201, mine.text
        # the same key and the same body from another API key: no replay of Alice's answer —
        # it is a new request of Mallory's, and the time is taken
        same = book(mallory, first)
        assert same.headers.get("idempotent-replayed") is None
        assert same.status_code == 409 and mine.json()["id"] not in same.text
        # nor is Mallory told that the key was used for a different request
        theirs = book(mallory, other)
        assert theirs.status_code == 201, theirs.text
        assert theirs.json()["id"] != mine.json()["id"]
        assert theirs.headers.get("idempotent-replayed") is None
        # while Alice's own retry still replays her answer
        again = book(alice, first)
        assert again.headers.get("idempotent-replayed") == "true"
        assert again.json() == mine.json()
    finally:
        clinic.close()


def test_revoking_a_key_ends_its_open_event_stream(tmp_path: Path) -> None:
    url = str(tmp_path / "server.sqlite3")
    clinic = Clinic(tmp_path / "desks", url)
    world = build(clinic)
    clinic.close()
    server = start_server(tmp_path / "srv", url)
    try:
        listener = _cli_key(server, "webhooks")  # its name is "racer"
        booker = subprocess.run(
            server_command(server.data_dir, server.database, "api-key", "create", "--name",
                           "booker", "--scope", "availability:read", "--scope",
                           "appointments:write"),
            capture_output=True, text=True, check=True, timeout=120,
        ).stdout  # fmt: skip
        booker = next(w for w in booker.split() if w.startswith("fdk_"))
        lines: list[str] = []
        ended = threading.Event()

        def listen() -> None:
            with httpx.stream(
                "GET", f"{server.base}{API}/events", params={"timeout": 120},
                headers=auth(listener), timeout=150,
            ) as r:  # fmt: skip
                assert r.status_code == 200
                for line in r.iter_lines():
                    lines.append(line)
            ended.set()

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        api = httpx.Client(base_url=server.base, timeout=60)
        slots = api.get(
            f"{API}/availability", headers=auth(booker),
            params={"appointment_type_id": world.type_id, "limit": 10},
        ).json()["slots"]  # fmt: skip

        def book(slot: dict[str, Any]) -> str:
            r = api.post(
                f"{API}/appointments",
                headers=auth(booker, **{"Idempotency-Key": slot["start"]}),
                json={"patient_id": world.patient_id, "practitioner_id": slot["practitioner_id"],
                      "appointment_type_id": world.type_id, "start": slot["start"]},
            )  # fmt: skip
            assert r.status_code == 201, r.text
            return str(r.json()["id"])

        time.sleep(1)  # the stream is open (it starts from now)
        seen = book(slots[0])
        deadline = time.monotonic() + 30
        while not any(seen in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any(seen in line for line in lines), lines  # it streams while the key is good
        subprocess.run(
            server_command(server.data_dir, server.database, "api-key", "revoke", "racer"),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        assert ended.wait(20), "the stream of a revoked key went on"
        unseen = book(next(x for x in slots if x["start"] >= slots[0]["end"]))
        time.sleep(1)
        assert not any(unseen in line for line in lines)
        assert any("revoked" in line for line in lines)
        r = api.get(f"{API}/events", headers=auth(listener))
        assert r.status_code == 401 and "revoked" in r.json()["detail"]
        api.close()
    finally:
        server.stop()


def test_the_server_stops_while_an_event_stream_is_open(tmp_path: Path) -> None:
    """A service manager stops the server (SIGTERM) while an integrator's event stream is
    open: the server ends the stream and exits by itself, rather than waiting for the
    client to hang up (it waited forever; the group benchmark's server had to be killed)."""
    url = str(tmp_path / "server.sqlite3")
    clinic = Clinic(tmp_path / "desks", url)
    build(clinic)
    clinic.close()
    server = start_server(tmp_path / "srv", url)
    try:
        listener = _cli_key(server, "webhooks")
        opened, ended = threading.Event(), threading.Event()

        def listen() -> None:
            try:
                with httpx.stream(
                    "GET", f"{server.base}{API}/events", params={"timeout": 120},
                    headers=auth(listener), timeout=300,
                ) as r:  # fmt: skip
                    assert r.status_code == 200
                    opened.set()
                    for _line in r.iter_lines():
                        pass
            except httpx.HTTPError:
                pass  # the server hung up: what a client sees when it goes away
            ended.set()

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        assert opened.wait(60), "the stream never opened"
        server.proc.terminate()
        try:
            code = server.proc.wait(timeout=60)  # a bound against hanging, not a speed check
        except subprocess.TimeoutExpired:
            pytest.fail("the server did not stop while an event stream was open")
        assert code is not None
        assert ended.wait(60), "the stream stayed open after the server stopped"
    finally:
        server.stop()
