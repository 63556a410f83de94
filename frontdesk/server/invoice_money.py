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
            values = {
                "id": uuid7(),
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "payment_id": payment_id,
                "invoice_id": invoice_id,
                "amount_cents": -part,
            }
            conn.execute(insert(alloc).values(**values))
            log_change(
                store, conn, "payment_allocations", values["id"], "insert", 1,
                full_row(alloc, values), SERVER_DEVICE, None,
            )  # fmt: skip
            taken += part
            if taken == excess:
                break
        insert_conflict(store, conn, _overpaid_notice(now, invoice, taken))


def _overpaid_notice(now: Any, invoice: dict[str, Any], cents: int) -> dict[str, Any]:
    money = format_money(cents)
    return {
        "id": uuid7(),
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "kind": "field",
        "entity": "invoices",
        "row_id": invoice["id"],
        "field": None,
        "local_value_json": json.dumps(f"{money} is now account credit: refund it or use it"),
        "remote_value_json": json.dumps(f"invoice {invoice['number']} is paid in full"),
        "detail": (
            f"Invoice {invoice['number']} was paid {money} more than it owes (paid on two "
            f"desks at once, or voided or credited on another desk). The {money} is kept as "
            "account credit: refund it or use it on another invoice."
        ),
    }


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
