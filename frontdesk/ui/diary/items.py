"""The diary's graphics items: the grid background, appointments, the ghost, the now line.

Items only paint; mouse handling lives in interactions.py and edits in controller.py.

Over 400 lines on purpose: one paint routine per item kind, kept together so the diary's
look (colours, sizes, fonts) is tuned in one place.
"""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from frontdesk.domain.diary import local_minute
from frontdesk.domain.diary_view import DiaryAppointment, DiaryData, DiaryHold
from frontdesk.domain.vocab import AppointmentStatus
from frontdesk.ui.diary.layout import DiaryLayout

OUT_OF_ROSTER = QColor("#e5e7eb")
ROSTERED = QColor("#ffffff")
BREAK = QColor("#eceff3")
LEAVE = QColor("#fde2e2")
GRID_SLOT = QColor("#eef0f3")
GRID_HOUR = QColor("#cbd5e1")
COLUMN_EDGE = QColor("#94a3b8")
DAY_EDGE = QColor("#334155")

STATUS_STYLE = {
    # status: (badge text, badge colour)
    AppointmentStatus.ARRIVED: ("Arrived", "#16a34a"),
    AppointmentStatus.IN_SESSION: ("In session", "#2563eb"),
    AppointmentStatus.COMPLETED: ("Done", "#64748b"),
    AppointmentStatus.DID_NOT_ARRIVE: ("DNA", "#dc2626"),
    AppointmentStatus.CANCELLED: ("Cancelled", "#9ca3af"),
}


