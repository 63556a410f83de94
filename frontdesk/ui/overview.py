"""Overview pages for areas whose full screens are not built yet: a title, what the area is
for, and live figures from the database so the page is never a blank placeholder."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.money import format_money
from frontdesk.domain.vocab import AppointmentStatus, InvoiceStatus
from frontdesk.models import Appointment, Invoice, Patient, Practitioner
from frontdesk.services.changes import ChangeNotice
from frontdesk.services.context import ServiceContext
from frontdesk.ui.bus import ChangeBus

Facts = Callable[[ServiceContext, Session], list[str]]


class OverviewPage(QWidget):
    def __init__(
        self, ctx: ServiceContext, bus: ChangeBus, title: str, blurb: str, facts: Facts,
        parent: QWidget | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.ctx, self.facts = ctx, facts
        col = QVBoxLayout(self)
        col.setContentsMargins(28, 24, 28, 24)
        heading = QLabel(title)
        heading.setObjectName("pageTitle")
        sub = QLabel(blurb)
        sub.setObjectName("muted")
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setStyleSheet("font-size: 14px; line-height: 150%;")
        col.addWidget(heading)
        col.addWidget(sub)
        col.addSpacing(16)
        col.addWidget(self.body)
        col.addStretch(1)
        bus.changed.connect(self._on_changed)
        self.reload()

    def reload(self) -> None:
        with self.ctx.read() as session:
            lines = self.facts(self.ctx, session)
        self.body.setText("<br>".join(lines))

    def _on_changed(self, _notice: ChangeNotice) -> None:
        self.reload()


def _diary_facts(ctx: ServiceContext, session: Session) -> list[str]:
    today = ctx.clock.now().astimezone(ctx.tz).date()
    start, end = day_bounds_utc(today, ctx.tz)
    rows = session.execute(
        select(Practitioner.display_name, func.count(Appointment.id))
        .join(Appointment, Appointment.practitioner_id == Practitioner.id)
        .where(
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.status != AppointmentStatus.CANCELLED,
        )
        .group_by(Practitioner.display_name)
        .order_by(Practitioner.display_name)
    ).all()
    total = sum(n for _, n in rows)
    lines = [f"<b>Today, {today:%A %d %B}:</b> {total} appointments"]
    lines += [f"&nbsp;&nbsp;{name}: {n}" for name, n in rows]
    return lines


def _patient_facts(_ctx: ServiceContext, session: Session) -> list[str]:
    active = session.scalar(
        select(func.count()).select_from(Patient).where(Patient.archived_at.is_(None))
    )
    return [f"<b>{active:,}</b> active patients"]


def _billing_facts(ctx: ServiceContext, session: Session) -> list[str]:
    issued = session.execute(
        select(func.count(), func.coalesce(func.sum(Invoice.total_cents), 0)).where(
            Invoice.status == InvoiceStatus.ISSUED
        )
    ).one()
    symbol = ctx.settings(session).currency_symbol
    return [f"<b>{issued[0]:,}</b> issued invoices totalling {format_money(issued[1], symbol)}"]


def _settings_facts(ctx: ServiceContext, session: Session) -> list[str]:
    s = ctx.settings(session)
    tax = f"{s.tax_name} registered" if s.tax_registered else f"not registered for {s.tax_name}"
    return [
        f"<b>{s.name}</b>",
        f"{s.business_number_label}: {s.business_number or '—'}",
        s.address.replace("\n", ", ") or "No address set",
        f"Time zone {s.time_zone}; {tax}",
    ]


def _factory(title: str, blurb: str, facts: Facts) -> Callable[..., QWidget]:
    def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
        return OverviewPage(ctx, bus, title, blurb, facts, parent)

    return create


create_diary = _factory("Diary", "Appointments for every practitioner.", _diary_facts)
create_patients = _factory("Patients", "Find a patient and open their card.", _patient_facts)
create_billing = _factory("Billing", "Invoices, payments and takings.", _billing_facts)
create_settings = _factory("Settings", "Clinic details and this desk.", _settings_facts)
