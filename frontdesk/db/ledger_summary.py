"""The ledger summary (issue 21): balances maintained by SQLite triggers, not scanned.

Three hand-made tables kept by triggers in the same transaction as every write to invoices,
payments, allocations and credit notes — whoever writes them (the services through the ORM,
sync through its bulk upsert, a restore):

- ``ledger_summary_invoices``: each live issued invoice that still has something owing (what
  aged debtors, statements and "open invoices" read instead of scanning years of invoices);
- ``ledger_summary_payments``: each payment's effect on its debtor's account credit;
- ``ledger_summary_debtors``: per patient / payer: ledger balance, owing, credit, open invoices.

``ledger_summary_state.paused`` switches the triggers off for a bulk load (the first snapshot,
the demo), which then rebuilds the tables once (``rebuild``). Created by revision 0350; a later
change to these statements needs its own revision that drops and re-creates the triggers.
"""

from __future__ import annotations

from collections.abc import Callable

TABLES = """
CREATE TABLE ledger_summary_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    paused INTEGER NOT NULL DEFAULT 0
);
INSERT INTO ledger_summary_state (id, paused) VALUES (1, 0);
CREATE TABLE ledger_summary_invoices (
    invoice_id VARCHAR(36) NOT NULL PRIMARY KEY,
    debtor_id VARCHAR(36) NOT NULL,
    is_payer INTEGER NOT NULL,
    issue_date DATE NOT NULL,
    owing_cents INTEGER NOT NULL
);
CREATE INDEX ix_ledger_summary_invoices_debtor
    ON ledger_summary_invoices (debtor_id, issue_date, owing_cents);
CREATE TABLE ledger_summary_payments (
    payment_id VARCHAR(36) NOT NULL PRIMARY KEY,
    debtor_id VARCHAR(36) NOT NULL,
    is_payer INTEGER NOT NULL,
    credit_cents INTEGER NOT NULL
);
CREATE TABLE ledger_summary_debtors (
    debtor_id VARCHAR(36) NOT NULL PRIMARY KEY,
    is_payer INTEGER NOT NULL,
    balance_cents INTEGER NOT NULL DEFAULT 0,
    owing_cents INTEGER NOT NULL DEFAULT 0,
    credit_cents INTEGER NOT NULL DEFAULT 0,
    open_invoices INTEGER NOT NULL DEFAULT 0
);
"""

ACTIVE = "WHEN (SELECT paused FROM ledger_summary_state) = 0"

# What an invoice still owes (only live issued invoices with something owing get a row).
_INVOICE_ROW = """
INSERT INTO ledger_summary_invoices (invoice_id, debtor_id, is_payer, issue_date, owing_cents)
SELECT * FROM (
    SELECT i.id, COALESCE(i.payer_funder_id, i.patient_id), i.payer_funder_id IS NOT NULL,
           i.issue_date,
           i.total_cents
           - (SELECT COALESCE(SUM(a.amount_cents), 0) FROM payment_allocations a
              WHERE a.invoice_id = i.id AND a.deleted_at IS NULL)
           - (SELECT COALESCE(SUM(c.total_cents), 0) FROM credit_notes c
              WHERE c.invoice_id = i.id AND c.deleted_at IS NULL) AS owing
    FROM invoices i
    WHERE i.id = {id} AND i.status = 'issued' AND i.deleted_at IS NULL
      AND i.issue_date IS NOT NULL
) WHERE owing > 0;
"""


def refresh_invoice(ref: str) -> str:
    return f"DELETE FROM ledger_summary_invoices WHERE invoice_id = {ref};" + _INVOICE_ROW.format(
        id=ref
    )


# A payment's effect on its debtor's credit: live, unreversed payments add their amount and
# refunds take theirs; every live allocation of it takes its amount (debtor_credit's formula).
_PAYMENT_ROW = """
INSERT INTO ledger_summary_payments (payment_id, debtor_id, is_payer, credit_cents)
SELECT * FROM (
    SELECT p.id, COALESCE(p.payer_funder_id, p.patient_id), p.payer_funder_id IS NOT NULL,
           CASE WHEN p.deleted_at IS NULL AND NOT EXISTS (
                    SELECT 1 FROM payments r
                    WHERE r.reverses_payment_id = p.id AND r.deleted_at IS NULL)
                THEN CASE p.kind WHEN 'payment' THEN p.amount_cents
                                 WHEN 'refund' THEN -p.amount_cents ELSE 0 END
                ELSE 0 END
           - (SELECT COALESCE(SUM(a.amount_cents), 0) FROM payment_allocations a
              WHERE a.payment_id = p.id AND a.deleted_at IS NULL) AS credit
    FROM payments p
    WHERE p.id = {id} AND COALESCE(p.payer_funder_id, p.patient_id) IS NOT NULL
) WHERE credit != 0;
"""


