"""Settings → Appointment types: length, colour, who offers them, price, class capacity and
online booking."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import ValidationFailed
from frontdesk.services.setup import appointment_types as svc
from frontdesk.services.setup import practitioners
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.funder_rows import FunderRows
from frontdesk.ui.settings.practitioners import PROFESSIONS
from frontdesk.ui.settings.setup_common import (
    FieldForm,
    ListPanel,
    dialog_buttons,
    run_with_confirm,
    watch,
)


def cents(text: str) -> int | None:
    """``95``, ``95.00`` or ``$95`` as cents; "" is no price."""
    raw = text.strip().lstrip("$").replace(",", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationFailed(f"“{text.strip()}” is not an amount: type it as 95.00.",
                               field="price") from None  # fmt: skip
    if value != value.quantize(Decimal("0.01")):
        raise ValidationFailed("Prices are in dollars and cents.", field="price")
    return int(value * 100)


def dollars(amount: int | None) -> str:
    return "" if amount is None else f"{Decimal(amount) / 100:.2f}"


class TypeDialog(QDialog):
    def __init__(self, ctx: ServiceContext, row: svc.TypeRow | None, parent: QWidget | None):
        super().__init__(parent)
        self.ctx, self.row = ctx, row
        self.setWindowTitle("Change appointment type" if row else "Add an appointment type")
        self.name = QLineEdit(row.name if row else "")
        self.name.setObjectName("type_name")
        self.length = QSpinBox()
        self.length.setObjectName("type_length")
        self.length.setRange(0, 720)
        self.length.setSingleStep(5)
        self.length.setSuffix(" min")
        self.length.setValue(row.duration_minutes if row else 30)
        self.colour = QLineEdit(row.colour if row else "#7fb2e5")
        self.profession = QComboBox()
        self.profession.setObjectName("type_profession")
        self.profession.setEditable(True)
        self.profession.addItems(["", *PROFESSIONS])
        self.profession.setCurrentText(row.profession if row else "")
        self.people = QListWidget()
        self.people.setObjectName("type_practitioners")
        self.people.setMaximumHeight(110)
        chosen = set(row.practitioner_ids if row else ())
        for p in practitioners.list_practitioners(ctx, include_archived=True):
            if p.archived and p.id not in chosen:
                continue
            item = QListWidgetItem(p.display_name + (" (archived)" if p.archived else ""))
            item.setData(Qt.ItemDataRole.UserRole, p.id)
            item.setCheckState(Qt.CheckState.Checked if p.id in chosen else Qt.CheckState.Unchecked)
            self.people.addItem(item)
        self.price = QLineEdit(dollars(row.price_cents) if row else "")
        self.price.setObjectName("type_price")
        self.price.setPlaceholderText("e.g. 95.00")
        self.capacity = QSpinBox()
        self.capacity.setRange(0, 200)
        self.capacity.setValue(row.capacity if row else 1)
        self.funder_prices = FunderRows(practitioners.funders(ctx), ("Item number", "Price"),
                                        "type_funder_prices",
                                        widest=("15_055_0128_1_3", "9,999.99"))  # fmt: skip
        for fp in svc.funder_prices(ctx, row.id) if row else ():
            self.funder_prices.add_row(fp.funder_id, (fp.item_number, dollars(fp.price_cents)))
        self.online = QCheckBox("Patients may book this online")
        self.online.setChecked(row.online_bookable if row else False)
        self.form = FieldForm()
        self.form.field("Name", self.name, "name")
        self.form.field("Length", self.length, "duration")
        self.form.field("Colour", self.colour, "colour")
        self.form.field("Profession", self.profession, "profession")
        self.form.field("Only these practitioners", self.people, "practitioners")
        self.form.field("Price", self.price, "price")
        self.form.field("Funders' item numbers and prices", self.funder_prices, "funder_prices")
        self.form.field("Patients at once", self.capacity, "capacity")
        self.form.field("", self.online, "online")
        self.form.finish()
        col = QVBoxLayout(self)
        col.addLayout(self.form)
        col.addWidget(dialog_buttons(self, self.save))

    def chosen(self) -> tuple[str, ...]:
        items = (self.people.item(i) for i in range(self.people.count()))
        return tuple(
            str(it.data(Qt.ItemDataRole.UserRole))
            for it in items
            if it.checkState() == Qt.CheckState.Checked
        )

    def chosen_prices(self) -> tuple[svc.FunderPrice, ...]:
        out = []
        for i, v in enumerate(self.funder_prices.values()):
            try:
                price = cents(v.values[1])
            except ValidationFailed as exc:
                raise ValidationFailed(exc.user_message, field=f"funder_prices.{i}") from None
            if price is None:
                raise ValidationFailed("Type the funder's price.", field=f"funder_prices.{i}")
            out.append(svc.FunderPrice(v.funder_id, v.values[0], price))
        if out and cents(self.price.text()) is None and not (self.row and self.row.service_id):
            raise ValidationFailed("Type the usual price too: funders' prices go with it.",
                                   field="price")  # fmt: skip
        return tuple(out)

    def save(self) -> None:
        row = self.row

        def call(_confirm: bool) -> None:
            entry = svc.TypeEntry(
                self.name.text(), self.length.value(), self.colour.text(),
                self.profession.currentText(), self.chosen(), self.capacity.value(),
                self.online.isChecked(), service_id=row.service_id if row else None,
                price_cents=cents(self.price.text()),
                funder_prices=self.chosen_prices(),
            )  # fmt: skip
            if row is None:
                svc.add_type(self.ctx, entry)
            else:
                svc.update_type(self.ctx, row.id, entry)

        if run_with_confirm(self.ctx, self, call, self.form):
            self.accept()


class TypesPage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.list = ListPanel(
            "Appointment types", ("Name", "Length", "Colour", "Offered by", "Price", "Online")
        )
        QVBoxLayout(self).addWidget(self.list)
        self.list.add.clicked.connect(lambda: self._open(None))
        self.list.edit.clicked.connect(lambda: self._open(self.list.current_id(), True))
        self.list.archive.clicked.connect(self.archive)
        watch(bus, self, {"appointment_types", "practitioners", "catalogue_items"}, self.reload)
        self.reload()

    def reload(self) -> None:
        self._rows = {r.id: r for r in svc.list_types(self.ctx)}
        self.list.model.set_rows(
            [(r.id, (r.name, f"{r.duration_minutes} min", r.colour, r.offered_by,
                     dollars(r.price_cents), "Yes" if r.online_bookable else ""), r.archived)
             for r in self._rows.values()]
        )  # fmt: skip

    def _open(self, type_id: str | None, edit: bool = False) -> None:
        if type_id is None and edit:
            return
        TypeDialog(self.ctx, self._rows.get(type_id or ""), self).exec()
        self.reload()

    def archive(self) -> None:
        if (tid := self.list.current_id()) is not None:
            run_with_confirm(self.ctx, self, lambda _c: svc.archive_type(self.ctx, tid), None)
            self.reload()


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return TypesPage(ctx, bus, parent)
