"""The day sheet: each practitioner's appointments for the day, printed or saved as PDF."""

from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path

from PySide6.QtGui import QPageLayout, QPageSize, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog

from frontdesk.domain.vocab import AppointmentStatus
from frontdesk.services import clinic_settings
from frontdesk.services.diary.view import load_view
from frontdesk.store.context import ServiceContext
from frontdesk.ui.diary.host import DiaryHost


def day_sheet_html(ctx: ServiceContext, day: date, practitioner_ids: list[str]) -> str:
    tz = ctx.tz
    data = load_view(ctx, [day], practitioner_ids)
    clinic = clinic_settings.clinic_name(ctx)
    parts = [
        "<html><body style='font-family:DejaVu Sans; font-size:9pt'>",
        f"<h2>{escape(clinic)} — day sheet</h2><p>{day:%A %d %B %Y}</p>",
    ]
    for p in data.practitioners:
        rows = [a for a in data.appointments if a.practitioner_id == p.id
                and a.status != AppointmentStatus.CANCELLED]  # fmt: skip
        parts.append(f"<h3>{escape(p.name)} <small>({escape(p.profession)})</small></h3>")
        avail = data.availability.get((p.id, day))
        if avail is not None and avail.leave:
            parts.append(f"<p><b>Away: {escape(avail.leave[0].label or 'leave')}.</b></p>")
        elif avail is not None and not avail.work:
            parts.append("<p>Not rostered today.</p>")
        if not rows:
            parts.append("<p><i>No appointments.</i></p>")
            continue
        titles = ("Time", "Patient", "Phone", "Type", "Status", "Notes / alerts")
        heads = "".join(f"<th align='left'>{h}</th>" for h in titles)
        parts.append(
            f"<table width='100%' cellspacing='0' cellpadding='3' border='1'><tr>{heads}</tr>"
        )
        for a in rows:
            s, e = a.starts_at.astimezone(tz), a.ends_at.astimezone(tz)
            who = a.patient_name or f"{a.type_name} ({a.attendees}/{a.capacity})"
            notes = " ".join(x for x in (f"⚠ {a.alert}" if a.alert else "", a.notes) if x)
            parts.append(
                f"<tr><td>{s:%H:%M}–{e:%H:%M}</td><td>{escape(who)}</td>"
                f"<td>{escape(a.patient_phone)}</td><td>{escape(a.type_name)}</td>"
                f"<td>{AppointmentStatus(a.status).label}</td><td>{escape(notes)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def write_pdf(ctx: ServiceContext, day: date, practitioner_ids: list[str], path: Path) -> Path:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    _print(ctx, day, practitioner_ids, printer)
    return path


def _print(ctx: ServiceContext, day: date, practitioner_ids: list[str], printer: QPrinter) -> None:
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    printer.setPageOrientation(QPageLayout.Orientation.Portrait)
    doc = QTextDocument()
    doc.setHtml(day_sheet_html(ctx, day, practitioner_ids))
    doc.print_(printer)


def print_with_dialog(page: DiaryHost, practitioner_ids: list[str] | None = None) -> None:
    """The print dialog for the day on screen (everyone shown, or one practitioner)."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, page)
    dialog.setWindowTitle("Print day sheet")
    if dialog.exec() == QDialog.DialogCode.Accepted:
        _print(page.ctx, page.day, practitioner_ids or page.shown_ids(), printer)
        page.tell("Day sheet sent to the printer.", "ok")


def save_pdf(page: DiaryHost, practitioner_ids: list[str]) -> None:
    from PySide6.QtWidgets import QFileDialog

    suggested = str(Path.home() / f"day-sheet-{page.day:%Y-%m-%d}.pdf")
    name, _filter = QFileDialog.getSaveFileName(page, "Save day sheet", suggested, "PDF (*.pdf)")
    if name:
        write_pdf(page.ctx, page.day, practitioner_ids, Path(name))
        page.tell(f"Saved {Path(name).name}.", "ok")
