"""Patient cards: validation, duplicates, archive, merge and its undo, the loaded card."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from frontdesk.domain.errors import PermissionDenied, RuleViolation, ValidationFailed
from frontdesk.domain.vocab import Role
from frontdesk.models import (
    Appointment,
    AuditEvent,
    Invoice,
    Patient,
    PatientAlert,
    Payment,
    PaymentAllocation,
    Practitioner,
)
from frontdesk.services.patients import (
    add_alert,
    archive_patient,
    create_patient,
    dismiss_duplicate,
    duplicates_to_review,
    save_membership,
    unarchive_patient,
    update_patient,
)
from frontdesk.services.patients.card import load_card
from frontdesk.services.patients.merge import merge_patients, undo_merge
from frontdesk.services.patients.search import search
from frontdesk.store.context import Actor, ServiceContext


def count(ctx: ServiceContext, model: type) -> int:
    with ctx.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_create_numbers_and_cleans(ctx: ServiceContext) -> None:
    a = create_patient(
        ctx,
        {"first_name": " Ann ", "last_name": "Lee", "mobile_phone": "+61412345678",
         "sms_consent": True},
    )  # fmt: skip
    b = create_patient(ctx, {"first_name": "Bo", "last_name": "Wu"})
    assert (a.patient_number, b.patient_number) == ("P-000001", "P-000002")
    with ctx.read() as s:
        p = s.get(Patient, a.patient_id)
        assert p is not None
        assert (p.first_name, p.mobile_phone) == ("Ann", "0412 345 678")
        assert p.sms_consent and p.sms_consent_at == ctx.clock.now()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"first_name": "", "last_name": "Lee"}, "first_name"),
        ({"first_name": "A", "last_name": "Lee", "mobile_phone": "123"}, "mobile_phone"),
        ({"first_name": "A", "last_name": "Lee", "email": "nope"}, "email"),
        (
            {"first_name": "A", "last_name": "Lee", "date_of_birth": date(2030, 1, 1)},
            "date_of_birth",
        ),
        (
            {"first_name": "A", "last_name": "Lee", "medicare_number": "2123456781"},
            "medicare_number",
        ),
        ({"first_name": "A", "last_name": "Lee", "medicare_irn": "0"}, "medicare_irn"),
    ],
)
def test_bad_input_changes_nothing(ctx: ServiceContext, fields: dict, field: str) -> None:  # type: ignore[type-arg]
    before = count(ctx, Patient)
    with pytest.raises(ValidationFailed) as err:
        create_patient(ctx, fields)
    assert err.value.field == field and err.value.user_message.endswith(".")
    assert count(ctx, Patient) == before


def test_edit_validates_and_stamps_consent(ctx: ServiceContext) -> None:
    pid = create_patient(ctx, {"first_name": "Ann", "last_name": "Lee"}).patient_id
    with pytest.raises(ValidationFailed):
        update_patient(ctx, pid, {"email": "ann@", "last_name": "Changed"})
    with ctx.read() as s:
        assert s.get(Patient, pid).last_name == "Lee"  # type: ignore[union-attr]
    update_patient(ctx, pid, {"email_consent": True, "email": "ann@example.com"})
    with ctx.read() as s:
        assert s.get(Patient, pid).email_consent_at is not None  # type: ignore[union-attr]


def test_duplicates_flagged_and_reviewed(ctx: ServiceContext) -> None:
    first = create_patient(ctx, {"first_name": "Zoë", "last_name": "Nguyễn",
                                 "date_of_birth": date(1990, 2, 3), "mobile_phone": "0412 000 111",
                                 "email": "zoe@example.com"})  # fmt: skip
    assert first.duplicates == []
    same_name = create_patient(ctx, {"first_name": "Zoe", "last_name": "Nguyen",
                                     "date_of_birth": date(1990, 2, 3)})  # fmt: skip
    assert [d.reason for d in same_name.duplicates] == ["same name and date of birth"]
    same_phone = create_patient(ctx, {"first_name": "Z", "last_name": "N",
                                      "mobile_phone": "+61 412 000 111"})  # fmt: skip
    assert [d.reason for d in same_phone.duplicates] == ["same phone number"]
    same_email = create_patient(
        ctx, {"first_name": "Q", "last_name": "R", "email": "ZOE@example.com"}
    )
    assert "same email" in same_email.duplicates[0].reason
    review = duplicates_to_review(ctx)
    assert len(review) == 3
    dismiss_duplicate(ctx, review[0].flag_id)
    assert len(duplicates_to_review(ctx)) == 2


def test_archive_hides_and_unarchive_returns(ctx: ServiceContext) -> None:
    pid = create_patient(ctx, {"first_name": "Ann", "last_name": "Archer"}).patient_id
    archive_patient(ctx, pid)
    assert search(ctx, "archer") == []
    unarchive_patient(ctx, pid)
    assert len(search(ctx, "archer")) == 1
    assert count(ctx, Patient) == 1  # never deleted


def test_permissions(ctx: ServiceContext) -> None:
    a = create_patient(ctx, {"first_name": "A", "last_name": "One"}).patient_id
    b = create_patient(ctx, {"first_name": "A", "last_name": "One"}).patient_id
    ctx.actor = Actor("u1", "Rita", Role.RECEPTION)
    with pytest.raises(PermissionDenied, match="merge patients"):
        merge_patients(ctx, a, b)


def _history(demo_ctx: ServiceContext) -> tuple[str, str]:
    """Two patients from the demo clinic that both have appointments and invoices."""
    with demo_ctx.read() as s:
        ids = s.scalars(
            select(Invoice.patient_id).group_by(Invoice.patient_id)
            .order_by(func.count().desc()).limit(2)
        ).all()  # fmt: skip
    return ids[0], ids[1]


def test_merge_moves_everything_and_undo_puts_it_back(demo_ctx: ServiceContext) -> None:
    ctx = demo_ctx
    survivor, dup = _history(ctx)
    add_alert(ctx, dup, "Latex allergy")
    update_patient(ctx, dup, {"admin_notes": "Prefers mornings"})
    save_membership(ctx, dup, {"kind": "dva", "member_number": "NX123456"})

    def owned(pid: str) -> dict[str, int]:
        with ctx.read() as s:
            return {
                m.__tablename__: int(s.scalar(select(func.count()).select_from(m)
                                              .where(m.patient_id == pid)) or 0)
                for m in (Appointment, Invoice, Payment, PatientAlert)
            }  # fmt: skip

    before_s, before_d = owned(survivor), owned(dup)
    assert before_d["appointments"] and before_d["invoices"]
    audit_before = count(ctx, AuditEvent)
    merge_id = merge_patients(ctx, survivor, dup)
    after_s = owned(survivor)
    assert after_s == {k: before_s[k] + before_d[k] for k in before_s}
    assert owned(dup) == dict.fromkeys(before_d, 0)
    card = load_card(ctx, survivor)
    assert "Latex allergy" in [a.text for a in card.alerts]
    assert any(m.member_number == "NX123456" for m in card.memberships)
    assert "Prefers mornings" in card.patient.admin_notes
    assert card.undoable_merge_ids == [merge_id]
    with ctx.read() as s:
        gone = s.get(Patient, dup)
        assert gone is not None and gone.merged_into_id == survivor and gone.archived_at
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "merge patients")) > 1  # fmt: skip
    assert count(ctx, AuditEvent) > audit_before
    assert dup not in [h.id for h in search(ctx, gone.last_name, limit=500)]
    with pytest.raises(RuleViolation):
        merge_patients(ctx, survivor, dup)

    undo_merge(ctx, merge_id)
    assert owned(survivor) == before_s and owned(dup) == {**before_d}
    card = load_card(ctx, survivor)
    assert "Prefers mornings" not in card.patient.admin_notes and not card.undoable_merge_ids
    with ctx.read() as s:
        back = s.get(Patient, dup)
        assert back is not None and back.merged_into_id is None and back.archived_at is None
    with pytest.raises(RuleViolation, match="already undone"):
        undo_merge(ctx, merge_id)


def test_card_history_and_account(demo_ctx: ServiceContext) -> None:
    ctx = demo_ctx
    pid, _ = _history(ctx)
    card = load_card(ctx, pid)
    with ctx.read() as s:
        n_appts = s.scalar(select(func.count()).select_from(Appointment)
                           .where(Appointment.patient_id == pid))  # fmt: skip
        cancelled = s.scalar(select(func.count()).select_from(Appointment)
                             .where(Appointment.patient_id == pid,
                                    Appointment.status == "cancelled"))  # fmt: skip
        paid = s.scalar(select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0))
                        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
                        .where(Invoice.patient_id == pid))  # fmt: skip
    assert len(card.upcoming) + len(card.past) >= n_appts
    assert card.cancellations >= cancelled
    assert all(a.starts_at >= ctx.clock.now() for a in card.upcoming)
    assert card.invoiced_cents - card.owing_cents == paid
    assert all(i.owing_cents >= 0 for i in card.invoices)


def test_upcoming_sorted_soonest_first(ctx: ServiceContext) -> None:
    pid = create_patient(ctx, {"first_name": "Ann", "last_name": "Lee"}).patient_id
    with ctx.write("test") as s:
        prac = Practitioner(first_name="P", last_name="Q", display_name="P Q", profession="Physio")
        s.add(prac)
        s.flush()
        for days in (9, 2, -3):
            start = datetime(2026, 11, 27, 0, tzinfo=UTC) + timedelta(days=days)
            s.add(Appointment(practitioner_id=prac.id, patient_id=pid, starts_at=start,
                              ends_at=start + timedelta(minutes=30)))  # fmt: skip
    card = load_card(ctx, pid)
    assert [a.starts_at.day for a in card.upcoming] == [29, 6]
    assert len(card.past) == 1
    hits = search(ctx, "lee")
    assert hits[0].next_appointment_at == datetime(2026, 11, 29, 0, tzinfo=UTC)
