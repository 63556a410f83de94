"""The check after a sync reads the server as of one moment: another desk's push that lands
while the server is answering a desk's check does not make the figures disagree with the
change-log position (on PostgreSQL each statement of a READ COMMITTED transaction saw later
commits: the desk re-synced whole tables and took rows whose parents it had not pulled)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from frontdesk import faults
from frontdesk.models import Appointment
from frontdesk.sync.summary import SyncSummary
from tests.sync.clinic import START, Clinic


def test_a_push_landing_during_a_check_does_not_spoil_it(
    any_clinic: Clinic,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="frontdesk.sync")
    a, b = any_clinic.add_desk(), any_clinic.add_desk()
    prac = a.add_practitioner()
    patient = a.add_patient()
    any_clinic.settle()
    b.book(prac, patient, START + timedelta(days=1))
    marker = tmp_path / "paused"
    monkeypatch.setattr(faults, "_counts", {})  # each run pauses at its own first check
    monkeypatch.setenv("FRONTDESK_PAUSE_AT", "server.check.counts:1")
    monkeypatch.setenv("FRONTDESK_PAUSE_FILE", str(marker))
    summaries: list[SyncSummary] = []
    failures: list[BaseException] = []

    def b_syncs() -> None:
        try:
            summaries.append(b.engine.sync())
        except BaseException as exc:  # reported below
            failures.append(exc)

    worker = threading.Thread(target=b_syncs)
    worker.start()
    deadline = time.monotonic() + 60
    while not marker.exists():  # b's check is at the server, its position read
        assert time.monotonic() < deadline and worker.is_alive(), failures
        time.sleep(0.02)
    monkeypatch.delenv("FRONTDESK_PAUSE_AT")
    later = a.book(prac, patient, START + timedelta(days=2))  # another desk's push lands
    assert a.sync()
    marker.unlink()
    worker.join(60)
    assert not failures and summaries
    summary = summaries[0]
    assert summary.mismatched == [] and summary.repaired == 0 and not summary.resynced
    # b took nothing outside its pull: no table re-sync brought a's later booking early
    assert "table check mismatch" not in caplog.text
    assert later not in b.ids(Appointment)
    any_clinic.settle()
    any_clinic.assert_converged()
    assert later in b.ids(Appointment)
