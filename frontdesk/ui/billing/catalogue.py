"""Settings → Catalogue: services and products with price and GST, archive and restore, and each
funder's item number and price."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.money import format_money, parse_money
from frontdesk.domain.vocab import CatalogueKind
from frontdesk.services import billing
from frontdesk.services.billing.catalogue import CatalogueRow, funder_prices, remove_funder_price
from frontdesk.services.funders import list_funders
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.ui.billing.common import money_item, text_item
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_box, run_op


class ItemDialog(QDialog):
    def __init__(self, ctx: ServiceContext, row: CatalogueRow | None, parent: QWidget | None):
        super().__init__(parent)
        self.ctx, self.row = ctx, row
        self.setWindowTitle("Catalogue item")
        form = QFormLayout()
        self.code = QLineEdit(row.code if row else "")
        self.name = QLineEdit(row.name if row else "")
        self.kind = QComboBox()
        for k in CatalogueKind:
            self.kind.addItem(k.value.capitalize(), k.value)
        self.kind.setCurrentIndex(self.kind.findData(row.kind if row else "service"))
        self.price = QLineEdit(format_money(row.price_cents, "") if row else "")
        self.taxable = QCheckBox("GST applies (price includes GST)")
        self.taxable.setChecked(bool(row and row.taxable))
        self.duration = QSpinBox()
        self.duration.setRange(0, 600)
        self.duration.setSuffix(" min")
        for label, w in (
            ("Code", self.code),
            ("Name", self.name),
            ("Kind", self.kind),
            ("Price", self.price),
            ("", self.taxable),
            ("Duration", self.duration),
        ):
            form.addRow(label, w)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.on_save)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addLayout(form)
        col.addWidget(buttons)

    def on_save(self) -> None:
        if run_op(self._save, in_box(self, "Catalogue")):
            self.accept()

    def _save(self) -> None:
        entry = billing.CatalogueEntry(
            self.code.text(),
            self.name.text(),
            parse_money(self.price.text(), field="price"),
            CatalogueKind(self.kind.currentData()),
            self.taxable.isChecked(),
            self.duration.value() or None,
        )
        if self.row is None:
            billing.add_item(self.ctx, entry)
        else:
            billing.update_item(self.ctx, self.row.id, entry)


class FunderPricesDialog(QDialog):
    def __init__(self, ctx: ServiceContext, row: CatalogueRow, parent: QWidget | None):
        super().__init__(parent)
        self.ctx, self.row = ctx, row
        self.setWindowTitle(f"Item numbers for {row.name}")
        self.setMinimumWidth(560)
        col = QVBoxLayout(self)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Payer", "Item number", "Price"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        col.addWidget(self.table)
        add = QHBoxLayout()
        self.funder = QComboBox()
        for f in list_funders(ctx):
            self.funder.addItem(f.name, f.id)
        self.number = QLineEdit()
        self.number.setPlaceholderText("Item number")
        self.price = QLineEdit(format_money(row.price_cents, ""))
        set_b = QPushButton("Set")
        set_b.clicked.connect(self.on_set)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.on_remove)
        for w in (self.funder, self.number, self.price, set_b, remove):
            add.addWidget(w)
        col.addLayout(add)
        self.reload()

    def reload(self) -> None:
        self.rows = funder_prices(self.ctx, self.row.id)
        self.table.setRowCount(len(self.rows))
        for r, fp in enumerate(self.rows):
            self.table.setItem(r, 0, text_item(fp.funder_name, fp.id))
            self.table.setItem(r, 1, text_item(fp.item_number))
            self.table.setItem(r, 2, money_item(fp.price_cents))

    def on_set(self) -> None:
        run_op(
            lambda: billing.set_funder_price(
                self.ctx, self.row.id, self.funder.currentData(), self.number.text(),
                parse_money(self.price.text(), field="price"),
            ),
            in_box(self, "Catalogue"),
            refresh=self.reload,
        )  # fmt: skip

    def on_remove(self) -> None:
        r = self.table.currentRow()
        if 0 <= r < len(self.rows):
            run_op(
                lambda: remove_funder_price(self.ctx, self.rows[r].id),
                in_box(self, "Catalogue"),
                refresh=self.reload,
            )


class CataloguePage(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        col = QVBoxLayout(self)
        self.show_archived = QCheckBox("Show archived items")
        self.show_archived.toggled.connect(lambda _on: self.reload())
        col.addWidget(self.show_archived)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("catalogueTable")
        self.table.setHorizontalHeaderLabels(["Code", "Name", "Kind", "Price", "GST"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.doubleClicked.connect(lambda _i: self.on_edit())
        col.addWidget(self.table, 1)
        bar = QHBoxLayout()
        bar.addStretch(1)
        for label, slot in (
            ("Add…", self.on_add),
            ("Edit…", self.on_edit),
            ("Item numbers…", self.on_prices),
            ("Archive / restore", self.on_archive),
        ):
            b = QPushButton(label)
            b.clicked.connect(slot)
            bar.addWidget(b)
        col.addLayout(bar)
        bus.changed.connect(self._on_changed)
        self.reload()

    def reload(self) -> None:
        self.rows = billing.list_items(self.ctx, include_archived=self.show_archived.isChecked())
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            name = f"{row.name} (archived)" if row.archived else row.name
            for c, item in enumerate(
                (
                    text_item(row.code, row.id),
                    text_item(name),
                    text_item(row.kind.capitalize()),
                    money_item(row.price_cents),
                    text_item("Taxable" if row.taxable else "GST-free"),
                )
            ):
                if row.archived:
                    item.setForeground(Qt.GlobalColor.gray)
                self.table.setItem(r, c, item)

    def current(self) -> CatalogueRow | None:
        r = self.table.currentRow()
        return self.rows[r] if 0 <= r < len(self.rows) else None

    def on_add(self) -> None:
        ItemDialog(self.ctx, None, self).exec()

    def on_edit(self) -> None:
        row = self.current()
        if row:
            ItemDialog(self.ctx, row, self).exec()

    def on_prices(self) -> None:
        row = self.current()
        if row:
            FunderPricesDialog(self.ctx, row, self).exec()

    def on_archive(self) -> None:
        row = self.current()
        if row:
            run_op(
                lambda: billing.archive_item(self.ctx, row.id, archived=not row.archived),
                in_box(self, "Catalogue"),
            )

    def _on_changed(self, notice: ChangeNotice) -> None:
        if notice.touches("catalogue_items"):
            self.reload()


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return CataloguePage(ctx, bus, parent)
