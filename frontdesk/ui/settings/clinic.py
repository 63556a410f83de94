"""Settings → Clinic: the clinic's name, business number, address, time zone and tax."""

from __future__ import annotations

from zoneinfo import available_timezones

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.services import clinic_settings
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_box, run_op


class ClinicSettingsPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        form = QFormLayout()
        self.name = QLineEdit()
        self.legal_name = QLineEdit()
        self.business_number = QLineEdit()
        self.address = QPlainTextEdit()
        self.address.setFixedHeight(64)
        self.phone = QLineEdit()
        self.email = QLineEdit()
        self.time_zone = QComboBox()
        self.time_zone.addItems(sorted(z for z in available_timezones() if "/" in z))
        self.tax_registered = QCheckBox("Registered for GST (issues tax invoices)")
        self.tax_rate = QDoubleSpinBox()
        self.tax_rate.setRange(0, 100)
        self.tax_rate.setDecimals(2)
        self.tax_rate.setSuffix(" %")
        form.addRow("Clinic name", self.name)
        form.addRow("Legal name", self.legal_name)
        form.addRow("ABN", self.business_number)
        form.addRow("Address", self.address)
        form.addRow("Phone", self.phone)
        form.addRow("Email", self.email)
        form.addRow("Time zone", self.time_zone)
        form.addRow("", self.tax_registered)
        form.addRow("GST rate", self.tax_rate)
        self.save = QPushButton("Save changes")
        self.save.setProperty("primary", True)
        self.save.clicked.connect(self.on_save)
        self.message = QLabel("")
        self.message.setObjectName("muted")
        buttons = QHBoxLayout()
        buttons.addWidget(self.save)
        buttons.addWidget(self.message, 1)
        col = QVBoxLayout(self)
        col.addLayout(form)
        col.addLayout(buttons)
        col.addStretch(1)
        self.load()

    def load(self) -> None:
        view = clinic_settings.load(self.ctx)
        self.name.setText(view.name)
        self.legal_name.setText(view.legal_name)
        self.business_number.setText(view.business_number)
        self.address.setPlainText(view.address)
        self.phone.setText(view.phone)
        self.email.setText(view.email)
        self.time_zone.setCurrentText(view.time_zone)
        self.tax_registered.setChecked(view.tax_registered)
        self.tax_rate.setValue(view.tax_rate_bp / 100)

    def on_save(self) -> None:
        saved = run_op(
            lambda: clinic_settings.update(
                self.ctx,
                clinic_settings.ClinicDetails(
                    name=self.name.text(),
                    legal_name=self.legal_name.text(),
                    business_number=self.business_number.text(),
                    address=self.address.toPlainText(),
                    phone=self.phone.text(),
                    email=self.email.text(),
                    time_zone=self.time_zone.currentText(),
                    tax_registered=self.tax_registered.isChecked(),
                    tax_rate_bp=round(self.tax_rate.value() * 100),
                ),
            ),
            in_box(self, "Clinic settings"),
        )
        if not saved:
            return
        self.message.setText("Saved.")


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return ClinicSettingsPage(ctx, bus, parent)
