"""The patient card's Messages tab: every message to this patient, newest first, with its
delivery status (queued, sent, delivered, failed with the reason, withdrawn)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from frontdesk.services.messaging.views import MessageRow, patient_messages
from frontdesk.store.context import ServiceContext
from frontdesk.ui.row_table import Column, RowModel, fit_columns, row_table

_COLOURS = {"failed": "#b91c1c", "cancelled": "#64748b", "delivered": "#15803d"}


class MessagesTab(QWidget):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        tz = ctx.tz

        def when(at: object) -> str:
            from datetime import datetime

            return at.astimezone(tz).strftime("%d/%m/%Y %H:%M") if isinstance(at, datetime) else ""

        columns: list[Column[MessageRow]] = [
            Column("Queued", lambda r: when(r.queued_at), lambda r: r.queued_at.timestamp()),
            Column("What", lambda r: r.kind.replace("_", " ").capitalize()),
            Column("By", lambda r: r.channel.upper()),
            Column("To", lambda r: r.to),
            Column("Status", lambda r: r.status_words, colour=lambda r: _COLOURS.get(r.status)),
            Column("Sent / delivered", lambda r: when(r.when)),
            Column(
                "Message",
                lambda r: r.error or r.body.replace("\n", " "),
                stretch=True,
                tip=lambda r: r.body,
            ),
        ]
        self.model: RowModel[MessageRow] = RowModel(columns, key=lambda r: r.id, parent=self)
        self.table = row_table(self.model, "patientMessages")
        self.empty = QLabel("No messages to this patient yet.")
        self.empty.setObjectName("muted")
        col = QVBoxLayout(self)
        col.addWidget(self.table, 1)
        col.addWidget(self.empty)

    def load(self, patient_id: str) -> None:
        rows = patient_messages(self.ctx, patient_id)
        self.model.reset(rows)
        fit_columns(self.table)
        self.empty.setVisible(not rows)
