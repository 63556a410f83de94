"""Accounting export on a real ledger (invoices issued, a payment, a credit note through the
billing services): the Xero and MYOB files have the documented columns, GST codes, the
practitioner as tracking, amounts that add up, and a period is never exported twice by
accident."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from billing_world import World, make_world
from sqlalchemy import func, select

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.errors import PermissionDenied, ValidationFailed
from frontdesk.domain.vocab import Role
from frontdesk.models import AccountingExport, Patient, SyncOutbox
from frontdesk.services import accounting_export as ax
from frontdesk.services import billing
from frontdesk.services.billing.invoices import line_from_catalogue
from frontdesk.services.report_types import Period
from frontdesk.store.context import Actor, ServiceContext

DAY = Period(date(2026, 11, 27), date(2026, 11, 27))

# The column sets as the programs document them (Xero's import templates; MYOB AccountRight's
# import field lists), written out here independently of the module's constants.
XERO_INVOICE = ("*ContactName,EmailAddress,POAddressLine1,POAddressLine2,POAddressLine3,"
                "POAddressLine4,POCity,PORegion,POPostalCode,POCountry,*InvoiceNumber,Reference,"
                "*InvoiceDate,*DueDate,InventoryItemCode,*Description,*Quantity,*UnitAmount,"
                "Discount,*AccountCode,*TaxType,TrackingName1,TrackingOption1,TrackingName2,"
                "TrackingOption2,Currency,BrandingTheme")  # fmt: skip
XERO_REQUIRED_CREDIT = {"*ContactName", "*CreditNoteNumber", "*CreditNoteDate", "*Description",
                        "*Quantity", "*UnitAmount", "*AccountCode", "*TaxType"}  # fmt: skip
XERO_STATEMENT = "*Date,*Amount,Payee,Description,Reference,Cheque Number"
MYOB_SALE_FIELDS = {"Co./Last Name", "First Name", "Invoice #", "Date", "Description",
                    "Account #", "Amount", "Inc-Tax Amount", "Tax Code", "GST Amount", "Job",
                    "Salesperson Last Name", "Salesperson First Name", "Inclusive"}  # fmt: skip
MYOB_PAYMENT_FIELDS = {"Co./Last Name", "Deposit Account #", "Receipt Date", "Invoice #",
                       "Amount Applied", "Payment Method"}  # fmt: skip


@pytest.fixture
def ledger(ctx: ServiceContext) -> tuple[World, dict[str, str]]:
    w = make_world(ctx)
    with ctx.write("a patient whose name looks like a formula") as s:
        s.get(Patient, w.patient).first_name = "=cmd|' /C calc'!A0"
    ids = {}
    ids["service"] = billing.invoice_from_appointment(ctx, w.appointments[0])
    billing.issue_invoice(ctx, ids["service"])  # $95.00 GST-free
    with ctx.read() as s:
        brace = line_from_catalogue(s, w.product, None)
    ids["mixed"] = billing.create_draft(
        ctx,
        billing.DraftHeader(w.patient),
        [brace, billing.DraftLine("Orthotics", 45000, quantity=3, discount_bp=1000)],
    )
    billing.issue_invoice(ctx, ids["mixed"])  # $65.00 incl. $5.91 GST + $1,215.00 GST-free
    ids["fund"] = billing.invoice_from_appointment(ctx, w.fund_appointment)
    billing.issue_invoice(ctx, ids["fund"])  # Bupa pays $90.00
    billing.take_payment(ctx, method="eftpos", amount_cents=9500, invoice_ids=[ids["service"]])
    line = billing.invoice_view(ctx, ids["service"]).lines[0]
    billing.issue_credit_note(ctx, ids["service"], "Short session", {line.id: 2000})
    return w, ids


def _rows(path: Path) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8")
    return [r for r in csv.DictReader(io.StringIO(text)) if any(r.values())]


def test_xero_files_have_the_documented_columns_and_add_up(
    ctx: ServiceContext, ledger: tuple[World, dict[str, str]], tmp_path: Path
) -> None:
    result = ax.export_period(ctx, "xero", DAY, tmp_path)
    invoices, credits, payments = result.files
    assert invoices.read_text().splitlines()[0] == XERO_INVOICE
    rows = _rows(invoices)
    assert {r["*InvoiceNumber"] for r in rows} == {"INV-000001", "INV-000002", "INV-000003"}
    total = sum(Decimal(r["*Quantity"]) * Decimal(r["*UnitAmount"]) for r in rows)
    assert total == Decimal("1465.00") and result.total_cents == 146500
    brace = next(r for r in rows if r["*Description"] == "Knee brace")
    assert brace["*TaxType"] == "GST on Income" and brace["*UnitAmount"] == "65.00"
    orthotics = next(r for r in rows if r["*Description"] == "Orthotics")
    assert (orthotics["*Quantity"], orthotics["*UnitAmount"]) == ("3", "405.00")
    assert orthotics["*TaxType"] == "GST Free Income"
    service = next(r for r in rows if r["*InvoiceNumber"] == "INV-000001")
    assert (service["TrackingName1"], service["TrackingOption1"]) == ("Practitioner",
                                                                      "Ruby Esposito")  # fmt: skip
    # the counter sale was made out with no practitioner: no tracking rather than a guess
    assert (brace["TrackingName1"], brace["TrackingOption1"]) == ("", "")
    assert next(r for r in rows if r["*InvoiceNumber"] == "INV-000003")["*ContactName"] == "Bupa"
    assert all(r["*InvoiceDate"] == "27/11/2026" for r in rows)
    # a name that starts like a formula is neutralised
    assert all(not r["*ContactName"].startswith("=") for r in rows)
    assert any(r["*ContactName"].startswith("'=cmd") for r in rows)

    credit_header = credits.read_text().splitlines()[0].split(",")
    assert set(credit_header) >= XERO_REQUIRED_CREDIT
    (note,) = _rows(credits)
    assert note["*CreditNoteNumber"] == "CN-000001" and note["Reference"] == "INV-000001"
    assert note["*UnitAmount"] == "20.00" and note["*TaxType"] == "GST Free Income"

    assert payments.read_text().splitlines()[0] == XERO_STATEMENT
    (pay,) = _rows(payments)
    assert (pay["*Date"], pay["*Amount"], pay["Reference"]) == ("27/11/2026", "95.00",
                                                                "INV-000001")  # fmt: skip
    assert (result.invoices, result.credit_notes, result.payments) == (3, 1, 1)


def test_myob_files(
    ctx: ServiceContext, ledger: tuple[World, dict[str, str]], tmp_path: Path
) -> None:
    sales, payments = ax.export_period(ctx, "myob", DAY, tmp_path).files
    text = sales.read_text(encoding="utf-8")
    header = text.splitlines()[0].split(",")
    assert set(header) >= MYOB_SALE_FIELDS
    # one sale per invoice or credit note, each followed by a blank line
    assert sales.read_bytes().count(b"\r\n\r\n") == 4
    rows = _rows(sales)
    brace = next(r for r in rows if r["Description"] == "Knee brace")
    assert (brace["Amount"], brace["Inc-Tax Amount"], brace["GST Amount"], brace["Tax Code"]) == (
        "59.09", "65.00", "5.91", "GST")  # fmt: skip
    service = next(r for r in rows if r["Invoice #"] == "INV-000001")
    salesperson = (service["Salesperson Last Name"], service["Salesperson First Name"])
    assert salesperson == ("Esposito", "Ruby")
    credit = next(r for r in rows if r["Invoice #"] == "CN-000001")
    assert credit["Inc-Tax Amount"] == "-20.00" and credit["Tax Code"] == "FRE"
    assert sum(Decimal(r["Inc-Tax Amount"]) for r in rows) == Decimal("1445.00")
    assert set(payments.read_text().splitlines()[0].split(",")) >= MYOB_PAYMENT_FIELDS
    # $95 applied to INV-000001, then $20 of it freed by the credit note: account credit
    applied, credit_kept = _rows(payments)
    assert (applied["Invoice #"], applied["Amount Applied"], applied["Payment Method"]) == (
        "INV-000001", "75.00", "EFTPOS")  # fmt: skip
    assert (credit_kept["Invoice #"], credit_kept["Amount Applied"]) == ("", "20.00")


def test_a_period_is_not_exported_twice_by_accident(
    ctx: ServiceContext, ledger: tuple[World, dict[str, str]], tmp_path: Path
) -> None:
    first = ax.export_period(ctx, "xero", DAY, tmp_path)
    week = Period(date(2026, 11, 23), date(2026, 11, 29))
    with pytest.raises(ax.AlreadyExported, match="already exported to Xero"):
        ax.export_period(ctx, "xero", week, tmp_path)
    # MYOB has its own record; a deliberate re-export is recorded as such
    ax.export_period(ctx, "myob", week, tmp_path)
    again = ax.export_period(ctx, "xero", week, tmp_path, again=True)
    with ctx.read() as s:
        record = s.get(AccountingExport, again.record_id)
        assert record is not None and record.repeat_of_id == first.record_id
        # the record syncs, so another desk refuses the same period too
        outbox = s.scalar(
            select(func.count()).select_from(SyncOutbox)
            .where(SyncOutbox.entity == "accounting_exports")
        )  # fmt: skip
        assert outbox == 3
    assert [e.system for e in ax.exports(ctx)] == ["xero", "myob", "xero"]


def test_only_those_who_see_revenue_export(
    ctx: ServiceContext, ledger: tuple[World, dict[str, str]], tmp_path: Path
) -> None:
    ctx.actor = Actor("u1", "Pat Practitioner", Role.PRACTITIONER)
    with pytest.raises(PermissionDenied):
        ax.export_period(ctx, "xero", DAY, tmp_path)
    ctx.actor = Actor(None, "system", None)
    with pytest.raises(ValidationFailed, match="does not exist"):
        ax.export_period(ctx, "xero", DAY, tmp_path / "missing")
    with ctx.read() as s:
        assert s.scalar(select(func.count()).select_from(AccountingExport)) == 0


def test_a_void_or_credit_note_after_its_period_was_sent_goes_in_the_next_export(
    ctx: ServiceContext, clock: FakeClock, ledger: tuple[World, dict[str, str]], tmp_path: Path
) -> None:
    _w, ids = ledger
    assert ax.follow_ups(ctx, "xero") == []  # nothing sent yet: nothing to follow up
    ax.export_period(ctx, "xero", DAY, tmp_path)
    ax.export_period(ctx, "myob", DAY, tmp_path)
    assert ax.follow_ups(ctx, "xero") == []
    # later the same day: a credit note dated in the period already sent
    clock.advance(timedelta(hours=2))
    line = billing.invoice_view(ctx, ids["mixed"]).lines[0]
    billing.issue_credit_note(ctx, ids["mixed"], "Returned", {line.id: 6500})
    clock.advance(timedelta(days=3, hours=-2))  # Monday: the funder's invoice of the 27th is voided
    billing.void_invoice(ctx, ids["fund"], "Claimed on the wrong plan")
    pending = ax.follow_ups(ctx, "xero")
    assert [(f.kind, f.number, f.invoice_number, f.amount_cents) for f in pending] == [
        ("credit_note", "CN-000002", "INV-000002", 6500),
        ("void", "INV-000003-VOID", "INV-000003", 9000),
    ]
    assert pending[1].day == date(2026, 11, 30) and "wrong plan" in pending[1].reason
    assert ax.follow_ups(ctx, "myob") == pending  # each program has its own record

    # the next export (the days since) carries both, though neither is dated in it
    since = Period(date(2026, 11, 28), date(2026, 11, 30))
    result = ax.export_period(ctx, "xero", since, tmp_path)
    assert result.follow_ups == 2 and result.credit_notes == 2 and result.invoices == 0
    notes = _rows(result.files[1])
    by_number = {r["*CreditNoteNumber"]: r for r in notes}
    assert set(by_number) == {"CN-000002", "INV-000003-VOID"}
    void = by_number["INV-000003-VOID"]
    assert (void["Reference"], void["*CreditNoteDate"], void["*UnitAmount"]) == (
        "INV-000003", "30/11/2026", "90.00")  # fmt: skip
    assert void["*ContactName"] == "Bupa" and "Claimed on the wrong plan" in void["*Description"]
    assert ax.follow_ups(ctx, "xero") == []  # sent: off the list, not sent twice
    again = ax.export_period(ctx, "xero", Period(date(2026, 12, 1), date(2026, 12, 1)), tmp_path)
    assert again.credit_notes == 0

    # MYOB: the same two as negative sales
    myob = ax.export_period(ctx, "myob", since, tmp_path)
    sales = [r for r in _rows(myob.files[0]) if r["Invoice #"] == "INV-000003-VOID"]
    assert sales and sum(Decimal(r["Inc-Tax Amount"]) for r in sales) == Decimal("-90.00")
    assert ax.follow_ups(ctx, "myob") == []


def test_a_busy_month_goes_to_xero_in_files_of_500_invoices(
    owner: ServiceContext, clock: FakeClock, tmp_path: Path
) -> None:
    """Xero takes at most 500 invoices in one import file; the demo clinic's month is ~1,900
    (seen exporting November from the demo): the file is split, never inside an invoice."""
    from frontdesk.demo.generator import DemoSpec, build_demo

    build_demo(owner, DemoSpec(practitioners=8, weeks_past=3, weeks_future=0, patients=1500))
    today = clock.now().astimezone(owner.tz).date()
    period = Period(today - timedelta(weeks=3), today)
    result = ax.export_period(owner, "xero", period, tmp_path)
    parts = [f for f in result.files if f.name.startswith("Xero invoices")]
    assert result.invoices > 1000 and len(parts) == -(-result.invoices // 500)
    assert parts[0].name.endswith(f"(part 1 of {len(parts)}).csv")
    numbers: list[set[str]] = []
    total = Decimal(0)
    for part in parts:
        assert part.read_text().splitlines()[0] == XERO_INVOICE
        rows = _rows(part)
        numbers.append({r["*InvoiceNumber"] for r in rows})
        total += sum(Decimal(r["*Quantity"]) * Decimal(r["*UnitAmount"]) for r in rows)
    assert all(len(n) <= 500 for n in numbers)
    assert sum(len(n) for n in numbers) == len(set().union(*numbers)) == result.invoices
    assert total * 100 == result.total_cents, "every line of every invoice, once"


def test_split_by_document_keeps_an_invoice_whole() -> None:
    rows = [["", "", "", "", "", "", "", "", "", "", f"INV-{n:06d}", str(k)]
            for n in range(1203) for k in range(1 + n % 3)]  # fmt: skip
    parts = ax.split_by_document(rows)
    assert [len({r[10] for r in p}) for p in parts] == [500, 500, 203]
    assert [r for p in parts for r in p] == rows
    assert ax.split_by_document(rows[:5]) == [rows[:5]]
