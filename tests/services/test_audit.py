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


def test_a_changed_staff_name_is_found(owner: ServiceContext) -> None:
    """The name a manager reads in the trail is covered by the hash like every other field."""
    pid = _patient(owner)
    with owner.engine.begin() as conn:
        seq = conn.execute(
            text("SELECT device_seq FROM audit_events WHERE patient_id = :p"), {"p": pid}
        ).scalar_one()
        conn.execute(
            text("UPDATE audit_events SET staff_name = 'Someone Else' WHERE device_seq = :s"),
            {"s": seq},
        )
    report = audit.verify_chain(owner)
    assert report.broken is not None and report.broken.device_seq == seq
    assert "changed after it was written" in report.message


def test_entries_hashed_before_names_were_covered_still_verify(owner: ServiceContext) -> None:
    """A desk upgraded from a version whose hash did not cover the staff name keeps its trail:
    its old entries check out as written, and the chain goes on from them."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from frontdesk.models import AuditEvent
    from frontdesk.models.codec import to_json_value
    from frontdesk.store.tracking import _LEGACY_HASHED, GENESIS_HASH, audit_hash

    _patient(owner)
    with Session(owner.engine) as s, s.begin():  # re-hash as an older version wrote it
        prev = GENESIS_HASH
        for event in s.scalars(select(AuditEvent).order_by(AuditEvent.device_seq)):
            legacy = {k: to_json_value(getattr(event, k)) for k in _LEGACY_HASHED}
            digest = audit_hash(prev, legacy)
            s.execute(
                text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :i"),
                {"p": prev, "h": digest, "i": event.id},
            )
            prev = digest
    assert audit.verify_chain(owner).intact
    with owner.write("create patient") as s:  # the chain goes on after the upgrade
        s.add(Patient(patient_number="P-2", first_name="Ada", last_name="Lovelace"))
    report = audit.verify_chain(owner)
    assert report.intact, report.message
