"""The Conflicts area: every booking clash and changed-on-two-desks conflict, both sides side by
side, with buttons to resolve each. Resolutions are ordinary changes, so they sync."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.sync import conflicts as svc
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_box, run_op


class ConflictsPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        col = QVBoxLayout(self)
        col.setContentsMargins(28, 24, 28, 24)
        title = QLabel("Conflicts")
        title.setObjectName("pageTitle")
        self.summary = QLabel("")
        self.summary.setObjectName("muted")
        col.addWidget(title)
        col.addWidget(self.summary)
        self.list_host = QWidget()
        self.list_col = QVBoxLayout(self.list_host)
        self.list_col.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.list_host)
        col.addWidget(scroll, 1)
        bus.changed.connect(self._on_changed)
        self.refresh()

    def _on_changed(self, notice: object) -> None:
        # Hidden, it waits: showing it reads again (showEvent), so a day of bookings does not
        # rebuild a page nobody is looking at.
        if (
            self.isVisible()
            and isinstance(notice, ChangeNotice)
            and notice.touches("sync_conflicts", "appointments", "patients", "invoices", "payments")
        ):
            self.refresh()

    def refresh(self) -> None:
        while self.list_col.count():
            item = self.list_col.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        items = svc.list_open(self.ctx)
        refused = svc.list_refused(self.ctx)
        if not items and refused:
            self.summary.setText("No conflicts between desks.")
        elif not items:
            self.summary.setText("Nothing to sort out: every desk agrees.")
        else:
            self.summary.setText(
                f"{len(items)} thing{'s' if len(items) != 1 else ''} sync could not decide "
                "alone. Each desk shows the same list; resolving here resolves it everywhere."
            )
        for view in items:
            self.list_col.addWidget(self._card(view))
        if refused:
            self.list_col.addWidget(self._refused(refused))
        self.list_col.addStretch(1)

    def _refused(self, refused: list[svc.Refusal]) -> QWidget:
        """Changes made here that the clinic server refused: each with why. The desk already
        shows the record as the clinic holds it; a person reads this and marks it read."""
        box = QFrame()
        box.setObjectName("refusedBox")
        box.setStyleSheet(
            "#refusedBox { border: 1px solid #c01c28; border-radius: 6px; background: #fff4f4; }"
        )
        col = QVBoxLayout(box)
        n = len(refused)
        col.addWidget(
            QLabel(
                f"<b>{n} change{'s' if n != 1 else ''} made on this desk "
                f"{'were' if n != 1 else 'was'} refused by the clinic server</b>"
            )
        )
        note = QLabel(
            "This desk now shows these records as the clinic holds them (a refused new record "
            "was set aside). If a change is still needed, make it again the right way (for an "
            "issued invoice: void or credit it)."
        )
        note.setWordWrap(True)
        note.setObjectName("muted")
        col.addWidget(note)
        for r in refused[:50]:
            when = r.when.astimezone(self.ctx.tz)
            line = QLabel(
                f"{when:%a %d %b %H:%M} — {html.escape(r.what)}: <i>{html.escape(r.reason)}</i>"
            )
            line.setWordWrap(True)
            line.setTextFormat(Qt.TextFormat.RichText)
            col.addWidget(line)
        if n > 50:
            col.addWidget(QLabel(f"… and {n - 50} more"))
        done = QPushButton("Mark as read")
        done.clicked.connect(
            lambda _c=False, top=refused[0].seq: self._do(
                lambda: svc.mark_refusals_read(self.ctx, top)
            )
        )
        row = QHBoxLayout()
        row.addWidget(done)
        row.addStretch(1)
        col.addLayout(row)
        return box

    def _card(self, view: svc.ConflictView) -> QWidget:
        card = QFrame()
        card.setObjectName("conflictCard")
        card.setFrameShape(QFrame.Shape.StyledPanel)
        card.setStyleSheet(
            "#conflictCard { border: 1px solid #e5a50a; border-radius: 6px; background: #fffbea; }"
        )
        col = QVBoxLayout(card)
        head = QLabel(f"<b>{view.title}</b>")
        col.addWidget(head)
        if view.detail:
            col.addWidget(QLabel(view.detail))
        sides = QHBoxLayout()
        for side in (view.first, view.second):
            box = QLabel(f"<b>{side.label}</b><br>{side.text}")
            box.setWordWrap(True)
            box.setStyleSheet("background: white; border: 1px solid #ddd; padding: 6px;")
            sides.addWidget(box, 1)
        col.addLayout(sides)
        buttons = QHBoxLayout()
        if view.kind == "clash":
            for n, side in enumerate((view.first, view.second), start=1):
                if side.appointment_id is None:
                    continue
                start = svc.suggest_free_start(self.ctx, side.appointment_id)
                if start is None:
                    continue
                b = QPushButton(f"Move booking {n} to {start.astimezone(self.ctx.tz):%H:%M}")
                b.clicked.connect(
                    lambda _c=False, a=side.appointment_id, s=start, cid=view.id: self._do(
                        lambda: svc.resolve_clash_by_moving(self.ctx, cid, a, s)
                    )
                )
                buttons.addWidget(b)
            keep = QPushButton("Keep both")
            keep.clicked.connect(
                lambda _c=False, cid=view.id: self._do(
                    lambda: svc.resolve_clash_keep_both(self.ctx, cid)
                )
            )
            buttons.addWidget(keep)
        elif view.kind == "notice":  # the server settled it; a person says it is dealt with
            done = QPushButton("Dealt with")
            done.setToolTip("Take this notice off the list on every desk")
            done.clicked.connect(
                lambda _c=False, cid=view.id: self._do(
                    lambda: svc.resolve_field(self.ctx, cid, "kept")
                )
            )
            buttons.addWidget(done)
        else:
            kept = QPushButton(f"Keep “{view.first.text}”")
            kept.clicked.connect(
                lambda _c=False, cid=view.id: self._do(
                    lambda: svc.resolve_field(self.ctx, cid, "kept")
                )
            )
            other = QPushButton(f"Use “{view.second.text}”")
            other.clicked.connect(
                lambda _c=False, cid=view.id: self._do(
                    lambda: svc.resolve_field(self.ctx, cid, "other")
                )
            )
            buttons.addWidget(kept)
            buttons.addWidget(other)
        buttons.addStretch(1)
        col.addLayout(buttons)
        return card

    def _do(self, action: object) -> None:
        run_op(action, in_box(self, "Conflicts"), refresh=self.refresh)  # type: ignore[arg-type]

    def showEvent(self, event: QShowEvent) -> None:
        # Refusals arrive with sync answers, which announce no change: look again when shown.
        self.refresh()
        super().showEvent(event)


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return ConflictsPage(ctx, bus, parent)