def refresh_payment(ref: str) -> str:
    return f"DELETE FROM ledger_summary_payments WHERE payment_id = {ref};" + _PAYMENT_ROW.format(
        id=ref
    )


def add_to_debtor(debtor: str, is_payer: str, column: str, delta: str, extra: str = "") -> str:
    """Add ``delta`` to one column of a debtor's row (created on first use)."""
    sets = f"{column} = {column} + excluded.{column}"
    cols, vals = column, delta
    if extra:
        sets += f", {extra} = {extra} + excluded.{extra}"
        cols += f", {extra}"
        vals += ", CASE WHEN " + delta + " > 0 THEN 1 ELSE -1 END"
    return (
        f"INSERT INTO ledger_summary_debtors (debtor_id, is_payer, {cols}) "
        f"SELECT {debtor}, {is_payer}, {vals} WHERE {debtor} IS NOT NULL AND ({delta}) != 0 "
        f"ON CONFLICT (debtor_id) DO UPDATE SET {sets};"
    )


def invoice_ledger(row: str) -> str:
    """An invoice's share of its debtor's ledger balance: its total once issued, less its
    live credit notes, while the invoice is not deleted."""
    return (
        f"(CASE WHEN {row}.deleted_at IS NULL THEN"
        f" (CASE WHEN {row}.status = 'issued' THEN {row}.total_cents ELSE 0 END)"
        f" - (SELECT COALESCE(SUM(c.total_cents), 0) FROM credit_notes c"
        f" WHERE c.invoice_id = {row}.id AND c.deleted_at IS NULL) ELSE 0 END)"
    )


def payment_ledger(row: str) -> str:
    """A payment row's signed share of its debtor's ledger (+ increases what is owed)."""
    return (
        f"(CASE WHEN {row}.deleted_at IS NOT NULL THEN 0"
        f" WHEN {row}.kind = 'payment' THEN -{row}.amount_cents"
        f" WHEN {row}.kind = 'refund' THEN {row}.amount_cents"
        f" WHEN (SELECT t.kind FROM payments t WHERE t.id = {row}.reverses_payment_id) = 'refund'"
        f" THEN -{row}.amount_cents ELSE {row}.amount_cents END)"
    )


def credit_note_ledger(row: str) -> str:
    return (
        f"(CASE WHEN {row}.deleted_at IS NULL AND EXISTS (SELECT 1 FROM invoices i"
        f" WHERE i.id = {row}.invoice_id AND i.deleted_at IS NULL)"
        f" THEN -{row}.total_cents ELSE 0 END)"
    )


def _debtor_of_invoice(row: str) -> tuple[str, str]:
    return (
        f"COALESCE({row}.payer_funder_id, {row}.patient_id)",
        f"({row}.payer_funder_id IS NOT NULL)",
    )


_CN_DEBTOR = (
    "(SELECT COALESCE(i.payer_funder_id, i.patient_id) FROM invoices i"
    " WHERE i.id = {r}.invoice_id)",
    "(SELECT i.payer_funder_id IS NOT NULL FROM invoices i WHERE i.id = {r}.invoice_id)",
)


def _trigger(name: str, event: str, table: str, body: list[str]) -> str:
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {ACTIVE}\nBEGIN\n"
        + "\n".join(body)
        + "\nEND;"
    )


