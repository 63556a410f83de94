"""The server re-checks what must never change once printed: an issued invoice and its lines, a
credit note, a payment. A desk with a bug (here: writes that bypass the billing services) gets
the change refused, sees why, and has the row put back as the clinic holds it."""

from __future__ import annotations

import json

from sqlalchemy import select

from frontdesk.models import Invoice, InvoiceLine, Payment, SyncOutbox
from frontdesk.services.billing.invoices import (
    DraftHeader,
    DraftLine,
    create_draft,
    void_invoice,
)
from tests.sync.clinic import Clinic, Desk


def _invoice(desk: Desk, number: str) -> Invoice:
    with desk.ctx.read() as s:
        return s.scalars(select(Invoice).where(Invoice.number == number)).one()


def _refusals(desk: Desk) -> list[dict[str, object]]:
    with desk.ctx.read() as s:
        rows = s.scalars(select(SyncOutbox.result_json).where(SyncOutbox.state == "rejected")).all()
    return [json.loads(r or "{}") for r in rows]


def test_an_issued_invoice_cannot_be_changed_behind_the_services(any_clinic: Clinic) -> None:
    a, b = any_clinic.add_desk(), any_clinic.add_desk()
    pat = a.add_patient()
    number = a.invoice(pat, cents=9500)
    any_clinic.settle()
    assert _refusals(a) == []  # issuing through the services is one accepted change
    invoice_id = _invoice(a, number).id

    with a.ctx.write("tamper") as s:  # what a bug or an old desk might send
        inv = s.get(Invoice, invoice_id)
        assert inv is not None
        inv.total_cents = 100
        inv.notes = "changed after printing"
    assert a.sync()

    refused = _refusals(a)
    assert len(refused) == 1 and number in str(refused[0]["reason"])
    assert "issued" in str(refused[0]["reason"])
    for desk in (a, b):  # put back on the desk that sent it; never reached the other
        inv = _invoice(desk, number)
        assert (inv.total_cents, inv.notes) == (9500, "")

    # A line slipped into the issued invoice is refused too (it stays listed as refused).
    with a.ctx.write("tamper") as s:
        s.add(InvoiceLine(invoice_id=invoice_id, description="Extra", unit_price_cents=500))
    assert a.sync()
    assert len(_refusals(a)) == 2
    any_clinic.settle()
    for desk in (a, b):  # the refused line is set aside on the desk that made it too
        with desk.ctx.read() as s:
            live = select(InvoiceLine).where(
                InvoiceLine.invoice_id == invoice_id, InvoiceLine.deleted_at.is_(None)
            )
            assert len(s.scalars(live).all()) == 1
    # Nor may a line be moved off the issued invoice onto a draft.
    draft = create_draft(a.ctx, DraftHeader(pat), [DraftLine("Draft item", 100)])
    with a.ctx.write("tamper") as s:
        line = s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)).first()
        assert line is not None
        line.invoice_id = draft
    assert a.sync()
    refused = _refusals(a)
    assert len(refused) == 3 and any("cannot change" in str(r["reason"]) for r in refused)
    with a.ctx.read() as s:  # put back on its invoice
        assert (
            len(s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)).all())
            >= 1
        )
    with b.ctx.read() as s:
        assert (
            len(s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)).all())
            == 1
        )

    # Voiding through the services is what may still happen to it.
    void_invoice(b.ctx, invoice_id, "entered twice")
    any_clinic.settle()
    assert _invoice(a, number).status == "void"
    any_clinic.assert_no_duplicates()


def test_a_payment_amount_cannot_change_once_recorded(any_clinic: Clinic) -> None:
    a, b = any_clinic.add_desk(), any_clinic.add_desk()
    pat = a.add_patient()
    pay = a.pay(pat, 5000)
    any_clinic.settle()
    with a.ctx.write("tamper") as s:
        p = s.get(Payment, pay)
        assert p is not None
        p.amount_cents = 50
    assert a.sync()
    assert "payment" in str(_refusals(a)[0]["reason"])
    any_clinic.settle()
    for desk in (a, b):
        with desk.ctx.read() as s:
            p = s.get(Payment, pay)
            assert p is not None and p.amount_cents == 5000
    any_clinic.assert_converged()


def test_every_billing_flow_through_the_services_is_accepted(any_clinic: Clinic) -> None:
    """The server's checks refuse nothing the billing services do: issue, pay in part and in
    full with credit kept, use credit, credit-note, refund, reverse, void, close the day."""
    from frontdesk.services.billing.credit_notes import issue_credit_note
    from frontdesk.services.billing.day_close import close_day
    from frontdesk.services.billing.payments import (
        apply_credit,
        refund,
        reverse_entry,
        take_payment,
    )

    a, b = any_clinic.add_desk(), any_clinic.add_desk()
    pat = a.add_patient()
    one, two, three = (a.invoice(pat, cents) for cents in (9500, 12000, 8000))
    any_clinic.settle()
    ids = [_invoice(a, n).id for n in (one, two, three)]
    take_payment(a.ctx, method="eftpos", amount_cents=4000, invoice_ids=[ids[0]])
    take_payment(b.ctx, method="cash", amount_cents=20000, invoice_ids=[ids[1]], keep_credit=True)
    any_clinic.settle()
    apply_credit(a.ctx, ids[0])
    issue_credit_note(a.ctx, ids[2], "charged twice")
    paid = take_payment(a.ctx, method="cash", amount_cents=1000, patient_id=pat)
    reverse_entry(a.ctx, paid.payment_id, "keyed twice")
    refund(b.ctx, method="cash", amount_cents=500, patient_id=pat)
    void_invoice(b.ctx, ids[1], "wrong patient")
    from frontdesk.services.billing.common import business_day

    close_day(a.ctx, business_day(a.ctx), counted={"cash": 0}, note="counted at 5 pm")
    any_clinic.settle()
    assert _refusals(a) == [] and _refusals(b) == []
    any_clinic.assert_no_duplicates()
    any_clinic.assert_converged()


def test_a_row_that_arrived_wrong_is_corrected_by_the_content_check(any_clinic: Clinic) -> None:
    """Counts and versions agree, but the content does not (a damaged copy on one desk): the
    check after the next sync that touches the row finds it and takes the server's copy."""
    from frontdesk.db.types import key_blob
    from frontdesk.models import Patient

    a, b = any_clinic.add_desk(), any_clinic.add_desk()
    pat = a.add_patient("Ada", "Byron")
    any_clinic.settle()
    with b.ctx.engine.begin() as conn:  # damage behind the sync's back: same version
        conn.exec_driver_sql(  # the key as the desk stores it (db/types.py)
            "UPDATE patients SET last_name = 'Bryon' WHERE id = ?", (key_blob(pat),)
        )
    a.edit_patient(pat, mobile_phone="0400111222")
    assert a.sync()
    summary = b.engine.sync()
    assert summary.repaired == 1 and "1 corrected" in summary.text()
    with b.ctx.read() as s:
        p = s.get(Patient, pat)
        assert p is not None and (p.last_name, p.mobile_phone) == ("Byron", "0400111222")
    any_clinic.assert_converged()
    assert b.engine.sync().repaired == 0
