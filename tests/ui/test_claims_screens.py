"""The claims screens driven with key and mouse clicks (issue 19): the patient card's Referrals
& plans tab refusing a referral without a provider number, and the Claims area preparing claims,
saving an NDIA bulk payment request and importing its payment report (and refusing a bad one)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from claims_world import Funded, make_funded, session
from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget

from frontdesk.domain.funding import ClaimStatus
from frontdesk.domain.ndis import BULK_PAYMENT_COLUMNS
from frontdesk.services import billing
from frontdesk.services.claims.checkout import invoice_under_plan
from frontdesk.services.claims.plans import list_plans
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.claims import ClaimsArea
from frontdesk.ui.claims.plans_tab import PlansTab


def shoot(widget: QWidget, name: str) -> None:
    folder = os.environ.get("FRONTDESK_SHOTS")
    if folder:
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def when_dialog_opens(act: Callable[[QWidget], None]) -> None:
    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, poll)
            return
        try:
            act(dialog)
        finally:
            if dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(0, poll)


@pytest.fixture
def f(ctx: ServiceContext) -> Funded:
    return make_funded(ctx)


def test_plans_tab_refuses_a_referral_without_a_provider_number(
    qtbot, ctx: ServiceContext, f: Funded
) -> None:  # type: ignore[no-untyped-def]
    tab = PlansTab(ctx)
    qtbot.addWidget(tab)
    tab.resize(900, 300)
    tab.show()
    tab.load(f.participant)
    assert tab.list.topLevelItemCount() == 1  # the NDIS plan
    seen: dict[str, object] = {}

    def fill(dialog) -> None:  # type: ignore[no-untyped-def]
        dialog.kind.setFocus()
        qtbot.keyClicks(dialog.kind, "Mental")  # keyboard search in the combo
        qtbot.keyClicks(dialog.referrer, "Dr Priya Shah")
        save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
        seen["error"] = dialog.error.text()
        seen["still_open"] = dialog.isVisible()
        shoot(dialog, "plan_dialog_refused")
        qtbot.keyClicks(dialog.provider, "2345671A")
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
        seen["closed"] = not dialog.isVisible()

    when_dialog_opens(fill)
    qtbot.mouseClick(tab.add, Qt.MouseButton.LeftButton)
    assert seen["still_open"] and "no provider number" in str(seen["error"])
    assert seen["closed"]
    kinds = {p.kind.value: p for p in list_plans(ctx, f.participant)}
    assert kinds["mhtp"].referrer_provider_number == "2345671A"
    assert tab.list.topLevelItemCount() == 2
    shoot(tab, "plans_tab")


def test_claims_area_bulk_request_and_remittance(
    qtbot, ctx: ServiceContext, bus: ChangeBus, f: Funded, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    numbers = []
    for d in (date(2025, 5, 5), date(2025, 5, 12), date(2025, 5, 19)):
        appt = session(ctx, f, f.participant, f.ndis_plan, d)
        numbers.append(billing.issue_invoice(ctx, invoice_under_plan(ctx, appt)))
    area = ClaimsArea(ctx, bus)
    qtbot.addWidget(area)
    area.resize(1100, 600)
    area.show()
    qtbot.mouseClick(area.prepare, Qt.MouseButton.LeftButton)
    assert area.model.rowCount() == 3
    assert "3 claims" in area.summary.text()

    area.tabs.setCurrentIndex(1)
    area.month.setDate(QDate(2025, 5, 1))
    qtbot.keyClicks(area.registration, "4050012345")
    bpr = tmp_path / "bpr_may_2025.csv"
    qtbot.keyClicks(area.bpr_path, str(bpr))
    qtbot.mouseClick(area.save_bpr, Qt.MouseButton.LeftButton)
    assert "Saved 3 lines ($581.97) for May 2025" in area.bpr_result.text()
    lines = bpr.read_text().splitlines()
    assert lines[0].split(",") == list(BULK_PAYMENT_COLUMNS)
    assert len(lines) == 4 and numbers[0] in lines[1]

    # A malformed report: refused whole, nothing changes.
    bad = tmp_path / "bad.csv"
    bad.write_text("ClaimReference,Paid Total Amount\n" + f"{numbers[0]},lots\n")
    qtbot.keyClicks(area.rem_path, str(bad))
    qtbot.mouseClick(area.import_rem, Qt.MouseButton.LeftButton)
    assert "Line 2" in area.rem_result.text()
    shoot(area, "claims_remittance_refused")

    report = tmp_path / "payment_report.csv"
    report.write_text(
        "ClaimReference,Claimed Amount,Paid Total Amount,Payment Request Status,Error Message\n"
        f"{numbers[0]},193.99,193.99,PAID,\n{numbers[1]},193.99,100.00,PAID,\n"
        f"{numbers[2]},193.99,0.00,ERROR,Participant plan ended\n"
    )
    area.rem_path.clear()
    qtbot.keyClicks(area.rem_path, str(report))
    qtbot.mouseClick(area.import_rem, Qt.MouseButton.LeftButton)
    assert area.rem_result.text() == (
        "Imported 3 lines: $293.99 received — 1 paid, 1 part-paid, 1 rejected."
    )
    shoot(area, "claims_remittance_imported")
    area.tabs.setCurrentIndex(0)
    statuses = [area.model.row(r).status for r in range(area.model.rowCount())]
    assert statuses == [ClaimStatus.PAID, ClaimStatus.PART_PAID, ClaimStatus.REJECTED]
    shoot(area, "claims_queue")


def test_checkout_bills_the_plan_or_says_why_not(
    qtbot, ctx: ServiceContext, bus: ChangeBus, f: Funded, main_window
) -> None:  # type: ignore[no-untyped-def]
    from frontdesk.ui.billing.checkout import CheckoutDialog, open_checkout

    dva = session(ctx, f, f.veteran, f.dva_plan, date(2026, 11, 23))
    open_checkout(ctx, bus, dva, main_window)
    dialog = next(d for d in main_window.findChildren(CheckoutDialog) if d.isVisible())
    note = dialog.findChild(QWidget, "fundingNote")
    assert note.text() == "Billed under the DVA referral: item F560, GST-free."
    assert "Department of Veterans' Affairs" in dialog.who.text()
    assert dialog.lines.item(0, 0).text() == "F560"
    shoot(dialog, "checkout_dva")
    dialog.close()
    for m in (2, 3, 4, 5, 6):
        session(ctx, f, f.cdm_patient, f.cdm_plan, date(2026, m, 2))
    sixth = session(ctx, f, f.cdm_patient, f.cdm_plan, date(2026, 7, 6))
    open_checkout(ctx, bus, sixth, main_window)
    dialog = next(d for d in main_window.findChildren(CheckoutDialog) if d.isVisible())
    note = dialog.findChild(QWidget, "fundingNote")
    assert note.text().startswith(
        "Not billed to the plan: The funder would not pay for this session: 6th Medicare visit"
    )
    assert "Medicare" not in dialog.who.text()


def test_reports_tab_outstanding_and_a_letter_to_the_referrer(
    qtbot, ctx: ServiceContext, bus: ChangeBus, f: Funded, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    appt = session(ctx, f, f.veteran, f.dva_plan, date(2026, 11, 23))
    billing.issue_invoice(ctx, invoice_under_plan(ctx, appt))
    area = ClaimsArea(ctx, bus)
    qtbot.addWidget(area)
    area.resize(1100, 600)
    area.show()
    qtbot.mouseClick(area.prepare, Qt.MouseButton.LeftButton)
    area.tabs.setCurrentIndex(3)
    top = area.outstanding.topLevelItem(0)
    assert top is not None and top.text(0) == "Department of Veterans' Affairs"
    assert top.text(6) == "$72.55"
    assert area.letters.topLevelItemCount() == 1
    item = area.letters.topLevelItem(0)
    assert item.text(0) == "Ted Walsh" and item.text(2) == "after the first service"
    rect = area.letters.visualItemRect(item)
    qtbot.mouseClick(area.letters.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    letter = tmp_path / "letter.pdf"
    qtbot.keyClicks(area.letter_path, str(letter))
    qtbot.mouseClick(area.save_letter, Qt.MouseButton.LeftButton)
    assert letter.read_bytes().startswith(b"%PDF")
    assert "Saved the letter to letter.pdf" in area.letter_result.text()
    shoot(area, "claims_reports")
    qtbot.mouseClick(area.letter_sent, Qt.MouseButton.LeftButton)
    assert area.letters.topLevelItemCount() == 0


def test_another_funders_remittance_with_named_columns(
    qtbot, ctx: ServiceContext, bus: ChangeBus, f: Funded, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    appt = session(ctx, f, f.veteran, f.dva_plan, date(2026, 11, 23))
    number = billing.issue_invoice(ctx, invoice_under_plan(ctx, appt))
    area = ClaimsArea(ctx, bus)
    qtbot.addWidget(area)
    area.resize(1100, 650)
    area.show()
    qtbot.mouseClick(area.prepare, Qt.MouseButton.LeftButton)
    area.tabs.setCurrentIndex(1)
    path = tmp_path / "dva.csv"
    path.write_text(f"Invoice No,Benefit Paid\n{number},72.55\n")
    area.rem_format.setFocus()
    qtbot.keyClick(area.rem_format, Qt.Key.Key_Down)
    assert area.ref_column.isEnabled()
    qtbot.keyClicks(area.rem_path, str(path))
    qtbot.mouseClick(area.import_rem, Qt.MouseButton.LeftButton)
    assert area.rem_result.text() == "Name the reference and paid columns of the file."
    qtbot.keyClicks(area.ref_column, "Invoice No")
    qtbot.keyClicks(area.paid_column, "Benefit Paid")
    qtbot.mouseClick(area.import_rem, Qt.MouseButton.LeftButton)
    assert area.rem_result.text() == (
        "Imported 1 line: $72.55 received — 1 paid, 0 part-paid, 0 rejected."
    )
    shoot(area, "claims_generic_remittance")


def test_sessions_vs_approvals_screen_and_its_csv(
    qtbot, ctx: ServiceContext, bus: ChangeBus, f: Funded, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QFileDialog

    for m in (3, 5, 8, 10):
        session(ctx, f, f.cdm_patient, f.cdm_plan, date(2026, m, 2))
    area = ClaimsArea(ctx, bus)
    qtbot.addWidget(area)
    area.resize(1100, 600)
    area.show()
    area.tabs.setCurrentIndex(4)
    tab = area.approvals
    first = tab.list.topLevelItem(0)
    assert [first.text(i) for i in range(6)] == [
        "Maria Santos", "Medicare chronic condition management plan", "Dr Amelia Hart",
        "5", "4", "1",
    ]  # fmt: skip
    assert tab.message.text() == "2 current plans · 1 with one session or none left"
    shoot(area, "claims_sessions_vs_approvals")
    out = tmp_path / "approvals.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(out), ""))
    qtbot.mouseClick(tab.export, Qt.MouseButton.LeftButton)
    assert tab.message.text() == "Saved 2 plans to approvals.csv."
    assert out.read_text(encoding="utf-8-sig").splitlines()[1].startswith("Maria Santos,")


def test_editing_the_letter_template_with_a_preview(
    qtbot, ctx: ServiceContext, bus: ChangeBus, f: Funded
) -> None:  # type: ignore[no-untyped-def]
    from frontdesk.services.claims.letters import letter_template
    from frontdesk.ui.claims.reports import LetterTemplateDialog

    dialog = LetterTemplateDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.preview.toPlainText().startswith("Dear Dr Amelia Hart,")
    dialog.editor.selectAll()
    qtbot.keyClicks(dialog.editor, "Dear {referer}, about {patient_first}")
    assert "Unknown placeholder {referer}" in dialog.error.text()
    assert not dialog.save.isEnabled()
    qtbot.keyClick(dialog.editor, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    for _ in range(len("Dear {refer")):
        qtbot.keyClick(dialog.editor, Qt.Key.Key_Right)
    qtbot.keyClicks(dialog.editor, "r")  # {referer} → {referrer}
    assert dialog.error.text() == ""
    assert dialog.preview.toPlainText() == "Dear Dr Amelia Hart, about Maria"
    shoot(dialog, "claims_letter_template")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    assert letter_template(ctx) == "Dear {referrer}, about {patient_first}"


def test_email_invoice_asks_for_an_address_the_payer_lacks(
    qtbot, ctx: ServiceContext, bus: ChangeBus, f: Funded
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from frontdesk.models import OutgoingMessage

    appt = session(ctx, f, f.participant, f.ndis_plan, date(2025, 5, 5))
    number = billing.issue_invoice(ctx, invoice_under_plan(ctx, appt))
    area = ClaimsArea(ctx, bus)
    qtbot.addWidget(area)
    area.resize(1100, 600)
    area.show()
    qtbot.mouseClick(area.prepare, Qt.MouseButton.LeftButton)
    area.table.selectRow(0)
    asked: list[str] = []

    def answer(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.labelText())
        dialog.setTextValue("claims@ndia.example")
        dialog.accept()

    when_dialog_opens(answer)
    qtbot.mouseClick(area.email, Qt.MouseButton.LeftButton)
    assert asked and asked[0].startswith("NDIA has no email address on file")
    assert area.summary.text() == f"Queued Invoice {number}.pdf by email to claims@ndia.example."
    with ctx.read() as s:
        msg = s.scalars(select(OutgoingMessage)).one()
        assert (msg.to_address, msg.kind, msg.status) == (
            "claims@ndia.example",
            "invoice",
            "queued",
        )
        assert msg.attachment_id is not None


def test_the_empty_queue_says_what_fills_it_and_price_limits_import_from_the_files_tab(
    qtbot, ctx: ServiceContext, bus: ChangeBus, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A new clinic's queue is empty: it says what puts claims there. The NDIA's support
    catalogue (price limits, needed before an NDIS session can be invoiced) is imported from
    the Files tab; a file that is not the catalogue is refused with the reason."""
    from frontdesk.services.claims.checkout import support_item

    area = ClaimsArea(ctx, bus)  # a new clinic: no claims, no catalogue yet
    qtbot.addWidget(area)
    area.resize(1100, 600)
    area.show()
    assert area.model.rowCount() == 0
    assert area.summary.text().startswith("No claims yet. Funded invoices appear here when")
    area.status.setCurrentIndex(area.status.findData(ClaimStatus.PAID.value))
    assert area.summary.text() == "No claims with this status."

    area.tabs.setCurrentIndex(1)
    qtbot.mouseClick(area.import_catalogue, Qt.MouseButton.LeftButton)
    assert area.catalogue_result.text() == "Name the support catalogue file to import."
    bad = tmp_path / "not_the_catalogue.csv"
    bad.write_text("Item,Price\nphysio,193.99\n")
    qtbot.keyClicks(area.catalogue_path, str(bad))
    qtbot.mouseClick(area.import_catalogue, Qt.MouseButton.LeftButton)
    refused = area.catalogue_result.text()
    assert refused and not refused.startswith("Loaded")
    sample = Path(__file__).parents[1] / "claims" / "data" / "ndis_support_catalogue_sample.csv"
    area.catalogue_path.clear()
    qtbot.keyClicks(area.catalogue_path, str(sample))
    qtbot.mouseClick(area.import_catalogue, Qt.MouseButton.LeftButton)
    assert area.catalogue_result.text() == (
        "Loaded 5 NDIS support items with their price limits from "
        "ndis_support_catalogue_sample.csv."
    )
    with ctx.read() as s:
        item = support_item(s, "15_055_0128_1_3", date(2025, 3, 3))
    assert item is not None and item.prices["NSW"] == 19_399
    shoot(area, "claims_price_limits_imported")


