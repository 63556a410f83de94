"""Billing's lists are models updated by row from change notices: a payment taken elsewhere
changes the one row it touched (no refill of the list, no ResizeToContents), and what the
receptionist had selected stays selected."""

from __future__ import annotations

import pytest
from billing_world import World, make_world
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QHeaderView

from frontdesk.services import billing
from frontdesk.store.context import ServiceContext
from frontdesk.ui.billing import BillingArea


@pytest.fixture
def world(ctx: ServiceContext) -> World:
    return make_world(ctx, appointments=4)


def _cell(view, row: int, column: int) -> str:  # type: ignore[no-untyped-def]
    return str(view.model().index(row, column).data())


def test_a_payment_updates_one_invoice_row_and_keeps_the_selection(
    qtbot, ctx: ServiceContext, world: World, main_window
) -> None:  # type: ignore[no-untyped-def]
    invoices = []
    for appt in world.appointments:
        inv = billing.invoice_from_appointment(ctx, appt)
        billing.issue_invoice(ctx, inv)
        invoices.append(inv)
    page = main_window.show_area("billing")
    assert isinstance(page, BillingArea)
    view = page.invoices.table
    qtbot.waitUntil(lambda: view.model().rowCount() == 4)
    qtbot.wait(50)  # the notices of the set-up are delivered (queued on the bus)
    header = view.horizontalHeader()
    modes = {header.sectionResizeMode(c) for c in range(header.count())}
    assert QHeaderView.ResizeMode.ResizeToContents not in modes
    numbers = [_cell(view, r, 0) for r in range(4)]
    assert numbers == ["INV-000004", "INV-000003", "INV-000002", "INV-000001"]

    # The receptionist clicks the third row (INV-000002)…
    rect = view.visualRect(view.model().index(2, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.invoices.selected_id() == invoices[1]

    # …while another payment comes in for INV-000004.
    resets: list[int] = []
    changed: list[tuple[int, int]] = []
    model = page.invoices.model
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda a, b, _roles=(): changed.append((a.row(), b.row())))
    billing.take_payment(ctx, method="cash", amount_cents=9500, invoice_ids=[invoices[3]])
    qtbot.waitUntil(lambda: _cell(view, 0, 7) == "$0.00")
    assert resets == [] and changed == [(0, 0)]
    assert page.invoices.selected_id() == invoices[1]
    assert "owing $285.00" in page.invoices.summary.text()

    # A new draft appears at the top (drafts first), without a refill; a voided invoice
    # leaves an "issued only" list by row.
    draft = billing.create_draft(ctx, billing.DraftHeader(patient_id=world.patient), [])
    qtbot.waitUntil(lambda: model.rowCount() == 5)
    assert _cell(view, 0, 0) == "Draft" and model.row(0).id == draft
    assert resets == []
    assert page.invoices.selected_id() == invoices[1]
    page.invoices.status.setCurrentIndex(page.invoices.status.findData("issued"))
    assert model.rowCount() == 4
    billing.void_invoice(ctx, invoices[0], "entered twice")
    qtbot.waitUntil(lambda: model.rowCount() == 3)
    assert [_cell(view, r, 0) for r in range(3)] == ["INV-000004", "INV-000003", "INV-000002"]


def test_clicking_a_header_sorts_the_invoice_list(
    qtbot, ctx: ServiceContext, world: World, main_window
) -> None:  # type: ignore[no-untyped-def]
    for appt in world.appointments[:3]:
        inv = billing.invoice_from_appointment(ctx, appt)
        billing.issue_invoice(ctx, inv)
    page = main_window.show_area("billing")
    view = page.invoices.table
    qtbot.waitUntil(lambda: view.model().rowCount() == 3)
    header = view.horizontalHeader()
    mid = QPoint(header.sectionViewportPosition(0) + header.sectionSize(0) // 2,
                 header.height() // 2)  # fmt: skip
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=mid)
    once = [_cell(view, r, 0) for r in range(3)]
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=mid)
    twice = [_cell(view, r, 0) for r in range(3)]
    assert {tuple(once), tuple(twice)} == {
        ("INV-000001", "INV-000002", "INV-000003"),
        ("INV-000003", "INV-000002", "INV-000001"),
    }


def test_patient_results_update_by_row_and_keep_the_highlight(
    qtbot, ctx: ServiceContext, main_window
) -> None:  # type: ignore[no-untyped-def]
    from frontdesk.services.patients.records import create_patient, update_patient

    first = create_patient(ctx, {"first_name": "Sam", "last_name": "Smith"}).patient_id
    second = create_patient(ctx, {"first_name": "Sue", "last_name": "Smith"}).patient_id
    page = main_window.show_area("patients")
    box = page.search.box
    box.setFocus()
    qtbot.keyClicks(box, "smith")
    view = page.search.results
    qtbot.waitUntil(lambda: view.model().rowCount() == 2)
    qtbot.wait(50)
    header = view.horizontalHeader()
    modes = {header.sectionResizeMode(c) for c in range(header.count())}
    assert QHeaderView.ResizeMode.ResizeToContents not in modes
    qtbot.keyClick(box, Qt.Key.Key_Down)
    assert page.search.current_id() == second and first != second
    resets: list[int] = []
    page.search.model.modelReset.connect(lambda: resets.append(1))
    update_patient(ctx, second, {"mobile_phone": "0400 999 888"})  # another desk's edit
    qtbot.waitUntil(lambda: _cell(view, 1, 2) == "0400 999 888")
    assert resets == [] and page.search.current_id() == second
