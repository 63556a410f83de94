"""Invoices: from an appointment in one step, by hand, drafts, issuing with gapless numbers,
immutability, voids, credit notes and the refusals that change nothing."""

from __future__ import annotations

import pytest
from billing_world import World, make_world
from sqlalchemy import func, select

from frontdesk.domain.errors import PermissionDenied, RuleViolation, ValidationFailed
from frontdesk.domain.vocab import Role
from frontdesk.models import AuditEvent, CreditNote, Invoice, InvoiceLine, StaffUser, SyncOutbox
from frontdesk.services import billing
from frontdesk.store.context import Actor, ServiceContext


@pytest.fixture
def world(ctx: ServiceContext) -> World:
    return make_world(ctx)


def counts(ctx: ServiceContext) -> tuple[int, ...]:
    with ctx.read() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(t)) or 0
            for t in (Invoice, InvoiceLine, CreditNote, SyncOutbox, AuditEvent)
        )


def test_invoice_from_appointment_prefills_service_practitioner_and_payer(
    ctx: ServiceContext, world: World
) -> None:
    own = billing.invoice_view(ctx, billing.invoice_from_appointment(ctx, world.appointments[0]))
    assert own.status == "draft" and own.number is None
    assert own.payer is None and own.practitioner == "Ruby Esposito"
    assert own.provider_number == "4123456A"
    [line] = own.lines
    assert (line.description, line.unit_price_cents, line.item_number) == (
        "Physiotherapy standard consultation",
        9500,
        "505",  # the patient's price, with the funders' item number for their rebate claim
    )
    assert line.appointment_id == world.appointments[0]

    funded = billing.invoice_view(
        ctx, billing.invoice_from_appointment(ctx, world.fund_appointment)
    )
    assert funded.payer is not None and funded.payer.name == "Bupa"
    assert funded.payer.reference == "12345678"
    assert (funded.lines[0].item_number, funded.lines[0].unit_price_cents) == ("505", 9000)
    # Asking again gives the same draft, and the diary can see the appointment is invoiced.
    assert billing.invoice_from_appointment(ctx, world.fund_appointment) == funded.id
    with ctx.read() as s:
        assert billing.invoiced_appointments(
            s, [world.fund_appointment, world.appointments[1]]
        ) == {world.fund_appointment}


def test_issue_numbers_are_unique_and_gapless_and_issued_invoices_are_immutable(
    ctx: ServiceContext, world: World
) -> None:
    ids = [billing.invoice_from_appointment(ctx, a) for a in world.appointments]
    numbers = [billing.issue_invoice(ctx, i) for i in ids]
    assert numbers == ["INV-000001", "INV-000002", "INV-000003"]
    # A refused issue (archived patient) does not use up a number.
    draft = billing.create_draft(
        ctx, billing.DraftHeader(world.patient), [billing.DraftLine("Extra", 1000)]
    )
    with pytest.raises(RuleViolation):
        billing.issue_invoice(
            ctx, billing.create_draft(ctx, billing.DraftHeader(world.patient), [])
        )
    assert billing.issue_invoice(ctx, draft) == "INV-000004"
    with pytest.raises(RuleViolation, match="cannot change"):
        billing.update_draft(
            ctx, ids[0], billing.DraftHeader(world.patient), [billing.DraftLine("Changed", 1)]
        )
    with pytest.raises(RuleViolation, match="already on invoice INV-000001"):
        billing.invoice_from_appointment(ctx, world.appointments[0])
    with ctx.read() as s:
        issued = s.scalars(select(Invoice).where(Invoice.status == "issued")).all()
        assert all(i.issue_date is not None and i.due_date is not None for i in issued)


def test_drafts_by_hand_with_products_discounts_and_gst(ctx: ServiceContext, world: World) -> None:
    with ctx.read() as s:
        from frontdesk.services.billing.invoices import line_from_catalogue

        brace = line_from_catalogue(s, world.product, None)
    invoice_id = billing.create_draft(
        ctx,
        billing.DraftHeader(world.patient),
        [brace, billing.DraftLine("Orthotics", 45000, quantity=3, discount_bp=1000)],
    )
    view = billing.invoice_view(ctx, invoice_id)
    assert view.total_cents == 6500 + 121500
    assert view.tax_cents == 591
    billing.update_draft(ctx, invoice_id, billing.DraftHeader(world.patient), [brace])
    view = billing.invoice_view(ctx, invoice_id)
    assert (view.total_cents, len(view.lines)) == (6500, 1)
    billing.discard_draft(ctx, invoice_id)
    assert billing.list_invoices(ctx, billing.InvoiceFilter()) == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (billing.DraftLine("x", 1000, quantity=-1), "quantity"),
        (billing.DraftLine("x", -1000), "negative"),
        (billing.DraftLine("x", 1000, discount_bp=10_001), "100 %"),
        (billing.DraftLine(" ", 1000), "description"),
    ],
)
def test_bad_lines_change_nothing(
    ctx: ServiceContext, world: World, line: billing.DraftLine, message: str
) -> None:
    before = counts(ctx)
    with pytest.raises(ValidationFailed, match=message):
        billing.create_draft(ctx, billing.DraftHeader(world.patient), [line])
    assert counts(ctx) == before


