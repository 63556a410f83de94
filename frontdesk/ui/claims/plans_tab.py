"""The patient card's "Referrals & plans" tab: each current plan with its referrer or insurer,
dates, sessions used against those approved and NDIS budgets left; a dialog to add or change
one (refused with the reason when the funder would not accept it)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.funding import NdisManagement, PlanKind
from frontdesk.domain.money import format_money, parse_money
from frontdesk.services.claims.documents import (
    DocumentView,
    attach_document,
    export_document,
    list_documents,
    remove_document,
)
from frontdesk.services.claims.plans import (
    BudgetInput,
    PlanInput,
    PlanView,
    archive_plan,
    list_plans,
    save_plan,
)
from frontdesk.services.funders import list_funders
from frontdesk.store.context import ServiceContext
from frontdesk.ui.ops import in_box, in_label, run_op


def show_day(d: date | None) -> str:
    return f"{d:%-d %b %Y}" if d else "—"


class PlansTab(QWidget):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.patient_id: str | None = None
        self.plans: list[PlanView] = []
        self.list = QTreeWidget()
        self.list.setObjectName("planList")
        self.list.setRootIsDecorated(False)
        self.list.setAlternatingRowColors(True)
        self.list.setHeaderLabels(
            ["Plan", "Referrer / insurer", "From", "Until", "Sessions", "Budget left"]
        )
        self.add = QPushButton("Add plan or referral…")
        self.add.setObjectName("addPlan")
        self.edit = QPushButton("Change…")
        self.archive = QPushButton("Archive")
        self.add.clicked.connect(self.add_plan)
        self.edit.clicked.connect(self.edit_plan)
        self.archive.clicked.connect(self.archive_plan)
        self.list.itemDoubleClicked.connect(lambda *_a: self.edit_plan())
        buttons = QHBoxLayout()
        for b in (self.add, self.edit, self.archive):
            buttons.addWidget(b)
        buttons.addStretch(1)
        col = QVBoxLayout(self)
        col.addWidget(self.list, 1)
        col.addLayout(buttons)
        self.docs = DocumentsBox(ctx, self)
        col.addWidget(self.docs)

    def load(self, patient_id: str) -> None:
        self.patient_id = patient_id
        loaded = run_op(lambda: list_plans(self.ctx, patient_id), in_box(self, "Plans"))
        self.docs.load(patient_id, loaded.get() if loaded else [])
        self.plans = loaded.get() if loaded else []
        self.list.clear()
        for p in self.plans:
            limit = p.session_limit
            sessions = (
                f"{p.sessions_used} of {limit}" if limit is not None else str(p.sessions_used)
            )
            budget = ", ".join(f"{b.category}: {format_money(b.left_cents)}" for b in p.budgets)
            who = p.referrer_name or p.insurer_name or p.funder_name
            if p.referrer_provider_number:
                who += f" ({p.referrer_provider_number})"
            if p.claim_number:
                who += f" · claim {p.claim_number}"
            label = p.label
            if p.ndis_management:
                label += f" ({p.ndis_management.label.lower()})"
            item = QTreeWidgetItem(
                [label, who, show_day(p.starts_on), show_day(p.last_day), sessions, budget]
            )
            self.list.addTopLevelItem(item)
        for i in range(6):
            self.list.resizeColumnToContents(i)

    def _current(self) -> PlanView | None:
        item = self.list.currentItem()
        if item is None:
            return None
        i = self.list.indexOfTopLevelItem(item)
        return self.plans[i] if 0 <= i < len(self.plans) else None

    def add_plan(self) -> None:
        if self.patient_id:
            PlanDialog(self.ctx, self.patient_id, None, self).exec()
            self.load(self.patient_id)

    def edit_plan(self) -> None:
        plan = self._current()
        if plan and self.patient_id:
            PlanDialog(self.ctx, self.patient_id, plan, self).exec()
            self.load(self.patient_id)

    def archive_plan(self) -> None:
        plan = self._current()
        if plan and self.patient_id:
            run_op(lambda: archive_plan(self.ctx, plan.id), in_box(self, "Plans"))
            self.load(self.patient_id)


_VIEWER_FOLDER: list[Path] = []


def viewer_folder() -> Path:
    """One private temporary folder per run for the copies handed to the system's viewer,
    removed when frontdesk closes (a viewer holding a file open keeps reading it)."""
    if not _VIEWER_FOLDER:
        folder = Path(tempfile.mkdtemp(prefix="frontdesk-documents-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _VIEWER_FOLDER.append(folder)
    return _VIEWER_FOLDER[0]


class DocumentsBox(QWidget):
    """Scanned referrals and approvals kept with the patient: attach one (to the selected
    plan), open one in the system's viewer from a private temporary copy."""

    def __init__(self, ctx: ServiceContext, tab: PlansTab) -> None:
        super().__init__(tab)
        self.ctx, self.tab = ctx, tab
        self.patient_id: str | None = None
        self.docs: list[DocumentView] = []
        self.labels: dict[str, str] = {}
        self.list = QTreeWidget()
        self.list.setObjectName("documentList")
        self.list.setRootIsDecorated(False)
        self.list.setHeaderLabels(["Document", "Plan", "Size", "Attached"])
        self.list.setMaximumHeight(150)
        self.attach = QPushButton("Attach scan…")
        self.attach.setObjectName("attachDocument")
        self.open = QPushButton("Open")
        self.open.setObjectName("openDocument")
        self.remove = QPushButton("Remove…")
        self.remove.setObjectName("removeDocument")
        self.remove.setToolTip("Take the scan off the patient's card, on every desk")
        self.message = QLabel("")
        self.message.setObjectName("documentMessage")
        self.message.setWordWrap(True)
        self.attach.clicked.connect(self.attach_file)
        self.open.clicked.connect(self.open_current)
        self.remove.clicked.connect(self.remove_current)
        self.list.itemDoubleClicked.connect(lambda *_a: self.open_current())
        row = QHBoxLayout()
        row.addWidget(self.attach)
        row.addWidget(self.open)
        row.addWidget(self.remove)
        row.addStretch(1)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(QLabel("Scanned referrals and approvals"))
        col.addWidget(self.list)
        col.addLayout(row)
        col.addWidget(self.message)
        self.opened: Path | None = None  # the last temporary copy handed to the viewer

    def load(self, patient_id: str, plans: list[PlanView]) -> None:
        self.patient_id = patient_id
        self.labels = {p.id: p.label for p in plans}
        loaded = run_op(lambda: list_documents(self.ctx, patient_id), in_box(self, "Documents"))
        self.docs = loaded.get() if loaded else []
        self.list.clear()
        tz = self.ctx.tz
        for d in self.docs:
            size = (
                "arriving…"
                if not d.complete
                else f"{d.size_bytes:,} bytes"
                if d.size_bytes < 1024
                else f"{d.size_bytes / 1024:,.0f} KB"
            )
            plan = self.labels.get(d.plan_id or "", "")
            when = f"{d.attached_at.astimezone(tz):%-d %b %Y}"
            self.list.addTopLevelItem(QTreeWidgetItem([d.file_name, plan, size, when]))
        for i in range(4):
            self.list.resizeColumnToContents(i)

    def attach_file(self) -> None:
        if not self.patient_id:
            return
        name, _ = QFileDialog.getOpenFileName(
            self, "Attach a scanned referral", "", "Scans (*.pdf *.jpg *.jpeg *.png)"
        )
        if not name:
            return
        plan = self.tab._current()
        patient = self.patient_id
        done = run_op(
            lambda: attach_document(
                self.ctx, patient, Path(name), plan_id=plan.id if plan else None
            ),
            in_label(self.message),
        )
        if done:
            self.message.setText(f"Attached {Path(name).name}.")
            self.load(patient, self.tab.plans)

    def remove_current(self) -> None:
        """Asks first; the removal syncs to every desk and is in the audit trail."""
        item = self.list.currentItem()
        if item is None or not self.patient_id:
            self.message.setText("Choose the document to remove.")
            return
        doc = self.docs[self.list.indexOfTopLevelItem(item)]
        ask = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove document",
            f"Remove {doc.file_name} from the patient's card? It goes from every desk once "
            "they sync; keep a copy first if it is still needed.",
            parent=self,
        )
        remove = ask.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        ask.addButton("Keep it", QMessageBox.ButtonRole.RejectRole)
        ask.exec()
        if ask.clickedButton() is not remove:
            return
        done = run_op(lambda: remove_document(self.ctx, doc.id), in_label(self.message))
        if done:
            self.message.setText(f"Removed {doc.file_name}.")
            self.load(self.patient_id, self.tab.plans)

    def open_current(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        doc = self.docs[self.list.indexOfTopLevelItem(item)]
        folder = viewer_folder()
        done = run_op(lambda: export_document(self.ctx, doc.id, folder), in_label(self.message))
        if done:
            self.opened = done.get()
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.opened)))
            self.message.setText(f"Opened {doc.file_name} in the system's viewer.")


