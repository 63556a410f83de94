"""Settings → Payers: who the clinic bills besides patients — the NDIA, plan managers, DVA,
Medicare, health funds, insurers. A plan is paid by one of them, and an appointment type's
item number and price per payer are chosen from them."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QLineEdit, QVBoxLayout, QWidget

from frontdesk.domain.vocab import FunderKind
from frontdesk.services import funders as svc
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.setup_common import (
    FieldForm,
    ListPanel,
    dialog_buttons,
    run_with_confirm,
    watch,
)


class PayerDialog(QDialog):
    def __init__(self, ctx: ServiceContext, row: svc.FunderRow | None, parent: QWidget | None):
        super().__init__(parent)
        self.ctx, self.row = ctx, row
        self.setWindowTitle("Change payer" if row else "Add a payer")
        self.setMinimumWidth(460)
        self.kind = QComboBox()
        self.kind.setObjectName("payer_kind")
        for kind, label in svc.KIND_LABELS.items():
            self.kind.addItem(label, kind)
        if row:
            self.kind.setCurrentIndex(max(0, self.kind.findData(row.kind)))
        self.name = QLineEdit(row.name if row else "")
        self.name.setObjectName("payer_name")
        self.email = QLineEdit(row.email if row else "")
        self.email.setObjectName("payer_email")
        self.email.setPlaceholderText("where invoices are emailed (plan managers, insurers)")
        self.abn = QLineEdit(row.business_number if row else "")
        self.phone = QLineEdit(row.phone if row else "")
        self.form = FieldForm()
        self.form.field("Kind", self.kind, "kind")
        self.form.field("Name", self.name, "name")
        self.form.field("Email", self.email, "email")
        self.form.field("ABN", self.abn, "business_number")
        self.form.field("Phone", self.phone, "phone")
        self.form.finish()
        col = QVBoxLayout(self)
        col.addLayout(self.form)
        col.addWidget(dialog_buttons(self, self.save))

    def save(self) -> None:
        entry = svc.FunderEntry(
            FunderKind(self.kind.currentData()), self.name.text(), self.email.text(),
            self.abn.text(), self.phone.text(),
        )  # fmt: skip
        row = self.row

        def call(_confirm: bool) -> None:
            svc.save_payer(self.ctx, entry, row.id if row else None)

        if run_with_confirm(self.ctx, self, call, self.form):
            self.accept()


class PayersPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.list = ListPanel("Payers", ("Payer", "Kind", "Email"))
        col = QVBoxLayout(self)
        col.addWidget(self.list)
        self.list.add.clicked.connect(lambda: self._open(None))
        self.list.edit.clicked.connect(lambda: self._open(self.list.current_id(), True))
        self.list.archive.clicked.connect(self._archive)
        watch(bus, self, {"funders"}, self.reload)
        self.reload()

    def reload(self) -> None:
        self._rows = {r.id: r for r in svc.list_payers(self.ctx)}
        self.list.model.set_rows(
            [(r.id, (r.name, svc.KIND_LABELS[r.kind], r.email), r.archived)
             for r in self._rows.values()]
        )  # fmt: skip

    def _open(self, funder_id: str | None, edit: bool = False) -> None:
        if funder_id is None and edit:
            return
        PayerDialog(self.ctx, self._rows.get(funder_id or ""), self).exec()
        self.reload()

    def _archive(self) -> None:
        if (fid := self.list.current_id()) is not None:
            run_with_confirm(self.ctx, self, lambda _c: svc.archive_payer(self.ctx, fid), None)
            self.reload()


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return PayersPage(ctx, bus, parent)
