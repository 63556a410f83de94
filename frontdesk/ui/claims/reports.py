"""The Claims area's sessions-vs-approvals report (with CSV export) and the editor of the clinic's
letter to referring practitioners (placeholders listed, a live preview, refusals beside it)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FrontdeskError
from frontdesk.services.claims.approvals import (
    COLUMNS,
    ApprovalRow,
    save_approvals_csv,
    sessions_vs_approvals,
)
from frontdesk.services.claims.letters import (
    PLACEHOLDERS,
    TEMPLATE,
    ReportKind,
    letter_template,
    preview_letter,
    save_letter_template,
)
from frontdesk.store.context import ServiceContext
from frontdesk.ui.ops import in_label, run_op


class ApprovalsTab(QWidget):
    """Every current plan: approved, used, left, budget left and when it ends."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.rows: list[ApprovalRow] = []
        self.list = QTreeWidget()
        self.list.setObjectName("approvalsList")
        self.list.setRootIsDecorated(False)
        self.list.setAlternatingRowColors(True)
        self.list.setHeaderLabels(list(COLUMNS))
        self.export = QPushButton("Export CSV…")
        self.export.setObjectName("exportApprovals")
        self.export.clicked.connect(self.export_csv)
        self.message = QLabel("")
        self.message.setObjectName("approvalsMessage")
        row = QHBoxLayout()
        row.addWidget(self.message, 1)
        row.addWidget(self.export)
        col = QVBoxLayout(self)
        col.addWidget(self.list, 1)
        col.addLayout(row)

    def load(self) -> None:
        got = run_op(lambda: sessions_vs_approvals(self.ctx), in_label(self.message))
        self.rows = got.get() if got else []
        self.list.clear()
        for r in self.rows:
            cells = r.cells()
            if r.ends_on:
                cells[-1] = f"{r.ends_on:%-d %b %Y}"
            self.list.addTopLevelItem(QTreeWidgetItem(cells))
        for i in range(self.list.columnCount()):
            self.list.resizeColumnToContents(i)
        low = sum(1 for r in self.rows if r.left is not None and r.left <= 1)
        self.message.setText(
            f"{len(self.rows)} current plans · {low} with one session or none left"
        )

    def export_csv(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Export sessions vs approvals", "sessions-vs-approvals.csv", "CSV (*.csv)"
        )
        if not name:
            return
        done = run_op(lambda: save_approvals_csv(self.ctx, Path(name)), in_label(self.message))
        if done:
            self.message.setText(f"Saved {done.get()} plans to {Path(name).name}.")


class LetterTemplateDialog(QDialog):
    """Edit the clinic's letter; the preview follows each keystroke with a sample patient."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Letter to the referring practitioner")
        self.resize(1000, 640)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("letterTemplate")
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("letterPreview")
        self.preview.setReadOnly(True)
        self.kind = QComboBox()
        self.kind.addItem("After the last service", ReportKind.LAST.value)
        self.kind.addItem("After the first service", ReportKind.FIRST.value)
        self.error = QLabel("")
        self.error.setObjectName("letterError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        hint = QLabel(
            "Placeholders: " + "; ".join(f"{{{k}}} {v}" for k, v in PLACEHOLDERS.items()) + "."
        )
        hint.setWordWrap(True)
        self.save = QPushButton("Save")
        self.save.setObjectName("saveTemplate")
        self.builtin = QPushButton("Use the built-in letter")
        cancel = QPushButton("Cancel")
        self.save.clicked.connect(self.save_template)
        self.builtin.clicked.connect(lambda: self.editor.setPlainText(TEMPLATE))
        cancel.clicked.connect(self.reject)
        self.editor.textChanged.connect(self.refresh)
        self.kind.currentIndexChanged.connect(lambda _i: self.refresh())
        left = QWidget()
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(0, 0, 0, 0)
        lcol.addWidget(QLabel("The letter"))
        lcol.addWidget(self.editor, 1)
        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(QLabel("Preview"))
        top.addStretch(1)
        top.addWidget(self.kind)
        rcol.addLayout(top)
        rcol.addWidget(self.preview, 1)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        buttons = QHBoxLayout()
        buttons.addWidget(self.builtin)
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.save)
        col = QVBoxLayout(self)
        col.addWidget(split, 1)
        col.addWidget(hint)
        col.addWidget(self.error)
        col.addLayout(buttons)
        got = run_op(lambda: letter_template(ctx), in_label(self.error))
        self.editor.setPlainText(got.get() if got else TEMPLATE)

    def refresh(self) -> None:
        try:
            text = preview_letter(self.editor.toPlainText(), self.kind.currentData())
        except FrontdeskError as e:
            self.error.setText(str(e))
            self.save.setEnabled(False)
            return
        self.error.setText("")
        self.save.setEnabled(True)
        self.preview.setPlainText(text)

    def save_template(self) -> None:
        if run_op(
            lambda: save_letter_template(self.ctx, self.editor.toPlainText()),
            in_label(self.error),
        ):
            self.accept()
