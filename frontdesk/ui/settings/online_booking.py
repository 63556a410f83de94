"""Settings → Online booking: which appointment types and practitioners callers and booking
pages may book through the clinic server's API, each type's minimum notice and how far ahead
it opens, a practitioner's own (stricter) notice and reach, and what the practitioners'
calendar feeds show. Each row opens a small form; bad input is named beside its field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import ValidationFailed
from frontdesk.services.setup import online as svc
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_box, run_op
from frontdesk.ui.settings.setup_common import (
    FieldForm,
    ListPanel,
    dialog_buttons,
    run_with_confirm,
    watch,
)


def hours_text(minutes: int | None) -> str:
    if minutes is None:
        return ""
    hours, rest = divmod(minutes, 60)
    return str(hours) if not rest else f"{minutes / 60:g}"


def parse_hours(text: str, field: str) -> int | None:
    """Hours as typed ("24", "1.5"): minutes; "" is None."""
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValidationFailed(f"Type the notice in hours, e.g. 24 (not “{text}”).",
                               field=field) from None  # fmt: skip
    if value < 0:
        raise ValidationFailed("Minimum notice cannot be negative.", field=field)
    return round(value * 60)


def parse_days(text: str, field: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValidationFailed(f"Type a number of days, e.g. 28 (not “{text}”), or leave it "
                               "empty for no limit.", field=field)  # fmt: skip
    return int(text)


def _rules_text(notice: int | None, ahead: int | None, inherit: bool) -> tuple[str, str]:
    none = "as the type" if inherit else "none"
    n = f"{hours_text(notice)} h" if notice else none
    a = f"{ahead} days" if ahead is not None else ("as the type" if inherit else "no limit")
    return n, a


class RulesDialog(QDialog):
    """One type's or one practitioner's rules."""

    def __init__(
        self,
        ctx: ServiceContext,
        row: svc.TypeRules | svc.PractitionerRules,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.row = ctx, row
        person = isinstance(row, svc.PractitionerRules)
        self.setWindowTitle(f"Online booking: {row.name}")
        self.online = QCheckBox(
            "Takes online bookings" if person else "Patients may book this online"
        )
        self.online.setObjectName("online_bookable")
        self.online.setChecked(row.online_bookable)
        self.notice = QLineEdit(hours_text(row.notice_minutes) if row.notice_minutes else "")
        self.notice.setObjectName("online_notice")
        self.notice.setPlaceholderText("the type's notice" if person else "0 — any time")
        self.ahead = QLineEdit("" if row.ahead_days is None else str(row.ahead_days))
        self.ahead.setObjectName("online_ahead")
        self.ahead.setPlaceholderText("the type's reach" if person else "no limit")
        self.form = FieldForm()
        self.form.field("", self.online, "online")
        self.form.field("Minimum notice (hours)", self.notice, "notice")
        self.form.field("Bookable up to (days ahead)", self.ahead, "ahead")
        if person:
            hint = QLabel("Leave empty to use each appointment type's rules; a value here "
                          "applies beside them, and the stricter one wins.")  # fmt: skip
            hint.setWordWrap(True)
            hint.setObjectName("muted")
            self.form.addRow(hint)
        self.form.finish()
        col = QVBoxLayout(self)
        col.addLayout(self.form)
        col.addWidget(dialog_buttons(self, self.save))

    def save(self) -> None:
        row = self.row

        def call(_confirm: bool) -> None:
            notice = parse_hours(self.notice.text(), "notice")
            ahead = parse_days(self.ahead.text(), "ahead")
            if isinstance(row, svc.PractitionerRules):
                svc.save_practitioner_rules(
                    self.ctx, svc.PractitionerRules(row.id, row.name, self.online.isChecked(),
                                                    notice, ahead)
                )  # fmt: skip
            else:
                svc.save_type_rules(
                    self.ctx,
                    svc.TypeRules(row.id, row.name, self.online.isChecked(), notice or 0, ahead),
                )

        if run_with_confirm(self.ctx, self, call, self.form):
            self.accept()


class OnlineBookingPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        intro = QLabel(
            "Online booking pages and phone assistants book through the clinic server. "
            "Choose what they may book, how much notice they must give and how far ahead."
        )
        intro.setWordWrap(True)
        self.types = ListPanel("Appointment types", ("Type", "Online", "Notice", "Up to"))
        self.people = ListPanel("Practitioners", ("Practitioner", "Online", "Notice", "Up to"))
        for panel in (self.types, self.people):
            panel.add.hide()
            panel.archive.hide()
            panel.edit.setText("Edit rules…")
            # the name takes the room the short columns leave: with four equal columns a
            # clinic's "Physiotherapist initial" / "… standard" / "… review" all read
            # "Physiotherapist…", and which one is offered online could not be told
            header = panel.view.horizontalHeader()
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.types.edit.clicked.connect(lambda: self._open(self.types, self._types))
        self.people.edit.clicked.connect(lambda: self._open(self.people, self._people))
        self.ical = QComboBox()
        self.ical.setObjectName("ical_detail")
        for key, label in svc.ICAL_DETAILS.items():
            self.ical.addItem(label, key)
        self.ical.activated.connect(self._save_ical)
        feeds = QFormLayout()
        feeds.addRow("Practitioners' calendar feeds show", self.ical)
        lists = QHBoxLayout()
        lists.addWidget(self.types, 3)
        lists.addWidget(self.people, 2)
        col = QVBoxLayout(self)
        col.addWidget(intro)
        col.addLayout(lists, 1)
        col.addLayout(feeds)
        watch(bus, self, {"appointment_types", "practitioners", "clinic_settings"}, self.reload)
        self.reload()

    def reload(self) -> None:
        self._types = {r.id: r for r in svc.type_rules(self.ctx)}
        self._people = {r.id: r for r in svc.practitioner_rules(self.ctx)}
        self.types.model.set_rows(
            [(r.id, (r.name, "Yes" if r.online_bookable else "No",
                     *_rules_text(r.notice_minutes, r.ahead_days, False)), False)
             for r in self._types.values()]
        )  # fmt: skip
        self.people.model.set_rows(
            [(r.id, (r.name, "Yes" if r.online_bookable else "No",
                     *_rules_text(r.notice_minutes, r.ahead_days, True)), False)
             for r in self._people.values()]
        )  # fmt: skip
        at = self.ical.findData(svc.ical_detail(self.ctx))
        self.ical.setCurrentIndex(max(at, 0))

    def _open(self, panel: ListPanel, rows: Mapping[str, Any]) -> None:
        row_id = panel.current_id()
        if row_id is None or row_id not in rows:
            return
        RulesDialog(self.ctx, rows[row_id], self).exec()
        self.reload()

    def _save_ical(self) -> None:
        detail = str(self.ical.currentData())
        run_op(lambda: svc.save_ical_detail(self.ctx, detail), in_box(self, "Not saved"))


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return OnlineBookingPage(ctx, bus, parent)
