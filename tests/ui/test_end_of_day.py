"""End of day (issue 14 item 7): counting, closing, a closed day read-only with its amounts in
plain text, and the takings saved as a PDF."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from billing_world import World, make_world
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from frontdesk.domain.vocab import PaymentMethod
from frontdesk.services import billing
from frontdesk.store.context import ServiceContext
from frontdesk.ui.billing import BillingArea


@pytest.fixture
def world(ctx: ServiceContext) -> World:
    return make_world(ctx)


def test_a_closed_day_is_read_only_and_prints_its_takings(
    qtbot, ctx: ServiceContext, world: World, main_window, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    inv = billing.invoice_from_appointment(ctx, world.appointments[0])
    billing.issue_invoice(ctx, inv)
    billing.take_payment(ctx, method="cash", amount_cents=9500, invoice_ids=[inv])
    page = main_window.show_area("billing")
    assert isinstance(page, BillingArea)
    eod = page.end_of_day
    cash = eod.counted[PaymentMethod.CASH]
    qtbot.keyClicks(cash, "90.00")
    qtbot.keyClicks(eod.note, "Five dollars short: change given twice")
    billing.take_payment(ctx, method="eftpos", amount_cents=500, patient_id=world.patient,
                         keep_credit=True)  # another payment while counting  # fmt: skip
    qtbot.wait(50)
    assert cash.text() == "90.00"  # what was typed stays
    qtbot.mouseClick(eod.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: billing.takings(ctx, billing.business_day(ctx)).closed_at is not None)
    qtbot.waitUntil(lambda: not eod.close_button.isEnabled())
    assert cash.isReadOnly() and cash.isEnabled() and cash.text() == "$90.00"
    assert eod.note.isReadOnly() and "short" in eod.note.text()
    qtbot.keyClicks(cash, "1")
    assert cash.text() == "$90.00"
    out = tmp_path / "takings.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    qtbot.mouseClick(eod.pdf_button, Qt.MouseButton.LeftButton)
    text = " ".join(PdfReader(io.BytesIO(out.read_bytes())).pages[0].extract_text().split())
    assert "Takings" in text and "Cash" in text and "$90.00" in text and "$95.00" in text
    assert "-$5.00" in text or "−$5.00" in text or "($5.00)" in text
    assert "closed at" in text and "change given twice" in text
