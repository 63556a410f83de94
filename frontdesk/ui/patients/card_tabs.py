"""The card's other tabs: funding, alerts and consents; appointment history; the account."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.money import format_money
from frontdesk.domain.vocab import AppointmentStatus, CancellationReason, FunderKind
from frontdesk.services.patients.card import AppointmentLine, PatientCard

KIND_LABELS = {
    FunderKind.HEALTH_FUND: "Health fund", FunderKind.MEDICARE: "Medicare",
    FunderKind.DVA: "DVA", FunderKind.NDIS_PLAN_MANAGER: "NDIS plan",
    FunderKind.WORKERS_COMP: "Workers' compensation", FunderKind.INSURER: "Insurer",
    FunderKind.OTHER: "Other",
}  # fmt: skip


def table(headers: Sequence[str], name: str) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setObjectName(name)
    tree.setHeaderLabels(list(headers))
    tree.setRootIsDecorated(False)
    tree.setAlternatingRowColors(True)
    tree.setUniformRowHeights(True)
    tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    tree.header().setStretchLastSection(True)
    return tree


def row(tree: QTreeWidget, values: Sequence[str], key: str = "") -> QTreeWidgetItem:
    item = QTreeWidgetItem(list(values))
    item.setData(0, Qt.ItemDataRole.UserRole, key)
    tree.addTopLevelItem(item)
    return item


class FundingTab(QWidget):
    def __init__(
        self, add_alert: Callable[[], None], remove_alert: Callable[[str], None],
        add_funding: Callable[[], None], remove_funding: Callable[[str], None],
        consents: QWidget, parent: QWidget | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.alerts = table(("Alert", "Severity"), "alertList")
        self.funding = table(("Kind", "Funder", "Number", "Ref / IRN", "Claim", "Plan manager"),
                             "fundingList")  # fmt: skip
        col = QVBoxLayout(self)
        for title, tree, add, remove in (
            ("Alerts (shown on the card and on every appointment)", self.alerts, add_alert,
             remove_alert),
            ("Funding", self.funding, add_funding, remove_funding),
        ):  # fmt: skip
            box = QGroupBox(title)
            inner = QVBoxLayout(box)
            inner.addWidget(tree)
            buttons = QHBoxLayout()
            add_btn = QPushButton("Add…")
            add_btn.clicked.connect(add)
            remove_btn = QPushButton("Remove")
            remove_btn.clicked.connect(lambda _c=False, t=tree, r=remove: self._remove(t, r))
            buttons.addWidget(add_btn)
            buttons.addWidget(remove_btn)
            buttons.addStretch(1)
            inner.addLayout(buttons)
            col.addWidget(box)
        box = QGroupBox("Consents")
        QVBoxLayout(box).addWidget(consents)
        col.addWidget(box)

    @staticmethod
    def _remove(tree: QTreeWidget, remove: Callable[[str], None]) -> None:
        item = tree.currentItem()
        if item is not None:
            remove(str(item.data(0, Qt.ItemDataRole.UserRole)))

    def load(self, card: PatientCard) -> None:
        self.alerts.clear()
        for a in card.alerts:
            item = row(self.alerts, (a.text, a.severity), a.id)
            item.setForeground(0, QColor("#b91c1c"))
        self.funding.clear()
        for m in card.memberships:
            kind = KIND_LABELS.get(FunderKind(m.kind), m.kind)
            row(self.funding, (kind, m.funder_name, m.member_number, m.reference,
                               m.claim_number, m.plan_manager_name), m.id)  # fmt: skip


def _status(line: AppointmentLine) -> str:
    text = AppointmentStatus(line.status).label
    if line.cancellation_reason:
        text += f" ({CancellationReason(line.cancellation_reason).label.lower()})"
    return text


class HistoryTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel("")
        self.summary.setObjectName("historySummary")
        self.upcoming = table(("When", "Practitioner", "Type", "Status"), "upcomingList")
        self.past = table(("When", "Practitioner", "Type", "Status"), "pastList")
        col = QVBoxLayout(self)
        col.addWidget(self.summary)
        col.addWidget(QLabel("<b>Upcoming</b>"))
        col.addWidget(self.upcoming, 1)
        col.addWidget(QLabel("<b>Past</b>"))
        col.addWidget(self.past, 3)

    def load(self, card: PatientCard, tz: ZoneInfo) -> None:
        self.summary.setText(
            f"{len(card.upcoming)} upcoming · {len(card.past)} past · "
            f"{card.cancellations} cancelled · <b>{card.did_not_arrive} did not arrive</b>"
        )
        for tree, lines in ((self.upcoming, card.upcoming), (self.past, card.past)):
            tree.clear()
            for line in lines:
                when = line.starts_at.astimezone(tz).strftime("%a %d %b %Y  %H:%M")
                item = row(tree, (when, line.practitioner, line.type_name, _status(line)),
                           line.id)  # fmt: skip
                if line.status in (AppointmentStatus.CANCELLED, AppointmentStatus.DID_NOT_ARRIVE):
                    item.setForeground(3, QColor("#b45309"))


class AccountTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel("")
        self.summary.setObjectName("accountSummary")
        self.invoices = table(("Invoice", "Date", "Status", "Total", "Paid", "Owing"),
                              "invoiceList")  # fmt: skip
        self.payments = table(("Received", "Kind", "Method", "Amount", "Reference"),
                              "paymentList")  # fmt: skip
        col = QVBoxLayout(self)
        col.addWidget(self.summary)
        col.addWidget(QLabel("<b>Invoices</b>"))
        col.addWidget(self.invoices, 2)
        col.addWidget(QLabel("<b>Payments by the patient</b>"))
        col.addWidget(self.payments, 1)

    def load(self, card: PatientCard, tz: ZoneInfo, symbol: str = "$") -> None:
        owing = card.owing_cents
        colour = "#b91c1c" if owing > 0 else "#15803d"
        self.summary.setText(
            f"Invoiced {format_money(card.invoiced_cents, symbol)} · "
            f"<span style='color:{colour}; font-weight:bold'>Balance owing "
            f"{format_money(owing, symbol)}</span>"
        )
        self.invoices.clear()
        for inv in card.invoices:
            issued = inv.issue_date
            when = issued.strftime("%d/%m/%Y") if isinstance(issued, date) else ""
            item = row(self.invoices, (inv.number, when, inv.status.capitalize(),
                                       format_money(inv.total_cents, symbol),
                                       format_money(inv.paid_cents, symbol),
                                       format_money(inv.owing_cents, symbol)), inv.id)  # fmt: skip
            if inv.owing_cents > 0:
                item.setForeground(5, QColor("#b91c1c"))
        self.payments.clear()
        for p in card.payments:
            when = p.received_at.astimezone(tz).strftime("%d/%m/%Y %H:%M")
            method = p.method.replace("_", " ").capitalize()
            money = format_money(p.amount_cents, symbol)
            row(self.payments, (when, p.kind.capitalize(), method, money, p.reference), p.id)


class MembershipDialog(QDialog):
    """Add a funding membership: kind, funder, numbers."""

    def __init__(self, funders: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add funding")
        form = QFormLayout(self)
        self.kind = QComboBox()
        for kind, text in KIND_LABELS.items():
            self.kind.addItem(text, kind.value)
        self.funder = QComboBox()
        self.funder.addItem("—", None)
        for fid, name in funders:
            self.funder.addItem(name, fid)
        self.member_number = QLineEdit()
        self.reference = QLineEdit()
        self.claim_number = QLineEdit()
        self.plan_manager = QLineEdit()
        form.addRow("Kind", self.kind)
        form.addRow("Funder", self.funder)
        form.addRow("Member / card / claim number", self.member_number)
        form.addRow("Reference (IRN, member no.)", self.reference)
        form.addRow("Claim number", self.claim_number)
        form.addRow("Plan manager", self.plan_manager)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict[str, object]:
        return {
            "kind": self.kind.currentData(), "funder_id": self.funder.currentData(),
            "member_number": self.member_number.text(), "reference": self.reference.text(),
            "claim_number": self.claim_number.text(),
            "plan_manager_name": self.plan_manager.text(),
        }  # fmt: skip
