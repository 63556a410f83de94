"""Billing use cases: catalogue, invoices, credit notes, payments, balances, day close.

Every function takes the ServiceContext first, checks permissions with ``require``, changes data
only through ``ctx.write`` and refuses bad input with a message for a person, changing nothing.
"""

from frontdesk.services.billing.catalogue import (
    CatalogueEntry,
    add_item,
    archive_item,
    list_items,
    set_funder_price,
    update_item,
)
from frontdesk.services.billing.common import Debtor, business_day
from frontdesk.services.billing.credit_notes import issue_credit_note
from frontdesk.services.billing.day_close import Takings, close_day, reopen_day, takings
from frontdesk.services.billing.drafts import add_catalogue_line, catalogue_line
from frontdesk.services.billing.invoices import (
    DraftHeader,
    DraftLine,
    create_draft,
    discard_draft,
    invoice_for_appointment,
    invoice_from_appointment,
    invoiced_appointments,
    issue_invoice,
    update_draft,
    void_invoice,
)
from frontdesk.services.billing.ledger import (
    aged_debtors,
    patient_account,
    payer_account,
    statement,
)
from frontdesk.services.billing.listing import InvoiceFilter, invoices_touched, list_invoices
from frontdesk.services.billing.payments import (
    METHOD_LABELS,
    OverpaymentOffered,
    PaymentResult,
    apply_credit,
    refund,
    reverse_entry,
    take_payment,
)
from frontdesk.services.billing.views import (
    credit_note_view,
    invoice_view,
    invoices_issued_on,
    receipt_view,
)

__all__ = [
    "METHOD_LABELS",
    "CatalogueEntry",
    "Debtor",
    "DraftHeader",
    "DraftLine",
    "InvoiceFilter",
    "OverpaymentOffered",
    "PaymentResult",
    "Takings",
    "add_catalogue_line",
    "add_item",
    "aged_debtors",
    "apply_credit",
    "archive_item",
    "business_day",
    "catalogue_line",
    "close_day",
    "create_draft",
    "credit_note_view",
    "discard_draft",
    "invoice_for_appointment",
    "invoice_from_appointment",
    "invoice_view",
    "invoiced_appointments",
    "invoices_issued_on",
    "invoices_touched",
    "issue_credit_note",
    "issue_invoice",
    "list_invoices",
    "list_items",
    "patient_account",
    "payer_account",
    "receipt_view",
    "refund",
    "reopen_day",
    "reverse_entry",
    "set_funder_price",
    "statement",
    "take_payment",
    "takings",
    "update_draft",
    "update_item",
    "void_invoice",
]
