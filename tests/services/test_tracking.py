"""Every change writes its outbox row and hash-chained audit event in the same transaction."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from frontdesk.models import AuditEvent, Patient, SyncOutbox
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.store.tracking import GENESIS_HASH, audit_hash, audit_payload, record_event


def _new_patient(ctx: ServiceContext, number: str = "P-9") -> str:
    with ctx.write("create patient") as s:
        p = Patient(patient_number=number, first_name="Mai", last_name="Nguyễn")
        s.add(p)
        s.flush()
        return p.id


def test_insert_and_update_are_queued_with_changed_fields_only(ctx: ServiceContext) -> None:
    pid = _new_patient(ctx)
    with ctx.write("edit patient") as s:
        p = s.get(Patient, pid)
        assert p is not None
        p.mobile_phone = "0412 345 678"
    with ctx.read() as s:
        rows = s.scalars(
            select(SyncOutbox).where(SyncOutbox.entity == "patients").order_by(SyncOutbox.seq)
        ).all()
    assert [r.op for r in rows] == ["insert", "update"]
    update = json.loads(rows[1].fields_json)
    assert set(update) == {"mobile_phone", "updated_at"}
    assert rows[1].base_version == 0
    with ctx.read() as s:
        seqs = s.scalars(select(SyncOutbox.seq).order_by(SyncOutbox.seq)).all()
    assert seqs == list(range(1, len(seqs) + 1)), "outbox sequence must be gapless"


def test_rollback_leaves_no_outbox_or_audit(ctx: ServiceContext) -> None:
    with ctx.read() as s:
        before = s.scalar(select(func.count()).select_from(SyncOutbox))
    with pytest.raises(RuntimeError), ctx.write("doomed") as s:
        s.add(Patient(patient_number="P-1", first_name="A", last_name="B"))
        s.flush()
        raise RuntimeError("boom")
    with ctx.read() as s:
        assert s.scalar(select(func.count()).select_from(SyncOutbox)) == before
        assert s.scalar(select(func.count()).select_from(Patient)) == 0


def test_audit_chain_verifies_and_detects_tampering(ctx: ServiceContext) -> None:
    pid = _new_patient(ctx)
    with ctx.write() as s:
        record_event(s, "print invoice", summary="INV-1", patient_id=pid)
    with ctx.read() as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.device_seq)).all()
    prev = GENESIS_HASH
    for e in events:
        row = {c: getattr(e, c) for c in audit_payload({})}
        assert e.prev_hash == prev
        assert audit_hash(prev, audit_payload(row)) == e.hash
        prev = e.hash
    tampered = {c: getattr(events[-2], c) for c in audit_payload({})}
    tampered["after_json"] = '{"first_name":"Someone else"}'
    assert audit_hash(events[-2].prev_hash, audit_payload(tampered)) != events[-2].hash
    patient_events = [e for e in events if e.patient_id == pid]
    assert {e.action for e in patient_events} == {"create patient", "print invoice"}


def test_hard_delete_of_synced_rows_is_refused(ctx: ServiceContext) -> None:
    pid = _new_patient(ctx)
    with pytest.raises(RuntimeError, match="never hard-deleted"), ctx.write() as s:
        s.delete(s.get(Patient, pid))


def test_change_notice_after_commit(ctx: ServiceContext) -> None:
    seen: list[ChangeNotice] = []
    ctx.listeners.append(seen.append)
    pid = _new_patient(ctx)
    assert seen[-1].touches("patients")
    assert pid in seen[-1].ids["patients"]
    assert seen[-1].origin == "local"
