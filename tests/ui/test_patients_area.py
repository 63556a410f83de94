"""The Patients area with real widgets: type into the search, open a card with Enter, edit in
place with validation, book from the card, duplicates and merge, import from CSV."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from frontdesk.services.patients import add_alert, create_patient
from frontdesk.store.context import ServiceContext
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.patients.dialogs import DuplicatesDialog, MergeDialog, NewPatientDialog
from frontdesk.ui.patients.import_dialog import ImportDialog
from frontdesk.ui.patients.page import PatientsPage


def _people(ctx: ServiceContext) -> dict[str, str]:
    a = create_patient(
        ctx,
        {
            "first_name": "Siobhán",
            "last_name": "O'Brien",
            "date_of_birth": date(1985, 7, 3),
            "mobile_phone": "0412 345 678",
        },
    )
    b = create_patient(ctx, {"first_name": "Bob", "last_name": "Lee"})
    add_alert(ctx, a.patient_id, "Latex allergy")
    return {"obrien": a.patient_id, "lee": b.patient_id}  # fmt: skip


def test_ctrl_f_types_search_and_enter_opens_card(
    qtbot, main_window: MainWindow, ctx: ServiceContext
) -> None:
    ids = _people(ctx)
    main_window.show_area("diary")
    qtbot.keyClick(main_window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert main_window.current_area() == "patients"
    page = main_window.pages["patients"]
    assert isinstance(page, PatientsPage)
    qtbot.waitUntil(page.search.box.hasFocus)
    qtbot.keyClicks(page.search.box, "o'bri")
    qtbot.waitUntil(lambda: page.search.results.model().rowCount() == 1)
    row = [page.search.results.model().index(0, c).data() for c in range(5)]
    assert row[0] == "Siobhán O'Brien" and row[2] == "0412 345 678"
    assert row[4] == "⚠"
    qtbot.keyClick(page.search.box, Qt.Key.Key_Return)
    assert page.card.patient_id == ids["obrien"]
    assert page.right.currentWidget() is page.card
    assert "O'Brien" in page.card.name.text()
    assert "Latex allergy" in page.card.alert_banner.text()
    qtbot.keyClicks(page.search.box, "\b" * 5 + "3/7/85")
    qtbot.waitUntil(lambda: page.search.results.model().rowCount() == 1)


def test_edit_in_place_validates_and_saves(
    qtbot, main_window: MainWindow, ctx: ServiceContext
) -> None:
    ids = _people(ctx)
    main_window.bus.navigate.emit("patients", {"open_patient": ids["lee"]})
    page = main_window.pages["patients"]
    assert isinstance(page, PatientsPage)
    card = page.card
    assert card.patient_id == ids["lee"]
    mobile = card.form.edits["mobile_phone"]
    mobile.clear()
    qtbot.keyClicks(mobile, "12345")
    assert card.save.isEnabled()
    assert not card.save_changes()
    assert "Mobile" in card.form.problems["mobile_phone"].text() and mobile.styleSheet()
    mobile.clear()
    qtbot.keyClicks(mobile, "+61 400 111 222")
    dob = card.form.edits["date_of_birth"]
    qtbot.keyClicks(dob, "3/7/85")
    assert card.save_changes()
    assert card.form.edits["mobile_phone"].text() == "0400 111 222"
    assert card.form.edits["date_of_birth"].text() == "03/07/1985"
    assert not card.save.isEnabled()


def test_book_from_card_goes_to_diary(qtbot, main_window: MainWindow, ctx: ServiceContext) -> None:
    ids = _people(ctx)
    page = main_window.show_area("patients")
    assert isinstance(page, PatientsPage)
    page.handle_navigation({"open_patient": ids["lee"]})
    with qtbot.waitSignal(main_window.bus.navigate) as blocker:
        qtbot.mouseClick(page.card.book, Qt.MouseButton.LeftButton)
    assert blocker.args == ["diary", {"book_for_patient": ids["lee"]}]
    assert main_window.current_area() == "diary"


def test_new_patient_dialog_duplicates_and_merge(qtbot, ctx: ServiceContext, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ids = _people(ctx)
    dialog = NewPatientDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert "First name is needed" in dialog.problems["first_name"].text()
    qtbot.keyClicks(dialog.edits["first_name"], "Siobhan")
    qtbot.keyClicks(dialog.edits["last_name"], "OBrien")
    qtbot.keyClicks(dialog.edits["mobile_phone"], "0412345678")
    asked: list[str] = []

    def answer_yes(_parent, _title, text, *_rest):  # type: ignore[no-untyped-def]
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer_yes)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert asked and "O'Brien" in asked[0]  # warned before the card was made
    assert dialog.created is not None
    assert [d.reason for d in dialog.created.duplicates] == ["same phone number"]
    dupes = DuplicatesDialog(ctx)
    qtbot.addWidget(dupes)
    assert dupes.list.topLevelItemCount() == 1
    dupes.list.setCurrentItem(dupes.list.topLevelItem(0))
    merge = MergeDialog(ctx, dupes.pairs[0])
    qtbot.addWidget(merge)
    assert merge.keep_other.isChecked()
    merge.do_merge()
    dupes.reload()
    assert dupes.list.topLevelItemCount() == 0 and dupes.empty.isVisibleTo(dupes)
    assert ids["obrien"] == dupes.pairs[0].other_id if dupes.pairs else True


def test_import_dialog_dry_run_then_import(qtbot, ctx: ServiceContext, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("First Name,Last Name,Mobile,Shoe size\nAnn,Lee,0412 345 678,9\n"
                    "Bo,,,\n", encoding="utf-8")  # fmt: skip
    dialog = ImportDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.path = path
    dialog.load_file()
    qtbot.waitUntil(lambda: dialog.table is not None)
    assert dialog.mapping() == {"first_name": 0, "last_name": 1, "mobile_phone": 2}
    assert dialog.preview.item(1, 0).text() == "Ann"
    dialog.start(dry=True)
    qtbot.waitUntil(lambda: not dialog.busy)
    assert "line 3: Last name is empty" in dialog.report.toPlainText()
    dialog.start(dry=False)
    qtbot.waitUntil(lambda: not dialog.busy)
    assert "nothing was imported" in dialog.report.toPlainText()
    path.write_text("First Name,Last Name\nAnn,Lee\nBo,Wu\n", encoding="utf-8")
    dialog.load_file()
    qtbot.waitUntil(lambda: dialog.table is not None and len(dialog.table.rows) == 2)
    dialog.start(dry=False)
    qtbot.waitUntil(lambda: not dialog.busy)
    assert "Imported 2 patients" in dialog.report.toPlainText()
    assert dialog.progress.value() == dialog.progress.maximum()
