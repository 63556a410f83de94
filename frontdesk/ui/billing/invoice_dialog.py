"""One invoice: edit a draft's lines, issue it, take payments, use credit, credit or void it,
print or save it as PDF. An issued invoice is shown read-only."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FrontdeskError
from frontdesk.domain.money import format_money, parse_money
from frontdesk.services import billing
from frontdesk.services.documents import render_invoice
from frontdesk.store.context import ServiceContext
from frontdesk.ui.billing.common import print_pdf, save_pdf, text_item
from frontdesk.ui.billing.credit import CreditNoteDialog
from frontdesk.ui.billing.payment import PaymentDialog
from frontdesk.ui.ops import in_box, run_op

COLUMNS = ["Item no.", "Description", "Qty", "Unit price", "Discount %", "GST", "Amount"]


class InvoiceDialog(QDialog):
    def __init__(self, ctx: ServiceContext, invoice_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("invoiceDialog")
        self.ctx, self.invoice_id = ctx, invoice_id
        self.setMinimumSize(980, 540)
        col = QVBoxLayout(self)
        self.heading = QLabel()
        self.heading.setObjectName("pageTitle")
        self.who = QLabel()
        self.who.setObjectName("muted")
        col.addWidget(self.heading)
        col.addWidget(self.who)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        col.addWidget(self.table, 1)

        self.draft_bar = QHBoxLayout()
        self.catalogue = QComboBox()
        for item in billing.list_items(ctx):
            self.catalogue.addItem(f"{item.code} — {item.name}", item.id)
        add = QPushButton("Add item")
        add.clicked.connect(self.on_add_item)
        custom = QPushButton("Add other line")
        custom.clicked.connect(self.on_add_custom)
        remove = QPushButton("Remove line")
        remove.clicked.connect(self.on_remove)
        save = QPushButton("Save draft")
        save.clicked.connect(self.on_save)
        self.draft_widgets: list[QWidget] = [self.catalogue, add, custom, remove, save]
        for w in self.draft_widgets:
            self.draft_bar.addWidget(w, 1 if w is self.catalogue else 0)
        col.addLayout(self.draft_bar)

        self.totals = QLabel()
        self.totals.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.totals.setTextFormat(Qt.TextFormat.RichText)
        col.addWidget(self.totals)

        bar = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, label, slot in (
            ("issue", "Issue", self.on_issue),
            ("pay", "Take payment…", self.on_pay),
            ("credit_use", "Use account credit", self.on_use_credit),
            ("reverse", "Reverse a payment…", self.on_reverse),
            ("refund", "Refund credit…", self.on_refund),
            ("credit_note", "Credit note…", self.on_credit_note),
            ("void", "Void…", self.on_void),
            ("discard", "Discard draft", self.on_discard),
            ("print", "Print…", self.on_print),
            ("save_pdf", "Save as PDF…", self.on_save_pdf),
        ):
            b = QPushButton(label)
            b.setObjectName(f"invoice_{key}")
            b.clicked.connect(slot)
            self.buttons[key] = b
            bar.addWidget(b)
        self.buttons["issue"].setProperty("primary", True)
        bar.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        bar.addWidget(close)
        col.addLayout(bar)
        self.reload()

    def reload(self) -> None:
        v = billing.invoice_view(self.ctx, self.invoice_id, with_credit=True)
        self.view = v
        draft = v.status == "draft"
        status = {"draft": "Draft invoice", "void": f"Invoice {v.number} — VOID"}.get(
            v.status, f"Invoice {v.number}"
        )
        self.heading.setText(status)
        self.setWindowTitle(status)
        payer = f" · billed to {v.payer.name}" if v.payer else ""
        if v.payer and v.payer.extra:
            payer += f" ({v.payer.extra})"
        issued = f" · issued {v.issue_date:%d/%m/%Y}" if v.issue_date else ""
        self.who.setText(f"{v.patient.name}{payer} · {v.practitioner or 'no practitioner'}{issued}")
        self.table.blockSignals(True)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
            if draft
            else QAbstractItemView.EditTrigger.NoEditTriggers
        )
        self.table.setRowCount(0)
        for ln in v.lines:
            r = self.table.rowCount()
            self.table.insertRow(r)
            cells = [
                ln.item_number or ("" if draft else "—"),
                ln.description,
                str(ln.quantity),
                format_money(ln.unit_price_cents, ""),
                f"{ln.discount_bp / 100:g}",
                format_money(ln.tax_cents) if ln.taxable else "GST-free",
                format_money(ln.total_cents),
            ]
            for c, text in enumerate(cells):
                item = text_item(text, ln.id if c == 0 else None)
                if not draft or c in (5, 6):
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, c, item)
        self.table.blockSignals(False)
        owing = v.owing_cents
        lines = [f"Total <b>{format_money(v.total_cents)}</b>", f"GST {format_money(v.tax_cents)}"]
        if v.credited_cents:
            lines.append(f"credited {format_money(v.credited_cents)}")
        if v.status == "issued":
            lines += [f"paid {format_money(v.paid_cents)}", f"owing <b>{format_money(owing)}</b>"]
        if v.void_reason:
            lines.append(f"void: {v.void_reason}")
        self.totals.setText(" · ".join(lines))
        for w in self.draft_widgets:
            w.setVisible(draft)
        is_issued = v.status == "issued"
        self.buttons["issue"].setVisible(draft)
        self.buttons["discard"].setVisible(draft)
        self.buttons["pay"].setEnabled(is_issued and owing > 0)
        self.buttons["credit_use"].setVisible(
            is_issued and owing > 0 and v.account_credit_cents > 0
        )
        self.buttons["credit_note"].setEnabled(is_issued)
        self.buttons["reverse"].setVisible(bool(v.payments))
        self.buttons["refund"].setVisible(v.account_credit_cents > 0)
        self.buttons["void"].setEnabled(is_issued)
        self.buttons["print"].setEnabled(not draft)

    # -- draft editing ------------------------------------------------------------------
    def _lines_from_table(self) -> list[billing.DraftLine]:
        by_id = {ln.id: ln for ln in self.view.lines}
        out = []
        for r in range(self.table.rowCount()):
            cells = [self.table.item(r, c) for c in range(len(COLUMNS))]
            text = [cell.text() if cell is not None else "" for cell in cells]
            first = cells[0]
            old = by_id.get(first.data(Qt.ItemDataRole.UserRole)) if first else None
            try:
                qty = int(text[2])
            except ValueError:
                raise FrontdeskError(f"“{text[2]}” is not a quantity.") from None
            try:
                discount = round(float(text[4] or 0) * 100)
            except ValueError:
                raise FrontdeskError(f"“{text[4]}” is not a discount.") from None
            out.append(
                billing.DraftLine(
                    description=text[1],
                    unit_price_cents=parse_money(text[3], field="unit_price"),
                    quantity=qty,
                    discount_bp=discount,
                    item_number=text[0],
                    taxable=old.taxable if old else False,
                    catalogue_item_id=old.catalogue_item_id if old else None,
                    appointment_id=old.appointment_id if old else None,
                    service_date=old.service_date if old else None,
                )
            )
        return out

    def _header(self) -> billing.DraftHeader:
        v = self.view
        return billing.DraftHeader(
            v.patient_id,
            v.payer_funder_id,
            v.payer.reference if v.payer else "",
            v.practitioner_id,
            v.due_date,
            v.notes,
        )

    def _save(
        self, extra: list[billing.DraftLine] | None = None, drop_row: int | None = None
    ) -> bool:
        def save() -> None:
            lines = self._lines_from_table()
            if drop_row is not None:
                del lines[drop_row]
            billing.update_draft(self.ctx, self.invoice_id, self._header(), lines + (extra or []))

        return bool(run_op(save, in_box(self, "Billing"), refresh=self.reload))

    def on_add_item(self) -> None:
        item_id = self.catalogue.currentData()
        if item_id:
            line = run_op(
                lambda: billing.catalogue_line(self.ctx, item_id, self.view.payer_funder_id),
                in_box(self, "Billing"),
            )
            if line:
                self._save([line.get()])

    def on_add_custom(self) -> None:
        text, ok = QInputDialog.getText(self, "Other line", "Description")
        if ok and text.strip():
            self._save([billing.DraftLine(description=text, unit_price_cents=0)])

    def on_remove(self) -> None:
        if self.table.currentRow() >= 0:
            self._save(drop_row=self.table.currentRow())

    def on_save(self) -> None:
        self._save()

    def on_issue(self) -> None:
        if self._save():
            run_op(
                lambda: billing.issue_invoice(self.ctx, self.invoice_id),
                in_box(self, "Billing"),
                refresh=self.reload,
            )

    def on_discard(self) -> None:
        if run_op(
            lambda: billing.discard_draft(self.ctx, self.invoice_id), in_box(self, "Billing")
        ):
            self.accept()

    # -- issued invoices -------------------------------------------------------------------
    def on_pay(self) -> None:
        PaymentDialog(self.ctx, [self.invoice_id], self.view.owing_cents, self,
                      billed_to_a_funder=self.view.payer is not None).exec()  # fmt: skip
        self.reload()

    def on_use_credit(self) -> None:
        run_op(
            lambda: billing.apply_credit(self.ctx, self.invoice_id),
            in_box(self, "Billing"),
            refresh=self.reload,
        )

    def on_reverse(self) -> None:
        labels = [
            f"{m.day:%d/%m/%Y} {m.text} {format_money(m.amount_cents)}" for m in self.view.payments
        ]
        choice, ok = QInputDialog.getItem(
            self, "Reverse a payment", "Which payment?", labels, 0, False
        )
        if not ok:
            return
        reason, ok = QInputDialog.getText(self, "Reverse a payment", "Why is it reversed?")
        if ok:
            payment_id = self.view.payments[labels.index(choice)].ref_id
            run_op(
                lambda: billing.reverse_entry(self.ctx, payment_id, reason),
                in_box(self, "Billing"),
                refresh=self.reload,
            )

    def on_refund(self) -> None:
        credit = self.view.account_credit_cents
        text, ok = QInputDialog.getText(
            self,
            "Refund account credit",
            f"{format_money(credit)} is held as credit. Amount to refund (same method as paid):",
            text=format_money(credit, ""),
        )
        if not ok:
            return
        typed = run_op(lambda: parse_money(text), in_box(self, "Billing"))
        if not typed:
            return
        amount = typed.get()
        v = self.view
        method = "eftpos"
        if v.payments:
            labels = {label: key for key, label in billing.METHOD_LABELS.items()}
            method = labels.get(v.payments[-1].text, "eftpos")
        run_op(
            lambda: billing.refund(
                self.ctx,
                method=method,
                amount_cents=amount,
                patient_id=None if v.payer_funder_id else v.patient_id,
                funder_id=v.payer_funder_id,
            ),
            in_box(self, "Billing"),
            refresh=self.reload,
        )

    def on_credit_note(self) -> None:
        CreditNoteDialog(self.ctx, self.view, self).exec()
        self.reload()

    def on_void(self) -> None:
        reason, ok = QInputDialog.getText(
            self, "Void invoice", f"Why is invoice {self.view.number} being voided?"
        )
        if ok:
            run_op(
                lambda: billing.void_invoice(self.ctx, self.invoice_id, reason),
                in_box(self, "Billing"),
                refresh=self.reload,
            )

    def pdf(self) -> bytes:
        return render_invoice(billing.invoice_view(self.ctx, self.invoice_id))

    def on_print(self) -> None:
        print_pdf(self, self.pdf(), f"invoice {self.view.number}")

    def on_save_pdf(self) -> None:
        save_pdf(self, self.pdf(), f"{self.view.number or 'draft-invoice'}.pdf")
