"""Server rules for money on invoices changed on two desks at once: a credit note that would
take back more than was invoiced (or credit a voided invoice) and a void of a credited invoice
are refused; an invoice left holding more payments than it owes gives the excess back as the
payer's account credit and tells reception (issue 12)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, insert, select

from frontdesk.domain.ids import uuid7
from frontdesk.domain.money import format_money
from frontdesk.server.changelog import (
    SERVER_DEVICE,
    TABLES,
    current_row,
    flush_rows,
    full_row,
    log_change,
)
from frontdesk.server.rules import insert_conflict
from frontdesk.server.store import ServerProblem, ServerStore


def check_credit(
    conn: Connection, entity: str, fields: dict[str, Any], row: dict[str, Any] | None
) -> None:
    """Refuse (409) a new credit note the invoice cannot take, and voiding a credited invoice.
    ``row`` is the row as the server holds it (None: new)."""
    if entity == "credit_notes" and row is None:
        _check_creditable(conn, fields)
    elif (
        entity == "invoices"
        and row is not None
        and row["status"] == "issued"
        and fields.get("status") == "void"
        and _credited(conn, str(row["id"]))
    ):
        raise ServerProblem(
            409,
            f"invoice {row['number']} has a credit note made on another desk, so it cannot be "
            "voided; credit the rest of it instead",
            code="finalised",
        )


def settle(store: ServerStore, conn: Connection, queue: list[tuple[Any, ...]]) -> None:
    """Once a push chunk is written: invoices paid more than they owe, payments used for more
    than they brought in, and refunds that gave back more than the payer's credit (each the
    work of two desks at once) are settled or told to reception, in that order."""
    settle_overpaid(store, conn, [str(k[1]) for k in queue if k[0] == "invoice"])
    settle_overused(store, conn, [str(k[1]) for k in queue if k[0] == "payment"])
    for key in queue:
        if key[0] == "refund":
            tell_refunded_twice(store, conn, key[1], key[2])


def settle_overpaid(store: ServerStore, conn: Connection, invoice_ids: list[str]) -> None:
    """An invoice paid on two desks at once (or voided or credited on one while paid on
    another) holds more payments than it owes. The server alone takes the excess back, newest
    payments first, as negative allocations — that money becomes the payer's account credit on
    every desk, so balances equal owing minus credit — and tells reception in the Conflicts area.
    Run once the push chunk is written, so a desk's own corrections in it count first."""
    flush_rows(conn)
    alloc, notes = TABLES["payment_allocations"], TABLES["credit_notes"]
    for invoice_id in invoice_ids:
        invoice = current_row(conn, "invoices", invoice_id)
        if invoice is None:
            continue
        paid = conn.execute(
            select(func.coalesce(func.sum(alloc.c.amount_cents), 0)).where(
                alloc.c.invoice_id == invoice_id, alloc.c.deleted_at.is_(None)
            )
        ).scalar()
        credited = conn.execute(
            select(func.coalesce(func.sum(notes.c.total_cents), 0)).where(
                notes.c.invoice_id == invoice_id, notes.c.deleted_at.is_(None)
            )
        ).scalar()
        room = max(int(invoice["total_cents"]) - int(credited or 0), 0)
        excess = int(paid or 0) - (room if invoice["status"] == "issued" else 0)
        if excess <= 0:
            continue
        by_payment = conn.execute(
            select(alloc.c.payment_id, func.sum(alloc.c.amount_cents))
            .where(alloc.c.invoice_id == invoice_id, alloc.c.deleted_at.is_(None))
            .group_by(alloc.c.payment_id)
            .order_by(alloc.c.payment_id.desc())
        ).all()
        taken = 0
        now = store.now()
        for payment_id, net in by_payment:
            part = min(int(net), excess - taken)
            if part <= 0:
                continue
            _take_back(store, conn, str(payment_id), invoice_id, part)
            taken += part
            if taken == excess:
                break
        insert_conflict(store, conn, _overpaid_notice(now, invoice, taken))


