"""The diary view: the scrolling grid, with a practitioner header and a time gutter that stay
put, and the mouse/keyboard routing to interactions.

Over 400 lines on purpose: the grid's event routing and its fixed header/gutter painting
share the scroll geometry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QApplication, QGraphicsView, QToolTip, QWidget

from frontdesk.domain.diary import local_minute, snap_down
from frontdesk.ui.diary.interactions import (
    CreateInteraction,
    DropInteraction,
    Interaction,
    MoveInteraction,
    ResizeInteraction,
)
from frontdesk.ui.diary.items import AppointmentItem, tooltip
from frontdesk.ui.diary.layout import GUTTER_WIDTH, HEADER_HEIGHT
from frontdesk.ui.diary.scene import DiaryScene

RESIZE_GRIP = 6


class DiaryView(QGraphicsView):
    """``controller`` must be set by the page before use."""

    context_requested = Signal(object, object, object)  # item or None, (column, minute), global pos
    activated = Signal(object, object)  # item or None, (column, minute)
    dropped = Signal(str, str, int, int)  # mime type, id, column, minute
    resized = Signal()
    drag_ended = Signal()  # a drag finished or was cancelled: the page may refresh now

    def __init__(self, scene: DiaryScene, now, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(scene, parent)
        self.diary_scene = scene  # the view does not own its scene: keep a reference
        self.now = now
        self.server_now = now  # the clinic server's time (holds); the page sets it
        self.controller: Any = None
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setViewportMargins(GUTTER_WIDTH, HEADER_HEIGHT, 0, 0)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.header = _Header(self)
        self.gutter = _Gutter(self)
        self.corner = QWidget(self)
        self.corner.setStyleSheet("background: #f1f5f9;")
        self.interaction: Interaction | None = None
        self._pending: tuple[QPointF, AppointmentItem | None, bool] | None = None
        self.cursor_slot: tuple[int, int] | None = None
        self._drop_preview: DropInteraction | None = None
        self.setAcceptDrops(True)

    # -- frozen header and gutter -------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        vp = self.viewport().geometry()
        self.header.setGeometry(vp.left(), vp.top() - HEADER_HEIGHT, vp.width(), HEADER_HEIGHT)
        self.gutter.setGeometry(vp.left() - GUTTER_WIDTH, vp.top(), GUTTER_WIDTH, vp.height())
        self.corner.setGeometry(vp.left() - GUTTER_WIDTH, vp.top() - HEADER_HEIGHT, GUTTER_WIDTH,
                                HEADER_HEIGHT)  # fmt: skip
        self.resized.emit()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        if dx:
            self.header.update()
        if dy:
            self.gutter.update()

    def refresh_frame(self) -> None:
        self.header.update()
        self.gutter.update()

    # -- mouse ----------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.diary_scene.layout is None:
            super().mousePressEvent(event)
            return
        pos = self.mapToScene(event.position().toPoint())
        item = self.diary_scene.appointment_at(pos)
        grip = False
        if item is not None:
            bottom = item.scenePos().y() + item.rect.height()
            grip = bottom - pos.y() <= RESIZE_GRIP
            self.diary_scene.clearSelection()
            item.setSelected(True)
        else:
            self.diary_scene.clearSelection()
        self._pending = (pos, item, grip)
        self.setFocus()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = self.mapToScene(event.position().toPoint())
        if self.interaction is None and self._pending is not None:
            start, item, grip = self._pending
            moved = (pos - start).manhattanLength()
            if moved * self.transform().m11() >= QApplication.startDragDistance():
                self.interaction = self._begin(start, item, grip)
        if self.interaction is not None:
            self.interaction.move(pos)
            event.accept()
            return
        if self._pending is None:
            item = self.diary_scene.appointment_at(pos)
            near_edge = item is not None and (
                item.scenePos().y() + item.rect.height() - pos.y() <= RESIZE_GRIP
            )
            self.viewport().setCursor(
                Qt.CursorShape.SizeVerCursor if near_edge else Qt.CursorShape.ArrowCursor
            )
        super().mouseMoveEvent(event)

    def _begin(
        self, start: QPointF, item: AppointmentItem | None, grip: bool
    ) -> Interaction | None:
        if item is None:
            return CreateInteraction(self, start)
        if item.appt.status == "cancelled":
            return None
        if grip:
            return ResizeInteraction(self, item, start)
        return MoveInteraction(self, item, start)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        interaction, pending = self.interaction, self._pending
        self.interaction, self._pending = None, None
        if interaction is not None:
            interaction.move(self.mapToScene(event.position().toPoint()))
            interaction.finish()
            self.drag_ended.emit()
        elif pending is not None:
            self._place_cursor(pending[0])
            if pending[1] is not None:  # a click on an appointment selects that one
                self.diary_scene.clearSelection()
                pending[1].setSelected(True)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.diary_scene.layout is None:
            return
        pos = self.mapToScene(event.position().toPoint())
        item = self.diary_scene.appointment_at(pos)
        self._place_cursor(pos)
        self.activated.emit(item, self.cursor_slot)
        event.accept()

    def contextMenuEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if self.diary_scene.layout is None:
            return
        pos = self.mapToScene(event.pos())
        item = self.diary_scene.appointment_at(pos)
        if item is not None:
            self.diary_scene.clearSelection()
            item.setSelected(True)
        self._place_cursor(pos)
        self.context_requested.emit(item, self.cursor_slot, event.globalPos())

    def viewportEvent(self, event) -> bool:  # type: ignore[no-untyped-def]
        if event.type() == QEvent.Type.ToolTip:
            item = self.diary_scene.appointment_at(self.mapToScene(event.pos()))
            if item is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(
                    event.globalPos(), tooltip(item.appt, item.time_label), self.viewport()
                )
            return True
        return super().viewportEvent(event)

    # -- drops from the waitlist and pinboard ----------------------------------------------------
    def _drop_kind(self, event) -> str | None:  # type: ignore[no-untyped-def]
        from frontdesk.ui.diary.mime import APPOINTMENT_MIME, WAITLIST_MIME

        mime = event.mimeData()
        for kind in (WAITLIST_MIME, APPOINTMENT_MIME):
            if mime.hasFormat(kind):
                return kind
        return None

    def dragEnterEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if self._drop_kind(event) and self.diary_scene.layout is not None:
            self._drop_preview = DropInteraction(self)
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if self._drop_kind(event):
            # the cursor and the ghost follow the mouse; the grid does not scroll under it
            pos = self.mapToScene(event.position().toPoint())
            self._place_cursor(pos, scroll=False)
            if self._drop_preview is not None:
                self._drop_preview.move(pos)
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        # (not QGraphicsView's: its enter was never called, the scene takes no drops)
        self._end_drop_preview()
        event.accept()

    def _end_drop_preview(self) -> None:
        if self._drop_preview is not None:
            self._drop_preview.cancel()
            self._drop_preview = None

    def dropEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self._end_drop_preview()
        kind = self._drop_kind(event)
        if kind is None:
            event.ignore()
            return
        self._place_cursor(self.mapToScene(event.position().toPoint()), scroll=False)
        event.acceptProposedAction()
        if self.cursor_slot is not None:
            ident = bytes(event.mimeData().data(kind).data()).decode()
            self.dropped.emit(kind, ident, *self.cursor_slot)

    # -- keyboard -------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_R and isinstance(self.interaction, MoveInteraction):
            self.interaction.next_room()  # R while dragging: the next room, in the same gesture
            event.accept()
            return
        if key == Qt.Key.Key_Escape and (self.interaction is not None or self._pending):
            if self.interaction is not None:
                self.interaction.cancel()
            self.interaction, self._pending = None, None
            self.drag_ended.emit()
            event.accept()
            return
        lay = self.diary_scene.layout
        if lay is None or not lay.columns:
            super().keyPressEvent(event)
            return
        col, minute = self.cursor_slot or (0, self._default_minute())
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if ctrl and key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            self._jump(col, minute, forward=key == Qt.Key.Key_Down)
            event.accept()
            return
        moves = {Qt.Key.Key_Up: (0, -lay.slot), Qt.Key.Key_Down: (0, lay.slot),
                 Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0)}  # fmt: skip
        if key in moves:
            dc, dm = moves[Qt.Key(key)]
            col = max(0, min(len(lay.columns) - 1, col + dc))
            minute = max(lay.first_minute, min(lay.last_minute - lay.slot, minute + dm))
            self.set_cursor(col, minute)
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activated.emit(self.item_at_cursor(), (col, minute))
            event.accept()
            return
        if key == Qt.Key.Key_Menu:
            rect = self.diary_scene.cursor.rect
            point = self.viewport().mapToGlobal(self.mapFromScene(rect.center()))
            self.context_requested.emit(self.item_at_cursor(), (col, minute), point)
            return
        super().keyPressEvent(event)

    def _jump(self, col: int, minute: int, *, forward: bool) -> None:
        """Ctrl+Down / Ctrl+Up: the cursor goes to the next / previous appointment."""
        lay = self.diary_scene.layout
        assert lay is not None
        places = []
        for item in self.diary_scene.items_by_id.values():
            at = lay.column_at(item.rect.center().x())
            _day, start = local_minute(item.appt.starts_at, lay.tz)
            if at is not None:
                places.append((at, start))
        places.sort()
        here = (col, minute)
        after = [p for p in places if p > here] if forward else [p for p in places if p < here]
        if after:
            self.set_cursor(*(after[0] if forward else after[-1]))

    def _default_minute(self) -> int:
        lay = self.diary_scene.layout
        assert lay is not None
        _d, minute = local_minute(self.now(), lay.tz)
        return max(lay.first_minute, min(lay.last_minute - lay.slot, snap_down(minute, lay.slot)))

    def _place_cursor(self, pos: QPointF, *, scroll: bool = True) -> None:
        lay = self.diary_scene.layout
        if lay is None:
            return
        col = lay.column_at(pos.x())
        if col is None:
            return
        minute = lay.clamp_minute(snap_down(lay.minute_at(pos.y()), lay.slot), lay.slot)
        self.set_cursor(col, minute, scroll=scroll)

    def set_cursor(self, col: int, minute: int, *, scroll: bool = True) -> None:
        lay = self.diary_scene.layout
        assert lay is not None
        self.cursor_slot = (col, minute)
        rect = QRectF(
            lay.x_of(col), lay.y_of(minute), lay.column_width, lay.slot * lay.px_per_minute
        )
        self.diary_scene.cursor.place(rect)
        self.diary_scene.cursor.setVisible(True)
        if scroll:
            self.ensureVisible(rect, 10, 10)
        item = self.item_at_cursor()
        self.diary_scene.clearSelection()
        if item is not None:
            item.setSelected(True)

    def item_at_cursor(self) -> AppointmentItem | None:
        if self.cursor_slot is None:
            return None
        rect = self.diary_scene.cursor.rect
        return self.diary_scene.appointment_at(rect.center())

    def selected_item(self) -> AppointmentItem | None:
        for item in self.diary_scene.selectedItems():
            if isinstance(item, AppointmentItem):
                return item
        return None


class _Header(QWidget):
    def __init__(self, view: DiaryView) -> None:
        super().__init__(view)
        self.view = view
        self.today = None
        self.bold = QFont()
        self.bold.setBold(True)
        self.bold.setPointSizeF(9)
        self.small = QFont()
        self.small.setPointSizeF(7.5)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#f1f5f9"))
        lay = self.view.diary_scene.layout
        if lay is None:
            return
        dx = self.view.horizontalScrollBar().value()
        today = self.view.now().astimezone(lay.tz).date()
        bold, small = self.bold, self.small
        w = lay.column_width
        cols = lay.columns
        for i, col in enumerate(cols):
            x = lay.x_of(i) - dx
            if col.day == today:
                painter.fillRect(QRectF(x, 0, w, HEADER_HEIGHT), QColor("#dbeafe"))
            painter.fillRect(QRectF(x + 1, HEADER_HEIGHT - 4, w - 2, 4), QColor(col.colour))
            painter.setPen(QColor("#64748b"))
            painter.setFont(small)
            sub = painter.fontMetrics().elidedText(
                col.subtitle, Qt.TextElideMode.ElideRight, int(w - 10)
            )
            painter.drawText(
                QRectF(x + 6, 20, w - 10, 16),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                sub,
            )
            last_in_group = i + 1 == len(cols) or cols[i + 1].title != col.title
            painter.setPen(QPen(QColor("#334155" if last_in_group else "#cbd5e1")))
            painter.drawLine(int(x + w), 0 if last_in_group else 20, int(x + w), HEADER_HEIGHT)
            if i > 0 and cols[i - 1].title == col.title:
                continue
            span = 1
            while i + span < len(cols) and cols[i + span].title == col.title:
                span += 1
            painter.setPen(QColor("#0f172a"))
            painter.setFont(bold)
            title = painter.fontMetrics().elidedText(
                col.title, Qt.TextElideMode.ElideRight, int(w * span - 10)
            )
            painter.drawText(
                QRectF(x + 6, 3, w * span - 10, 18),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                title,
            )
        painter.setPen(QPen(QColor("#94a3b8")))
        painter.drawLine(0, HEADER_HEIGHT - 1, self.width(), HEADER_HEIGHT - 1)


class _Gutter(QWidget):
    def __init__(self, view: DiaryView) -> None:
        super().__init__(view)
        self.view = view

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#f8fafc"))
        lay = self.view.diary_scene.layout
        if lay is None:
            return
        dy = self.view.verticalScrollBar().value()
        font = QFont()
        font.setPointSizeF(8)
        painter.setFont(font)
        minute = lay.first_minute - lay.first_minute % lay.slot
        while minute <= lay.last_minute:
            y = lay.y_of(minute) - dy
            if -20 <= y <= self.height() + 20:
                if minute % 60 == 0:
                    painter.setPen(QColor("#0f172a"))
                    painter.drawText(
                        QRectF(0, y - 1, GUTTER_WIDTH - 8, 14),
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                        f"{minute // 60}:00",
                    )
                    painter.setPen(QColor("#94a3b8"))
                    painter.drawLine(GUTTER_WIDTH - 6, int(y), GUTTER_WIDTH, int(y))
                elif lay.px_per_minute * lay.slot >= 20 and minute % 30 == 0:
                    painter.setPen(QColor("#94a3b8"))
                    painter.drawText(
                        QRectF(0, y - 1, GUTTER_WIDTH - 8, 14),
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                        f":{minute % 60:02d}",
                    )
            minute += lay.slot
        now: datetime = self.view.now()
        day, m = local_minute(now, lay.tz)
        if any(c.day == day for c in lay.columns) and lay.first_minute <= m <= lay.last_minute:
            y = lay.y_of(m) - dy
            painter.fillRect(QRectF(2, y - 7, GUTTER_WIDTH - 4, 14), QColor("#ef4444"))
            painter.setPen(QColor("white"))
            painter.drawText(
                QRectF(2, y - 7, GUTTER_WIDTH - 4, 14),
                Qt.AlignmentFlag.AlignCenter,
                now.astimezone(lay.tz).strftime("%H:%M"),
            )
        painter.setPen(QPen(QColor("#94a3b8")))
        painter.drawLine(GUTTER_WIDTH - 1, 0, GUTTER_WIDTH - 1, self.height())
