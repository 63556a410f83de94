"""The new-patient form (issue 14 item 8): every problem at once beside its field with the first
bad field focused, Sex from a list, and the duplicate warning before a card is created."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from frontdesk.domain.errors import FieldProblems
from frontdesk.models import Patient
from frontdesk.services.patients import create_patient
from frontdesk.store.context import ServiceContext
from frontdesk.ui.patients.dialogs import NewPatientDialog


def _count(ctx: ServiceContext) -> int:
    with ctx.read() as s:
        return s.query(Patient).count()


def _dialog(qtbot, ctx: ServiceContext):  # type: ignore[no-untyped-def]
    dialog = NewPatientDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    return dialog, save


def test_all_problems_at_once_beside_their_fields(qtbot, ctx: ServiceContext) -> None:  # type: ignore[no-untyped-def]
    dialog, save = _dialog(qtbot, ctx)
    qtbot.keyClicks(dialog.edits["last_name"], "Lee")
    qtbot.keyClicks(dialog.edits["date_of_birth"], "31/02/1990")
    qtbot.keyClicks(dialog.edits["mobile_phone"], "12")
    qtbot.keyClicks(dialog.edits["email"], "not-an-email")
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    shown = {f for f, label in dialog.problems.items() if label.isVisible()}
    assert shown == {"first_name", "date_of_birth", "mobile_phone", "email"}
    assert "First name is needed" in dialog.problems["first_name"].text()
    assert dialog.focusWidget() is dialog.edits["first_name"]
    assert _count(ctx) == 0 and dialog.isVisible()
    # Fixing them all in one go saves on the next press.
    qtbot.keyClicks(dialog.edits["first_name"], "Ann")
    for field, text in (("date_of_birth", "28/02/1990"), ("mobile_phone", "0412 345 678"),
                        ("email", "ann@example.com")):  # fmt: skip
        dialog.edits[field].selectAll()
        qtbot.keyClicks(dialog.edits[field], text)
    dialog.sex.setFocus()
    qtbot.keyClick(dialog.sex, Qt.Key.Key_Down)  # — → Female
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert dialog.created is not None and _count(ctx) == 1
    with ctx.read() as s:
        p = s.get(Patient, dialog.created.patient_id)
        assert p is not None and p.sex == "Female"


def test_sex_is_a_choice_not_free_text(ctx: ServiceContext) -> None:
    with pytest.raises(FieldProblems) as refused:
        create_patient(ctx, {"first_name": "Bo", "last_name": "Li", "sex": "banana",
                             "email": "nope"})  # fmt: skip
    assert set(refused.value.problems) == {"sex", "email"}
    made = create_patient(ctx, {"first_name": "Bo", "last_name": "Li", "sex": "not stated"})
    with ctx.read() as s:
        p = s.get(Patient, made.patient_id)
        assert p is not None and p.sex == "Not stated"


def test_duplicate_warning_comes_before_the_card_is_created(
    qtbot, ctx: ServiceContext, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    create_patient(ctx, {"first_name": "Ann", "last_name": "Lee", "mobile_phone": "0412345678"})
    dialog, save = _dialog(qtbot, ctx)
    qtbot.keyClicks(dialog.edits["first_name"], "Anne")
    qtbot.keyClicks(dialog.edits["last_name"], "Lee")
    qtbot.keyClicks(dialog.edits["mobile_phone"], "0412 345 678")
    seen: list[int] = []

    def answer_no(*_a):  # type: ignore[no-untyped-def]
        seen.append(_count(ctx))
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer_no)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert seen == [1] and _count(ctx) == 1 and dialog.created is None and dialog.isVisible()


def test_switching_areas_with_unsaved_card_edits_asks(
    qtbot, ctx: ServiceContext, main_window, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    lee = create_patient(ctx, {"first_name": "Bob", "last_name": "Lee"}).patient_id
    main_window.bus.navigate.emit("patients", {"open_patient": lee})
    page = main_window.pages["patients"]
    mobile = page.card.form.edits["mobile_phone"]
    qtbot.keyClicks(mobile, "0400 111 222")
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save]
    asked: list[str] = []

    def answer(_parent, _title, text, *_rest):  # type: ignore[no-untyped-def]
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", answer)
    diary_row = next(i for i, a in enumerate(main_window.areas) if a.key == "diary")
    rect = main_window.nav.visualItemRect(main_window.nav.item(diary_row))
    qtbot.mouseClick(main_window.nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert asked and "leaving Patients" in asked[0]
    assert main_window.current_area() == "patients" and mobile.text() == "0400 111 222"
    qtbot.mouseClick(main_window.nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert main_window.current_area() == "diary" and len(asked) == 2
    with ctx.read() as s:
        p = s.get(Patient, lee)
        assert p is not None and p.mobile_phone == "0400 111 222"


def test_the_card_shows_every_problem_beside_its_field(
    qtbot, ctx: ServiceContext, main_window
) -> None:  # type: ignore[no-untyped-def]
    lee = create_patient(ctx, {"first_name": "Bob", "last_name": "Lee"}).patient_id
    main_window.bus.navigate.emit("patients", {"open_patient": lee})
    card = main_window.pages["patients"].card
    edits = card.form.edits
    for field, text in (("sex", "banana"), ("mobile_phone", "12"), ("email", "bob@"),
                        ("ndis_number", "123")):  # fmt: skip
        qtbot.keyClicks(edits[field], text)
    qtbot.mouseClick(card.save, Qt.MouseButton.LeftButton)
    shown = {f for f, label in card.form.problems.items() if label.isVisibleTo(card.form)}
    assert shown == {"sex", "mobile_phone", "email", "ndis_number"}
    assert "Sex: choose" in card.form.problems["sex"].text()
    assert card.form.focusWidget() is edits["sex"]  # the first bad field, in form order
    with ctx.read() as s:
        p = s.get(Patient, lee)
        assert p is not None and p.sex == "" and p.mobile_phone == ""