class PlanDialog(QDialog):
    """Add or change a plan. The service checks it; a refusal stays in the dialog."""

    def __init__(
        self,
        ctx: ServiceContext,
        patient_id: str,
        plan: PlanView | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.patient_id, self.plan = ctx, patient_id, plan
        self.setWindowTitle("Change plan" if plan else "Add a plan or referral")
        self.setMinimumSize(560, 700)
        form = QFormLayout()
        self.kind = QComboBox()
        self.kind.setObjectName("planKind")
        for k in PlanKind:
            self.kind.addItem(k.label, k.value)
        self.funder = QComboBox()
        self.funder.addItem("(none)", None)
        for f in list_funders(ctx):
            self.funder.addItem(f.name, f.id)
        self.referrer = QLineEdit()
        self.referrer.setObjectName("referrerName")
        self.provider = QLineEdit()
        self.provider.setObjectName("referrerProvider")
        self.insurer = QLineEdit()
        self.claim = QLineEdit()
        self.case_manager = QLineEdit()
        self.approved = QSpinBox()
        self.approved.setRange(0, 500)
        self.approved.setSpecialValueText("the funder's usual")
        self.elsewhere = QSpinBox()
        self.elsewhere.setRange(0, 100)
        self.starts = QDateEdit()
        self.starts.setCalendarPopup(True)
        self.starts.setDisplayFormat("d MMM yyyy")
        self.has_expiry = QCheckBox("Expires")
        self.expires = QDateEdit()
        self.expires.setCalendarPopup(True)
        self.expires.setDisplayFormat("d MMM yyyy")
        self.management = QComboBox()
        self.management.addItem("(not NDIS)", None)
        for m in NdisManagement:
            self.management.addItem(m.label, m.value)
        self.budgets = QTableWidget(4, 2)
        self.budgets.setObjectName("budgets")
        self.budgets.setHorizontalHeaderLabels(["Support category", "Budget"])
        self.budgets.setMaximumHeight(140)
        self.budgets.horizontalHeader().setStretchLastSection(True)
        self.budgets.setColumnWidth(0, 190)
        today = ctx.clock.now().astimezone(ctx.tz).date()
        self.starts.setDate(QDate(today.year, today.month, today.day))
        self.expires.setDate(QDate(today.year + 1, today.month, min(today.day, 28)))
        expiry = QHBoxLayout()
        expiry.addWidget(self.has_expiry)
        expiry.addWidget(self.expires)
        form.addRow("&Kind", self.kind)
        form.addRow("&Payer", self.funder)
        form.addRow("&Referrer", self.referrer)
        form.addRow("Referrer's pro&vider number", self.provider)
        form.addRow("&Insurer", self.insurer)
        form.addRow("&Claim number", self.claim)
        form.addRow("Case &manager", self.case_manager)
        form.addRow("&Approved sessions", self.approved)
        form.addRow("Used &elsewhere", self.elsewhere)
        form.addRow("&Starts", self.starts)
        form.addRow("", expiry)
        form.addRow("NDIS &management", self.management)
        form.addRow("NDIS &budgets", self.budgets)
        self.error = QLabel("")
        self.error.setObjectName("planError")
        self.error.setWordWrap(True)
        self.error.setMinimumHeight(self.error.fontMetrics().lineSpacing() * 3)
        self.error.setStyleSheet("color: #b91c1c;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        col = QVBoxLayout(self)
        col.addLayout(form)
        col.addWidget(self.error)
        col.addWidget(buttons)
        if plan is not None:
            self._fill(plan)

    def _fill(self, p: PlanView) -> None:
        self.kind.setCurrentIndex(self.kind.findData(p.kind.value))
        self.funder.setCurrentIndex(max(0, self.funder.findData(p.funder_id)))
        self.referrer.setText(p.referrer_name)
        self.provider.setText(p.referrer_provider_number)
        self.insurer.setText(p.insurer_name)
        self.claim.setText(p.claim_number)
        self.case_manager.setText(p.case_manager)
        self.approved.setValue(p.approved_sessions or 0)
        if p.starts_on:
            self.starts.setDate(QDate(p.starts_on.year, p.starts_on.month, p.starts_on.day))
        if p.expires_on:
            self.has_expiry.setChecked(True)
            self.expires.setDate(QDate(p.expires_on.year, p.expires_on.month, p.expires_on.day))
        if p.ndis_management:
            self.management.setCurrentIndex(self.management.findData(p.ndis_management.value))
        for r, b in enumerate(p.budgets[:4]):
            self.budgets.setItem(r, 0, QTableWidgetItem(b.category))
            self.budgets.setItem(r, 1, QTableWidgetItem(format_money(b.budget_cents)))

    def values(self) -> PlanInput:
        def day(edit: QDateEdit) -> date:
            d = edit.date()
            return date(d.year(), d.month(), d.day())

        budgets = []
        for r in range(self.budgets.rowCount()):
            cat = self.budgets.item(r, 0)
            amount = self.budgets.item(r, 1)
            if cat and cat.text().strip():
                budgets.append(
                    BudgetInput(
                        cat.text().strip(),
                        parse_money(amount.text() if amount else "", field="budget"),
                    )
                )
        return PlanInput(
            kind=self.kind.currentData(),
            funder_id=self.funder.currentData(),
            referrer_name=self.referrer.text(),
            referrer_provider_number=self.provider.text(),
            insurer_name=self.insurer.text(),
            claim_number=self.claim.text(),
            case_manager=self.case_manager.text(),
            approved_sessions=self.approved.value() or None,
            sessions_used_elsewhere=self.elsewhere.value(),
            starts_on=day(self.starts),
            expires_on=day(self.expires) if self.has_expiry.isChecked() else None,
            ndis_management=self.management.currentData(),
            budgets=budgets,
        )

    def save(self) -> None:
        plan_id = self.plan.id if self.plan else None
        done = run_op(
            lambda: save_plan(self.ctx, self.patient_id, self.values(), plan_id),
            in_label(self.error),
        )
        if done:
            self.accept()
