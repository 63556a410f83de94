"""The audit trail: filters, readable changes, and tamper detection of the per-desk chain."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text

from frontdesk.domain.clock import FakeClock
from frontdesk.models import Patient
from frontdesk.services import audit, clinic_settings
from frontdesk.services.audit import AuditFilter
from frontdesk.services.signin import sign_in
from frontdesk.store.context import ServiceContext


def _patient(ctx: ServiceContext) -> str:
    with ctx.write("create patient") as s:
        p = Patient(patient_number="P-1", first_name="Mai", last_name="Nguyễn")
        s.add(p)
        s.flush()
        return p.id


def test_filters_and_readable_before_after(owner: ServiceContext) -> None:
    pid = _patient(owner)
    clock = owner.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(days=2))
    with owner.write("edit patient") as s:
        p = s.get(Patient, pid)
        assert p is not None
        p.mobile_phone = "0412 345 678"
    details = clinic_settings.load(owner)
    clinic_settings.update(owner, details.__class__(**{**details.__dict__, "name": "Bayside"}))

    entries = audit.query(owner, AuditFilter(patient_id=pid))
    assert [e.action for e in entries] == ["edit patient", "create patient"]
    assert entries[0].patient_name == "Mai Nguyễn"
    assert entries[0].staff_name == "Olive Owner"
    change = entries[0].changes[0]
    assert (change.field, change.before, change.after) == ("mobile_phone", "", "0412 345 678")

    settings = audit.query(
        owner, AuditFilter(entity="clinic_settings", action="change clinic settings")
    )
    assert [(c.field, c.before, c.after) for c in settings[0].changes] == [
        ("name", "My clinic", "Bayside")
    ]
    today = clock.now().astimezone(owner.tz).date()
    assert {e.action for e in audit.query(owner, AuditFilter(first_day=today))} == {
        "edit patient",
        "change clinic settings",
    }
    assert all(
        e.at.date() < today
        for e in audit.query(owner, AuditFilter(last_day=today - timedelta(days=1)))
    )
    assert audit.query(owner, AuditFilter(first_day=date(2030, 1, 1))) == []
    mine = audit.query(owner, AuditFilter(staff_user_id=owner.actor.staff_user_id))
    assert "sign in" in {e.action for e in mine}
    actions, entities = audit.kinds(owner)
    assert "sign in" in actions and "patients" in entities


def test_intact_chain_verifies(owner: ServiceContext) -> None:
    _patient(owner)
    report = audit.verify_chain(owner)
    assert report.intact and report.checked >= 3
    assert "intact" in report.message


def test_tampered_row_is_found(owner: ServiceContext) -> None:
    pid = _patient(owner)
    with owner.engine.begin() as conn:
        seq = conn.execute(
            text("SELECT device_seq FROM audit_events WHERE patient_id = :p"), {"p": pid}
        ).scalar_one()
        conn.execute(
            text("UPDATE audit_events SET after_json = '{\"first_name\":\"Someone\"}' "
                 "WHERE device_seq = :s"), {"s": seq},
        )  # fmt: skip
    report = audit.verify_chain(owner)
    assert not report.intact and report.broken is not None
    assert report.broken.device_seq == seq
    assert "changed after it was written" in report.message


def test_deleted_row_is_found(owner: ServiceContext) -> None:
    _patient(owner)
    _ = sign_in(owner, "owner", "correct horse")
    with owner.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE device_seq = 2"))
    report = audit.verify_chain(owner)
    assert report.broken is not None and report.broken.device_seq == 2
    assert "missing" in report.message


def test_deleting_the_newest_entry_is_found_too(owner: ServiceContext) -> None:
    _patient(owner)
    with owner.engine.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM audit_events "
                "WHERE device_seq = (SELECT max(device_seq) FROM audit_events)"
            )
        )
    report = audit.verify_chain(owner)
    assert report.broken is not None and "missing" in report.broken.problem
