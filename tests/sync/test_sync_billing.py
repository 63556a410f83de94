"""Billing across desks (issue 12), on a SQLite and a PostgreSQL server: drafts from every desk
reach the clinic, a shared draft issued on two desks leaves neither stuck, an invoice paid on
two desks shows the extra as credit and tells reception, a booking made before a delayed pull
still clashes, and a desk whose clock ran more than a day ahead recovers."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from frontdesk.models import Invoice, Patient, SyncOutbox
from frontdesk.services.billing.credit_notes import issue_credit_note
from frontdesk.services.billing.invoices import (
    DraftHeader,
    DraftLine,
    create_draft,
    issue_invoice,
    void_invoice,
)
from frontdesk.services.billing.ledger import patient_account
from frontdesk.services.billing.payments import apply_credit, refund, take_payment
from frontdesk.sync.conflicts import list_open, list_refused
from frontdesk.sync.summary import SyncSummary
from tests.sync.clinic import START, Clinic, Desk


def _two_desks(clinic: Clinic) -> tuple[Desk, Desk, str]:
    a, b = clinic.add_desk(), clinic.add_desk()
    patient = a.add_patient()
    clinic.settle(2)
    return a, b, patient


def _draft(desk: Desk, patient: str, cents: int = 9900) -> str:
    return create_draft(desk.ctx, DraftHeader(patient), [DraftLine("Consultation", cents)])


def _balances_agree(clinic: Clinic, patient: str) -> list[tuple[int, int, int]]:
    seen = []
    for d in clinic.desks:
        acc = patient_account(d.ctx, patient)
        assert acc.balance_cents == acc.owing_cents - acc.credit_cents, (d.name, acc)
        seen.append((acc.balance_cents, acc.owing_cents, acc.credit_cents))
    assert len(set(seen)) == 1, seen
    return seen


def test_drafts_and_invoices_of_every_desk_reach_the_clinic(any_clinic: Clinic) -> None:
    a, b, patient = _two_desks(any_clinic)
    drafts = [_draft(a, patient), _draft(b, patient)]
    assert a.sync() and b.sync()
    numbers = [issue_invoice(a.ctx, drafts[0]), issue_invoice(b.ctx, drafts[1])]
    any_clinic.settle(3)
    for d in any_clinic.desks:
        assert d.outbox_states().get("rejected", 0) == 0, d.name
    server = any_clinic.server_rows()["invoices"]
    assert sorted(r["number"] for r in server.values()) == sorted(numbers)
    assert {n.split("-")[0] for n in numbers} == {"D1", "D2"}
    any_clinic.assert_converged()
    assert _balances_agree(any_clinic, patient) == [(19800, 19800, 0)] * 2


def test_a_new_invoice_from_another_desks_series_is_set_aside_with_a_plain_reason(
    any_clinic: Clinic,
) -> None:
    a, b, patient = _two_desks(any_clinic)
    issue_invoice(a.ctx, _draft(a, patient))
    any_clinic.settle(2)
    with b.ctx.write("invoice from another series") as s:
        bad = Invoice(
            status="issued",
            number="D1-000077",
            patient_id=patient,
            issue_date=START.date(),
            issued_at=b.clock.now(),
            total_cents=5000,
        )
        s.add(bad)
        s.flush()
        bad_id = bad.id
    assert b.sync()
    refused = list_refused(b.ctx)
    assert len(refused) == 1
    assert "D1-000077" in refused[0].reason and "desk1" in refused[0].reason
    assert "revoke" not in refused[0].reason.lower()
    with b.ctx.read() as s:
        set_aside = s.get(Invoice, bad_id)
        assert set_aside is not None and set_aside.deleted_at is not None
    any_clinic.settle(2)
    any_clinic.assert_converged()
    _balances_agree(any_clinic, patient)


def test_a_shared_draft_issued_on_two_desks_leaves_neither_stuck(any_clinic: Clinic) -> None:
    a, b, patient = _two_desks(any_clinic)
    draft = _draft(a, patient)
    any_clinic.settle(2)
    first = issue_invoice(a.ctx, draft)
    second = issue_invoice(b.ctx, draft)  # the same draft, before either desk synced
    assert a.sync()
    assert b.sync(), b.ctx  # the refusal is answered and the clinic's row put back
    with b.ctx.read() as s:
        row = s.get(Invoice, draft)
        assert row is not None and row.number == first
    assert any(second in r.what or "already" in r.reason for r in list_refused(b.ctx))
    # The desk keeps syncing: what it makes afterwards reaches the clinic.
    later = b.add_patient("Later")
    assert b.sync()
    assert later in any_clinic.server_rows()["patients"]
    any_clinic.settle(2)
    any_clinic.assert_converged()
    _balances_agree(any_clinic, patient)


def test_an_invoice_paid_on_two_desks_shows_the_extra_as_credit(any_clinic: Clinic) -> None:
    a, b, patient = _two_desks(any_clinic)
    invoice = _draft(a, patient, 9000)
    number = issue_invoice(a.ctx, invoice)
    any_clinic.settle(2)
    for d in (a, b):  # paid in full at both desks before either synced
        take_payment(d.ctx, method="cash", amount_cents=9000, invoice_ids=[invoice])
    any_clinic.settle(3)
    assert _balances_agree(any_clinic, patient) == [(-9000, 0, 9000)] * 2
    for d in (a, b):
        notices = [c for c in list_open(d.ctx) if number in c.title]
        assert len(notices) == 1, [c.title for c in list_open(d.ctx)]
        assert "$90.00" in notices[0].detail and "credit" in notices[0].detail
    refund(b.ctx, method="cash", amount_cents=9000, patient_id=patient)
    any_clinic.settle(2)
    assert _balances_agree(any_clinic, patient) == [(0, 0, 0)] * 2
    any_clinic.assert_converged()


def test_an_invoice_credited_or_voided_on_two_desks_at_once(any_clinic: Clinic) -> None:
    """Found by the property test: two desks credit one invoice in full before syncing, or one
    voids it while the other credits it; the clinic keeps the first, the other is set aside."""
    a, b, patient = _two_desks(any_clinic)
    twice, both, third = (_draft(a, patient, c) for c in (5000, 7000, 3000))
    for invoice in (twice, both, third):
        issue_invoice(a.ctx, invoice)
    any_clinic.settle(2)
    issue_credit_note(a.ctx, twice, "Charged in error")
    void_invoice(a.ctx, both, "Wrong patient")
    issue_credit_note(a.ctx, third, "Charged in error")
    issue_credit_note(b.ctx, twice, "Charged in error")
    issue_credit_note(b.ctx, both, "Charged in error")
    void_invoice(b.ctx, third, "Wrong patient")
    assert b.sync() and a.sync()  # b's changes reach the clinic first
    any_clinic.settle(3)
    notes = any_clinic.server_rows()["credit_notes"].values()
    assert sorted(n["total_cents"] for n in notes) == [5000, 7000]
    reasons = " ".join(r.reason for r in list_refused(a.ctx))
    assert "already credited" in reasons and "cannot be voided" in reasons
    assert "was void on another desk" in reasons
    assert _balances_agree(any_clinic, patient) == [(0, 0, 0)] * 2
    any_clinic.assert_converged()


def test_a_booking_made_before_a_delayed_pull_still_clashes(any_clinic: Clinic) -> None:
    a, b, _patient = _two_desks(any_clinic)
    prac = a.add_practitioner("Kim")
    any_clinic.settle(2)
    a.book(prac, None, START + timedelta(hours=12))
    assert a.sync()
    summary, touched = SyncSummary(), set[str]()
    b.engine.push(summary, touched)  # b's sync has pushed; its pull is slow to come
    mine = b.book(prac, None, START + timedelta(hours=12, minutes=15))
    b.engine.pull(summary, touched)  # the pull brings a's overlapping booking
    assert b.sync()
    any_clinic.settle(2)
    clashes = [c for c in b.open_conflicts() if c.kind == "clash"]
    assert len(clashes) == 1 and mine in (clashes[0].row_id, clashes[0].other_row_id)
    any_clinic.assert_converged()


def test_a_desk_whose_clock_ran_days_ahead_recovers_when_it_is_right(
    any_clinic: Clinic,
) -> None:
    _a, b, patient = _two_desks(any_clinic)
    b.clock.advance(timedelta(days=3))
    ahead = b.add_patient("Ahead")
    b.edit_patient(patient, mobile_phone="0400000001")
    summary = b.engine.sync()
    assert summary.clock_ahead and "clock" in summary.text()
    b.clock.set(any_clinic.server_clock.now())  # the clock is corrected
    fixed = b.add_patient("Fixed")
    assert b.sync()
    server = any_clinic.server_rows()["patients"]
    assert {ahead, fixed} <= set(server)
    limit = (any_clinic.server_clock.now() + timedelta(minutes=5)).isoformat()
    assert all(r["updated_at"] <= limit for r in server.values())
    any_clinic.settle(2)
    any_clinic.assert_converged()


def test_a_desk_pulls_even_while_its_push_is_refused(any_clinic: Clinic) -> None:
    a, b, _patient = _two_desks(any_clinic)
    with b.ctx.write("a change this server cannot take", origin="sync") as s:
        top = s.scalar(select(SyncOutbox.seq).order_by(SyncOutbox.seq.desc()).limit(1)) or 0
        s.add(
            SyncOutbox(
                seq=top + 1,
                # An id the server cannot answer under refuses the whole push (a bad value,
                # e.g. an unknown table, is refused for that change alone: issue 15).
                mutation_id="00000000-0000-7000-8000-000000000001-too-long",
                entity="no_such_table",
                row_id="x",
                op="insert",
                fields_json=json.dumps({"id": "x"}),
                base_version=0,
                hlc="",
                created_at=b.clock.now(),
                state="pending",
            )
        )
    arrived = a.add_patient("Arrives")
    assert a.sync()
    assert not b.sync()  # the push is refused as a whole …
    assert arrived in b.ids(Patient)  # … and the clinic's changes still arrive
    listed = {d["name"]: d for d in any_clinic.store.list_devices()}
    assert listed["desk2"]["unsent"] == 1  # the server shows what is stuck on that desk


def _credit_of(desk: Desk, patient: str, cents: int) -> None:
    take_payment(desk.ctx, method="cash", amount_cents=cents, patient_id=patient)


def test_credit_refunded_on_two_desks_at_once_shows_what_is_owed(any_clinic: Clinic) -> None:
    """Both desks hand back the same $60 of credit before either syncs: the cash has left both
    drawers, so both refunds stay; the patient owes the $60 refunded twice, every desk shows the
    same balance and reception is told in the Conflicts area."""
    a, b, patient = _two_desks(any_clinic)
    _credit_of(a, patient, 6000)
    any_clinic.settle(2)
    for d in (a, b):
        refund(d.ctx, method="cash", amount_cents=6000, patient_id=patient)
    any_clinic.settle(3)
    assert _balances_agree(any_clinic, patient) == [(6000, 6000, 0)] * 2
    for d in (a, b):
        notices = [c for c in list_open(d.ctx) if "refunded" in c.detail]
        assert len(notices) == 1, [(c.title, c.detail) for c in list_open(d.ctx)]
        assert "$60.00" in notices[0].detail and "owes" in notices[0].detail
    take_payment(a.ctx, method="cash", amount_cents=6000, patient_id=patient)  # paid back
    any_clinic.settle(2)
    assert _balances_agree(any_clinic, patient) == [(0, 0, 0)] * 2
    any_clinic.assert_converged()


def test_credit_used_on_two_desks_at_once_is_used_once(any_clinic: Clinic) -> None:
    """$50 of credit applied to one invoice on one desk and to another on the other desk:
    the clinic keeps the first use, the second invoice owes its $50 again, and reception is
    told. No payment is ever spent twice."""
    a, b, patient = _two_desks(any_clinic)
    first, second = _draft(a, patient, 5000), _draft(a, patient, 5000)
    issue_invoice(a.ctx, first)
    number = issue_invoice(a.ctx, second)
    _credit_of(a, patient, 5000)
    any_clinic.settle(2)
    apply_credit(a.ctx, first)
    apply_credit(b.ctx, second)
    assert a.sync() and b.sync()
    any_clinic.settle(3)
    assert _balances_agree(any_clinic, patient) == [(5000, 5000, 0)] * 2
    rows = any_clinic.server_rows()
    for pay in rows["payments"].values():
        used = sum(
            r["amount_cents"]
            for r in rows["payment_allocations"].values()
            if r["payment_id"] == pay["id"] and r["deleted_at"] is None
        )
        assert used <= pay["amount_cents"], (pay, used)
    for d in (a, b):
        notices = [c for c in list_open(d.ctx) if number in c.title]
        assert len(notices) == 1, [(c.title, c.detail) for c in list_open(d.ctx)]
        assert "$50.00" in notices[0].detail
    any_clinic.assert_converged()
