"""Invoices, credit notes and payments for a period, in the import files of Xero and MYOB
AccountRight, with GST codes and the practitioner as tracking; each export is recorded (a
synced ``accounting_exports`` row) so no period goes to the accounting program twice.

Column sets: Xero's sales invoice and credit note import templates and its bank statement
CSV; MYOB AccountRight's "Sales – Service" and "Receive Payments" import fields (comma
separated, a blank line between sales). Amounts are GST-inclusive: choose "tax inclusive"
when Xero asks. See docs/reports.md.

Over 400 lines because the two programs' files are one reading of the ledger: split, each
half would repeat the loading and contact rules that must stay identical."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.errors import RuleViolation, ValidationFailed
from frontdesk.domain.spreadsheet import safe_row
from frontdesk.models import (
    AccountingExport,
    CreditNote,
    CreditNoteLine,
    Funder,
    Invoice,
    InvoiceLine,
    Patient,
    Payment,
    PaymentAllocation,
    Practitioner,
    StaffUser,
)
from frontdesk.services.accounting_codes import AccountCodes, account_codes
from frontdesk.services.billing.payments import METHOD_LABELS
from frontdesk.services.permissions import Action, require
from frontdesk.services.report_types import Period
from frontdesk.store.context import ServiceContext

System = Literal["xero", "myob"]

XERO_INVOICE_COLUMNS = (
    "*ContactName", "EmailAddress", "POAddressLine1", "POAddressLine2", "POAddressLine3",
    "POAddressLine4", "POCity", "PORegion", "POPostalCode", "POCountry", "*InvoiceNumber",
    "Reference", "*InvoiceDate", "*DueDate", "InventoryItemCode", "*Description", "*Quantity",
    "*UnitAmount", "Discount", "*AccountCode", "*TaxType", "TrackingName1", "TrackingOption1",
    "TrackingName2", "TrackingOption2", "Currency", "BrandingTheme",
)  # fmt: skip
XERO_CREDIT_NOTE_COLUMNS = (
    "*ContactName", "EmailAddress", "POAddressLine1", "POAddressLine2", "POAddressLine3",
    "POAddressLine4", "POCity", "PORegion", "POPostalCode", "POCountry", "*CreditNoteNumber",
    "Reference", "*CreditNoteDate", "InventoryItemCode", "*Description", "*Quantity",
    "*UnitAmount", "Discount", "*AccountCode", "*TaxType", "TrackingName1", "TrackingOption1",
    "TrackingName2", "TrackingOption2", "Currency", "BrandingTheme",
)  # fmt: skip
XERO_PAYMENT_COLUMNS = ("*Date", "*Amount", "Payee", "Description", "Reference", "Cheque Number")
MYOB_SALE_COLUMNS = (
    "Co./Last Name", "First Name", "Addr 1 - Line 1", "Invoice #", "Date", "Customer PO",
    "Inclusive", "Description", "Account #", "Amount", "Inc-Tax Amount", "Job", "Journal Memo",
    "Salesperson Last Name", "Salesperson First Name", "Tax Code", "GST Amount", "Sale Status",
)  # fmt: skip
MYOB_PAYMENT_COLUMNS = (
    "Co./Last Name", "First Name", "Deposit Account #", "ID #", "Receipt Date", "Invoice #",
    "Amount Applied", "Memo", "Payment Method",
)  # fmt: skip


@dataclass(frozen=True)
class ExportResult:
    files: tuple[Path, ...]
    invoices: int
    credit_notes: int
    payments: int
    total_cents: int
    record_id: str
    follow_ups: int = 0  # voids and credit notes of periods already sent, carried by this one


@dataclass(frozen=True)
class PastExport:
    id: str
    system: str
    first_day: date
    last_day: date
    exported_at_local: str
    by: str


class AlreadyExported(RuleViolation):
    def __init__(self, past: PastExport) -> None:
        self.past = past
        name = "Xero" if past.system == "xero" else "MYOB"
        super().__init__(
            f"{past.first_day:%d/%m/%Y} to {past.last_day:%d/%m/%Y} was already exported to "
            f"{name} on {past.exported_at_local} by {past.by}. Importing it again would enter "
            "these invoices and payments twice. Choose the days after it, or export again "
            "on purpose."
        )


def _amount(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def exports(ctx: ServiceContext, system: System | None = None) -> list[PastExport]:
    """Every recorded export (from every desk, by sync), newest first."""
    with ctx.read() as session:
        q = (
            select(AccountingExport, StaffUser.display_name)
            .outerjoin(StaffUser, StaffUser.id == AccountingExport.exported_by_id)
            .where(AccountingExport.deleted_at.is_(None))
        )
        if system:
            q = q.where(AccountingExport.system == system)
        rows = session.execute(q.order_by(AccountingExport.exported_at.desc())).all()
    return [
        PastExport(e.id, e.system, e.first_day, e.last_day,
                   e.exported_at.astimezone(ctx.tz).strftime("%d/%m/%Y %H:%M"),
                   by or "the system")
        for e, by in rows
    ]  # fmt: skip


def overlapping(ctx: ServiceContext, system: System, period: Period) -> PastExport | None:
    for past in exports(ctx, system):
        if past.first_day <= period.last and past.last_day >= period.first:
            return past
    return None


@dataclass(frozen=True)
class FollowUp:
    """A change made after its period went to the accounting program: an invoice voided (sent
    as a credit note for its whole amount) or a credit note dated in a period already sent.
    The next export to that program carries it, whatever period it covers."""

    kind: Literal["void", "credit_note"]
    id: str  # the invoice voided, or the credit note
    number: str  # the credit note's number in the file
    invoice_number: str
    day: date  # clinic date of the void or credit note
    amount_cents: int
    reason: str


def _late_since(
    session: Session, system: System
) -> tuple[datetime | None, list[tuple[date, date]]]:
    """When the last export to ``system`` was made, and the periods sent so far."""
    rows = session.execute(
        select(
            AccountingExport.exported_at, AccountingExport.first_day, AccountingExport.last_day
        ).where(AccountingExport.system == system, AccountingExport.deleted_at.is_(None))
    ).all()
    if not rows:
        return None, []
    return max(r[0] for r in rows), [(r[1], r[2]) for r in rows]


def _late(
    session: Session, ctx: ServiceContext, system: System
) -> tuple[list[Invoice], list[CreditNote]]:
    """Voids and credit notes made since the last export whose invoice or date lies in a
    period already sent: the files of that period never saw them."""
    since, sent = _late_since(session, system)
    if since is None:
        return [], []

    def covered(day: date | None) -> bool:
        return day is not None and any(a <= day <= b for a, b in sent)

    voids = [
        inv
        for inv in session.scalars(
            select(Invoice)
            .where(Invoice.status == "void", Invoice.voided_at > since,
                   Invoice.deleted_at.is_(None))
            .order_by(Invoice.voided_at)
        )
        if covered(inv.issue_date)
    ]  # fmt: skip
    credits = [
        c
        for c in session.scalars(
            select(CreditNote)
            .where(CreditNote.issued_at > since, CreditNote.deleted_at.is_(None))
            .order_by(CreditNote.issued_at)
        )
        if covered(c.issued_at.astimezone(ctx.tz).date())
    ]  # fmt: skip
    return voids, credits


def void_number(invoice_number: str | None) -> str:
    """The credit note number a void is sent as (the invoice's number, marked)."""
    return f"{invoice_number or ''}-VOID"


def follow_ups(ctx: ServiceContext, system: System) -> list[FollowUp]:
    """What the next export to ``system`` carries besides its period (see ``FollowUp``)."""
    require(ctx.actor, Action.VIEW_REVENUE, hide_revenue_from_reception=True)
    with ctx.read() as session:
        voids, credits = _late(session, ctx, system)
        numbers = {
            i.id: i.number
            for i in session.scalars(
                select(Invoice).where(Invoice.id.in_({c.invoice_id for c in credits}))
            )
        }
    out = [
        FollowUp("void", i.id, void_number(i.number), i.number or "",
                 i.voided_at.astimezone(ctx.tz).date() if i.voided_at else date.min,
                 i.total_cents, i.void_reason or "")
        for i in voids
    ] + [
        FollowUp("credit_note", c.id, c.number, numbers.get(c.invoice_id) or "",
                 c.issued_at.astimezone(ctx.tz).date(), c.total_cents, c.reason)
        for c in credits
    ]  # fmt: skip
    return sorted(out, key=lambda f: (f.day, f.number))


def _names(session: object, ids: set[str], model: type) -> dict[str, object]:
    out: dict[str, object] = {}
    id_list = sorted(ids)
    for i in range(0, len(id_list), 900):
        for row in session.scalars(select(model).where(model.id.in_(id_list[i : i + 900]))):  # type: ignore[attr-defined]
            out[row.id] = row
    return out


@dataclass(frozen=True)
class _Credit:
    """A credit note as the files write it: a real one, or a void sent as one."""

    number: str
    invoice: Invoice | None
    day: date
    reason: str
    parts: list[tuple[InvoiceLine, int, int]]  # the line credited, amount, tax (cents)


@dataclass(frozen=True)
class _Contact:
    name: str  # Xero's contact name
    last: str  # MYOB: company name or last name
    first: str
    email: str
    address: tuple[str, str, str, str, str]  # line 1, line 2, city, region, postcode


def export_period(
    ctx: ServiceContext,
    system: System,
    period: Period,
    folder: Path,
    *,
    again: bool = False,
    codes: AccountCodes | None = None,
) -> ExportResult:
    """Write the period's files into ``folder`` and record the export. Refused when the period
    overlaps an earlier export to the same program, unless ``again``."""
    require(ctx.actor, Action.VIEW_REVENUE, hide_revenue_from_reception=True)
    codes = codes or account_codes(ctx, system)  # the clinic's, from Settings → Accounting
    past = overlapping(ctx, system, period)
    if past is not None and not again:
        raise AlreadyExported(past)
    if not folder.is_dir():
        raise ValidationFailed(f"The folder {folder} does not exist.", field="folder")
    a, _ = day_bounds_utc(period.first, ctx.tz)
    _, b = day_bounds_utc(period.last, ctx.tz)
    with ctx.read() as session:
        invoices = list(
            session.scalars(
                select(Invoice)
                .where(Invoice.status.in_(("issued", "void")), Invoice.deleted_at.is_(None),
                       Invoice.issue_date >= period.first, Invoice.issue_date <= period.last)
                .order_by(Invoice.issue_date, Invoice.number)
            )
        )  # fmt: skip
        lines: dict[str, list[InvoiceLine]] = defaultdict(list)
        inv_ids = [i.id for i in invoices]
        for k in range(0, len(inv_ids), 900):
            for line in session.scalars(
                select(InvoiceLine).where(InvoiceLine.invoice_id.in_(inv_ids[k : k + 900]),
                                          InvoiceLine.deleted_at.is_(None))
                .order_by(InvoiceLine.position)
            ):  # fmt: skip
                lines[line.invoice_id].append(line)
        credits = list(
            session.scalars(
                select(CreditNote)
                .where(CreditNote.issued_at >= a, CreditNote.issued_at < b,
                       CreditNote.deleted_at.is_(None))
                .order_by(CreditNote.issued_at, CreditNote.number)
            )
        )  # fmt: skip
        late_voids, late_credits = _late(session, ctx, system)
        known = {c.id for c in credits}
        credits += [c for c in late_credits if c.id not in known]
        for voided in late_voids:  # sent as a credit note for the whole invoice
            lines[voided.id] = list(
                session.scalars(
                    select(InvoiceLine)
                    .where(InvoiceLine.invoice_id == voided.id, InvoiceLine.deleted_at.is_(None))
                    .order_by(InvoiceLine.position)
                )
            )
        credit_lines: dict[str, list[tuple[CreditNoteLine, InvoiceLine]]] = defaultdict(list)
        for cl, il in session.execute(
            select(CreditNoteLine, InvoiceLine)
            .join(InvoiceLine, InvoiceLine.id == CreditNoteLine.invoice_line_id)
            .where(CreditNoteLine.credit_note_id.in_([c.id for c in credits]) if credits
                   else CreditNoteLine.id.is_(None), CreditNoteLine.deleted_at.is_(None))
        ).all():  # fmt: skip
            credit_lines[cl.credit_note_id].append((cl, il))
        payments = list(
            session.scalars(
                select(Payment)
                .where(Payment.business_date >= period.first,
                       Payment.business_date <= period.last, Payment.deleted_at.is_(None))
                .order_by(Payment.business_date, Payment.received_at)
            )
        )  # fmt: skip
        allocations: dict[str, list[tuple[str, int]]] = defaultdict(list)
        pay_ids = [p.id for p in payments]
        for k in range(0, len(pay_ids), 900):
            for pid, number, cents in session.execute(
                select(PaymentAllocation.payment_id, Invoice.number,
                       PaymentAllocation.amount_cents)
                .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
                .where(PaymentAllocation.payment_id.in_(pay_ids[k : k + 900]),
                       PaymentAllocation.deleted_at.is_(None))
            ).all():  # fmt: skip
                applied = allocations[pid]
                for k2, (n2, c2) in enumerate(applied):
                    if n2 == (number or ""):  # an allocation and its later undo: one net figure
                        applied[k2] = (n2, c2 + int(cents))
                        break
                else:
                    applied.append((number or "", int(cents)))
        for pid, applied_list in allocations.items():
            allocations[pid] = [(n, c) for n, c in applied_list if c]
        by_id = {i.id: i for i in invoices}
        by_id.update({v.id: v for v in late_voids})
        for c in credits:
            if c.invoice_id not in by_id:
                inv = session.get(Invoice, c.invoice_id)
                if inv is not None:
                    by_id[inv.id] = inv
        patients = _names(session, {i.patient_id for i in by_id.values()}
                          | {p.patient_id for p in payments if p.patient_id}, Patient)  # fmt: skip
        funder_ids = {i.payer_funder_id for i in by_id.values() if i.payer_funder_id}
        funder_ids |= {p.payer_funder_id for p in payments if p.payer_funder_id}
        funders = _names(session, funder_ids, Funder)
        practitioners = {p.id: p for p in session.scalars(select(Practitioner))}
        entries = [
            _Credit(c.number, by_id.get(c.invoice_id), c.issued_at.astimezone(ctx.tz).date(),
                    c.reason, [(il, cl.amount_cents, cl.tax_cents)
                               for cl, il in credit_lines[c.id]])
            for c in credits
        ] + [
            _Credit(void_number(inv.number), inv,
                    inv.voided_at.astimezone(ctx.tz).date() if inv.voided_at else period.last,
                    f"void: {inv.void_reason or ''}".strip(),
                    [(line, line.total_cents, line.tax_cents) for line in lines[inv.id]])
            for inv in late_voids
        ]  # fmt: skip
        currency = ctx.settings(session).currency

    def contact(patient_id: str | None, funder_id: str | None) -> _Contact:
        if funder_id and funder_id in funders:
            f = funders[funder_id]
            return _Contact(f.name, f.name, "", getattr(f, "email", "") or "",  # type: ignore[attr-defined]
                            ("", "", "", "", ""))  # fmt: skip
        p = patients.get(patient_id or "")
        if p is None:
            return _Contact("Unknown patient", "Unknown patient", "", "", ("", "", "", "", ""))
        full = " ".join(x for x in (p.first_name, p.last_name) if x)  # type: ignore[attr-defined]
        return _Contact(full, p.last_name, p.first_name, p.email,  # type: ignore[attr-defined]
                        (p.address_line1, p.address_line2, p.suburb, p.state, p.postcode))  # type: ignore[attr-defined]  # fmt: skip

    def practitioner(pid: str | None) -> Practitioner | None:
        return practitioners.get(pid or "")

    stem = f"{period.first.isoformat()} to {period.last.isoformat()}"
    files: list[Path] = []
    issued = [i for i in invoices if i.status == "issued"]
    total = sum(i.total_cents for i in issued)
    if system == "xero":
        rows: list[list[str]] = []
        for inv in issued:
            who = contact(inv.patient_id, inv.payer_funder_id)
            for line in lines[inv.id]:
                prac = practitioner(line.practitioner_id or inv.practitioner_id)
                qty, unit = _qty_unit(line)
                rows.append([who.name, who.email, who.address[0], who.address[1], "", "",
                             who.address[2], who.address[3], who.address[4], "",
                             inv.number or "", inv.payer_reference or "",
                             _d(inv.issue_date), _d(inv.due_date or inv.issue_date),
                             line.item_number, line.description, str(qty), _amount(unit), "",
                             codes.revenue_for(inv.payer_funder_id),
                             codes.gst if line.tax_cents else codes.gst_free,
                             "Practitioner" if prac else "", prac.display_name if prac else "",
                             "", "", currency, ""])  # fmt: skip
        files += _write_parts(folder, f"Xero invoices {stem}", XERO_INVOICE_COLUMNS, rows)
        rows = []
        for e in entries:
            src = e.invoice
            who = contact(src.patient_id if src else None, src.payer_funder_id if src else None)
            for il, cents, tax in e.parts:
                prac = practitioner(il.practitioner_id or (src.practitioner_id if src else None))
                rows.append([who.name, who.email, who.address[0], who.address[1], "", "",
                             who.address[2], who.address[3], who.address[4], "", e.number,
                             src.number if src and src.number else "", _d(e.day),
                             il.item_number, f"{il.description} ({e.reason})", "1",
                             _amount(cents), "",
                             codes.revenue_for(src.payer_funder_id if src else None),
                             codes.gst if tax else codes.gst_free,
                             "Practitioner" if prac else "", prac.display_name if prac else "",
                             "", "", currency, ""])  # fmt: skip
        files += _write_parts(folder, f"Xero credit notes {stem}", XERO_CREDIT_NOTE_COLUMNS, rows)
        rows = []
        kinds = {p.id: p.kind for p in payments}
        for pay in payments:
            sign = _sign(pay, kinds)
            who = contact(pay.patient_id, pay.payer_funder_id)
            refs = " ".join(n for n, _c in allocations[pay.id]) or pay.reference
            rows.append([_d(pay.business_date), _amount(sign * pay.amount_cents), who.name,
                         f"{pay.kind.capitalize()}, {METHOD_LABELS.get(pay.method, pay.method)}",  # type: ignore[call-overload]
                         refs[:255], ""])  # fmt: skip
        files.append(_write(folder / f"Xero payments {stem}.csv", XERO_PAYMENT_COLUMNS, rows))
    else:
        groups: list[list[list[str]]] = []
        for inv in issued:
            who = contact(inv.patient_id, inv.payer_funder_id)
            group = []
            for line in lines[inv.id]:
                prac = practitioner(line.practitioner_id or inv.practitioner_id)
                ex_tax = line.total_cents - line.tax_cents
                group.append([who.last, who.first, who.address[0], inv.number or "",
                              _d(inv.issue_date), inv.payer_reference or "", "X",
                              line.description, codes.revenue_for(inv.payer_funder_id),
                              _amount(ex_tax),
                              _amount(line.total_cents), "", f"Invoice {inv.number}",
                              prac.last_name if prac else "", prac.first_name if prac else "",
                              codes.gst if line.tax_cents else codes.gst_free,
                              _amount(line.tax_cents), "I"])  # fmt: skip
            groups.append(group)
        for e in entries:
            src = e.invoice
            who = contact(src.patient_id if src else None, src.payer_funder_id if src else None)
            group = []
            for il, cents, tax in e.parts:
                prac = practitioner(il.practitioner_id or (src.practitioner_id if src else None))
                group.append([who.last, who.first, who.address[0], e.number, _d(e.day),
                              src.number if src and src.number else "", "X",
                              f"{il.description} ({e.reason})",
                              codes.revenue_for(src.payer_funder_id if src else None),
                              _amount(-(cents - tax)), _amount(-cents), "",
                              f"Credit note {e.number}",
                              prac.last_name if prac else "", prac.first_name if prac else "",
                              codes.gst if tax else codes.gst_free,
                              _amount(-tax), "I"])  # fmt: skip
            groups.append(group)
        files.append(_write_groups(folder / f"MYOB sales {stem}.txt", MYOB_SALE_COLUMNS, groups))
        groups = []
        kinds = {p.id: p.kind for p in payments}
        for pay in payments:
            sign = _sign(pay, kinds)
            who = contact(pay.patient_id, pay.payer_funder_id)
            method = METHOD_LABELS.get(pay.method, pay.method)  # type: ignore[call-overload]
            applied = list(allocations[pay.id])
            rest = pay.amount_cents - sum(c for _n, c in applied)
            if rest:  # kept as account credit: a line of its own for the bookkeeper to place
                applied.append(("", rest))
            groups.append([
                [who.last, who.first, codes.clearing_for(pay.method), pay.reference[:8],
                 _d(pay.business_date), number, _amount(sign * cents),
                 f"{pay.kind.capitalize()} {pay.reference}".strip(), method]
                for number, cents in applied
            ])  # fmt: skip
        files.append(
            _write_groups(folder / f"MYOB payments {stem}.txt", MYOB_PAYMENT_COLUMNS, groups)
        )
    with ctx.write(f"Export {period.label()} to {system.upper()}") as session:
        record = AccountingExport(
            system=system, first_day=period.first, last_day=period.last,
            exported_at=ctx.clock.now(), exported_by_id=ctx.actor.staff_user_id,
            invoices=len(issued), credit_notes=len(entries), payments=len(payments),
            total_cents=total, file_name=files[0].name[:260],
            repeat_of_id=past.id if past else None,
        )  # fmt: skip
        session.add(record)
        session.flush()
        record_id = record.id
    return ExportResult(tuple(files), len(issued), len(entries), len(payments), total, record_id,
                        len(late_voids) + len(late_credits))  # fmt: skip


def _sign(pay: Payment, kinds: dict[str, str]) -> int:
    if pay.kind == "payment":
        return 1
    if pay.kind == "refund":
        return -1
    return 1 if kinds.get(pay.reverses_payment_id or "") == "refund" else -1


def _qty_unit(line: InvoiceLine) -> tuple[int, int]:
    """Quantity and GST-inclusive unit amount that multiply back to the line's total exactly."""
    if line.quantity > 1 and line.total_cents % line.quantity == 0:
        return line.quantity, line.total_cents // line.quantity
    return 1, line.total_cents


def _d(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


# Xero takes at most 500 invoices (or credit notes) in one import file: a busy clinic's month
# is several thousand, so the file is split, never inside an invoice.
XERO_MAX_PER_FILE = 500
NUMBER_COLUMN = 10  # *InvoiceNumber / *CreditNoteNumber in both templates


def split_by_document(
    rows: list[list[str]], limit: int = XERO_MAX_PER_FILE
) -> list[list[list[str]]]:
    """``rows`` (consecutive lines of each document) in parts of at most ``limit`` documents."""
    parts: list[list[list[str]]] = [[]]
    seen: set[str] = set()
    for row in rows:
        number = row[NUMBER_COLUMN]
        if number not in seen and len(seen) == limit:
            parts.append([])
            seen = set()
        seen.add(number)
        parts[-1].append(row)
    return parts


def _write_parts(
    folder: Path, name: str, columns: tuple[str, ...], rows: list[list[str]]
) -> list[Path]:
    """One file, or "NAME (part 1 of 3).csv"… when there are more documents than Xero takes."""
    parts = split_by_document(rows)
    if len(parts) == 1:
        return [_write(folder / f"{name}.csv", columns, rows)]
    return [_write(folder / f"{name} (part {n} of {len(parts)}).csv", columns, part)
            for n, part in enumerate(parts, 1)]  # fmt: skip


def _write(path: Path, columns: tuple[str, ...], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(safe_row(row))
    return path


def _write_groups(path: Path, columns: tuple[str, ...], groups: list[list[list[str]]]) -> Path:
    """MYOB's layout: a header line, then each sale's lines, a blank line after each sale."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for group in groups:
            for row in group:
                writer.writerow(safe_row(row))
            fh.write("\r\n")
    return path
