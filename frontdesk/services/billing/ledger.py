"""Balances, statements and aged debtors, read from the append-only ledger.

A debtor's balance is the sum of its ledger (invoices + refunds − credit notes − payments, with
reversals cancelling what they reverse); it always equals what its invoices still owe minus the
credit it holds.

What a debtor owes, and in which age bucket, is read from the ledger summary the database keeps
by trigger in the same transaction as every ledger write (``frontdesk/db/ledger_summary.py``,
proved equal to the ledger by ``balances.check_balances``): aged debtors reads the few open
invoices instead of aggregating every invoice ever issued, and a statement reads only its period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session, aliased

from frontdesk.db.types import UUIDKey, key_text, maybe_key_blob
from frontdesk.domain.billing import AgeBucket, EntryKind, age_bucket, bucket_cutoffs, signed
from frontdesk.domain.vocab import InvoiceStatus, PaymentKind
from frontdesk.models import CreditNote, Funder, Invoice, Patient, Payment
from frontdesk.services.billing.common import Debtor, business_day, debtor_name
from frontdesk.services.billing.payments import METHOD_LABELS
from frontdesk.store.context import ServiceContext


@dataclass(frozen=True)
class LedgerEntry:
    day: date
    kind: EntryKind
    reference: str
    description: str
    amount_cents: int  # signed: + increases what is owed

    @property
    def sort_key(self) -> tuple[date, int, str]:
        return (self.day, 0 if self.kind is EntryKind.INVOICE else 1, self.reference)


@dataclass(frozen=True)
class Account:
    debtor: Debtor
    name: str
    balance_cents: int  # + owes, − in credit
    owing_cents: int
    credit_cents: int


def _local(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def ledger_entries(
    session: Session, debtor: Debtor, tz: ZoneInfo, since: date | None = None
) -> list[LedgerEntry]:
    """The debtor's ledger, oldest first; ``since``: only entries on or after that day."""
    out: list[LedgerEntry] = []
    live = (debtor.invoice_filter(), Invoice.deleted_at.is_(None))
    inv_since = [] if since is None else [Invoice.issue_date >= since]
    note_since = (
        []
        if since is None
        else [CreditNote.issued_at >= datetime.combine(since, time(), tz) - timedelta(days=1)]
    )
    pay_since = [] if since is None else [Payment.business_date >= since]
    for inv in session.scalars(
        select(Invoice).where(*live, Invoice.status == InvoiceStatus.ISSUED, *inv_since)
    ):
        assert inv.issue_date is not None and inv.number is not None
        out.append(
            LedgerEntry(inv.issue_date, EntryKind.INVOICE, inv.number, "Invoice", inv.total_cents)
        )
    for note, inv_number in session.execute(
        select(CreditNote, Invoice.number)
        .join(Invoice, Invoice.id == CreditNote.invoice_id)
        .where(*live, CreditNote.deleted_at.is_(None), *note_since)
    ).all():
        out.append(
            LedgerEntry(
                _local(note.issued_at, tz),
                EntryKind.CREDIT_NOTE,
                note.number,
                f"Credit note on {inv_number}",
                -note.total_cents,
            )
        )
    target = aliased(Payment)
    for pay, target_kind in session.execute(
        select(Payment, target.kind)
        .outerjoin(target, target.id == Payment.reverses_payment_id)
        .where(debtor.payment_filter(), Payment.deleted_at.is_(None), *pay_since)
    ).all():
        method = METHOD_LABELS.get(pay.method, pay.method)  # type: ignore[call-overload]
        if pay.kind == PaymentKind.PAYMENT:
            kind, text_ = EntryKind.PAYMENT, f"Payment ({method})"
        elif pay.kind == PaymentKind.REFUND:
            kind, text_ = EntryKind.REFUND, f"Refund ({method})"
        elif target_kind == PaymentKind.REFUND:
            kind, text_ = EntryKind.REVERSAL_OF_REFUND, "Refund reversed"
        else:
            kind, text_ = EntryKind.REVERSAL_OF_PAYMENT, "Payment reversed"
        out.append(
            LedgerEntry(
                pay.business_date, kind, pay.reference, text_, signed(kind, pay.amount_cents)
            )
        )
    if since is not None:
        out = [e for e in out if e.day >= since]
    out.sort(key=lambda e: e.sort_key)
    return out


