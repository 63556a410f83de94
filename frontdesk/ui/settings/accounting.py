"""Settings → Accounting: the account codes the Xero and MYOB exports write — revenue, GST and
GST-free tax codes, the payments clearing account, and optionally a revenue account per payer
and a clearing account per payment method. Bad codes are named beside the form; nothing saves."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.vocab import PaymentMethod
from frontdesk.services import accounting_codes as ac
from frontdesk.services.billing.payments import METHOD_LABELS
from frontdesk.services.funders import list_funders
from frontdesk.services.permissions import Action
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_label, run_op
from frontdesk.ui.settings.gate import Gated

_MAIN = (("revenue", "Revenue account"), ("gst", "GST tax code"),
         ("gst_free", "GST-free tax code"), ("clearing", "Payments clearing account"))  # fmt: skip


class AccountingCodesPage(QWidget):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.system = QComboBox()
        self.system.setObjectName("codesSystem")
        for key, name in ac.SYSTEM_NAMES.items():
            self.system.addItem(name, key)
        self.system.currentIndexChanged.connect(lambda _i: self.reload())
        form = QFormLayout()
        form.addRow("Program", self.system)
        self.main: dict[str, QLineEdit] = {}
        for key, label in _MAIN:
            edit = QLineEdit()
            edit.setObjectName(f"code_{key}")
            self.main[key] = edit
            form.addRow(label, edit)
        self.payers: dict[str, QLineEdit] = {}
        self.payer_form = QFormLayout()
        self.methods: dict[str, QLineEdit] = {}
        method_form = QFormLayout()
        for m in PaymentMethod:
            if m == PaymentMethod.ACCOUNT_CREDIT:
                continue  # no money moves
            edit = QLineEdit()
            edit.setObjectName(f"method_{m.value}")
            edit.setPlaceholderText("the clearing account")
            self.methods[m.value] = edit
            method_form.addRow(METHOD_LABELS[m], edit)
        self.save = QPushButton("Save codes")
        self.save.setObjectName("saveCodes")
        self.save.setProperty("primary", True)
        self.save.clicked.connect(self.on_save)
        self.error = QLabel("")
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.message = QLabel("")
        self.message.setObjectName("muted")
        buttons = QHBoxLayout()
        buttons.addWidget(self.save)
        buttons.addWidget(self.message, 1)
        payers_col = QVBoxLayout()
        payers_col.addWidget(QLabel("Revenue account per payer (blank: the revenue account)"))
        payers_col.addLayout(self.payer_form)
        payers_col.addStretch(1)
        methods_col = QVBoxLayout()
        methods_col.addWidget(
            QLabel("Clearing account per payment method (blank: the clearing account)")
        )
        methods_col.addLayout(method_form)
        methods_col.addStretch(1)
        both = QHBoxLayout()
        both.addLayout(payers_col, 1)
        both.addSpacing(24)
        both.addLayout(methods_col, 1)
        col = QVBoxLayout(self)
        col.addLayout(form)
        col.addSpacing(12)
        col.addLayout(both)
        col.addWidget(self.error)
        col.addLayout(buttons)
        col.addStretch(1)
        self.reload()

    def current(self) -> ac.System:
        return self.system.currentData()  # type: ignore[no-any-return]

    def reload(self) -> None:
        codes = ac.account_codes(self.ctx, self.current())
        for key, edit in self.main.items():
            edit.setText(getattr(codes, key))
        while self.payer_form.rowCount():
            self.payer_form.removeRow(0)
        self.payers = {}
        for funder in list_funders(self.ctx):
            edit = QLineEdit(codes.payers.get(funder.id, ""))
            edit.setObjectName(f"payer_{funder.id}")
            edit.setPlaceholderText("the revenue account")
            self.payers[funder.id] = edit
            self.payer_form.addRow(funder.name, edit)
        for method, edit in self.methods.items():
            edit.setText(codes.methods.get(method, ""))
        self.error.setText("")
        self.message.setText("")

    def on_save(self) -> None:
        self.message.setText("")
        codes = ac.AccountCodes(
            **{key: edit.text() for key, edit in self.main.items()},
            payers={fid: e.text() for fid, e in self.payers.items()},
            methods={m: e.text() for m, e in self.methods.items()},
        )
        self.error.setText("")
        if run_op(lambda: ac.save_account_codes(self.ctx, self.current(), codes),
                  in_label(self.error)):  # fmt: skip
            self.message.setText(f"Saved. The next {self.system.currentText()} export uses them.")


def _scrolled(ctx: ServiceContext) -> QWidget:
    """The page in a scroll area: a clinic with many payers gets a long list."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    page = AccountingCodesPage(ctx)
    page.setObjectName("accountingCodes")
    scroll.setWidget(page)
    # the page's own background, not the scroll area's grey
    scroll.setStyleSheet("QScrollArea, QWidget#accountingCodes { background: transparent; }")
    scroll.viewport().setAutoFillBackground(False)
    return scroll


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return Gated(ctx, bus, Action.MANAGE_SETTINGS, lambda: _scrolled(ctx), parent)
