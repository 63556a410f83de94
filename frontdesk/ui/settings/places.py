"""Settings → Locations & rooms: where the clinic works and the rooms at each location."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.vocab import OverlapPolicy
from frontdesk.services.setup import locations as svc
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.setup_common import (
    FieldForm,
    ListPanel,
    dialog_buttons,
    run_with_confirm,
    watch,
)

POLICIES = {
    OverlapPolicy.BLOCK: "Block double bookings",
    OverlapPolicy.WARN: "Warn about double bookings",
    OverlapPolicy.ALLOW: "Allow double bookings",
}


def policy_box(current: str) -> QComboBox:
    box = QComboBox()
    for policy, label in POLICIES.items():
        box.addItem(label, policy.value)
    box.setCurrentIndex(max(0, box.findData(current)))
    return box


class LocationDialog(QDialog):
    def __init__(self, ctx: ServiceContext, row: svc.LocationRow | None, parent: QWidget | None):
        super().__init__(parent)
        self.ctx, self.row = ctx, row
        self.setWindowTitle("Change location" if row else "Add a location")
        self.name = QLineEdit(row.name if row else "")
        self.name.setObjectName("location_name")
        self.address = QLineEdit(row.address if row else "")
        self.phone = QLineEdit(row.phone if row else "")
        self.form = FieldForm()
        self.form.field("Name", self.name, "name")
        self.form.field("Address", self.address, "address")
        self.form.field("Phone", self.phone, "phone")
        self.form.finish()
        col = QVBoxLayout(self)
        col.addLayout(self.form)
        col.addWidget(dialog_buttons(self, self.save))

    def save(self) -> None:
        entry = svc.LocationEntry(self.name.text(), self.address.text(), self.phone.text())
        row = self.row

        def call(_confirm: bool) -> None:
            if row is None:
                svc.add_location(self.ctx, entry)
            else:
                svc.update_location(self.ctx, row.id, entry)

        if run_with_confirm(self.ctx, self, call, self.form):
            self.accept()


class RoomDialog(QDialog):
    def __init__(self, ctx: ServiceContext, row: svc.RoomRow | None, parent: QWidget | None):
        super().__init__(parent)
        self.ctx, self.row = ctx, row
        self.setWindowTitle("Change room" if row else "Add a room")
        self.name = QLineEdit(row.name if row else "")
        self.name.setObjectName("room_name")
        self.location = QComboBox()
        self.location.setObjectName("room_location")
        for loc in svc.list_locations(ctx):
            self.location.addItem(loc.name, loc.id)
        if row:
            self.location.setCurrentIndex(max(0, self.location.findData(row.location_id)))
        self.suits = QLineEdit(row.suits if row else "")
        self.suits.setPlaceholderText("e.g. classes, hydrotherapy, wheelchair access")
        self.bookable = QCheckBox("Appointments can be booked into this room")
        self.bookable.setChecked(row.bookable if row else True)
        self.policy = policy_box(row.overlap_policy if row else OverlapPolicy.BLOCK)
        self.form = FieldForm()
        self.form.field("Name", self.name, "name")
        self.form.field("Location", self.location, "location")
        self.form.field("Suits", self.suits, "suits")
        self.form.field("", self.bookable, "bookable")
        self.form.field("Two bookings at once", self.policy, "overlap_policy")
        self.form.finish()
        col = QVBoxLayout(self)
        col.addLayout(self.form)
        col.addWidget(dialog_buttons(self, self.save))

    def save(self) -> None:
        entry = svc.RoomEntry(
            self.name.text(), self.location.currentData() or "", self.suits.text(),
            self.bookable.isChecked(), OverlapPolicy(self.policy.currentData()),
        )  # fmt: skip
        row = self.row

        def call(_confirm: bool) -> None:
            if row is None:
                svc.add_room(self.ctx, entry)
            else:
                svc.update_room(self.ctx, row.id, entry)

        if run_with_confirm(self.ctx, self, call, self.form):
            self.accept()


class PlacesPage(QWidget):
    """Two lists side by side: locations, and the rooms at them."""

    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.locations = ListPanel("Locations", ("Location", "Address", "Rooms"))
        self.rooms = ListPanel("Rooms", ("Room", "Location", "Suits", "Bookable"))
        row = QHBoxLayout(self)
        row.addWidget(self.locations, 1)
        row.addWidget(self.rooms, 1)
        self.locations.add.clicked.connect(lambda: self._location(None))
        self.locations.edit.clicked.connect(
            lambda: self._location(self.locations.current_id(), True)
        )
        self.locations.archive.clicked.connect(self._archive_location)
        self.rooms.add.clicked.connect(lambda: self._room(None))
        self.rooms.edit.clicked.connect(lambda: self._room(self.rooms.current_id(), True))
        self.rooms.archive.clicked.connect(self._archive_room)
        watch(bus, self, {"locations", "rooms"}, self.reload)
        self.reload()

    def reload(self) -> None:
        self._locations = {r.id: r for r in svc.list_locations(self.ctx)}
        self._rooms = {r.id: r for r in svc.list_rooms(self.ctx)}
        self.locations.model.set_rows(
            [(r.id, (r.name, r.address, str(r.rooms)), r.archived)
             for r in self._locations.values()]
        )  # fmt: skip
        self.rooms.model.set_rows(
            [(r.id, (r.name, r.location_name, r.suits, "Yes" if r.bookable else "No"), r.archived)
             for r in self._rooms.values()]
        )  # fmt: skip

    def _location(self, location_id: str | None, edit: bool = False) -> None:
        if location_id is None and edit:
            return
        LocationDialog(self.ctx, self._locations.get(location_id or ""), self).exec()
        self.reload()

    def _room(self, room_id: str | None, edit: bool = False) -> None:
        if room_id is None and edit:
            return
        RoomDialog(self.ctx, self._rooms.get(room_id or ""), self).exec()
        self.reload()

    def _archive_location(self) -> None:
        if (lid := self.locations.current_id()) is not None:
            run_with_confirm(self.ctx, self, lambda _c: svc.archive_location(self.ctx, lid), None)
            self.reload()

    def _archive_room(self) -> None:
        if (rid := self.rooms.current_id()) is not None:
            run_with_confirm(
                self.ctx, self, lambda c: svc.archive_room(self.ctx, rid, confirm=c), None
            )
            self.reload()


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return PlacesPage(ctx, bus, parent)
