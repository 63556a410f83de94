"""The Billing area: invoices, debtors and end-of-day takings. ``checkout.open_checkout`` is the
diary's one-step way from an appointment to an issued, paid invoice and a receipt."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus


class BillingArea(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        from frontdesk.ui.billing.debtors import DebtorsPage
        from frontdesk.ui.billing.end_of_day import EndOfDayPage
        from frontdesk.ui.billing.invoices import InvoiceListPage

        self.ctx, self.bus = ctx, bus
        col = QVBoxLayout(self)
        col.setContentsMargins(28, 24, 28, 24)
        title = QLabel("Billing")
        title.setObjectName("pageTitle")
        col.addWidget(title)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("billingTabs")
        self.invoices = InvoiceListPage(ctx, bus, self.tabs)
        self.debtors = DebtorsPage(ctx, bus, self.tabs)
        self.end_of_day = EndOfDayPage(ctx, bus, self.tabs)
        self.tabs.addTab(self.invoices, "Invoices")
        self.tabs.addTab(self.debtors, "Debtors")
        self.tabs.addTab(self.end_of_day, "End of day")
        col.addWidget(self.tabs, 1)

    def handle_navigation(self, payload: object) -> None:
        """{"open_invoice": id}, {"checkout": appointment id}, {"new_invoice_for_patient": id}."""
        if not isinstance(payload, dict):
            return
        if payload.get("open_invoice"):
            self.tabs.setCurrentWidget(self.invoices)
            self.invoices.open_invoice(payload["open_invoice"])
        elif payload.get("checkout"):
            from frontdesk.ui.billing.checkout import open_checkout

            open_checkout(self.ctx, self.bus, payload["checkout"], self)
        elif payload.get("new_invoice_for_patient"):
            self.tabs.setCurrentWidget(self.invoices)
            self.invoices.on_new(payload["new_invoice_for_patient"])


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return BillingArea(ctx, bus, parent)
