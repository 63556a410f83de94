"""Reminders planned in bulk are ordinary synced rows: a second desk receives every one with
the same fields, the desk's audit has one event for the plan, and planning again adds none.
A family mobile (two patients) still gets "For Full Name:" first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from frontdesk.models import AuditEvent, OutgoingMessage, Patient
from frontdesk.services.messaging import queueing
from frontdesk.services.messaging.setup import save_settings
from tests.sync.clinic import START, Clinic
from tests.sync.fakes import MemoryKeyring

MONDAY = (START + timedelta(days=3)).astimezone(START.tzinfo).date()


@pytest.fixture
def two(tmp_path: Path, keychain: MemoryKeyring) -> Iterator[Clinic]:
    c = Clinic(tmp_path, str(tmp_path / "server.sqlite3"))
    yield c
    c.close()


def test_bulk_planned_reminders_sync_and_are_audited_once(two: Clinic) -> None:
    messaging, reception = two.add_desk("messaging"), two.add_desk("reception")
    prac = messaging.add_practitioner("Anna")
    ids = []
    for n, (first, mobile) in enumerate(
        (("Pat", "0412 345 678"), ("Sib", "0412-345-678"), ("Uma", "0412 345 001"))
    ):
        pid = messaging.add_patient(first, "Family")
        with messaging.ctx.write("consent") as s:
            p = s.get(Patient, pid)
            assert p is not None
            p.mobile_phone, p.sms_consent = mobile, True
        ids.append(messaging.book(prac, pid, START + timedelta(days=3, hours=1 + n)))
    save_settings(messaging.ctx, enabled=True)
    day = (START + timedelta(days=3, hours=1)).astimezone(messaging.ctx.tz).date()
    assert queueing.plan_reminders(messaging.ctx, day) == 3
    assert queueing.plan_reminders(messaging.ctx, day) == 0
    with messaging.ctx.read() as s:
        mine = {m.appointment_id: m for m in s.scalars(select(OutgoingMessage))}
        events = s.scalars(select(AuditEvent).where(AuditEvent.entity == "outgoing_messages")).all()
    assert len(events) == 1 and "3 reminder" in events[0].summary
    assert mine[ids[0]].body.startswith("For Pat Family: ")
    assert mine[ids[1]].body.startswith("For Sib Family: ")
    assert not mine[ids[2]].body.startswith("For ")
    two.settle()
    with reception.ctx.read() as s:
        theirs = {m.appointment_id: m for m in s.scalars(select(OutgoingMessage))}
    assert set(theirs) == set(mine)
    for aid, m in mine.items():
        t = theirs[aid]
        assert (t.id, t.body, t.send_after, t.status, t.kind, t.to_address) == (
            m.id, m.body, m.send_after, m.status, m.kind, m.to_address,
        )  # fmt: skip