def _font(size: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(size)
    font.setBold(bold)
    return font


SMALL = _font(7.5)
NAME = _font(8.5, bold=True)
BADGE = _font(7, bold=True)
LINE_H = 12.5
TEXT = QColor("#0f172a")
WHITE = QColor("white")


class BackgroundItem(QGraphicsItem):
    """Rostered hours white, out-of-roster grey, breaks and leave marked, the slot grid."""

    def __init__(self, layout: DiaryLayout, data: DiaryData) -> None:
        super().__init__()
        self.layout = layout
        self.setZValue(-10)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.spans: list[tuple[int, list[tuple[float, float, str, str]]]] = []
        tz = layout.tz
        for i, col in enumerate(layout.columns):
            avail = data.availability.get((col.practitioner_id, col.day))
            marks: list[tuple[float, float, str, str]] = []
            closed = data.room_closed.get(col.room_id or "", [])
            if col.is_room:  # a room has no roster: the whole day is open (unless closed)
                marks.append((0.0, layout.height, "work", ""))
            if avail is not None or closed:
                away = [*(avail.leave if avail else ()), *closed]
                for kind, blocks in (("work", avail.work if avail else ()),
                                     ("break", avail.breaks if avail else ()),
                                     ("leave", away)):  # fmt: skip
                    for b in blocks:
                        d0, m0 = local_minute(b.start, tz)
                        d1, m1 = local_minute(b.end, tz)
                        top = m0 if d0 == col.day else 0
                        bottom = m1 if d1 == col.day else 1440
                        if d0 > col.day or d1 < col.day:
                            continue
                        marks.append((layout.y_of(top), layout.y_of(bottom), kind, b.label))
            self.spans.append((i, marks))

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.layout.width, self.layout.height)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lay = self.layout
        exposed = option.exposedRect  # type: ignore[attr-defined]
        w = lay.column_width
        painter.fillRect(exposed, OUT_OF_ROSTER)
        for i, marks in self.spans:
            x = lay.x_of(i)
            if x > exposed.right() or x + w < exposed.left():
                continue
            for order in ("work", "break", "leave"):
                for top, bottom, kind, label in marks:
                    if kind != order:
                        continue
                    rect = QRectF(x, top, w, bottom - top)
                    if kind == "work":
                        painter.fillRect(rect, ROSTERED)
                    elif kind == "break":
                        painter.fillRect(rect, BREAK)
                        self._label(painter, rect, label or "Break")
                    else:
                        painter.fillRect(rect, LEAVE)
                        # repeated every two hours, so a day of leave says so wherever it is seen
                        step = 120 * lay.px_per_minute
                        y = max(rect.top(), lay.y_of(lay.first_minute))
                        while y < min(rect.bottom(), lay.height) - 12:
                            self._label(painter, QRectF(x, y, w, 16), label or "Leave")
                            y += step
        # grid lines
        step = lay.slot
        first = lay.first_minute - lay.first_minute % step
        left, right = max(0.0, exposed.left()), min(lay.width, exposed.right())
        minute = first
        while minute <= lay.last_minute:
            y = lay.y_of(minute)
            if exposed.top() - 1 <= y <= exposed.bottom() + 1:
                painter.setPen(QPen(GRID_HOUR if minute % 60 == 0 else GRID_SLOT, 1))
                painter.drawLine(QPointF(left, y), QPointF(right, y))
            minute += step
        for i, col in enumerate(lay.columns):
            x = lay.x_of(i + 1)
            if left - 1 <= x <= right + 1:
                last_of_day = i + 1 == len(lay.columns) or lay.columns[i + 1].day != col.day
                new_day = last_of_day and len({c.day for c in lay.columns}) > 1
                painter.setPen(QPen(DAY_EDGE if new_day else COLUMN_EDGE, 2 if new_day else 1))
                painter.drawLine(QPointF(x, exposed.top()), QPointF(x, exposed.bottom()))

    @staticmethod
    def _label(painter: QPainter, rect: QRectF, text: str) -> None:
        if rect.height() < 12:
            return
        painter.setPen(QColor("#6b7280"))
        painter.setFont(SMALL)
        painter.drawText(
            rect.adjusted(4, 1, -4, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, text
        )


class _Prepared:
    """What an appointment item draws, laid out once (its size only changes with a reload)."""

    __slots__ = ("badge", "badge_at", "badge_rect", "colour", "icons", "lines", "name", "second")

    def __init__(self, item: AppointmentItem, r: QRectF) -> None:
        a = item.appt
        line_h = LINE_H
        left, top, width = r.left() + 8, r.top() + 1, r.width() - 11
        height = r.height()
        self.lines = 3 if height >= 3 * line_h + 1 else 2 if height >= 2 * line_h else 1
        name = a.patient_name or (
            f"{a.type_name} ({a.attendees}/{a.capacity})" if a.is_group else a.type_name
        )
        # The name is never the part that is cut: the status badge and flag icons leave its
        # line first (to the second line, or out of a one-line item), then the time and type.
        name_w = _advance(NAME, name)
        status = STATUS_STYLE.get(a.status)  # type: ignore[call-overload]
        badge_w = _advance(BADGE, status[0]) + 11 if status is not None else 0.0
        flags = flag_icons(a)
        icons_w = sum(_advance(BADGE, glyph) + 3 for glyph, _c in flags)
        deco_row = 2 if self.lines == 3 else 0
        if self.lines == 2 and name_w > width - badge_w - icons_w:
            deco_row = 1
        if self.lines == 1 and name_w > width - badge_w - icons_w:
            flags = []
            icons_w = 0.0
            if name_w > width - badge_w:
                status, badge_w = None, 0.0
        row_top = top + line_h * deco_row
        right = left + width
        self.badge: str | None = None
        self.badge_rect = QRectF()
        self.badge_at = QPointF()
        self.colour = GREY_BADGE
        if status is not None:
            label, colour = status
            w = badge_w - 3
            self.badge_rect = QRectF(right - w, row_top + 1, w, line_h - 2)
            self.badge_at = QPointF(right - w + 4, row_top + line_h - 3)
            self.badge = label
            self.colour = _colour(colour)
            right -= badge_w
        self.icons: list[tuple[QPointF, str, QColor]] = []
        for glyph, colour in reversed(flags):
            right -= _advance(BADGE, glyph) + 3
            self.icons.append((QPointF(right, row_top + line_h - 3.5), glyph, _colour(colour)))
        used = badge_w + icons_w
        room = width - (used if deco_row == 0 else 0)
        if self.lines == 1:
            with_time = f"{name}  {item.time_label}"
            first = with_time if _advance(NAME, with_time) <= room else name
        else:
            first = name
        self.name = _elided(NAME, first, room)
        self.second: str | None = None
        if self.lines > 1:
            second_room = width - (used if deco_row == 1 else 0)
            # a cancelled one says why, when someone wrote it down ("patient cancelled by SMS")
            what = a.cancellation_note if item.cancelled and a.cancellation_note else a.type_name
            self.second = _elided(SMALL, f"{item.time_label}  {what}", second_room)


_METRICS: dict[int, QFontMetricsF] = {}


def _metrics(font: QFont) -> QFontMetricsF:
    found = _METRICS.get(id(font))
    if found is None:
        found = _METRICS[id(font)] = QFontMetricsF(font)
    return found


# text measuring is the dearest part of laying an item out, and a clinic's days repeat the same
# labels, glyphs, type names and patients: remember the answers (bounded, cleared when full)
_ADVANCES: dict[tuple[int, str], float] = {}
_ELIDED: dict[tuple[int, str, float], str] = {}
_COLOURS: dict[str, QColor] = {}
GREY_BADGE = QColor("#64748b")


def _advance(font: QFont, text: str) -> float:
    key = (id(font), text)
    found = _ADVANCES.get(key)
    if found is None:
        found = _ADVANCES[key] = _metrics(font).horizontalAdvance(text)
    return found


def _elided(font: QFont, text: str, width: float) -> str:
    key = (id(font), text, width)
    found = _ELIDED.get(key)
    if found is None:
        if len(_ELIDED) > 20_000:
            _ELIDED.clear()
        found = _ELIDED[key] = _metrics(font).elidedText(text, Qt.TextElideMode.ElideRight, width)
    return found


def _colour(name: str) -> QColor:
    found = _COLOURS.get(name)
    if found is None:
        found = _COLOURS[name] = QColor(name)
    return found


_SHADES: dict[str, tuple[QColor, QColor]] = {}


def _shades(colour: str) -> tuple[QColor, QColor]:
    """(fill, edge) for a type colour; a day has a handful of colours and hundreds of items."""
    found = _SHADES.get(colour)
    if found is None:
        base = QColor(colour)
        fill = base.lighter(165) if base.lightness() < 200 else base
        found = _SHADES[colour] = (fill, base.darker(135))
    return found


NAME_AT = QPointF(10, 12)  # the inner rect's top left (2, 1) + (8, 11)
SECOND_AT = QPointF(10, 12 + LINE_H)
CLASH_PEN = QPen(QColor("#dc2626"), 2, Qt.PenStyle.DashLine)
SELECTED_PEN = QPen(QColor("#0f172a"), 2)
_EDGE_PENS: dict[tuple[int, bool], QPen] = {}


def _edge_pen(edge: QColor, dashed: bool) -> QPen:
    key = (edge.rgba(), dashed)
    found = _EDGE_PENS.get(key)
    if found is None:
        style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
        found = _EDGE_PENS[key] = QPen(edge, 1, style)
    return found


class AppointmentItem(QGraphicsItem):
    """One appointment: coloured by type, with its status badge and flag icons.

    The scene keeps its items and hands them the next day's appointments (``assign``) rather than
    making hundreds of new ones on every day change."""

    def __init__(self, appt: DiaryAppointment, rect: QRectF, tz_label: str) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.rect = QRectF()
        self._bounds = self._inner = self._strip = QRectF()
        self._size = (-1.0, -1.0)
        self._z = 0
        self.assign(appt, rect, tz_label)

    def assign(self, appt: DiaryAppointment, rect: QRectF, tz_label: str) -> None:
        """Draw ``appt`` in ``rect`` (scene coordinates) from now on (the caller repaints)."""
        w, h = size = rect.width(), rect.height()
        if size != self._size:
            self.prepareGeometryChange()
            self._size = size
            self._bounds = QRectF(0, 0, w, h)
            self._inner = QRectF(2, 1, w - 5, h - 2)
            self._strip = QRectF(2, 2, 4, h - 4)
        self.appt = appt
        self.rect = rect
        self.time_label = tz_label
        self.cancelled = cancelled = appt.status == AppointmentStatus.CANCELLED
        z = 1 if cancelled else 5
        if self._z != z:
            self._z = z
            self.setZValue(z)
        self.setPos(rect.x(), rect.y())
        self.fill, self.edge = _shades(appt.colour)
        self.pen = CLASH_PEN if appt.clash_flagged else _edge_pen(self.edge, self.cancelled)
        self._prepared: _Prepared | None = None
        if self.opacity() != 1.0:  # faded by a drag that ended with a reload
            self.setOpacity(1.0)
        # no update() here: the scene repaints everything once after handing out a load

    @property
    def appointment_id(self) -> str:
        return self.appt.id

    def boundingRect(self) -> QRectF:
        return self._bounds  # asked for hundreds of times per paint: made once per size

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        r = self._inner
        prepared = self._prepared
        if prepared is None:
            prepared = self._prepared = _Prepared(self, r)
        cancelled = self.cancelled
        if cancelled:
            painter.setOpacity(0.45)
        pen = self.pen
        if pen is not CLASH_PEN and self.isSelected():
            pen = SELECTED_PEN
        painter.setPen(pen)
        painter.setBrush(self.fill)
        painter.drawRoundedRect(r, 4, 4)
        painter.fillRect(self._strip, self.edge)
        painter.setPen(TEXT)
        painter.setFont(NAME)
        painter.drawText(NAME_AT, prepared.name)
        if prepared.second is not None:
            painter.setFont(SMALL)
            painter.drawText(SECOND_AT, prepared.second)
        if prepared.badge is not None:
            painter.fillRect(prepared.badge_rect, prepared.colour)
            painter.setPen(WHITE)
            painter.setFont(BADGE)
            painter.drawText(prepared.badge_at, prepared.badge)
        if prepared.icons:
            painter.setFont(BADGE)
            for at, glyph, colour in prepared.icons:
                painter.setPen(colour)
                painter.drawText(at, glyph)
        if cancelled:
            painter.setOpacity(1.0)


def flag_icons(a: DiaryAppointment) -> list[tuple[str, str]]:
    """(glyph, colour) for each flag the appointment carries, in a fixed order."""
    table = (
        (bool(a.alert), "⚠", "#dc2626"),
        (a.new_patient, "★", "#d97706"),
        (bool(a.series_id), "↻", "#334155"),
        (a.unpaid, "$", "#dc2626"),
        (a.invoiced and not a.unpaid, "$", "#15803d"),
        (a.reminder_sent, "✉", "#475569"),
        (a.confirmed, "✓", "#15803d"),
        (a.replied, "↩", "#2563eb"),
        (a.pinned, "⚑", "#7c3aed"),
    )
    return [(glyph, colour) for on, glyph, colour in table if on]


def tooltip(a: DiaryAppointment, when: str) -> str:
    lines = [f"<b>{a.patient_name or a.type_name}</b> — {when}", a.type_name]
    if a.patient_phone:
        lines.append(f"Phone: {a.patient_phone}")
    if a.alert:
        lines.append(f"<span style='color:#b91c1c'>⚠ {a.alert}</span>")
    if a.is_group:
        lines.append(f"{a.attendees} of {a.capacity} places taken")
    if a.notes:
        lines.append(f"Notes: {a.notes}")
    status = AppointmentStatus(a.status).label
    if a.cancellation_reason:
        why = a.cancellation_reason.replace("_", " ")
        status += f" ({why}: {a.cancellation_note})" if a.cancellation_note else f" ({why})"
    flags = [t for t, on in (("new patient", a.new_patient), ("unpaid", a.unpaid),
                             ("invoiced", a.invoiced and not a.unpaid),
                             ("reminder sent", a.reminder_sent), ("confirmed", a.confirmed),
                             ("replied by SMS: see Messages → Inbox", a.replied),
                             ("on the pinboard", a.pinned),
                             ("part of a series", bool(a.series_id)),
                             ("clash from another desk", a.clash_flagged)) if on]  # fmt: skip
    lines.append(status + (" · " + ", ".join(flags) if flags else ""))
    return "<br>".join(lines)


class GhostItem(QGraphicsItem):
    """The preview of a drag: where it would land, and a callout saying what it runs into."""

    COLOURS: ClassVar[dict[str, str]] = {"ok": "#16a34a", "warn": "#d97706", "block": "#dc2626"}
    MARKS: ClassVar[dict[str, str]] = {"ok": "✓", "warn": "⚠", "block": "✕"}
    CALLOUT_WIDTH = 250.0

    def __init__(self) -> None:
        super().__init__()
        self.rect = QRectF()
        self.callout = QRectF()
        self.verdict = "ok"
        self.when = ""
        self.message = ""
        self.setZValue(50)

    @property
    def text(self) -> str:
        return f"{self.when}  {self.message}".strip()

    def show_at(self, rect: QRectF, verdict: str, when: str, message: str, limit: QRectF) -> None:
        callout = QRectF()
        if message:
            width = max(self.CALLOUT_WIDTH, rect.width())
            metrics = QFontMetricsF(SMALL)
            box = metrics.boundingRect(
                QRectF(0, 0, width - 16, 400), int(Qt.TextFlag.TextWordWrap), message
            )
            height = box.height() + 12
            x = min(rect.left(), limit.right() - width)
            y = rect.bottom() + 4
            if y + height > limit.bottom():
                y = rect.top() - height - 4
            callout = QRectF(max(limit.left(), x), y, width, height)
        self.prepareGeometryChange()
        self.rect, self.callout = QRectF(rect), callout
        self.verdict, self.when, self.message = verdict, when, message
        self.setVisible(True)
        self.update()

    def boundingRect(self) -> QRectF:
        return self.rect.united(self.callout).adjusted(-3, -3, 3, 3)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        colour = QColor(self.COLOURS[self.verdict])
        fill = QColor(colour)
        fill.setAlpha(150)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(fill)
        painter.setPen(QPen(colour, 2.5))
        painter.drawRoundedRect(self.rect.adjusted(2, 0, -3, 0), 4, 4)
        painter.setPen(colour.darker(170))
        painter.setFont(NAME)
        painter.drawText(
            self.rect.adjusted(8, 2, -4, -2),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            f"{self.MARKS[self.verdict]} {self.when}",
        )
        if self.callout.isNull():
            return
        backgrounds = {"warn": "#fffbeb", "block": "#fef2f2", "ok": "#ffffff"}
        painter.setBrush(QColor(backgrounds[self.verdict]))
        painter.setPen(QPen(colour, 1.5))
        painter.drawRoundedRect(self.callout, 5, 5)
        painter.setPen(QColor("#0f172a"))
        painter.setFont(SMALL)
        painter.drawText(
            self.callout.adjusted(8, 6, -8, -6),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
            self.message,
        )


class HoldItem(QGraphicsItem):
    """A time an integration holds while its caller decides: hatched and outlined with a
    dashed line, "Held online", until the hold lapses or becomes a booking (then the booking
    is drawn instead). Not selectable and not draggable: nothing to do with it at the desk."""

    EDGE = QColor("#7c3aed")

    def __init__(self, hold: DiaryHold, rect: QRectF, label: str) -> None:
        super().__init__()
        self.hold, self.rect, self.label = hold, rect, label
        self.setZValue(5)
        self.setToolTip(f"Held online for a caller deciding ({label}); it lapses by itself "
                        "or becomes a booking.")  # fmt: skip

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-1, -1, 1, 1)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        r = self.rect.adjusted(2, 1, -3, -1)
        painter.setBrush(QColor(245, 243, 255, 220))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRect(r)
        painter.setBrush(QBrush(QColor(124, 58, 237, 90), Qt.BrushStyle.BDiagPattern))
        pen = QPen(self.EDGE, 1.5, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRoundedRect(r, 4, 4)
        if r.height() >= 14:
            painter.setPen(self.EDGE.darker(130))
            painter.setFont(SMALL)
            painter.drawText(
                r.adjusted(6, 2, -4, -2), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                f"Held online · {self.label}",
            )  # fmt: skip


class NowLine(QGraphicsItem):
    def __init__(self, layout: DiaryLayout, columns: list[int], y: float) -> None:
        super().__init__()
        self.layout, self.columns, self.line_y = layout, columns, y
        self.setZValue(40)

    def boundingRect(self) -> QRectF:
        return QRectF(0, self.line_y - 4, self.layout.width, 8)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setPen(QPen(QColor("#ef4444"), 2))
        w = self.layout.column_width
        for i in self.columns:
            x = self.layout.x_of(i)
            painter.drawLine(QPointF(x, self.line_y), QPointF(x + w, self.line_y))
        painter.setBrush(QColor("#ef4444"))
        painter.setPen(Qt.PenStyle.NoPen)
        for i in self.columns:
            painter.drawEllipse(QPointF(self.layout.x_of(i) + 3, self.line_y), 3.5, 3.5)


class CursorItem(QGraphicsItem):
    """The keyboard's slot cursor (arrow keys move it; Enter books there)."""

    def __init__(self) -> None:
        super().__init__()
        self.rect = QRectF()
        self.setZValue(30)

    def place(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self.rect = QRectF(rect)
        self.update()

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-2, -2, 2, 2)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        # An outline only: a fill laid over an appointment would grey its text.
        painter.setPen(QPen(QColor("#2563eb"), 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self.rect.adjusted(1, 1, -1, -1))
