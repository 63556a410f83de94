"""The diary under the mouse: real drags on the viewport to another time, practitioner and day,
resizing, Escape, the clash ghost, drag-to-book, series moves, and undo of each."""

from __future__ import annotations

from datetime import timedelta

from diary_clinic import MONDAY, Clinic
from diary_ui_support import book, drag, placement, point, show_day, when_dialog_opens
from PySide6.QtCore import QPointF, Qt

from frontdesk.models import Appointment
from frontdesk.services import diary
from frontdesk.services.diary import BookingRequest
from frontdesk.ui.diary.page import DiaryPage


def test_drag_moves_to_other_time_and_practitioner_then_undo(qtbot, page: DiaryPage,
                                                             clinic: Clinic) -> None:  # fmt: skip
    a = book(clinic, MONDAY, 9)
    show_day(qtbot, page, MONDAY)
    assert a in page.scene.items_by_id
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), point(page, 1, 10 * 60 + 40))
    assert placement(clinic.ctx, a) == (clinic.ben, "Mon 10:30", "11:00", "booked")
    qtbot.waitUntil(lambda: page.scene.items_by_id.get(a) is not None
                    and page.scene.items_by_id[a].appt.practitioner_id == clinic.ben)  # fmt: skip
    page.undo_action.trigger()
    assert placement(clinic.ctx, a) == (clinic.anna, "Mon 09:00", "09:30", "booked")
    page.redo_action.trigger()
    assert placement(clinic.ctx, a)[:2] == (clinic.ben, "Mon 10:30")


def test_resize_bottom_edge_then_undo(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    a = book(clinic, MONDAY, 9)
    show_day(qtbot, page, MONDAY)
    lay = page.layout_
    assert lay is not None
    edge = page.view.mapFromScene(QPointF(lay.column_width / 2, lay.y_of(9 * 60 + 30) - 2))
    drag(qtbot, page, edge, point(page, 0, 10 * 60 + 2))
    assert placement(clinic.ctx, a) == (clinic.anna, "Mon 09:00", "10:00", "booked")
    page.undo_action.trigger()
    assert placement(clinic.ctx, a)[2] == "09:30"


def test_escape_cancels_a_drag(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    a = book(clinic, MONDAY, 9)
    show_day(qtbot, page, MONDAY)
    end = point(page, 1, 11 * 60)
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), end, release=False)
    assert page.scene.ghost.isVisible()
    qtbot.keyClick(page.view, Qt.Key.Key_Escape)
    assert not page.scene.ghost.isVisible()
    qtbot.mouseRelease(page.view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert placement(clinic.ctx, a) == (clinic.anna, "Mon 09:00", "09:30", "booked")
    assert page.controller.undo_stack.count() == 0


def test_ghost_shows_clash_before_drop_and_declining_changes_nothing(
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:  # type: ignore[no-untyped-def]
    a = book(clinic, MONDAY, 9)
    book(clinic, MONDAY, 10, who=clinic.ben, patient=clinic.other)
    show_day(qtbot, page, MONDAY)
    asked: list[str] = []
    page.controller.confirm = lambda text: asked.append(text) or False  # type: ignore[func-returns-value]
    end = point(page, 1, 10 * 60 + 10)
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), end, release=False)
    ghost = page.scene.ghost
    assert ghost.verdict == "warn" and "already has an appointment" in ghost.text
    qtbot.mouseMove(page.view.viewport(), pos=point(page, 1, 12 * 60 + 40))
    assert ghost.verdict == "block" and "Lunch" in ghost.text
    qtbot.mouseMove(page.view.viewport(), pos=end)
    qtbot.mouseRelease(page.view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert asked and "Book it anyway" in asked[0]
    assert placement(clinic.ctx, a)[:2] == (clinic.anna, "Mon 09:00")
    assert "Nothing was changed" in page.banner.text()


def test_drop_outside_roster_is_refused_with_a_message(qtbot, page: DiaryPage,
                                                       clinic: Clinic) -> None:  # fmt: skip
    a = book(clinic, MONDAY, 9)
    show_day(qtbot, page, MONDAY)
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), point(page, 0, 17 * 60 + 40))
    assert placement(clinic.ctx, a)[1] == "Mon 09:00"
    assert "rostered hours" in page.banner.text()


