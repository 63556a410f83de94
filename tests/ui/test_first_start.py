"""First start of a real clinic, no demo: on an empty data folder the owner's account is made,
the set-up opens over the main window, and is completed through its widgets (keyClicks and
mouseClicks); then an appointment is booked in the diary, checked out, and the invoice printed
to a PDF that is read back."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QMenu, QPushButton
from sqlalchemy import select

from frontdesk.domain.clock import FakeClock
from frontdesk.models import Appointment, Invoice
from frontdesk.paths import DeskPaths
from frontdesk.services import billing, patients, signin, staff
from frontdesk.services.documents.invoice import render_invoice
from frontdesk.services.setup import clinic as setup
from frontdesk.store.context import ServiceContext
from frontdesk.ui.billing.checkout import CheckoutDialog
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.diary.page import DiaryPage
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.setup_wizard import SetupWizard, offer_setup
from tests.ui.setup_support import button, in_dialog, type_into

# the offscreen platform cannot resize to size hints, raise a window or grab the keyboard for a
# menu; real platforms can
pytestmark = pytest.mark.qt_log_ignore(
    "This plugin does not support propagateSizeHints",
    "This plugin does not support raise",
    "This plugin does not support grabbing the keyboard",
)
FRIDAY = date(2026, 11, 27)  # the clock fixture: Friday 27/11/2026, 09:00 in Sydney
LEFT = Qt.MouseButton.LeftButton


def from_menu(qtbot: Any, page: DiaryPage, text: str, errors: list[BaseException]) -> None:
    """Open the appointment's menu from the keyboard (the Menu key) and choose ``text``."""

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(10, choose)
            return
        actions = [a for a in menu.actions() if a.text() == text]
        if not actions:
            errors.append(AssertionError([a.text() for a in menu.actions()]))
            menu.close()
            return
        menu.setActiveAction(actions[0])
        qtbot.keyClick(menu, Qt.Key.Key_Return)

    QTimer.singleShot(0, choose)
    qtbot.keyClick(page.view, Qt.Key.Key_Menu)
    assert not errors, errors


def add_through_dialog(
    qtbot: Any, opener: QPushButton, fill: Callable[[Any], None], save: str = "Save"
) -> None:
    errors: list[BaseException] = []

    def act(dialog: Any) -> None:
        fill(dialog)
        qtbot.mouseClick(button(dialog, save), LEFT)
        assert not dialog.isVisible(), [lb.text() for lb in dialog.findChildren(QLabel)]

    in_dialog(act, errors)
    qtbot.mouseClick(opener, LEFT)
    if errors:
        raise errors[0]


