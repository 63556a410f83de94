"""Writing invoice PDFs to a folder: one file per invoice, e.g. all invoices issued on a day."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

from frontdesk.domain.errors import EnvironmentProblem
from frontdesk.services.billing.views import invoice_view, invoices_issued_on
from frontdesk.services.documents.invoice import render_invoice
from frontdesk.store.context import ServiceContext


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "invoice"


def write_invoice_pdf(ctx: ServiceContext, invoice_id: str, out_dir: Path) -> Path:
    view = invoice_view(ctx, invoice_id)
    path = out_dir / f"{_safe(view.number or 'draft-' + view.id[-8:])}.pdf"
    data = render_invoice(view)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise EnvironmentProblem(f"Could not write {path}: {exc.strerror}.") from exc
    return path


def print_invoices_for_day(
    ctx: ServiceContext,
    day: date,
    out_dir: Path,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write one PDF per invoice issued on ``day`` into ``out_dir``; returns the files."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(
            f"The folder {out_dir} cannot be created: {exc.strerror}."
        ) from exc
    ids = invoices_issued_on(ctx, day)
    written = []
    for i, invoice_id in enumerate(ids):
        written.append(write_invoice_pdf(ctx, invoice_id, out_dir))
        if progress:
            progress(i + 1, len(ids))
    return written
