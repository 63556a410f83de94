"""Settings → Audit trail: who did what, filtered by patient, staff member, dates, kind and
record; the selected entry's before and after values side by side; and a check of the chain."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.money import format_money
from frontdesk.services import audit
from frontdesk.services.permissions import Action
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_label, run_op
from frontdesk.ui.patient_picker import PatientPicker
from frontdesk.ui.row_table import Column, RowModel, fit_columns, row_table, source_row
from frontdesk.ui.settings.gate import Gated
from frontdesk.ui.table_helpers import fill_rows, read_only_table
from frontdesk.ui.workers import run_in_background

ENTITY_LABELS = {"event": "Event (sign-in, print, backup…)"}


FIELD_WORDS = {"deleted_at": "Removed", "archived_at": "Archived", "created_at": "Created",
               "updated_at": "Changed", "bp": "%", "dob": "Date of birth"}  # fmt: skip


def readable_field(name: str) -> str:
    """A column name in a manager's words: "counted_cents" → "Counted", "deleted_at" →
    "Removed", "practitioner_id" → "Practitioner"."""
    if name in FIELD_WORDS:
        return FIELD_WORDS[name]
    for suffix in ("_cents", "_id", "_at"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name.replace("_", " ").capitalize()


def readable_value(value: Any, ctx: ServiceContext, field: str = "") -> str:
    if value is None or value == "":
        return "—"
    if field.endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return format_money(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T ":
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if when.tzinfo is not None:
                return when.astimezone(ctx.tz).strftime("%d/%m/%Y %H:%M")
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "…"


class AuditTrail(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.entries: list[audit.AuditEntry] = []
        self.patient_id: str | None = None

        self.staff = QComboBox()
        self.kind = QComboBox()
        self.entity = QComboBox()
        # The app's one patient picker: ↓/↑ highlight, Enter picks (and shows the trail).
        self.patient_picker = PatientPicker(ctx, include_archived=True, list_height=90)
        self.patient = self.patient_picker.search
        self.patient.setPlaceholderText("name or patient number, then Enter")
        self.patient_label = QLabel("")
        self.patient_label.setObjectName("muted")
        today = ctx.clock.now().astimezone(ctx.tz).date()
        start = today - timedelta(days=30)
        self.first_day = QDateEdit(QDate(start.year, start.month, start.day))
        self.last_day = QDateEdit(QDate(today.year, today.month, today.day))
        for edit in (self.first_day, self.last_day):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd/MM/yyyy")
        apply = QPushButton("Show")
        apply.setProperty("primary", True)
        apply.clicked.connect(self.reload)
        self.patient_picker.picked.connect(lambda _hit: self.reload())
        self.check = QPushButton("Check the trail for tampering")
        self.check.clicked.connect(self.verify)
        self.chain = QLabel("")
        self.chain.setObjectName("chainStatus")
        self.chain.setWordWrap(True)

        grid = QGridLayout()
        grid.addWidget(QLabel("Staff"), 0, 0)
        grid.addWidget(self.staff, 0, 1)
        grid.addWidget(QLabel("Kind"), 0, 2)
        grid.addWidget(self.kind, 0, 3)
        grid.addWidget(QLabel("Record"), 0, 4)
        grid.addWidget(self.entity, 0, 5)
        grid.addWidget(QLabel("Patient"), 1, 0)
        grid.addWidget(self.patient_picker, 1, 1, 1, 3)
        grid.addWidget(QLabel("From"), 2, 0)
        grid.addWidget(self.first_day, 2, 1)
        grid.addWidget(QLabel("To"), 2, 2)
        grid.addWidget(self.last_day, 2, 3)
        grid.addWidget(apply, 2, 5)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(3, 2)
        grid.setColumnStretch(5, 2)

        self.model: RowModel[audit.AuditEntry] = RowModel(
            self._columns(), key=lambda e: e.id, order=_newest_first, parent=self
        )
        self.table = row_table(self.model, "auditTable")
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self.show_detail())
        bus.changed.connect(self._on_changed)

        self.detail_title = QLabel("Select an entry to see what changed.")
        self.detail_title.setObjectName("muted")
        self.detail = read_only_table(("Field", "Before", "After"), "auditDetail")
        lower = QWidget()
        lower_col = QVBoxLayout(lower)
        lower_col.setContentsMargins(0, 0, 0, 0)
        lower_col.addWidget(self.detail_title)
        lower_col.addWidget(self.detail)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setSizes([360, 180])

        status = QHBoxLayout()
        status.addWidget(self.check)
        status.addWidget(self.chain, 1)
        status.addWidget(self.patient_label)

        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(grid)
        col.addWidget(split, 1)
        col.addLayout(status)
        self.fill_choices()
        self.reload()

    def fill_choices(self) -> None:
        actions, entities = audit.kinds(self.ctx)
        self.staff.clear()
        self.staff.addItem("Everyone", None)
        for staff_id, name in audit.staff_in_trail(self.ctx):
            self.staff.addItem(name, staff_id)
        self.kind.clear()
        self.kind.addItem("All kinds", None)
        for action in actions:
            self.kind.addItem(action, action)
        self.entity.clear()
        self.entity.addItem("All records", None)
        for entity in entities:
            self.entity.addItem(ENTITY_LABELS.get(entity, readable_field(entity)), entity)

    def current_filter(self) -> audit.AuditFilter:
        hit = self.patient_picker.hit
        self.patient_id = hit.id if hit is not None else None
        typed = self.patient.text().strip()
        if hit is not None:
            self.patient_label.setText(f"Patient: {hit.display_name} {hit.patient_number}")
        elif typed:
            self.patient_label.setText("Pick the patient from the list (↓ and Enter).")
        else:
            self.patient_label.setText("")
        return audit.AuditFilter(
            patient_id=self.patient_id,
            staff_user_id=self.staff.currentData(),
            first_day=_day(self.first_day.date()),
            last_day=_day(self.last_day.date()),
            action=self.kind.currentData(),
            entity=self.entity.currentData(),
        )

    def _columns(self) -> list[Column[audit.AuditEntry]]:
        def record(e: audit.AuditEntry) -> str:
            return ENTITY_LABELS.get(e.entity, readable_field(e.entity)).split(" (")[0]

        return [
            Column(
                "When", lambda e: e.at.strftime("%d/%m/%Y %H:%M:%S"), lambda e: e.at.isoformat()
            ),
            Column("Who", lambda e: e.staff_name),
            Column("Desk", self._desk),
            Column("What", lambda e: e.action),
            Column("Record", record),
            Column("Patient", lambda e: e.patient_name),
            Column("Summary", lambda e: e.summary or _short(e), stretch=True),
        ]

    def _desk(self, e: audit.AuditEntry) -> str:
        if e.device_id == self.ctx.device_id:
            return "This desk"
        return f"Another desk (…{e.device_id[-6:]})"

    def _on_changed(self, _notice: object) -> None:
        if self.isVisible():
            self.reload(keep_places=True)

    def reload(self, *, keep_places: bool = False) -> None:
        """Read the trail for the filter. ``keep_places`` (after a change notice): new entries
        are inserted at the top by row, the selection stays."""
        found = run_op(lambda: audit.query(self.ctx, self.current_filter()), in_label(self.chain))
        self.entries = found.get() if found else []
        if keep_places:
            self.model.replace_all(self.entries)
        else:
            self.model.reset(self.entries)
            fit_columns(self.table)
            self.detail.setRowCount(0)
        count = self.model.rowCount()
        self.detail_title.setText(
            f"{count} entries"
            + (" (the newest 500)" if count >= 500 else "")
            + ". Select one to see what changed."
        )

    def show_detail(self) -> None:
        row = source_row(self.table)
        if row is None:
            return
        e = self.model.row(row)
        self.detail_title.setText(
            f"{e.action} by {e.staff_name}, {e.at:%d/%m/%Y %H:%M:%S}"
            + (f" — {e.summary}" if e.summary else "")
        )
        fill_rows(
            self.detail,
            [
                (
                    readable_field(change.field),
                    readable_value(change.before, self.ctx, change.field),
                    readable_value(change.after, self.ctx, change.field),
                )
                for change in e.changes
            ],
        )

    def verify(self) -> None:
        self.check.setEnabled(False)
        self.chain.setText("Checking…")
        self.chain.setStyleSheet("")
        run_in_background(lambda: audit.verify_chain(self.ctx), self._verified, self._failed)

    def _verified(self, report: audit.ChainReport) -> None:
        self.check.setEnabled(True)
        self.chain.setText(report.message)
        self.chain.setStyleSheet(
            "color: #15803d; font-weight: bold;"
            if report.intact
            else "color: #b91c1c; font-weight: bold;"
        )

    def _failed(self, exc: BaseException) -> None:
        self.check.setEnabled(True)
        self.chain.setText(getattr(exc, "user_message", "The check could not run."))


def _when(e: audit.AuditEntry) -> str:
    return e.at.strftime("%d/%m/%Y %H:%M:%S")


def _newest_first(e: audit.AuditEntry) -> tuple[float, str, int]:
    return (-e.at.timestamp(), e.device_id, -e.device_seq)


def _day(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def _short(e: audit.AuditEntry) -> str:
    return ", ".join(readable_field(c.field) for c in e.changes[:4]) + (
        "…" if len(e.changes) > 4 else ""
    )


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return Gated(ctx, bus, Action.VIEW_AUDIT, lambda: AuditTrail(ctx, bus), parent)