def test_archived_patients_and_unattended_appointments_are_not_invoiced(
    ctx: ServiceContext, world: World
) -> None:
    before = counts(ctx)
    with pytest.raises(RuleViolation, match="archived"):
        billing.invoice_from_appointment(ctx, world.archived_appointment)
    with pytest.raises(RuleViolation, match="archived"):
        billing.create_draft(
            ctx, billing.DraftHeader(world.archived_patient), [billing.DraftLine("x", 100)]
        )
    with pytest.raises(RuleViolation, match="booked"):
        billing.invoice_from_appointment(ctx, world.booked_appointment)
    assert counts(ctx) == before


def test_void_keeps_history_and_frees_the_appointment(ctx: ServiceContext, world: World) -> None:
    invoice_id = billing.invoice_from_appointment(ctx, world.appointments[0])
    billing.issue_invoice(ctx, invoice_id)
    paid = billing.take_payment(ctx, method="eftpos", amount_cents=9500, invoice_ids=[invoice_id])
    with pytest.raises(ValidationFailed):
        billing.void_invoice(ctx, invoice_id, "  ")
    billing.void_invoice(ctx, invoice_id, "Wrong patient")
    view = billing.invoice_view(ctx, invoice_id)
    assert (view.status, view.void_reason, view.number) == ("void", "Wrong patient", "INV-000001")
    assert view.owing_cents == 0
    # The money paid is now the patient's credit, and the appointment can be invoiced again.
    assert billing.patient_account(ctx, world.patient).credit_cents == 9500
    assert billing.invoice_from_appointment(ctx, world.appointments[0]) != invoice_id
    with ctx.read() as s:
        actions = set(s.scalars(select(AuditEvent.action)))
    assert {"void an invoice", "take a payment", "issue an invoice"} <= actions
    assert paid.payment_id


def test_credit_notes_whole_and_partial_never_exceed_the_invoice(
    ctx: ServiceContext, world: World
) -> None:
    with ctx.read() as s:
        from frontdesk.services.billing.invoices import line_from_catalogue

        brace = line_from_catalogue(s, world.product, None)
    invoice_id = billing.create_draft(
        ctx, billing.DraftHeader(world.patient), [brace, billing.DraftLine("Consult", 9500)]
    )
    billing.issue_invoice(ctx, invoice_id)
    brace_line, _consult = billing.invoice_view(ctx, invoice_id).lines
    first = billing.issue_credit_note(ctx, invoice_id, "Brace returned", {brace_line.id: 5000})
    note = billing.credit_note_view(ctx, first)
    assert (note.number, note.total_cents, note.tax_cents) == ("CN-000001", 5000, 455)
    before = counts(ctx)
    with pytest.raises(RuleViolation, match="never exceed"):
        billing.issue_credit_note(ctx, invoice_id, "Too much", {brace_line.id: 1501})
    assert counts(ctx) == before
    rest = billing.credit_note_view(ctx, billing.issue_credit_note(ctx, invoice_id, "All of it"))
    assert rest.number == "CN-000002"
    assert rest.total_cents == 1500 + 9500
    assert rest.tax_cents == 591 - 455  # the GST that remained, exactly
    assert billing.invoice_view(ctx, invoice_id).owing_cents == 0
    with pytest.raises(RuleViolation, match="in full"):
        billing.issue_credit_note(ctx, invoice_id, "Again")


def test_permissions_are_checked_in_the_services(ctx: ServiceContext, world: World) -> None:
    invoice_id = billing.invoice_from_appointment(ctx, world.appointments[0])
    billing.issue_invoice(ctx, invoice_id)
    with ctx.write("add staff") as s:
        user = StaffUser(username="pat", display_name="Pat", role="reception", password_hash="x")
        s.add(user)
        s.flush()
        user_id = user.id
    ctx.actor = Actor(user_id, "Pat at reception", Role.RECEPTION)
    with pytest.raises(PermissionDenied):
        billing.void_invoice(ctx, invoice_id, "reason")
    with pytest.raises(PermissionDenied):
        billing.issue_credit_note(ctx, invoice_id, "reason")
    with pytest.raises(PermissionDenied):
        billing.add_item(ctx, billing.CatalogueEntry("X", "X", 100))
    billing.take_payment(ctx, method="cash", amount_cents=100, invoice_ids=[invoice_id])
