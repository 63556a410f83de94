"""The booking dialog's funding line: which plan pays ("Privately" or one of the patient's
current plans) and what the funding rules say about one more session, refreshed as the patient,
day, time, length or type change. Warnings never stop a booking: the patient may pay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from frontdesk.domain.funding import Severity
from frontdesk.services.claims.check import funding_check, session_price
from frontdesk.services.claims.plans import list_plans
from frontdesk.store.context import ServiceContext
from frontdesk.ui.ops import in_label, run_op

COLOURS = {
    Severity.ERROR: "#b91c1c",
    Severity.WARNING: "#b45309",
    Severity.INFO: "#1f5f3a",
}
ICONS = {Severity.ERROR: "✖", Severity.WARNING: "⚠", Severity.INFO: "✓"}


class FundingPanel(QWidget):
    """``when()`` gives (start, minutes, appointment type id) of the session being booked."""

    def __init__(
        self,
        ctx: ServiceContext,
        when: Callable[[], tuple[datetime, int, str | None]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.when = ctx, when
        self.patient_id: str | None = None
        self.exclude_appointment_id: str | None = None
        self.plan = QComboBox()
        self.plan.setObjectName("fundingPlan")
        self.plan.addItem("Privately (no plan)", None)
        self.warnings = QLabel("")
        self.warnings.setObjectName("fundingWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.setTextFormat(Qt.TextFormat.RichText)
        # Room for two wrapped lines: the dialog keeps its size once shown.
        self.warnings.setMinimumHeight(self.warnings.fontMetrics().lineSpacing() * 2 + 4)
        self.warnings.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.plan)
        col.addWidget(self.warnings)
        self.plan.currentIndexChanged.connect(lambda _i: self.refresh())
        self.setVisible(False)

    def plan_id(self) -> str | None:
        data = self.plan.currentData()
        return str(data) if data else None

    def set_patient(self, patient_id: str | None) -> None:
        self.patient_id = patient_id
        self.plan.blockSignals(True)
        self.plan.clear()
        self.plan.addItem("Privately (no plan)", None)
        plans = []
        if patient_id:
            loaded = run_op(lambda: list_plans(self.ctx, patient_id), in_label(self.warnings))
            plans = loaded.get() if loaded else []
        for p in plans:
            who = p.referrer_name or p.insurer_name or p.funder_name
            self.plan.addItem(f"{p.label}" + (f" — {who}" if who else ""), p.id)
        if plans:
            self.plan.setCurrentIndex(1)  # the newest plan pays, unless reception says not
        self.plan.blockSignals(False)
        self.setVisible(bool(plans))
        self.refresh()

    def refresh(self) -> None:
        plan_id, patient_id = self.plan_id(), self.patient_id
        if not plan_id or not patient_id:
            self.warnings.setText("")
            return
        start, minutes, type_id = self.when()
        price = session_price(self.ctx, plan_id, type_id)
        checked = run_op(
            lambda: funding_check(
                self.ctx, patient_id, start, minutes, plan_id=plan_id, price_cents=price,
                exclude_appointment_id=self.exclude_appointment_id,
            ),
            in_label(self.warnings),
        )  # fmt: skip
        if not checked:
            return
        lines = [
            f'<span style="color:{COLOURS[f.severity]}">{ICONS[f.severity]} {f.message}</span>'
            for c in checked.get()
            for f in c.findings
        ]
        self.warnings.setText("<br>".join(lines))

    def text(self) -> str:
        """The warnings as plain text (for tests and screen readers)."""
        import re

        return re.sub(r"<[^>]+>", "", self.warnings.text().replace("<br>", "\n"))
