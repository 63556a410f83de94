"""The sync engine's long-poll and status: a desk waiting for changes hears of another desk's
push at once, and hears nothing when there is nothing new."""

from __future__ import annotations

import pytest

from frontdesk.sync.engine import SyncFailed
from tests.sync.clinic import Clinic


def test_wait_for_change_answers_when_another_desk_pushes(clinic: Clinic) -> None:
    a, b = clinic.add_desk(), clinic.add_desk()
    clinic.settle()
    assert b.sync()
    assert b.engine.wait_for_change(timeout_s=0.2) is False
    a.add_practitioner()
    assert b.engine.status().pending == 0
    assert a.engine.status().pending > 0
    assert a.sync()
    assert b.engine.wait_for_change(timeout_s=5) is True
    assert b.sync()
    assert b.engine.wait_for_change(timeout_s=0.2) is False
    status = b.engine.status()
    assert status.enrolled and status.last_sync_at is not None and status.refused == 0


def test_wait_for_change_refused_without_access(clinic: Clinic) -> None:
    b = clinic.add_desk()
    assert b.sync()
    b.engine.token = "not-a-token"
    with pytest.raises(SyncFailed):
        b.engine.wait_for_change(timeout_s=0.2)