def triggers() -> list[str]:
    out = []
    # summary rows keep their debtor's totals
    out.append(
        "CREATE TRIGGER ledger_summary_invoices_ai AFTER INSERT ON ledger_summary_invoices "
        "BEGIN "
        + add_to_debtor(
            "NEW.debtor_id", "NEW.is_payer", "owing_cents", "NEW.owing_cents", "open_invoices"
        )
        + " END;"
    )
    out.append(
        "CREATE TRIGGER ledger_summary_invoices_ad AFTER DELETE ON ledger_summary_invoices "
        "BEGIN "
        + add_to_debtor(
            "OLD.debtor_id", "OLD.is_payer", "owing_cents", "-OLD.owing_cents", "open_invoices"
        )
        + " END;"
    )
    out.append(
        "CREATE TRIGGER ledger_summary_payments_ai AFTER INSERT ON ledger_summary_payments BEGIN "
        + add_to_debtor("NEW.debtor_id", "NEW.is_payer", "credit_cents", "NEW.credit_cents")
        + " END;"
    )
    out.append(
        "CREATE TRIGGER ledger_summary_payments_ad AFTER DELETE ON ledger_summary_payments BEGIN "
        + add_to_debtor("OLD.debtor_id", "OLD.is_payer", "credit_cents", "-OLD.credit_cents")
        + " END;"
    )
    # invoices
    nd, np_ = _debtor_of_invoice("NEW")
    od, op_ = _debtor_of_invoice("OLD")
    out.append(_trigger("ledger_invoices_ai", "INSERT", "invoices", [
        refresh_invoice("NEW.id"),
        add_to_debtor(nd, np_, "balance_cents", invoice_ledger("NEW")),
    ]))  # fmt: skip
    out.append(_trigger(
        "ledger_invoices_au",
        "UPDATE OF status, total_cents, deleted_at, patient_id, payer_funder_id, issue_date",
        "invoices",
        [
            add_to_debtor(od, op_, "balance_cents", "-" + invoice_ledger("OLD")),
            add_to_debtor(nd, np_, "balance_cents", invoice_ledger("NEW")),
            refresh_invoice("NEW.id"),
        ],
    ))  # fmt: skip
    out.append(_trigger("ledger_invoices_ad", "DELETE", "invoices", [
        add_to_debtor(od, op_, "balance_cents", "-" + invoice_ledger("OLD")),
        refresh_invoice("OLD.id"),
    ]))  # fmt: skip
    # credit notes
    new_cn = (_CN_DEBTOR[0].format(r="NEW"), _CN_DEBTOR[1].format(r="NEW"))
    old_cn = (_CN_DEBTOR[0].format(r="OLD"), _CN_DEBTOR[1].format(r="OLD"))
    out.append(_trigger("ledger_credit_notes_ai", "INSERT", "credit_notes", [
        add_to_debtor(*new_cn, "balance_cents", credit_note_ledger("NEW")),
        refresh_invoice("NEW.invoice_id"),
    ]))  # fmt: skip
    out.append(_trigger(
        "ledger_credit_notes_au", "UPDATE OF invoice_id, total_cents, deleted_at", "credit_notes",
        [
            add_to_debtor(*old_cn, "balance_cents", "-" + credit_note_ledger("OLD")),
            add_to_debtor(*new_cn, "balance_cents", credit_note_ledger("NEW")),
            refresh_invoice("OLD.invoice_id"),
            refresh_invoice("NEW.invoice_id"),
        ],
    ))  # fmt: skip
    out.append(_trigger("ledger_credit_notes_ad", "DELETE", "credit_notes", [
        add_to_debtor(*old_cn, "balance_cents", "-" + credit_note_ledger("OLD")),
        refresh_invoice("OLD.invoice_id"),
    ]))  # fmt: skip
    # payments
    pd_new = ("COALESCE(NEW.payer_funder_id, NEW.patient_id)", "(NEW.payer_funder_id IS NOT NULL)")
    pd_old = ("COALESCE(OLD.payer_funder_id, OLD.patient_id)", "(OLD.payer_funder_id IS NOT NULL)")
    out.append(_trigger("ledger_payments_ai", "INSERT", "payments", [
        add_to_debtor(*pd_new, "balance_cents", payment_ledger("NEW")),
        refresh_payment("NEW.id"),
        refresh_payment("NEW.reverses_payment_id"),
    ]))  # fmt: skip
    out.append(_trigger(
        "ledger_payments_au",
        "UPDATE OF kind, amount_cents, deleted_at, patient_id, payer_funder_id,"
        " reverses_payment_id",
        "payments",
        [
            add_to_debtor(*pd_old, "balance_cents", "-" + payment_ledger("OLD")),
            add_to_debtor(*pd_new, "balance_cents", payment_ledger("NEW")),
            refresh_payment("NEW.id"),
            refresh_payment("OLD.reverses_payment_id"),
            refresh_payment("NEW.reverses_payment_id"),
        ],
    ))  # fmt: skip
    out.append(_trigger("ledger_payments_ad", "DELETE", "payments", [
        add_to_debtor(*pd_old, "balance_cents", "-" + payment_ledger("OLD")),
        refresh_payment("OLD.id"),
        refresh_payment("OLD.reverses_payment_id"),
    ]))  # fmt: skip
    # allocations
    out.append(_trigger("ledger_allocations_ai", "INSERT", "payment_allocations", [
        refresh_invoice("NEW.invoice_id"),
        refresh_payment("NEW.payment_id"),
    ]))  # fmt: skip
    out.append(_trigger(
        "ledger_allocations_au", "UPDATE OF payment_id, invoice_id, amount_cents, deleted_at",
        "payment_allocations",
        [
            refresh_invoice("OLD.invoice_id"),
            refresh_invoice("NEW.invoice_id"),
            refresh_payment("OLD.payment_id"),
            refresh_payment("NEW.payment_id"),
        ],
    ))  # fmt: skip
    out.append(_trigger("ledger_allocations_ad", "DELETE", "payment_allocations", [
        refresh_invoice("OLD.invoice_id"),
        refresh_payment("OLD.payment_id"),
    ]))  # fmt: skip
    return out


