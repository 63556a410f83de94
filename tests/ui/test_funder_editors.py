"""Provider numbers per funder on the practitioner form, and each funder's item number and
price on the appointment type form: added through the forms' buttons, saved, read back; a
missing number or price is refused beside the field and nothing is saved."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from sqlalchemy import select

from frontdesk.models import Funder
from frontdesk.services.setup import appointment_types, practitioners
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.appointment_types import TypesPage
from frontdesk.ui.settings.practitioners import PractitionersPage
from tests.ui.setup_support import button, in_dialog, type_into

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def funds(owner: ServiceContext) -> dict[str, str]:
    with owner.write("add funders") as s:
        rows = [Funder(kind="dva", name="DVA"), Funder(kind="health_fund", name="Bupa")]
        s.add_all(rows)
        s.flush()
        return {f.name: f.id for f in rows}


def _row(rows: Any, i: int) -> tuple[Any, tuple[Any, ...]]:
    _line, box, edits = rows.rows[i]
    return box, edits


def test_provider_numbers_per_funder(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus, funds: dict[str, str]
) -> None:
    page = PractitionersPage(owner, bus)
    qtbot.addWidget(page)
    page.show()
    errors: list[BaseException] = []
    said: list[str] = []

    def fill(d: Any) -> None:
        type_into(qtbot, d.first_name, "Priya")
        type_into(qtbot, d.last_name, "Shah")
        type_into(qtbot, d.provider_number, "2428841A")
        qtbot.mouseClick(d.funder_numbers.add, LEFT)
        box, (number,) = _row(d.funder_numbers, 0)
        box.setCurrentIndex(box.findText("DVA"))
        qtbot.mouseClick(button(d, "Save"), LEFT)  # no number typed yet
        label = d.findChild(QLabel, "error_funder_numbers")
        said.append(label.text() if label.isVisible() else "")
        assert d.isVisible()
        type_into(qtbot, number, "DVA-77")
        qtbot.mouseClick(button(d, "Save"), LEFT)
        assert not d.isVisible()

    in_dialog(fill, errors)
    qtbot.mouseClick(page.list.add, LEFT)
    assert not errors, errors
    assert said == ["Type the provider number."]
    (row,) = practitioners.list_practitioners(owner)
    numbers = practitioners.load_practitioner(owner, row.id).provider_numbers
    assert sorted((n.funder_id or "", n.number) for n in numbers) == [
        ("", "2428841A"), (funds["DVA"], "DVA-77"),
    ]  # fmt: skip


def test_item_numbers_and_prices_per_funder(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus, funds: dict[str, str]
) -> None:
    page = TypesPage(owner, bus)
    qtbot.addWidget(page)
    page.show()
    errors: list[BaseException] = []
    said: list[str] = []

    def fill(d: Any) -> None:
        type_into(qtbot, d.name, "Standard consultation")
        type_into(qtbot, d.price, "95.00")
        qtbot.mouseClick(d.funder_prices.add, LEFT)
        box, (item, price) = _row(d.funder_prices, 0)
        box.setCurrentIndex(box.findText("Bupa"))
        type_into(qtbot, item, "505")
        type_into(qtbot, price, "9x")
        qtbot.mouseClick(button(d, "Save"), LEFT)
        label = d.findChild(QLabel, "error_funder_prices")
        said.append(label.text() if label.isVisible() else "")
        type_into(qtbot, price, "88.50")
        qtbot.mouseClick(button(d, "Save"), LEFT)
        assert not d.isVisible()

    in_dialog(fill, errors)
    qtbot.mouseClick(page.list.add, LEFT)
    assert not errors, errors
    assert said and "not an amount" in said[0]
    (t,) = appointment_types.list_types(owner)
    assert t.price_cents == 9500
    assert appointment_types.funder_prices(owner, t.id) == (
        appointment_types.FunderPrice(funds["Bupa"], "505", 8850),
    )
    with owner.read() as s:
        assert len(s.scalars(select(Funder)).all()) == 2


def test_an_ndis_item_number_and_its_price_show_whole(
    qtbot: Any, owner: ServiceContext, bus: ChangeBus, funds: dict[str, str]
) -> None:
    """The claims walk's screenshot showed "1_3" and "3.99" for 15_055_0128_1_3 at 193.99: the
    item number and price fields were squeezed to a few characters."""
    page = TypesPage(owner, bus)
    qtbot.addWidget(page)
    page.show()
    errors: list[BaseException] = []
    seen: list[bool] = []

    def fill(d: Any) -> None:
        type_into(qtbot, d.name, "NDIS therapy session")
        type_into(qtbot, d.price, "193.99")
        qtbot.mouseClick(d.funder_prices.add, LEFT)
        qtbot.wait(20)
        _box, (item, price) = _row(d.funder_prices, 0)
        type_into(qtbot, item, "15_055_0128_1_3")
        type_into(qtbot, price, "193.99")
        qtbot.wait(20)
        for edit in (item, price):
            room = edit.contentsRect().width() - 8  # the frame's text margins
            seen.append(edit.fontMetrics().horizontalAdvance(edit.text()) <= room)

    in_dialog(fill, errors)
    qtbot.mouseClick(page.list.add, LEFT)
    assert not errors, errors
    assert seen == [True, True]
