"""The integration API's write path does no more statements than it needs (on SQLite and
PostgreSQL): a key's "last used" is rewritten at most once a minute while every call is still
in the API's audit log, and a hold's write reads the change log's position once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select

from frontdesk.models import RosterEntry
from frontdesk.server import schema as s
from tests.server.api_world import API, auth, build, key
from tests.sync.clinic import Clinic


def _last_used(clinic: Clinic) -> Any:
    with clinic.store.reading() as conn:
        return conn.execute(select(s.api_keys.c.last_used_at)).scalar_one()


def _calls(clinic: Clinic) -> int:
    with clinic.store.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(s.api_audit)).scalar_one())


def _hold(clinic: Clinic, token: str, type_id: str, n: int) -> dict[str, Any]:
    slots = clinic.client.get(
        f"{API}/availability",
        params={"appointment_type_id": type_id, "limit": 20},
        headers=auth(token),
    ).json()["slots"]
    slot = slots[n]
    r = clinic.client.post(
        f"{API}/holds",
        headers=auth(token),
        json={"practitioner_id": slot["practitioner_id"], "appointment_type_id": type_id,
              "start": slot["start"], "minutes": 5},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_last_used_is_kept_to_the_minute_and_every_call_is_logged(any_clinic: Clinic) -> None:
    clinic = any_clinic
    world = build(clinic)
    token = key(clinic.store, name="Phone AI")
    clock = clinic.server_clock
    _hold(clinic, token, world.type_id, 0)
    first = _last_used(clinic)
    assert first is not None
    logged = _calls(clinic)
    clock.advance(timedelta(seconds=30))
    _hold(clinic, token, world.type_id, 2)
    assert _last_used(clinic) == first  # half a minute later: not rewritten
    assert _calls(clinic) > logged  # but the call is in the audit log
    clock.advance(timedelta(seconds=31))
    _hold(clinic, token, world.type_id, 4)
    assert _last_used(clinic) == clock.now()


def test_a_hold_reads_the_change_log_position_once(any_clinic: Clinic) -> None:
    clinic = any_clinic
    world = build(clinic)
    token = key(clinic.store, name="Phone AI")
    _hold(clinic, token, world.type_id, 0)  # the key's first use, and the slot cache warm
    clinic.client.app.state.call_log.flush(clinic.store)
    start = _hold_start(clinic, token, world)
    seen: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if "max(server_change_log.seq)" in statement:
            seen.append(statement)

    event.listen(clinic.store.engine, "before_cursor_execute", count)
    try:
        held = clinic.client.post(
            f"{API}/holds",
            headers=auth(token),
            json={"practitioner_id": world.practitioners[1], "appointment_type_id": world.type_id,
                  "start": start, "minutes": 5},
        )  # fmt: skip
    finally:
        event.remove(clinic.store.engine, "before_cursor_execute", count)
    assert held.status_code == 201, held.text
    assert len(seen) == 1
    with clinic.store.reading() as conn:  # and the server's position is the hold's change
        newest = conn.execute(select(func.max(s.change_log.c.seq))).scalar_one()
    assert clinic.store.latest_seq == newest


def _hold_start(clinic: Clinic, token: str, world: Any) -> str:
    slots = clinic.client.get(
        f"{API}/availability",
        params={"appointment_type_id": world.type_id, "practitioner_id": world.practitioners[1],
                "limit": 20},
        headers=auth(token),
    ).json()["slots"]  # fmt: skip
    return str(slots[-1]["start"])


def test_cached_availability_reads_the_roster_again_only_after_it_changes(
    any_clinic: Clinic,
) -> None:
    clinic = any_clinic
    world = build(clinic)
    token = key(clinic.store, name="Phone AI")
    _hold(clinic, token, world.type_id, 0)  # the log is no longer empty: the cache is used
    reads: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if "FROM roster_entries" in statement:
            reads.append(statement)

    def latest_end(practitioner: str) -> int:
        slots = clinic.client.get(
            f"{API}/availability",
            params={"appointment_type_id": world.type_id, "practitioner_id": practitioner,
                    "limit": 500},
            headers=auth(token),
        ).json()["slots"]  # fmt: skip
        ends = [datetime.fromisoformat(sl["end"]) for sl in slots]
        return max(e.hour * 60 + e.minute for e in ends)

    event.listen(clinic.store.engine, "before_cursor_execute", count)
    try:
        assert latest_end(world.practitioners[0]) == 17 * 60
        reads.clear()
        assert latest_end(world.practitioners[0]) == 17 * 60
        assert reads == []  # nothing changed: the kept roster lines
        with world.desk.ctx.write("shorter days") as session:
            for entry in session.scalars(
                select(RosterEntry).where(
                    RosterEntry.practitioner_id == world.practitioners[0],
                    RosterEntry.kind == "work",
                )
            ):
                entry.end_minute = 15 * 60
        assert world.desk.sync()
        reads.clear()  # (the server's own checks of the pushed change read it too)
        assert latest_end(world.practitioners[0]) == 15 * 60  # the change is seen at once
        assert len(reads) == 1
    finally:
        event.remove(clinic.store.engine, "before_cursor_execute", count)