TRIGGER_NAMES = [
    "ledger_summary_invoices_ai", "ledger_summary_invoices_ad",
    "ledger_summary_payments_ai", "ledger_summary_payments_ad",
    "ledger_invoices_ai", "ledger_invoices_au", "ledger_invoices_ad",
    "ledger_credit_notes_ai", "ledger_credit_notes_au", "ledger_credit_notes_ad",
    "ledger_payments_ai", "ledger_payments_au", "ledger_payments_ad",
    "ledger_allocations_ai", "ledger_allocations_au", "ledger_allocations_ad",
]  # fmt: skip

# The backfill: the same rows the triggers keep, computed for the whole ledger at once.
BACKFILL = [
    _INVOICE_ROW.replace("i.id = {id} AND ", ""),
    _PAYMENT_ROW.replace("p.id = {id} AND ", ""),
]


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _ledger_balances() -> str:
    return (
        "INSERT INTO ledger_summary_debtors (debtor_id, is_payer, balance_cents) "
        "SELECT debtor_id, MAX(is_payer), SUM(amount) FROM ("
        "  SELECT COALESCE(i.payer_funder_id, i.patient_id) AS debtor_id,"
        f"         i.payer_funder_id IS NOT NULL AS is_payer, {invoice_ledger('i')} AS amount"
        "   FROM invoices i"
        "  UNION ALL"
        "  SELECT COALESCE(p.payer_funder_id, p.patient_id), p.payer_funder_id IS NOT NULL,"
        f"         {payment_ledger('p')} FROM payments p"
        ") WHERE debtor_id IS NOT NULL GROUP BY debtor_id HAVING SUM(amount) != 0 "
        "ON CONFLICT (debtor_id) DO UPDATE SET balance_cents = excluded.balance_cents"
    )


def fill(execute: Callable[[str], object]) -> None:
    """Compute the summary rows for the whole ledger (tables empty, row triggers present)."""
    for stmt in BACKFILL:
        execute(stmt.strip().rstrip(";"))
    execute(_ledger_balances())


def create(execute: Callable[[str], object]) -> None:
    """Create the tables and triggers and backfill them from the ledger."""
    for stmt in _statements(TABLES):
        execute(stmt)
    made = triggers()
    for stmt in made[:4]:  # the summary-row triggers first: the backfill fills debtor totals
        execute(stmt)
    fill(execute)
    for stmt in made[4:]:
        execute(stmt)


def rebuild(execute: Callable[[str], object]) -> None:
    """Empty the summary and compute it again from the ledger."""
    for table in ("invoices", "payments", "debtors"):  # debtors last: the row triggers
        execute(f"DELETE FROM ledger_summary_{table}")  # subtract from them
    fill(execute)


def drop(execute: Callable[[str], object]) -> None:
    for name in TRIGGER_NAMES:
        execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in ("debtors", "payments", "invoices", "state"):
        execute(f"DROP TABLE IF EXISTS ledger_summary_{table}")
