"""Printed billing documents (ReportLab): tax invoices, receipts, credit notes, statements and
the day's takings.

Each ``render_*`` takes a read model from services/billing/views.py and returns PDF bytes; no
database access happens while drawing, so a batch can run on a worker thread.
"""

from frontdesk.services.documents.batch import print_invoices_for_day, write_invoice_pdf
from frontdesk.services.documents.invoice import render_credit_note, render_invoice
from frontdesk.services.documents.receipt import render_receipt
from frontdesk.services.documents.statement import render_statement
from frontdesk.services.documents.takings import render_takings

__all__ = [
    "print_invoices_for_day",
    "render_credit_note",
    "render_invoice",
    "render_receipt",
    "render_statement",
    "render_takings",
    "write_invoice_pdf",
]
