"""The ledger summary checked against the ledger itself (and the reports' summary of revenue and
booked time, kept by the same kind of triggers, against the invoices and appointments).

Aged debtors, statements and accounts read the summary the database keeps by trigger
(``frontdesk/db/ledger_summary.py``). ``check_balances`` computes every figure again from the
ledger with its own queries, the way ``ledger.ledger_entries`` and ``payments.debtor_credit``
define them, and lists each difference; ``rebuild_balances`` recomputes the summary (a repair).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from frontdesk.db.types import maybe_key_text
from frontdesk.store import balances
from frontdesk.store.context import ServiceContext

_EXPECTED_OPEN = """
SELECT id, COALESCE(payer_funder_id, patient_id), issue_date, owing FROM (
    SELECT i.id, i.payer_funder_id, i.patient_id, i.issue_date,
           i.total_cents
           - COALESCE((SELECT SUM(a.amount_cents) FROM payment_allocations a
                       WHERE a.invoice_id = i.id AND a.deleted_at IS NULL), 0)
           - COALESCE((SELECT SUM(c.total_cents) FROM credit_notes c
                       WHERE c.invoice_id = i.id AND c.deleted_at IS NULL), 0) AS owing
    FROM invoices i WHERE i.status = 'issued' AND i.deleted_at IS NULL
) WHERE owing > 0
"""

_LEDGER_PARTS = [
    # issued invoices
    "SELECT COALESCE(payer_funder_id, patient_id), SUM(total_cents) FROM invoices"
    " WHERE status = 'issued' AND deleted_at IS NULL GROUP BY 1",
    # credit notes on live invoices
    "SELECT COALESCE(i.payer_funder_id, i.patient_id), -SUM(c.total_cents) FROM credit_notes c"
    " JOIN invoices i ON i.id = c.invoice_id WHERE c.deleted_at IS NULL AND i.deleted_at IS NULL"
    " GROUP BY 1",
    # payments, refunds and their reversals
    "SELECT COALESCE(p.payer_funder_id, p.patient_id), SUM(CASE"
    " WHEN p.kind = 'payment' THEN -p.amount_cents WHEN p.kind = 'refund' THEN p.amount_cents"
    " WHEN t.kind = 'refund' THEN -p.amount_cents ELSE p.amount_cents END)"
    " FROM payments p LEFT JOIN payments t ON t.id = p.reverses_payment_id"
    " WHERE p.deleted_at IS NULL GROUP BY 1",
]

_CREDIT_PARTS = [
    "SELECT COALESCE(p.payer_funder_id, p.patient_id), SUM(CASE p.kind"
    " WHEN 'payment' THEN p.amount_cents ELSE -p.amount_cents END) FROM payments p"
    " WHERE p.deleted_at IS NULL AND p.kind IN ('payment', 'refund') AND NOT EXISTS ("
    " SELECT 1 FROM payments r WHERE r.reverses_payment_id = p.id AND r.deleted_at IS NULL)"
    " GROUP BY 1",
    "SELECT COALESCE(p.payer_funder_id, p.patient_id), -SUM(a.amount_cents)"
    " FROM payment_allocations a JOIN payments p ON p.id = a.payment_id"
    " WHERE a.deleted_at IS NULL GROUP BY 1",
]


@dataclass(frozen=True)
class BalanceCheck:
    invoices_checked: int
    debtors_checked: int
    differences: list[str]

    @property
    def ok(self) -> bool:
        return not self.differences


_t = maybe_key_text  # keys read by raw SQL (16-byte blobs on the desk) as their text


def _sums(session: Session, parts: list[str]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for sql in parts:
        for debtor, amount in session.execute(text(sql)):
            if debtor is not None:
                out[maybe_key_text(debtor)] += int(amount or 0)
    return {k: v for k, v in out.items() if v}


def check_session(session: Session) -> BalanceCheck:
    """Compare the summary with the ledger inside one read transaction."""
    diffs: list[str] = []
    expected_open = {
        _t(r[0]): (_t(r[1]), str(r[2]), int(r[3])) for r in session.execute(text(_EXPECTED_OPEN))
    }
    kept_open = {
        _t(r[0]): (_t(r[1]), str(r[2]), int(r[3]))
        for r in session.execute(
            text(
                "SELECT invoice_id, debtor_id, issue_date, owing_cents FROM ledger_summary_invoices"
            )
        )
    }
    for inv in sorted(expected_open.keys() | kept_open.keys()):
        if expected_open.get(inv) != kept_open.get(inv):
            diffs.append(
                f"invoice {inv}: ledger {expected_open.get(inv)}, summary {kept_open.get(inv)}"
            )
    owing: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for debtor, _day, amount in expected_open.values():
        owing[debtor] += amount
        count[debtor] += 1
    balance = _sums(session, _LEDGER_PARTS)
    credit = _sums(session, _CREDIT_PARTS)
    kept = {
        _t(r[0]): (int(r[1]), int(r[2]), int(r[3]), int(r[4]))
        for r in session.execute(
            text(
                "SELECT debtor_id, balance_cents, owing_cents, credit_cents, open_invoices"
                " FROM ledger_summary_debtors"
            )
        )
    }
    debtors = balance.keys() | credit.keys() | owing.keys() | kept.keys()
    for d in sorted(debtors):
        want = (balance.get(d, 0), owing.get(d, 0), credit.get(d, 0), count.get(d, 0))
        have = kept.get(d, (0, 0, 0, 0))
        if want != have:
            diffs.append(
                f"debtor {d}: ledger (balance, owing, credit, open) {want}, summary {have}"
            )
    diffs += balances.report_differences(session)  # the reports' summary, kept the same way
    diffs += balances.sync_totals_differences(session)  # and the sync check's table totals
    if balances.is_paused(session):
        diffs.append("the summary's triggers are paused (a bulk load did not finish)")
    return BalanceCheck(len(expected_open.keys() | kept_open.keys()), len(debtors), diffs)


def check_balances(ctx: ServiceContext) -> BalanceCheck:
    """Prove the maintained balances equal the ledger (lists every difference)."""
    with ctx.read() as session:
        return check_session(session)


def rebuild_balances(ctx: ServiceContext) -> None:
    """Recompute the whole summary from the ledger (a repair; normally never needed)."""
    with ctx.write("rebuild account balances") as session:
        balances.rebuild(session)