def test_a_new_clinic_sets_up_books_checks_out_and_prints(
    qtbot: Any, ctx: ServiceContext, desk_paths: DeskPaths, tmp_path: Path, clock: FakeClock
) -> None:
    # -- an empty data folder: the owner's account, then the main window as app.py builds it --
    assert not staff.has_staff(ctx)
    staff.create_first_owner(ctx, "owner", "Olive Owner", "correct horse")
    signin.sign_in(ctx, "owner", "correct horse")
    bus = ChangeBus()
    ctx.listeners.append(bus.publish)
    prefs = QSettings(str(desk_paths.config_file), QSettings.Format.IniFormat)
    window = MainWindow(ctx, bus, prefs)
    qtbot.addWidget(window)
    window.show()
    wizard = offer_setup(ctx, bus, window)
    assert isinstance(wizard, SetupWizard) and wizard.isVisible()

    # -- 1 clinic details: a wrong ABN is refused beside the field, then corrected --
    step = wizard.clinic
    type_into(qtbot, step.name, "Harbour Physio")
    type_into(qtbot, step.abn, "51 824 753 557")
    type_into(qtbot, step.address, "1 Main St, Manly NSW 2095")
    step.state.setCurrentIndex(step.state.findData("NSW"))
    qtbot.mouseClick(wizard.next, LEFT)
    error = step.findChild(QLabel, "error_business_number")
    assert error.isVisible() and "not a valid ABN" in error.text()
    assert wizard.key() == "clinic"
    type_into(qtbot, step.abn, "51824753556")
    qtbot.mouseClick(wizard.next, LEFT)
    assert wizard.key() == "locations"
    assert setup.load_profile(ctx).business_number == "51 824 753 556"

    # -- 2 a location and a room --
    places: Any = wizard.steps["locations"]
    add_through_dialog(qtbot, places.locations.add,
                       lambda d: type_into(qtbot, d.name, "Manly"))  # fmt: skip
    add_through_dialog(qtbot, places.rooms.add, lambda d: type_into(qtbot, d.name, "Room 1"))
    assert places.rooms.model.rows == [["Room 1", "Manly", "", "Yes"]]
    qtbot.mouseClick(wizard.next, LEFT)

    # -- 3 a practitioner (the first try without a last name is refused beside the field) --
    people: Any = wizard.steps["practitioners"]
    errors: list[BaseException] = []

    def refused(d: Any) -> None:
        type_into(qtbot, d.first_name, "Priya")
        qtbot.mouseClick(button(d, "Save"), LEFT)
        label = d.findChild(QLabel, "error_last_name")
        assert d.isVisible() and label.isVisible() and "name" in label.text()

    in_dialog(refused, errors)
    qtbot.mouseClick(people.list.add, LEFT)
    assert not errors, errors

    def practitioner(d: Any) -> None:
        type_into(qtbot, d.first_name, "Priya")
        type_into(qtbot, d.last_name, "Shah")
        type_into(qtbot, d.provider_number, "2428841A")
        d.room.setCurrentIndex(d.room.findText("Room 1 (Manly)"))

    add_through_dialog(qtbot, people.list.add, practitioner)
    assert [r[0] for r in people.list.model.rows] == ["Priya Shah"]
    qtbot.mouseClick(wizard.next, LEFT)

    # -- 4 hours: typed into the week grid, a bad break first --
    hours: Any = wizard.steps["hours"]
    assert hours.practitioner.currentText() == "Priya Shah"
    grid = hours.view

    def type_cell(row: int, column: int, text: str) -> None:
        grid.setFocus()
        grid.setCurrentIndex(hours.grid.index(row, column))
        qtbot.keyClick(grid, Qt.Key.Key_F2)
        (editor,) = [e for e in grid.findChildren(QLineEdit) if e.isVisible()]
        qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(editor, text)
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.wait(1)  # the closed editor is deleted later

    for day in range(5):
        type_cell(day, 1, "9-17")
    type_cell(0, 2, "17:30-18")  # a break after hours
    qtbot.mouseClick(hours.save, LEFT)
    assert "outside the hours" in hours.error.text() and hours.grid.error_row == 0
    type_cell(0, 2, "12:30-13")
    qtbot.mouseClick(hours.save, LEFT)
    assert hours.error.text().startswith("Saved"), hours.error.text()
    qtbot.mouseClick(wizard.next, LEFT)

    # -- 5 an appointment type with its price --
    kinds: Any = wizard.steps["types"]

    def appointment_type(d: Any) -> None:
        type_into(qtbot, d.name, "Standard consultation")
        d.profession.setCurrentText("Physiotherapy")
        type_into(qtbot, d.price, "95.00")

    add_through_dialog(qtbot, kinds.list.add, appointment_type)
    assert kinds.list.model.rows[0][:2] == ["Standard consultation", "30 min"]
    assert kinds.list.model.rows[0][4] == "95.00"

    # -- 6 staff (nothing to add), 7 ready: the diary opens --
    qtbot.mouseClick(wizard.next, LEFT)
    assert wizard.key() == "staff"
    qtbot.mouseClick(wizard.next, LEFT)
    assert "1 practitioner(s), 1 room(s), 1 appointment type(s)" in wizard.done_text.text()
    qtbot.mouseClick(wizard.next, LEFT)
    qtbot.waitUntil(lambda: not wizard.isVisible())
    assert setup.progress(ctx).completed
    qtbot.waitUntil(lambda: window.current_area() == "diary")

    # -- book today 10:00 through the diary's keyboard booking --
    patient = patients.create_patient(ctx, {"first_name": "Ana", "last_name": "Silva"})
    page = window.pages["diary"]
    assert isinstance(page, DiaryPage)
    page.controller.confirm = lambda text: False
    page.go_to(FRIDAY)
    qtbot.wait(10)
    assert [p.name for p in page.practitioners] == ["Priya Shah"]
    page.view.setFocus()
    page.view.set_cursor(0, 10 * 60)

    def booking(d: Any) -> None:
        qtbot.keyClicks(d.search, "Silva")
        qtbot.keyClick(d.search, Qt.Key.Key_Return)
        assert [d.type.itemText(i) for i in range(d.type.count())] == [
            "(no type)", "Standard consultation (30 min)",
        ]  # fmt: skip
        d.type.setCurrentIndex(1)
        qtbot.keyClick(d.type, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    in_dialog(booking, errors)
    qtbot.keyClick(page.view, Qt.Key.Key_Return)
    assert not errors, errors
    with ctx.read() as s:
        (appt,) = s.scalars(select(Appointment)).all()
        assert appt.patient_id == patient.patient_id and appt.appointment_type_id

    # -- the patient is seen: marked completed, then checked out from the appointment's menu
    # (opened with the Menu key), paid, and the invoice printed --
    def on_the_booking() -> bool:  # the diary redraws from each change notice
        page.view.set_cursor(0, 10 * 60)
        return page.view.selected_item() is not None

    qtbot.waitUntil(on_the_booking)
    clock.advance(timedelta(minutes=95))  # 10:35: the appointment is over
    from_menu(qtbot, page, "Mark completed", errors)
    with ctx.read() as s:
        assert s.get(Appointment, appt.id).status == "completed", page.banner.text()
    qtbot.waitUntil(on_the_booking)
    from_menu(qtbot, page, "Checkout…", errors)
    qtbot.waitUntil(lambda: page.findChild(CheckoutDialog) is not None)
    checkout = page.findChild(CheckoutDialog)
    assert checkout.amount.text() == "95.00"
    qtbot.mouseClick(checkout.pay_button, LEFT)
    assert "Receipt" in checkout.status.text() and "is ready" in checkout.status.text()

    printed = tmp_path / "printed-invoice.pdf"

    def to_pdf(d: Any) -> None:
        assert isinstance(d, QPrintDialog)
        d.printer().setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        d.printer().setOutputFileName(str(printed))
        d.done(QPrintDialog.DialogCode.Accepted)  # as Print does, keeping this printer's file

    in_dialog(to_pdf, errors)
    qtbot.mouseClick(checkout.print_invoice, LEFT)
    assert not errors, errors
    assert len(PdfReader(printed).pages) == 1
    with ctx.read() as s:
        (invoice,) = s.scalars(select(Invoice)).all()
    text = PdfReader(io.BytesIO(render_invoice(billing.invoice_view(ctx, invoice.id))))
    words = text.pages[0].extract_text()
    assert "Harbour Physio" in words and "51 824 753 556" in words
    assert "Standard consultation" in words and "95.00" in words and "Ana Silva" in words
