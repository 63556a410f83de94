"""The phone index (``server/api/phone_index.py``) finds exactly the patients the scan of every
patient's numbers finds: after patients are added, renumbered, given a second number, archived
and merged on a desk (synced) and made through the API — for the numbers they have now and
the ones they had, in any format; for a read that began before a change; after the server's
epoch changes; on SQLite and PostgreSQL, in process and through HTTP."""

from __future__ import annotations

import random

from frontdesk.domain.vocab import SeriesKind
from frontdesk.models import Patient
from frontdesk.server.api import patients
from frontdesk.server.api.phone_index import PhoneIndex
from frontdesk.store.numbering import next_number
from tests.server.api_world import API, auth, build, key
from tests.sync.clinic import Clinic

NUMBERS = [f"04{n:02d} 555 {m:03d}" for n in range(10, 14) for m in (100, 200, 300)]
FORMATS = (
    lambda n: n,
    lambda n: n.replace(" ", ""),
    lambda n: "+61 " + n[1:],
    lambda n: f"({n[:2]}) {n[2:].replace(' ', '-')}",
)


def _ids(rows: list[dict[str, object]]) -> list[object]:
    return sorted(r["id"] for r in rows)


def _agree(clinic: Clinic, index: PhoneIndex, rng: random.Random, asked: list[str]) -> int:
    """Every number asked (in a random format) gives the scan's patients; how many matched."""
    found = 0
    with clinic.store.reading() as conn:
        for number in asked:
            shown = rng.choice(FORMATS)(number)
            scanned = _ids(patients.by_phone(conn, shown))
            indexed = _ids(patients.by_phone(conn, shown, index))
            assert indexed == scanned, (number, shown)
            found += len(scanned)
    return found


def test_the_index_finds_what_the_scan_finds_after_every_change(any_clinic: Clinic) -> None:
    clinic = any_clinic
    world = build(clinic)
    desk = world.desk
    token = key(clinic.store)
    rng = random.Random(17)
    index = PhoneIndex()
    # a freshly synced server has a change log, so the index answers (and is built once)
    assert _agree(clinic, index, rng, ["0412 345 678"]) == 1
    assert index.builds == 1
    made: list[str] = [world.patient_id]
    had: list[str] = ["0412 345 678"]
    found = 0
    for step in range(40):
        roll = rng.random()
        if roll < 0.3 or len(made) < 3:
            with desk.ctx.write("a new patient") as s:
                _sid, number = next_number(s, SeriesKind.PATIENT)
                p = Patient(
                    patient_number=number,
                    first_name=f"P{step}",
                    last_name="Index",
                    mobile_phone=rng.choice(NUMBERS),
                )
                s.add(p)
                s.flush()
                made.append(p.id)
        elif roll < 0.55:
            with desk.ctx.write("a new number") as s:
                p = s.get(Patient, rng.choice(made))
                assert p is not None
                had.append(p.mobile_phone)
                p.mobile_phone = rng.choice(NUMBERS)
        elif roll < 0.7:
            with desk.ctx.write("a home number") as s:
                p = s.get(Patient, rng.choice(made))
                assert p is not None
                p.home_phone = rng.choice(NUMBERS).replace(" ", "-")
        elif roll < 0.8:
            with desk.ctx.write("archive") as s:
                p = s.get(Patient, rng.choice(made))
                assert p is not None
                p.archived_at = None if p.archived_at else desk.clock.now()
        else:
            r = clinic.client.post(
                f"{API}/patients",
                headers=auth(token),
                json={"first_name": f"Api{step}", "last_name": "Made",
                      "mobile_phone": "+61" + rng.choice(NUMBERS)[1:].replace(" ", "")},
            )  # fmt: skip
            assert r.status_code in (200, 201), r.text
        assert desk.sync()
        found += _agree(clinic, index, rng, rng.sample(NUMBERS + had, 6))
        # through HTTP, with the server's own index
        number = rng.choice(NUMBERS)
        r = clinic.client.get(f"{API}/patients", params={"phone": number}, headers=auth(token))
        assert r.status_code == 200, r.text
        with clinic.store.reading() as conn:
            want = _ids(patients.by_phone(conn, number))
        assert sorted(p["id"] for p in r.json()["items"]) == want
    assert found > 20  # the questions were not all misses
    assert index.builds == 1  # followed the log, never rebuilt
    # a new epoch (a restored server) builds it again
    clinic.store.new_epoch()
    _agree(clinic, index, rng, NUMBERS)
    assert index.builds == 2


def test_a_read_that_began_before_a_change_gets_its_own_snapshots_answer(
    clinic: Clinic,
) -> None:
    world = build(clinic)
    desk = world.desk
    index = PhoneIndex()
    with clinic.store.reading() as conn:
        assert index.candidates(conn, "+61412345678") == [world.patient_id]
    old = clinic.store.engine.connect()
    try:
        tx = old.begin()
        patients.by_phone(old, "0412345678")  # the old read's snapshot starts here
        with desk.ctx.write("a new number") as s:
            p = s.get(Patient, world.patient_id)
            assert p is not None
            p.mobile_phone = "0499 000 111"
        assert desk.sync()
        with clinic.store.reading() as conn:  # a newer read moves the index on
            assert _ids(patients.by_phone(conn, "0499000111", index)) == [world.patient_id]
            assert patients.by_phone(conn, "0412345678", index) == []
        # the old snapshot still sees the old number, and the index still proposes it
        assert _ids(patients.by_phone(old, "0412 345 678", index)) == [world.patient_id]
        assert patients.by_phone(old, "0499000111", index) == []
        tx.rollback()
    finally:
        old.close()
    # a build newer than a read's snapshot is not used for it: that read scans
    fresh = PhoneIndex()
    older = clinic.store.engine.connect()
    try:
        tx = older.begin()
        patients.by_phone(older, "0499000111")
        with desk.ctx.write("another number") as s:
            p = s.get(Patient, world.patient_id)
            assert p is not None
            p.mobile_phone = "0400 222 333"
        assert desk.sync()
        with clinic.store.reading() as conn:
            assert fresh.candidates(conn, "0400222333") == [world.patient_id]
        assert fresh.candidates(older, "0499000111") is None
        assert _ids(patients.by_phone(older, "0499000111", fresh)) == [world.patient_id]
        tx.rollback()
    finally:
        older.close()