def _take_back(
    store: ServerStore, conn: Connection, payment_id: str, invoice_id: str, cents: int
) -> None:
    """A negative allocation made by the server: ``cents`` of the payment no longer pays the
    invoice (the server's own change, logged so every desk receives it)."""
    alloc = TABLES["payment_allocations"]
    now, row_id = store.now(), uuid7()
    values: dict[str, Any] = {
        "id": row_id,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "payment_id": payment_id,
        "invoice_id": invoice_id,
        "amount_cents": -cents,
    }
    conn.execute(insert(alloc).values(**values))
    log_change(
        store, conn, "payment_allocations", row_id, "insert", 1,
        full_row(alloc, values), SERVER_DEVICE, None,
    )  # fmt: skip


def settle_overused(store: ServerStore, conn: Connection, payment_ids: list[str]) -> None:
    """A payment's account credit used on two desks at once (each applied it to a different
    invoice before either synced) would pay more than was received. The clinic keeps the
    earliest uses; the server takes the latest back, so those invoices owe again, and tells
    reception. No payment is ever spent twice."""
    flush_rows(conn)
    alloc = TABLES["payment_allocations"]
    for payment_id in payment_ids:
        payment = current_row(conn, "payments", payment_id)
        if payment is None or payment["kind"] != "payment" or payment["deleted_at"] is not None:
            continue
        used = conn.execute(
            select(func.coalesce(func.sum(alloc.c.amount_cents), 0)).where(
                alloc.c.payment_id == payment_id, alloc.c.deleted_at.is_(None)
            )
        ).scalar()
        excess = int(used or 0) - int(payment["amount_cents"])
        if excess <= 0:
            continue
        by_invoice = conn.execute(
            select(alloc.c.invoice_id, func.sum(alloc.c.amount_cents))
            .where(alloc.c.payment_id == payment_id, alloc.c.deleted_at.is_(None))
            .group_by(alloc.c.invoice_id)
            .order_by(func.max(alloc.c.id).desc())
        ).all()
        for invoice_id, net in by_invoice:
            part = min(int(net), excess)
            if part <= 0:
                continue
            _take_back(store, conn, payment_id, str(invoice_id), part)
            invoice = current_row(conn, "invoices", str(invoice_id))
            if invoice is not None:
                insert_conflict(store, conn, _overused_notice(store.now(), invoice, part))
            excess -= part
            if excess == 0:
                break


def tell_refunded_twice(
    store: ServerStore, conn: Connection, patient_id: str | None, funder_id: str | None
) -> None:
    """Refunds made on two desks at once gave back more than the payer's credit. The cash has
    left both drawers, so both refunds stay on record; the payer now owes the difference, which
    every desk shows in the balance, and reception is told whom to ask."""
    flush_rows(conn)
    pay, alloc = TABLES["payments"], TABLES["payment_allocations"]
    whose = (
        pay.c.payer_funder_id == funder_id
        if funder_id
        else (pay.c.patient_id == patient_id) & pay.c.payer_funder_id.is_(None)
    )
    reversal = pay.alias("reversal")
    live = (
        ~select(reversal.c.id)
        .where(reversal.c.reverses_payment_id == pay.c.id, reversal.c.deleted_at.is_(None))
        .exists()
    )
    sums = conn.execute(
        select(pay.c.kind, func.coalesce(func.sum(pay.c.amount_cents), 0))
        .where(whose, pay.c.deleted_at.is_(None), live, pay.c.kind.in_(("payment", "refund")))
        .group_by(pay.c.kind)
    ).all()
    totals = {kind: int(cents) for kind, cents in sums}
    allocated = conn.execute(
        select(func.coalesce(func.sum(alloc.c.amount_cents), 0))
        .select_from(alloc.join(pay, pay.c.id == alloc.c.payment_id))
        .where(whose, alloc.c.deleted_at.is_(None))
    ).scalar()
    short = totals.get("refund", 0) + int(allocated or 0) - totals.get("payment", 0)
    if short <= 0:
        return
    name = _payer_name(conn, patient_id, funder_id)
    money = format_money(short)
    notice = _notice(
        store.now(),
        "funders" if funder_id else "patients",
        str(funder_id or patient_id),
        kept=f"{name} owes {money}: ask for it back",
        other="refunds kept as given",
        detail=(
            f"{name} was refunded {money} more than their account credit (refunded on two "
            f"desks at once). Both refunds are kept as given; {name} now owes {money}, "
            "shown in their balance: ask for it back, or write it off."
        ),
    )
    insert_conflict(store, conn, notice)