_PAID = (
    "(SELECT COALESCE(SUM(a.amount_cents), 0) FROM payment_allocations a"
    " WHERE a.invoice_id = i.id AND a.deleted_at IS NULL)"
)
_CREDITED = (
    "(SELECT COALESCE(SUM(c.total_cents), 0) FROM credit_notes c"
    " WHERE c.invoice_id = i.id AND c.deleted_at IS NULL)"
)
# Invoices with something owing. "total > paid" is a cheap first filter (covering indexes from
# revision 0301); credit notes only lower what is owed, so the caller keeps ``owing > 0``.
_OWING_SQL = (
    "SELECT i.id, i.number, i.issue_date, i.due_date, i.patient_id, i.payer_funder_id,"
    f" i.total_cents - {_PAID} - {_CREDITED} AS owing"
    " FROM invoices i WHERE i.status = 'issued' AND i.deleted_at IS NULL"
    f" AND i.total_cents > {_PAID} {{where}}"
)


@dataclass(frozen=True)
class OpenInvoice:
    id: str
    number: str
    issue_date: date
    due_date: date | None
    owing_cents: int


def open_invoices(session: Session, debtor: Debtor) -> list[OpenInvoice]:
    """The debtor's invoices with something owing, oldest first (from the ledger summary)."""
    rows = session.execute(
        text(
            "SELECT s.invoice_id, i.number, s.issue_date, i.due_date, s.owing_cents"
            " FROM ledger_summary_invoices s JOIN invoices i ON i.id = s.invoice_id"
            " WHERE s.debtor_id = :d ORDER BY s.issue_date, i.number"
        ).columns(invoice_id=UUIDKey()),
        {"d": maybe_key_blob(debtor.funder_id or debtor.patient_id)},
    ).all()
    return [
        OpenInvoice(
            r.invoice_id, r.number, _as_date(r.issue_date), _as_date(r.due_date), r.owing_cents
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Summary:
    balance_cents: int
    owing_cents: int
    credit_cents: int


def debtor_summary(session: Session, debtor: Debtor) -> Summary:
    """The debtor's maintained balance, what its invoices owe and its credit."""
    row = session.execute(
        text(
            "SELECT balance_cents, owing_cents, credit_cents FROM ledger_summary_debtors"
            " WHERE debtor_id = :d"
        ),
        {"d": maybe_key_blob(debtor.funder_id or debtor.patient_id)},
    ).first()
    if row is None:
        return Summary(0, 0, 0)
    balance, owing, credit = (int(v) for v in row)
    # Credit below zero: refunds on two desks at once gave back more than was paid. That is
    # money the debtor owes, shown as owing (the balance is the same either way).
    return Summary(balance, owing - min(credit, 0), max(credit, 0))


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def account(ctx: ServiceContext, debtor: Debtor) -> Account:
    with ctx.read() as session:
        kept = debtor_summary(session, debtor)
        return Account(
            debtor,
            debtor_name(session, debtor),
            kept.balance_cents,
            kept.owing_cents,
            kept.credit_cents,
        )


def patient_account(ctx: ServiceContext, patient_id: str) -> Account:
    return account(ctx, Debtor(patient_id=patient_id))


def payer_account(ctx: ServiceContext, funder_id: str) -> Account:
    return account(ctx, Debtor(funder_id=funder_id))


# -- statements ------------------------------------------------------------------------------
@dataclass(frozen=True)
class StatementLine:
    entry: LedgerEntry
    running_cents: int


@dataclass(frozen=True)
class Statement:
    debtor: Debtor
    name: str
    address: str
    start: date
    end: date
    opening_cents: int
    lines: list[StatementLine]
    closing_cents: int
    credit_cents: int
    open_invoices: list[OpenInvoice]
    aged: dict[AgeBucket, int]


def statement(ctx: ServiceContext, debtor: Debtor, start: date, end: date) -> Statement:
    with ctx.read() as session:
        # Only the period and after are read: the balance before it is today's maintained
        # balance less everything dated from the start on.
        kept = debtor_summary(session, debtor)
        entries = ledger_entries(session, debtor, ctx.tz, since=start)
        opening = kept.balance_cents - sum(e.amount_cents for e in entries)
        running, lines = opening, []
        for e in entries:
            if e.day <= end:
                running += e.amount_cents
                lines.append(StatementLine(e, running))
        closing = running
        opens = open_invoices(session, debtor)
        aged = dict.fromkeys(AgeBucket, 0)
        for o in opens:
            aged[age_bucket(o.issue_date, end)] += o.owing_cents
        return Statement(
            debtor,
            debtor_name(session, debtor),
            _address(session, debtor),
            start,
            end,
            opening,
            lines,
            closing,
            kept.credit_cents,
            opens,
            aged,
        )


def _address(session: Session, debtor: Debtor) -> str:
    if debtor.funder_id:
        funder = session.get(Funder, debtor.funder_id)
        return funder.address if funder else ""
    p = session.get(Patient, debtor.patient_id)
    if p is None:
        return ""
    town = " ".join(x for x in (p.suburb, p.state, p.postcode) if x)
    return "\n".join(x for x in (p.address_line1, p.address_line2, town) if x)


# -- aged debtors ----------------------------------------------------------------------------
AGED_SQL = """
WITH o AS MATERIALIZED ({owing})
SELECT payer_funder_id, patient_id,
       SUM(CASE WHEN issue_date >= :c30 THEN owing ELSE 0 END),
       SUM(CASE WHEN issue_date < :c30 AND issue_date >= :c60 THEN owing ELSE 0 END),
       SUM(CASE WHEN issue_date < :c60 AND issue_date >= :c90 THEN owing ELSE 0 END),
       SUM(CASE WHEN issue_date < :c90 THEN owing ELSE 0 END),
       SUM(owing)
FROM o
WHERE owing > 0
GROUP BY CASE WHEN payer_funder_id IS NULL THEN patient_id ELSE payer_funder_id END
"""


SUMMARY_AGED_SQL = """
SELECT debtor_id, MAX(is_payer) AS is_payer,
       SUM(CASE WHEN issue_date >= :c30 THEN owing_cents ELSE 0 END),
       SUM(CASE WHEN issue_date < :c30 AND issue_date >= :c60 THEN owing_cents ELSE 0 END),
       SUM(CASE WHEN issue_date < :c60 AND issue_date >= :c90 THEN owing_cents ELSE 0 END),
       SUM(CASE WHEN issue_date < :c90 THEN owing_cents ELSE 0 END),
       SUM(owing_cents)
FROM ledger_summary_invoices
GROUP BY debtor_id
"""


def aged_sql() -> str:
    """The whole-clinic aged-debtor aggregate over the raw ledger (what ``aged_debtors`` read
    before the summary; the benchmark's baseline and the check's second opinion)."""
    return AGED_SQL.format(owing=_OWING_SQL.format(where=""))


@dataclass(frozen=True)
class DebtorRow:
    debtor: Debtor
    name: str
    is_payer: bool
    buckets: dict[AgeBucket, int]
    total_cents: int


@dataclass
class AgedDebtors:
    as_of: date
    rows: list[DebtorRow] = field(default_factory=list)
    totals: dict[AgeBucket, int] = field(default_factory=lambda: dict.fromkeys(AgeBucket, 0))

    @property
    def total_cents(self) -> int:
        return sum(self.totals.values())


_BUCKETS = tuple(AgeBucket)

# The aggregate with each debtor's name, in one statement over the open invoices only.
_AGED_NAMED_SQL = f"""
SELECT a.*, COALESCE(f.name, p.first_name || ' ' || p.last_name, '?')
FROM ({SUMMARY_AGED_SQL}) AS a
LEFT JOIN funders f ON a.is_payer AND f.id = a.debtor_id
LEFT JOIN patients p ON NOT a.is_payer AND p.id = a.debtor_id
"""


def aged_debtors(ctx: ServiceContext, as_of: date | None = None) -> AgedDebtors:
    """Outstanding invoices by patient and by third-party payer, in age buckets (from the date
    of issue): current, 31–60, 61–90 and over 90 days."""
    today = as_of or business_day(ctx)
    c30, c60, c90 = bucket_cutoffs(today)
    result = AgedDebtors(today)
    with ctx.read() as session:
        raw = (
            session.connection()
            .exec_driver_sql(
                _AGED_NAMED_SQL.replace(":c30", "?").replace(":c60", "?").replace(":c90", "?"),
                (c30.isoformat(),) * 2 + (c60.isoformat(),) * 2 + (c90.isoformat(),) * 2,
            )
            .fetchall()
        )
    totals = [0, 0, 0, 0]
    rows = result.rows
    for blob, is_payer, b0, b1, b2, b3, total, name in raw:
        debtor_id = key_text(blob)
        totals[0] += b0
        totals[1] += b1
        totals[2] += b2
        totals[3] += b3
        debtor = Debtor(funder_id=debtor_id) if is_payer else Debtor(patient_id=debtor_id)
        buckets = dict(zip(_BUCKETS, (b0, b1, b2, b3), strict=True))
        rows.append(DebtorRow(debtor, name.strip(), bool(is_payer), buckets, total))
    result.totals = dict(zip(_BUCKETS, totals, strict=True))
    rows.sort(key=lambda r: (-r.total_cents, r.name))
    return result
