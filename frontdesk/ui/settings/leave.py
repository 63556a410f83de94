"""Settings → Leave & closures: a practitioner away, a room or location closed, the whole
clinic closed; the public holidays of the clinic's state offered for the year."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.vocab import LeaveKind
from frontdesk.services.setup import leave as svc
from frontdesk.services.setup import locations, practitioners
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.setup_common import (
    FieldForm,
    ListPanel,
    dialog_buttons,
    run_with_confirm,
    watch,
)


def _date_edit(day: date, name: str) -> QDateEdit:
    edit = QDateEdit(QDate(day.year, day.month, day.day))
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd/MM/yyyy")
    return edit


def _day(edit: QDateEdit) -> date:
    d = edit.date()
    return date(d.year(), d.month(), d.day())


class LeaveDialog(QDialog):
    """Whole days away or closed, for one practitioner, room, location or the clinic."""

    def __init__(self, ctx: ServiceContext, today: date, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Add leave or a closure")
        self.who = QComboBox()
        self.who.setObjectName("leave_who")
        self.who.addItem("Whole clinic", ("clinic", None))
        for p in practitioners.list_practitioners(ctx):
            self.who.addItem(p.display_name, ("practitioner", p.id))
        for r in locations.list_rooms(ctx):
            self.who.addItem(f"Room {r.name} ({r.location_name})", ("room", r.id))
        for loc in locations.list_locations(ctx):
            self.who.addItem(f"Location {loc.name}", ("location", loc.id))
        self.first = _date_edit(today, "leave_first")
        self.last = _date_edit(today, "leave_last")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. Annual leave, conference, painting")
        self.form = FieldForm()
        self.form.field("Who or what", self.who, "who")
        self.form.field("First day", self.first, "first_day")
        self.form.field("Last day", self.last, "last_day")
        self.form.field("Reason", self.reason, "reason")
        self.form.finish()
        col = QVBoxLayout(self)
        col.addLayout(self.form)
        col.addWidget(dialog_buttons(self, self.save))

    def save(self) -> None:
        kind, target = self.who.currentData()

        def call(confirm: bool) -> None:
            start, end = svc.whole_days(self.ctx, _day(self.first), _day(self.last))
            entry = svc.LeaveEntry(
                start, end,
                practitioner_id=target if kind == "practitioner" else None,
                room_id=target if kind == "room" else None,
                location_id=target if kind == "location" else None,
                kind=LeaveKind.LEAVE if kind == "practitioner" else LeaveKind.UNAVAILABLE,
                reason=self.reason.text(),
            )  # fmt: skip
            svc.add_leave(self.ctx, entry, confirm=confirm)

        if run_with_confirm(self.ctx, self, call, self.form):
            self.accept()


class HolidaysDialog(QDialog):
    """The year's public holidays for the clinic's state, ticked to close the clinic."""

    def __init__(self, ctx: ServiceContext, year: int, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Public holidays")
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(year)
        self.list = QListWidget()
        self.list.setObjectName("holidays_list")
        self.form = FieldForm()
        self.form.field("Year", self.year, "year")
        self.form.field("Close the clinic on", self.list, "holidays")
        self.form.finish()
        note = QLabel("Holidays of the clinic's state (set it under Clinic); ticked ones "
                      "already closed stay as they are.")  # fmt: skip
        note.setObjectName("muted")
        note.setWordWrap(True)
        col = QVBoxLayout(self)
        col.addWidget(note)
        col.addLayout(self.form)
        col.addWidget(dialog_buttons(self, self.save))
        self.year.valueChanged.connect(self.fill)
        self.fill()
        self.resize(440, 480)

    def fill(self) -> None:
        self.offers = svc.public_holidays(self.ctx, self.year.value())
        self.list.clear()
        for h in self.offers:
            item = QListWidgetItem(f"{h.day:%a %d/%m/%Y}  {h.name}")
            item.setCheckState(Qt.CheckState.Checked)
            if h.added:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                item.setText(item.text() + "  (closed)")
            self.list.addItem(item)

    def save(self) -> None:
        chosen = [
            h for i, h in enumerate(self.offers)
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        ]  # fmt: skip
        call = lambda c: svc.close_for_holidays(self.ctx, chosen, confirm=c)  # noqa: E731
        if run_with_confirm(self.ctx, self, call, self.form):
            self.accept()


class LeavePage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.list = ListPanel("Leave and closures", ("Who", "From", "To", "Reason"))
        self.list.add.setText("Add leave or closure…")
        self.list.edit.hide()
        self.list.archive.setText("Remove")
        self.holidays = QPushButton("Public holidays…")
        self.holidays.setObjectName("public_holidays")
        self.list.buttons.insertWidget(2, self.holidays)
        QVBoxLayout(self).addWidget(self.list)
        self.list.add.clicked.connect(self.add)
        self.list.archive.clicked.connect(self.remove)
        self.holidays.clicked.connect(self.offer_holidays)
        watch(bus, self, {"leave", "practitioners", "rooms"}, self.reload)
        self.reload()

    def today(self) -> date:
        return self.ctx.clock.now().astimezone(self.ctx.tz).date()

    def reload(self) -> None:
        tz = self.ctx.tz
        rows = svc.list_leave(self.ctx, self.ctx.clock.now())
        last = timedelta(seconds=1)  # a closure ends at midnight after its last day
        self.list.model.set_rows(
            [(r.id, (r.who, f"{r.starts_at.astimezone(tz):%a %d/%m/%Y}",
                     f"{(r.ends_at - last).astimezone(tz):%a %d/%m/%Y}", r.reason), False)
             for r in rows]
        )  # fmt: skip

    def add(self) -> None:
        LeaveDialog(self.ctx, self.today(), self).exec()
        self.reload()

    def offer_holidays(self) -> None:
        HolidaysDialog(self.ctx, self.today().year, self).exec()
        self.reload()

    def remove(self) -> None:
        if (lid := self.list.current_id()) is not None:
            run_with_confirm(self.ctx, self, lambda _c: svc.remove_leave(self.ctx, lid), None)
            self.reload()


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return LeavePage(ctx, bus, parent)
