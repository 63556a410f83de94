"""The integration API's write path does no more statements than it needs (on SQLite and
PostgreSQL): a key's "last used" is rewritten at most once a minute while every call is still
in the API's audit log, and a hold's write reads the change log's position once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select

from frontdesk.models import RosterEntry
from frontdesk.server import schema as s
from frontdesk.server.changelog import TABLES
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


def _statements(clinic: Clinic, call: Any) -> tuple[Any, list[str]]:
    seen: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        seen.append(statement)

    event.listen(clinic.store.engine, "before_cursor_execute", count)
    try:
        return call(), seen
    finally:
        event.remove(clinic.store.engine, "before_cursor_execute", count)


def test_a_hold_and_a_booking_from_it_are_one_write_each_with_few_statements(
    any_clinic: Clinic,
) -> None:
    """No read transaction of the key's before the write; the key, the Idempotency-Key's
    answer, the log's position and the server's audit head in one statement; the clinic's
    facts and roster lines kept; leave, bookings, holds and closures in one statement; the
    change log's rows in one."""
    clinic = any_clinic
    world = build(clinic)
    token = key(clinic.store, name="Phone AI")
    first = _hold(clinic, token, world.type_id, 0)  # the key seen, the slot cache warm
    warm = clinic.client.post(  # and the server's audit chain has its head
        f"{API}/appointments",
        headers=auth(token, **{"Idempotency-Key": "call-0"}),
        json={"patient_id": world.patient_id, "hold_id": first["id"]},
    )
    assert warm.status_code == 201, warm.text
    clinic.client.app.state.call_log.flush(clinic.store)
    start = _hold_start(clinic, token, world)
    body = {"practitioner_id": world.practitioners[1], "appointment_type_id": world.type_id,
            "start": start, "minutes": 5}  # fmt: skip
    held, hold_sql = _statements(
        clinic, lambda: clinic.client.post(f"{API}/holds", headers=auth(token), json=body)
    )
    assert held.status_code == 201, held.text
    booked, book_sql = _statements(
        clinic,
        lambda: clinic.client.post(
            f"{API}/appointments",
            headers=auth(token, **{"Idempotency-Key": "call-1"}),
            json={"patient_id": world.patient_id, "hold_id": held.json()["id"]},
        ),
    )
    assert booked.status_code == 201, booked.text
    for sql in (hold_sql, book_sql):
        assert sum("FROM server_api_keys" in q for q in sql) == 1  # in the write's opening
        assert sum("INSERT INTO server_change_log" in q for q in sql) == 1
        assert not any("FROM clinic_settings" in q or "FROM roster_entries" in q for q in sql)
        assert not any("FROM appointment_types" in q or "FROM practitioners" in q for q in sql)
    # before: a hold was 16 statements and a booking from a hold 27 (PostgreSQL, the key's
    # read transaction aside); here the first is the advisory lock (PostgreSQL) or BEGIN
    # IMMEDIATE (SQLite)
    print("\n".join(q[:90].replace("\n", " ") for q in [*hold_sql, "--", *book_sql]))
    assert len(hold_sql) <= 7, hold_sql
    assert len(book_sql) <= 13, book_sql
    # and what the write left is whole: the desks' copy of the hold ended, the booking's
    # change-log entries, the audit chain's head, the key's call
    with clinic.store.reading() as conn:
        marks = TABLES["appointment_holds"]
        ended = conn.execute(
            select(marks.c.appointment_id, marks.c.version).where(marks.c.id == held.json()["id"])
        ).one()
        assert ended == (booked.json()["id"], 2)
        logged = conn.execute(
            select(s.change_log.c.entity).where(s.change_log.c.seq > 0).order_by(
                s.change_log.c.seq.desc()
            ).limit(4)
        ).scalars().all()  # fmt: skip
        assert sorted(logged[:3]) == ["appointment_holds", "appointments", "audit_events"]
        head = conn.execute(
            select(s.audit_heads.c.seq).where(s.audit_heads.c.chain_id == "server")
        ).scalar_one()
        events = TABLES["audit_events"]
        top = conn.execute(
            select(func.max(events.c.device_seq)).where(events.c.device_id == "server")
        ).scalar_one()
        assert head == top
    assert clinic.store.latest_seq == _newest(clinic)


def _newest(clinic: Clinic) -> int:
    with clinic.store.reading() as conn:
        return int(conn.execute(select(func.max(s.change_log.c.seq))).scalar_one())


def test_a_key_revoked_after_its_first_use_is_refused_on_its_next_call(
    any_clinic: Clinic,
) -> None:
    """A write (or a search) takes a key this process has seen valid without reading it
    first, and checks it in the write (or the search's read) itself: a revocation (here
    through a second store on the database, as another server process or the command line
    would) counts at once — 401, nothing changed, and no call of a valid key recorded."""
    from frontdesk.server.api.keys import revoke_key
    from frontdesk.server.store import ServerStore

    clinic = any_clinic
    world = build(clinic)
    token = key(clinic.store, name="Phone AI")
    narrow = key(clinic.store, "availability:read", name="Reader")
    held = _hold(clinic, token, world.type_id, 0)
    assert clinic.client.get(
        f"{API}/availability", params={"appointment_type_id": world.type_id, "limit": 1},
        headers=auth(narrow),
    ).status_code == 200  # fmt: skip
    clinic.client.app.state.call_log.flush(clinic.store)
    other = ServerStore(clinic.url)
    try:
        assert revoke_key(other, "Phone AI") == 1
        assert revoke_key(other, "Reader") == 1
    finally:
        other.dispose()
    start = _hold_start(clinic, key(clinic.store, name="Fresh"), world)
    clinic.client.app.state.call_log.flush(clinic.store)
    before = (_newest(clinic), _calls(clinic))
    attempts = [
        clinic.client.post(
            f"{API}/holds", headers=auth(token),
            json={"practitioner_id": world.practitioners[1],
                  "appointment_type_id": world.type_id, "start": start, "minutes": 5},
        ),
        clinic.client.post(
            f"{API}/appointments", headers=auth(token, **{"Idempotency-Key": "k1"}),
            json={"patient_id": world.patient_id, "hold_id": held["id"]},
        ),
        clinic.client.delete(f"{API}/holds/{held['id']}", headers=auth(token)),
        # a revoked key without the scope is told it is revoked, as on reads
        clinic.client.post(
            f"{API}/holds", headers=auth(narrow),
            json={"practitioner_id": world.practitioners[1],
                  "appointment_type_id": world.type_id, "start": start, "minutes": 5},
        ),
        # and a search, whose key is checked in its own read
        clinic.client.get(
            f"{API}/availability", params={"appointment_type_id": world.type_id, "limit": 1},
            headers=auth(narrow),
        ),
    ]  # fmt: skip
    for r in attempts:
        assert r.status_code == 401, r.text
        assert "revoked" in r.json()["detail"]
    clinic.client.app.state.call_log.flush(clinic.store)
    assert (_newest(clinic), _calls(clinic)) == before