def _payer_name(conn: Connection, patient_id: str | None, funder_id: str | None) -> str:
    if funder_id:
        funder = current_row(conn, "funders", funder_id)
        return str(funder["name"]) if funder else "The payer"
    patient = current_row(conn, "patients", str(patient_id))
    if patient is None:
        return "The patient"
    return f"{patient['first_name']} {patient['last_name']}".strip() or "The patient"


def _notice(
    now: Any, entity: str, row_id: str, *, kept: str, other: str, detail: str
) -> dict[str, Any]:
    """A notice from the server (a conflict row with no field): it settled something two
    desks did at once and tells reception what to do."""
    return {
        "id": uuid7(),
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "kind": "field",
        "entity": entity,
        "row_id": row_id,
        "field": None,
        "local_value_json": json.dumps(kept),
        "remote_value_json": json.dumps(other),
        "detail": detail,
    }


def _overused_notice(now: Any, invoice: dict[str, Any], cents: int) -> dict[str, Any]:
    money = format_money(cents)
    return _notice(
        now,
        "invoices",
        str(invoice["id"]),
        kept=f"invoice {invoice['number']} owes {money} again",
        other=f"{money} of credit was already used",
        detail=(
            f"The same {money} of account credit was used on two desks at once, and it had "
            f"already paid another invoice. Invoice {invoice['number']} owes {money} again: "
            "take a payment for it."
        ),
    )


def _overpaid_notice(now: Any, invoice: dict[str, Any], cents: int) -> dict[str, Any]:
    money = format_money(cents)
    return _notice(
        now,
        "invoices",
        str(invoice["id"]),
        kept=f"{money} is now account credit: refund it or use it",
        other=f"invoice {invoice['number']} is paid in full",
        detail=(
            f"Invoice {invoice['number']} was paid {money} more than it owes (paid on two "
            f"desks at once, or voided or credited on another desk). The {money} is kept as "
            "account credit: refund it or use it on another invoice."
        ),
    )


def _credited(conn: Connection, invoice_id: str) -> int:
    notes = TABLES["credit_notes"]
    flush_rows(conn, "credit_notes")
    total = conn.execute(
        select(func.coalesce(func.sum(notes.c.total_cents), 0)).where(
            notes.c.invoice_id == invoice_id, notes.c.deleted_at.is_(None)
        )
    ).scalar()
    return int(total or 0)


def _check_creditable(conn: Connection, fields: dict[str, Any]) -> None:
    """Two desks crediting one invoice at once, or crediting one another desk voided: the
    second credit note would take back more than was invoiced, so it is refused (and set aside
    on its desk, with this reason)."""
    invoice = current_row(conn, "invoices", str(fields.get("invoice_id")))
    if invoice is None:
        return  # the missing link is refused when the row is written
    if invoice["status"] != "issued":
        raise ServerProblem(
            409,
            f"invoice {invoice['number']} was {invoice['status']} on another desk; it cannot "
            "be credited",
            code="finalised",
        )
    if _credited(conn, str(invoice["id"])) + int(fields.get("total_cents") or 0) > int(
        invoice["total_cents"]
    ):
        raise ServerProblem(
            409,
            f"invoice {invoice['number']} was already credited on another desk; this credit "
            "note would take back more than was invoiced",
            code="finalised",
        )