def test_removing_a_scan_from_the_card_asks_first(
    qtbot, ctx: ServiceContext, f: Funded, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    from frontdesk.services.claims.documents import attach_document, list_documents

    for name in ("old referral.pdf", "new referral.pdf"):
        path = tmp_path / name
        path.write_bytes(b"%PDF-1.4\n%" + name.encode() + b"\n%%EOF\n")
        attach_document(ctx, f.participant, path)
    tab = PlansTab(ctx)
    qtbot.addWidget(tab)
    tab.resize(900, 500)
    tab.show()
    tab.load(f.participant)
    box = tab.docs
    qtbot.mouseClick(box.remove, Qt.MouseButton.LeftButton)  # nothing chosen yet
    assert box.message.text() == "Choose the document to remove."
    names = [box.list.topLevelItem(i).text(0) for i in range(box.list.topLevelItemCount())]
    row = names.index("old referral.pdf")
    rect = box.list.visualItemRect(box.list.topLevelItem(row))
    qtbot.mouseClick(box.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    asked: list[str] = []

    def answer(text: str):  # type: ignore[no-untyped-def]
        def act(dialog) -> None:  # type: ignore[no-untyped-def]
            assert isinstance(dialog, QMessageBox)
            asked.append(dialog.text())
            (button,) = [b for b in dialog.buttons() if b.text() == text]
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

        return act

    when_dialog_opens(answer("Keep it"))
    qtbot.mouseClick(box.remove, Qt.MouseButton.LeftButton)
    assert asked and asked[0].startswith("Remove old referral.pdf from the patient's card?")
    assert len(list_documents(ctx, f.participant)) == 2 and box.list.topLevelItemCount() == 2
    when_dialog_opens(answer("Remove"))
    qtbot.mouseClick(box.remove, Qt.MouseButton.LeftButton)
    assert [d.file_name for d in list_documents(ctx, f.participant)] == ["new referral.pdf"]
    assert box.list.topLevelItemCount() == 1
    assert box.message.text() == "Removed old referral.pdf."
    shoot(tab, "plans_tab_document_removed")


def test_the_request_month_follows_the_clock_until_one_is_chosen(
    qtbot, ctx: ServiceContext, bus: ChangeBus, clock
) -> None:  # type: ignore[no-untyped-def]
    """The walk found the month stuck at the one the area opened in (February, in June)."""
    from datetime import timedelta

    area = ClaimsArea(ctx, bus)
    qtbot.addWidget(area)
    area.show()
    area.tabs.setCurrentIndex(1)
    assert area.month.text() == "November 2026"  # the clock fixture: 27 Nov 2026
    area.tabs.setCurrentIndex(0)
    clock.advance(timedelta(days=10))  # the desk stays open into December
    area.tabs.setCurrentIndex(1)
    assert area.month.text() == "December 2026"
    area.month.setFocus()
    qtbot.keyClick(area.month, Qt.Key.Key_Home)
    qtbot.keyClick(area.month, Qt.Key.Key_Down)  # reception picks November
    assert area.month.text() == "November 2026"
    area.tabs.setCurrentIndex(0)
    clock.advance(timedelta(days=40))
    area.tabs.setCurrentIndex(1)
    assert area.month.text() == "November 2026"  # their choice stays


def test_checkout_shows_the_whole_ndis_item_number(
    qtbot, ctx: ServiceContext, bus: ChangeBus, f: Funded, main_window
) -> None:  # type: ignore[no-untyped-def]
    """The walk's checkout showed "15_055_012…" in the Item column."""
    from frontdesk.ui.billing.checkout import CheckoutDialog, open_checkout

    appt = session(ctx, f, f.participant, f.ndis_plan, date(2025, 5, 5))
    open_checkout(ctx, bus, appt, main_window)
    dialog = next(d for d in main_window.findChildren(CheckoutDialog) if d.isVisible())
    item = dialog.lines.item(0, 0)
    assert item.text() == "15_055_0128_1_3"
    shown = dialog.lines.visualItemRect(item).width()
    assert dialog.lines.fontMetrics().horizontalAdvance(item.text()) < shown
    shoot(dialog, "checkout_ndis_item")