def test_series_drag_moves_this_and_following(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    from frontdesk.services.diary.series import book_series, plan_series, series_members

    start = clinic.at(MONDAY, 9)
    req = BookingRequest(clinic.anna, start, start + timedelta(minutes=30), clinic.pat,
                         clinic.standard)  # fmt: skip
    plan = plan_series(clinic.ctx, req, count=3)
    series_id, _ids = book_series(clinic.ctx, req, [(o.start, o.end) for o in plan], count=3)
    show_day(qtbot, page, MONDAY)
    page.controller.choose_scope = lambda what: "following"
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), point(page, 0, 10 * 60 + 10))
    times = [s.astimezone(clinic.ctx.tz).strftime("%a %H:%M") for _, s, _ in
             series_members(clinic.ctx, series_id)]  # fmt: skip
    assert times == ["Mon 10:00"] * 3
    page.undo_action.trigger()
    times = [s.astimezone(clinic.ctx.tz).strftime("%H:%M") for _, s, _ in
             series_members(clinic.ctx, series_id)]  # fmt: skip
    assert times == ["09:00"] * 3


def test_drag_over_empty_slots_books_that_time(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    show_day(qtbot, page, MONDAY)
    seen: list[tuple[str, int]] = []

    def book_pat(dialog) -> None:  # type: ignore[no-untyped-def]
        seen.append((dialog.time.time().toString("HH:mm"), dialog.minutes.value()))
        qtbot.keyClicks(dialog.search, "Patient")
        qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
        qtbot.keyClick(dialog.type, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    when_dialog_opens(book_pat)
    drag(qtbot, page, point(page, 1, 14 * 60 + 2), point(page, 1, 15 * 60))
    assert seen == [("14:00", 60)]
    with clinic.ctx.read() as s:
        (appt,) = s.query(Appointment).all()
        assert (appt.practitioner_id, appt.patient_id) == (clinic.ben, clinic.pat)
        assert appt.ends_at - appt.starts_at == timedelta(hours=1)


def test_ctrl_down_jumps_between_appointments(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    first = book(clinic, MONDAY, 9)
    second = book(clinic, MONDAY, 14)
    show_day(qtbot, page, MONDAY)
    page.view.setFocus()
    page.view.set_cursor(0, 8 * 60)
    qtbot.keyClick(page.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert page.view.selected_item().appt.id == first  # type: ignore[union-attr]
    qtbot.keyClick(page.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert page.view.selected_item().appt.id == second  # type: ignore[union-attr]
    qtbot.keyClick(page.view, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert page.view.selected_item().appt.id == first  # type: ignore[union-attr]


def test_week_view_drag_moves_to_another_day(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    a = book(clinic, MONDAY, 9)
    page.go_to(MONDAY)
    page.toolbar.mode_box.setCurrentIndex(1)
    page.view.verticalScrollBar().setValue(0)
    page.view.horizontalScrollBar().setValue(0)
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), point(page, 2, 11 * 60 + 10))
    assert placement(clinic.ctx, a) == (clinic.anna, "Wed 11:00", "11:30", "booked")


def test_a_change_from_elsewhere_waits_for_the_drag_to_end(qtbot, page: DiaryPage,
                                                           clinic: Clinic) -> None:  # fmt: skip
    a = book(clinic, MONDAY, 9)
    show_day(qtbot, page, MONDAY)
    dragged = page.scene.items_by_id[a]
    end = point(page, 0, 10 * 60 + 10)
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), end, release=False)
    other = book(clinic, MONDAY, 15, who=clinic.ben)  # e.g. another desk, through sync
    qtbot.wait(20)
    assert page.scene.items_by_id[a] is dragged and other not in page.scene.items_by_id
    qtbot.mouseRelease(page.view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    qtbot.waitUntil(lambda: other in page.scene.items_by_id)
    assert placement(clinic.ctx, a)[1] == "Mon 10:00"


def test_room_columns_move_and_preview_a_busy_room(qtbot, page: DiaryPage, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    start = clinic.at(MONDAY, 9)
    in_room = diary.book(clinic.ctx, BookingRequest(clinic.anna, start, start + timedelta(
        minutes=30), clinic.pat, clinic.standard, room_id=clinic.room))  # fmt: skip
    loose = book(clinic, MONDAY, 9, who=clinic.ben, patient=clinic.other)
    page.set_by_room(True)
    show_day(qtbot, page, MONDAY)
    lay = page.layout_
    assert lay is not None and [c.title for c in lay.columns] == ["Room 1", "No room"]
    assert {in_room, loose} <= set(page.scene.items_by_id)
    # Ben's appointment dragged into Room 1 while Anna has it: the ghost says the room is in use
    drag(qtbot, page, point(page, 1, 9 * 60 + 10), point(page, 0, 9 * 60 + 10), release=False)
    assert page.scene.ghost.verdict == "block" and "room" in page.scene.ghost.text
    qtbot.keyClick(page.view, Qt.Key.Key_Escape)
    qtbot.mouseRelease(page.view.viewport(), Qt.MouseButton.LeftButton,
                       pos=point(page, 0, 9 * 60 + 10))  # fmt: skip
    # Anna's appointment taken out of the room, then the undo puts it back
    drag(qtbot, page, point(page, 0, 9 * 60 + 10, dx=0.25), point(page, 1, 11 * 60 + 10))
    with clinic.ctx.read() as s:
        moved = s.get(Appointment, in_room)
        assert moved is not None and moved.room_id is None
        assert moved.practitioner_id == clinic.anna
    page.undo_action.trigger()
    with clinic.ctx.read() as s:
        back = s.get(Appointment, in_room)
        assert back is not None and back.room_id == clinic.room


def test_items_are_reused_between_days_and_spares_stay_out_of_reach(
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:  # type: ignore[no-untyped-def]
    busy = [book(clinic, MONDAY, 9), book(clinic, MONDAY, 10), book(clinic, MONDAY, 11)]
    quiet = book(clinic, MONDAY + timedelta(days=1), 14, minutes=60)
    show_day(qtbot, page, MONDAY)
    assert set(page.scene.items_by_id) == set(busy)
    page.scene.items_by_id[busy[0]].setSelected(True)
    before = set(map(id, page.scene.items_by_id.values()))
    show_day(qtbot, page, MONDAY + timedelta(days=1))
    (item,) = page.scene.items_by_id.values()
    assert id(item) in before and item.appt.id == quiet  # the same item, now the new booking
    assert item.time_label == "14:00–15:00" and item.boundingRect().height() > 90
    assert page.view.selected_item() is None  # nothing selected carries over to the new day
    lay = page.layout_
    assert lay is not None
    x = lay.x_of(lay.index_of(clinic.anna, MONDAY + timedelta(days=1)) or 0) + 20
    for minute in (9 * 60 + 10, 10 * 60 + 10, 11 * 60 + 10):  # where the spares last were
        assert page.scene.appointment_at(QPointF(x, lay.y_of(minute))) is None
    assert page.scene.appointment_at(QPointF(x, lay.y_of(14 * 60 + 30))) is item
    show_day(qtbot, page, MONDAY)
    assert set(page.scene.items_by_id) == set(busy)
    assert all(i.isVisible() for i in page.scene.items_by_id.values())


def _more_rooms(clinic: Clinic, *names: str) -> list[str]:
    """Rooms beside the test clinic's Room 1, in the same location, in the order given."""
    from frontdesk.models import Room

    with clinic.ctx.write("more rooms") as s:
        room1 = s.get(Room, clinic.room)
        assert room1 is not None
        rooms = [Room(location_id=room1.location_id, name=name, overlap_policy="block",
                      sort_order=i + 2) for i, name in enumerate(names)]  # fmt: skip
        s.add_all(rooms)
        s.flush()
        return [r.id for r in rooms]


def test_moving_to_another_practitioner_takes_their_rostered_or_a_free_room(
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:  # type: ignore[no-untyped-def]
    from frontdesk.models import RosterEntry

    r2, r3 = _more_rooms(clinic, "Room 2", "Room 3")
    start = clinic.at(MONDAY, 9)
    mine = diary.book(clinic.ctx, BookingRequest(clinic.anna, start, start + timedelta(
        minutes=30), clinic.pat, clinic.standard, room_id=clinic.room))  # fmt: skip
    at_11 = clinic.at(MONDAY, 11)
    later = BookingRequest(clinic.anna, at_11, at_11 + timedelta(minutes=30), clinic.other,
                           clinic.standard, room_id=clinic.room)  # fmt: skip
    diary.book(clinic.ctx, later)
    show_day(qtbot, page, MONDAY)
    # Ben has no rostered room and Anna uses Room 1 at 11:00: the first free room.
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), point(page, 1, 11 * 60 + 10), release=False)
    ghost = page.scene.ghost
    assert ghost.verdict == "ok" and "Room: Room 2 (free)" in ghost.text, ghost.text
    qtbot.mouseRelease(page.view.viewport(), Qt.MouseButton.LeftButton,
                       pos=point(page, 1, 11 * 60 + 10))  # fmt: skip
    with clinic.ctx.read() as s:
        moved = s.get(Appointment, mine)
        assert moved is not None and (moved.practitioner_id, moved.room_id) == (clinic.ben, r2)
    assert "Ben Brown" in page.banner.text() and "Room 2" in page.banner.text()
    page.undo_action.trigger()
    # Ben's Monday roster puts him in Room 3: a move to him takes that room.
    with clinic.ctx.write("Ben works in Room 3") as s:
        for entry in s.query(RosterEntry).filter_by(practitioner_id=clinic.ben, kind="work"):
            entry.room_id = r3
    page.reload()
    show_day(qtbot, page, MONDAY)
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), point(page, 1, 14 * 60 + 10), release=False)
    assert "Room: Room 3 (Ben Brown's rostered room)" in ghost.text, ghost.text
    qtbot.mouseRelease(page.view.viewport(), Qt.MouseButton.LeftButton,
                       pos=point(page, 1, 14 * 60 + 10))  # fmt: skip
    with clinic.ctx.read() as s:
        moved = s.get(Appointment, mine)
        assert moved is not None and (moved.practitioner_id, moved.room_id) == (clinic.ben, r3)


def test_the_room_can_be_changed_from_the_appointment_menu(
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:  # type: ignore[no-untyped-def]
    a = book(clinic, MONDAY, 9)
    show_day(qtbot, page, MONDAY)
    item = page.scene.items_by_id[a]
    menu = page.menus.build_menu(item, None)
    (rooms,) = [act.menu() for act in menu.actions() if act.text() == "Room"]
    assert [x.text() for x in rooms.actions()] == ["No room", "Room 1"]
    assert rooms.actions()[0].isChecked()
    rooms.actions()[1].trigger()
    with clinic.ctx.read() as s:
        moved = s.get(Appointment, a)
        assert moved is not None and moved.room_id == clinic.room


def test_dragging_from_the_waitlist_previews_the_slot_and_does_not_scroll(
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QMimeData
    from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent
    from PySide6.QtWidgets import QApplication

    from frontdesk.services.diary import groups
    from frontdesk.ui.diary.panels import WAITLIST_MIME

    entry = groups.add_to_waitlist(clinic.ctx, clinic.other)
    page.go_to(MONDAY)
    page.toolbar.mode_box.setCurrentIndex(1)  # the week: columns to scroll sideways
    page.resize(700, 700)
    qtbot.wait(20)
    vp = page.view.viewport()
    data = QMimeData()
    data.setData(WAITLIST_MIME, entry.encode())
    move = Qt.DropAction.MoveAction
    no_mods = Qt.KeyboardModifier.NoModifier
    at = point(page, 1, 10 * 60 + 5)
    QApplication.sendEvent(vp, QDragEnterEvent(at, move, data, Qt.MouseButton.LeftButton, no_mods))
    scrolled = page.view.horizontalScrollBar().value()
    for column in (1, 2):
        at = point(page, column, 10 * 60 + 5)
        QApplication.sendEvent(vp, QDragMoveEvent(at, move, data, Qt.MouseButton.LeftButton,
                                                  no_mods))  # fmt: skip
    ghost = page.scene.ghost
    assert ghost.isVisible() and "10:00–10:30" in ghost.text
    assert page.view.horizontalScrollBar().value() == scrolled
    QApplication.sendEvent(vp, QDragLeaveEvent())
    assert not ghost.isVisible()


def test_r_while_dragging_chooses_the_room_in_the_same_gesture(
    qtbot, page: DiaryPage, clinic: Clinic
) -> None:  # type: ignore[no-untyped-def]
    (r2,) = _more_rooms(clinic, "Room 2")
    start = clinic.at(MONDAY, 9)
    mine = diary.book(clinic.ctx, BookingRequest(clinic.anna, start, start + timedelta(
        minutes=30), clinic.pat, clinic.standard, room_id=clinic.room))  # fmt: skip
    show_day(qtbot, page, MONDAY)
    end = point(page, 1, 11 * 60 + 10)
    drag(qtbot, page, point(page, 0, 9 * 60 + 10), end, release=False)
    ghost = page.scene.ghost
    assert "Room: Room 1 (stays)" in ghost.text, ghost.text
    qtbot.keyClick(page.view, Qt.Key.Key_R)
    assert "Room: Room 2 (chosen with R)" in ghost.text, ghost.text
    qtbot.mouseRelease(page.view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    with clinic.ctx.read() as s:
        moved = s.get(Appointment, mine)
        assert moved is not None and (moved.practitioner_id, moved.room_id) == (clinic.ben, r2)
