"""Faults: dropped requests and answers, duplicates, delays and reordering, a server that dies
mid-batch, a desk away longer than the server's history, a server restored from a backup."""

from __future__ import annotations

import random
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from frontdesk.models import Appointment, Patient, Payment
from frontdesk.server import merge
from tests.sync.clinic import START, Clinic
from tests.sync.fakes import Faults, ServerCrash


def _busy_day(clinic: Clinic, rng: random.Random, steps: int) -> None:
    desks = clinic.desks
    pracs = desks[0].ids(__import__("frontdesk.models", fromlist=["Practitioner"]).Practitioner)
    for _ in range(steps):
        d = rng.choice(desks)
        roll = rng.random()
        patients = d.ids(Patient)
        appts = d.ids(Appointment)
        if roll < 0.3:
            d.book(
                rng.choice(pracs),
                rng.choice(patients) if patients else None,
                START + timedelta(minutes=15 * rng.randrange(0, 40)),
            )
        elif roll < 0.45 and appts:
            d.move(rng.choice(appts), START + timedelta(minutes=15 * rng.randrange(0, 40)))
        elif roll < 0.55:
            d.add_patient(rng.choice(["Ann", "Bo", "Cy"]), rng.choice(["Ito", "Ng", "Oz"]))
        elif roll < 0.7 and patients:
            d.edit_patient(rng.choice(patients), mobile_phone=f"04{rng.randrange(10**8):08d}")
        elif roll < 0.8 and patients:
            d.pay(rng.choice(patients), rng.randrange(100, 20000))
        elif roll < 0.85 and appts:
            d.cancel(rng.choice(appts))
        else:
            d.sync()


@pytest.mark.parametrize("seed", [1, 2])
def test_desks_converge_through_a_faulty_network(any_clinic: Clinic, seed: int) -> None:
    clinic = any_clinic
    rng = random.Random(seed)
    desks = [clinic.add_desk() for _ in range(3)]
    desks[0].add_practitioner("Kim")
    desks[0].add_practitioner("Lou")
    desks[0].add_patient()
    clinic.settle()
    payments_made = 0
    for d in desks:
        d.transport.rng = random.Random(seed * 10 + len(d.name))
        d.transport.faults = Faults(drop_request=0.15, drop_response=0.15, duplicate=0.1, delay=0.1)
    _busy_day(clinic, rng, 200)
    payments_made = sum(len(d.ids(Payment)) for d in desks)
    clinic.settle()
    faults = {
        k: sum(d.transport.counts.get(k, 0) for d in desks)
        for k in ("drop_request", "drop_response", "duplicate", "delay")
    }
    assert sum(faults.values()) >= 8 and len([v for v in faults.values() if v]) >= 3, faults
    clinic.assert_converged()
    clinic.assert_no_duplicates()
    assert len(clinic.server_rows()["payments"]) >= payments_made // 3


def test_server_dies_mid_batch_and_the_desk_resumes(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = clinic.add_desk(), clinic.add_desk()
    for n in range(20):
        a.add_patient(f"P{n}", "Batch")
    real = merge._apply
    calls = {"n": 0}

    def dying(*args: object, **kw: object) -> object:
        calls["n"] += 1
        if calls["n"] == 7:
            raise ServerCrash("killed")
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(merge, "_apply", dying)
    assert not a.sync()
    monkeypatch.setattr(merge, "_apply", real)
    clinic.settle()
    assert len(b.ids(Patient)) == 20
    clinic.assert_converged()
    clinic.assert_no_duplicates()


def test_desk_away_longer_than_history_resyncs_without_losing_changes(any_clinic: Clinic) -> None:
    clinic = any_clinic
    a, b = clinic.add_desk(), clinic.add_desk()
    prac = a.add_practitioner()
    clinic.settle()
    b.plain.online = False
    for n in range(5):
        a.book(prac, None, START + timedelta(hours=n))
    a.sync()
    mine = b.book(prac, None, START + timedelta(days=2))
    pat = b.add_patient("Offline", "Made")
    clinic.store.prune_history(clinic.store.pull(0, 1)["latest"])
    b.plain.online = True
    assert b.sync()
    assert b.engine._state().pull_cursor > 0
    clinic.settle()
    assert mine in a.ids(Appointment) and pat in a.ids(Patient)
    assert len(b.ids(Appointment)) == 6
    clinic.assert_converged()


def test_server_restored_from_backup_gets_the_desks_changes_again(
    clinic: Clinic, tmp_path: Path
) -> None:
    a, b = clinic.add_desk(), clinic.add_desk()
    prac = a.add_practitioner()
    clinic.settle()
    server_file = Path(clinic.url)
    backup = tmp_path / "backup.sqlite3"
    clinic.store.engine.dispose()
    shutil.copy(server_file, backup)
    lost = a.book(prac, None, START + timedelta(hours=3))
    clinic.settle()
    assert lost in b.ids(Appointment)
    # The server's disk dies; the admin restores last night's backup and starts a new epoch.
    clinic.store.engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(str(server_file) + suffix).unlink(missing_ok=True)
    shutil.copy(backup, server_file)
    clinic.store.new_epoch()
    after = b.book(prac, None, START + timedelta(hours=5))
    clinic.settle()
    rows = clinic.server_rows()["appointments"]
    assert lost in rows and after in rows
    clinic.assert_converged()
