"""Settings → Practitioners: name, profession, colour, provider number, default location and
room, overlap policy and staff account; archiving lists their future appointments first."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QLineEdit, QVBoxLayout, QWidget

from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.vocab import OverlapPolicy
from frontdesk.services.setup import locations
from frontdesk.services.setup import practitioners as svc
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.funder_rows import FunderRows
from frontdesk.ui.settings.places import policy_box
from frontdesk.ui.settings.setup_common import (
    FieldForm,
    ListPanel,
    dialog_buttons,
    run_with_confirm,
    watch,
)

PROFESSIONS = (
    "Physiotherapy", "Podiatry", "Chiropractic", "Psychology", "Exercise physiology",
    "Dietetics", "Speech pathology", "Occupational therapy", "Osteopathy", "Massage therapy",
)  # fmt: skip
COLOURS = ("#4f86c6", "#e07a5f", "#81b29a", "#9b72cf", "#f2cc8f", "#3d9970", "#d35d90")


def choice_box(choices: list[tuple[str, str | None]], current: str | None, name: str) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    for label, value in choices:
        box.addItem(label, value)
    box.setCurrentIndex(max(0, box.findData(current)))
    return box


class PractitionerDialog(QDialog):
    def __init__(
        self, ctx: ServiceContext, practitioner_id: str | None, parent: QWidget | None,
        *, colour: str = COLOURS[0],
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.ctx, self.practitioner_id = ctx, practitioner_id
        self.setWindowTitle("Change practitioner" if practitioner_id else "Add a practitioner")
        e = svc.load_practitioner(ctx, practitioner_id) if practitioner_id else None
        self.title = QLineEdit(e.title if e else "")
        self.title.setPlaceholderText("Dr, Ms… (optional)")
        self.first_name = QLineEdit(e.first_name if e else "")
        self.first_name.setObjectName("first_name")
        self.last_name = QLineEdit(e.last_name if e else "")
        self.last_name.setObjectName("last_name")
        self.profession = QComboBox()
        self.profession.setObjectName("profession")
        self.profession.setEditable(True)
        self.profession.addItems(PROFESSIONS)
        self.profession.setCurrentText(e.profession if e else PROFESSIONS[0])
        self.colour = QLineEdit(e.colour if e else colour)
        self.colour.setObjectName("colour")
        self.policy = policy_box(e.overlap_policy if e else OverlapPolicy.WARN)
        places = [(loc.name, loc.id) for loc in locations.list_locations(ctx)]
        default_location = e.default_location_id if e else (places[0][1] if places else None)
        self.location = choice_box([("— none —", None), *places], default_location, "location")
        rooms = [(f"{r.name} ({r.location_name})", r.id) for r in locations.list_rooms(ctx)]
        self.room = choice_box([("— none —", None), *rooms], e.default_room_id if e else None,
                               "room")  # fmt: skip
        medicare = next(
            (n.number for n in (e.provider_numbers if e else ()) if not n.funder_id), ""
        )
        self.provider_number = QLineEdit(medicare)
        self.provider_number.setObjectName("provider_number")
        self.others = tuple(n for n in (e.provider_numbers if e else ()) if n.funder_id)
        self.funder_numbers = FunderRows(svc.funders(ctx), ("Provider number",),
                                         "funder_numbers")  # fmt: skip
        for n in self.others:
            self.funder_numbers.add_row(n.funder_id, (n.number,))
        staff = [(c.name, c.id) for c in svc.staff_accounts(ctx)]
        self.staff = choice_box([("— no account —", None), *staff],
                                e.staff_user_id if e else None, "staff")  # fmt: skip
        self.form = FieldForm()
        self.form.field("Title", self.title, "title")
        self.form.field("First name", self.first_name, "first_name")
        self.form.field("Last name", self.last_name, "last_name")
        self.form.field("Profession", self.profession, "profession")
        self.form.field("Colour", self.colour, "colour")
        self.form.field("Medicare provider number", self.provider_number, "provider_numbers")
        self.form.field("With other funders", self.funder_numbers, "funder_numbers")
        self.form.field("Usual location", self.location, "location")
        self.form.field("Usual room", self.room, "room")
        self.form.field("Two bookings at once", self.policy, "overlap_policy")
        self.form.field("Signs in as", self.staff, "staff")
        self.form.finish()
        col = QVBoxLayout(self)
        col.addLayout(self.form)
        col.addWidget(dialog_buttons(self, self.save))

    def entry(self) -> svc.PractitionerEntry:
        where = {n.funder_id: n.location_id for n in self.others}
        numbers: tuple[svc.ProviderNumberEntry, ...] = tuple(
            svc.ProviderNumberEntry(v.values[0], v.funder_id, where.get(v.funder_id))
            for v in self.funder_numbers.values()
        )
        if self.provider_number.text().strip():
            numbers = (svc.ProviderNumberEntry(self.provider_number.text()), *numbers)
        return svc.PractitionerEntry(
            self.first_name.text(), self.last_name.text(), self.profession.currentText(),
            title=self.title.text(), colour=self.colour.text(),
            overlap_policy=OverlapPolicy(self.policy.currentData()),
            default_location_id=self.location.currentData(),
            default_room_id=self.room.currentData(), staff_user_id=self.staff.currentData(),
            provider_numbers=numbers,
        )  # fmt: skip

    def save(self) -> None:
        entry, pid = self.entry(), self.practitioner_id
        medicare = 1 if self.provider_number.text().strip() else 0

        def call(_confirm: bool) -> None:
            try:
                if pid is None:
                    self.practitioner_id = svc.add_practitioner(self.ctx, entry)
                else:
                    svc.update_practitioner(self.ctx, pid, entry)
            except ValidationFailed as exc:
                field = exc.field or ""
                if field.startswith("provider_numbers.") and int(field.split(".")[1]) >= medicare:
                    raise ValidationFailed(exc.user_message, field="funder_numbers") from exc
                raise

        if run_with_confirm(self.ctx, self, call, self.form):
            self.accept()


class PractitionersPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.list = ListPanel(
            "Practitioners", ("Name", "Profession", "Colour", "Location", "Signs in as")
        )
        QVBoxLayout(self).addWidget(self.list)
        self.list.add.clicked.connect(self.add)
        self.list.edit.clicked.connect(self.edit)
        self.list.archive.clicked.connect(self.archive)
        watch(bus, self, {"practitioners", "staff_users", "locations"}, self.reload)
        self.reload()

    def reload(self) -> None:
        rows = svc.list_practitioners(self.ctx)
        self.list.model.set_rows(
            [(r.id, (r.display_name, r.profession, r.colour, r.location_name, r.staff_name),
              r.archived) for r in rows]
        )  # fmt: skip

    def add(self) -> None:
        colour = COLOURS[len(self.list.model.ids) % len(COLOURS)]
        PractitionerDialog(self.ctx, None, self, colour=colour).exec()
        self.reload()

    def edit(self) -> None:
        if (pid := self.list.current_id()) is not None:
            PractitionerDialog(self.ctx, pid, self).exec()
            self.reload()

    def archive(self) -> None:
        if (pid := self.list.current_id()) is not None:
            run_with_confirm(
                self.ctx, self, lambda c: svc.archive_practitioner(self.ctx, pid, confirm=c), None
            )
            self.reload()


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return PractitionersPage(ctx, bus, parent)
