"""Invoices carry item numbers (issue 14 item 7): a patient-paid invoice prints the funders' item
number for the service, a DVA invoice prints the veteran's DVA file number, and an issued
invoice shows its lines read-only."""

from __future__ import annotations

import io

import pytest
from billing_world import World, make_world
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView

from frontdesk.models import Funder, Patient
from frontdesk.services import billing
from frontdesk.services.documents import render_invoice
from frontdesk.store.context import ServiceContext
from frontdesk.ui.billing.invoice_dialog import InvoiceDialog


@pytest.fixture
def world(ctx: ServiceContext) -> World:
    return make_world(ctx)


def _pdf_text(ctx: ServiceContext, invoice_id: str) -> str:
    data = render_invoice(billing.invoice_view(ctx, invoice_id))
    return " ".join(PdfReader(io.BytesIO(data)).pages[0].extract_text().split())


def test_patient_paid_and_dva_invoices_carry_item_and_file_numbers(
    qtbot, ctx: ServiceContext, world: World
) -> None:  # type: ignore[no-untyped-def]
    own = billing.invoice_from_appointment(ctx, world.appointments[0])
    billing.issue_invoice(ctx, own)
    assert [ln.item_number for ln in billing.invoice_view(ctx, own).lines] == ["505"]
    assert "505" in _pdf_text(ctx, own)

    with ctx.write("a veteran") as s:
        dva = Funder(kind="dva", name="Department of Veterans' Affairs")
        vet = Patient(patient_number="P-9", first_name="Vera", last_name="Veteran",
                      dva_number="NX123456", dva_card_colour="gold")  # fmt: skip
        s.add_all([dva, vet])
        s.flush()
        dva_id, vet_id = dva.id, vet.id
    header = billing.DraftHeader(
        patient_id=vet_id, payer_funder_id=dva_id, practitioner_id=world.practitioner
    )
    inv = billing.create_draft(ctx, header, [])
    billing.add_catalogue_line(ctx, inv, world.service)
    billing.issue_invoice(ctx, inv)
    text = _pdf_text(ctx, inv)
    assert "DVA file number NX123456" in text and "505" in text

    dialog = InvoiceDialog(ctx, inv)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "DVA file number NX123456" in dialog.who.text()
    assert dialog.table.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
    cell = dialog.table.visualItemRect(dialog.table.item(0, 0))
    qtbot.mouseDClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=cell.center())
    assert dialog.table.state() != QAbstractItemView.State.EditingState
    assert dialog.table.item(0, 0).text() == "505"
