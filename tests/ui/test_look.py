"""The look (issue 14 item 10): one icon set shipped with the app (Lucide SVGs and their licence in
``frontdesk/resources/icons``) in place of Qt's old standard icons, one stylesheet from the
package's resources, and every area fitting a 1280 × 720 window (the size of 1920 × 1080 at
150 %) with nothing squeezed below the size it needs to show its text."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from diary_clinic import MONDAY, Clinic, make_clinic
from PySide6.QtCore import QSettings, QSize
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QApplication,
    QLabel,
    QLineEdit,
    QMessageBox,
    QStyle,
    QTableView,
    QWidget,
)

from frontdesk.models import Patient
from frontdesk.paths import DeskPaths
from frontdesk.services import diary
from frontdesk.services.diary import BookingRequest
from frontdesk.store.context import ServiceContext
from frontdesk.ui import icons
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.diary.page import DiaryPage
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.style import stylesheet

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


def _ink(image: QImage) -> list[QColor]:
    """The visible pixels of an icon."""
    return [
        image.pixelColor(x, y)
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() > 200
    ]


def _same_image(a: QImage, b: QImage) -> bool:
    return a.convertToFormat(QImage.Format.Format_ARGB32) == b.convertToFormat(
        QImage.Format.Format_ARGB32
    )


def test_every_icon_is_shipped_with_its_licence_and_draws() -> None:
    folder = icons.icons_dir()
    assert (folder / "LICENSE-lucide.txt").read_text().startswith("ISC License")
    for name, (file, _color) in icons.NAMES.items():
        assert (folder / f"{file}.svg").is_file(), name
        image = icons.icon(name).pixmap(QSize(48, 48)).toImage()
        ink = _ink(image)
        # a line icon: some ink, most of the square left clear (Qt's were filled balls)
        assert 20 < len(ink) < 0.45 * 48 * 48, (name, len(ink))
    with pytest.raises(KeyError):
        icons.icon("no-such-icon")


def test_message_boxes_and_dialog_buttons_use_the_app_icons(qapp: QApplication, qtbot) -> None:  # type: ignore[no-untyped-def]
    style = qapp.style()
    assert style.styleHint(QStyle.StyleHint.SH_DialogButtonBox_ButtonsHaveIcons) == 0
    for which, ours in (
        (QStyle.StandardPixmap.SP_DialogOkButton, "ok"),
        (QStyle.StandardPixmap.SP_DialogCancelButton, "cancel"),
        (QStyle.StandardPixmap.SP_MessageBoxCritical, "error"),
    ):
        got = style.standardIcon(which).pixmap(QSize(32, 32)).toImage()
        assert _same_image(got, icons.icon(ours).pixmap(QSize(32, 32)).toImage()), ours

    box = QMessageBox(QMessageBox.Icon.Warning, "Move", "The room is already in use.")
    qtbot.addWidget(box)
    box.show()
    shown = box.iconPixmap().toImage()
    ink = _ink(shown)
    assert ink, "the warning shows an icon"
    orange = QColor(icons.WARNING)
    # all of it the one warning colour (Qt's own is a filled yellow triangle with a black mark)
    near = [c for c in ink if abs(c.hue() - orange.hue()) < 12 and c.saturation() > 150]
    assert len(near) > 0.9 * len(ink)
    assert len(ink) < 0.45 * shown.width() * shown.height()


def test_the_stylesheet_is_the_packaged_one_and_its_images_exist(qapp: QApplication) -> None:
    sheet = stylesheet()
    assert qapp.styleSheet() == sheet
    assert "@" not in re.sub(r"/\*.*?\*/", "", sheet, flags=re.S)  # every placeholder filled
    urls = re.findall(r'url\("([^"]+)"\)', sheet)
    assert urls
    for url in urls:
        assert Path(url).is_file(), url


def _squeezed(root: QWidget) -> list[str]:
    """Visible widgets laid out narrower than they need to show their text (so it is cut)."""
    found = []
    for w in [root, *root.findChildren(QWidget)]:
        if not w.isVisibleTo(root) or w.minimumWidth() > 0:
            continue
        if isinstance(w, QLabel) and w.wordWrap():
            continue
        parent = w.parentWidget()
        if parent is not None and isinstance(parent.parentWidget(), QAbstractScrollArea):
            continue  # a scrolled page may be wider than its window: it scrolls
        need = w.minimumSizeHint().width()
        if need > 0 and w.width() < need:
            found.append(f"{type(w).__name__} {w.objectName()!r} {w.width()} < {need}")
    return found


@pytest.fixture
def clinic(ctx: ServiceContext) -> Clinic:
    return make_clinic(ctx)


@pytest.fixture
def window(
    qtbot, ctx: ServiceContext, bus: ChangeBus, desk_paths: DeskPaths, clinic: Clinic
) -> MainWindow:  # type: ignore[no-untyped-def]
    """The main window of a small clinic (two practitioners), 1280 × 720."""
    w = MainWindow(ctx, bus, QSettings(str(desk_paths.config_file), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_every_area_fits_a_1280_by_720_window(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    for area in window.areas:
        page = window.show_area(area.key)
        qtbot.wait(20)
        assert window.width() == 1280, area.key
        assert _squeezed(page) == [], area.key


def test_a_15_minute_appointment_shows_its_name_at_1280_by_720_with_the_waitlist_open(
    qtbot, ctx: ServiceContext, clinic: Clinic, window: MainWindow
) -> None:  # type: ignore[no-untyped-def]
    start = clinic.at(MONDAY + timedelta(days=2), 9, 15)
    end = start + timedelta(minutes=15)
    short = diary.book(ctx, BookingRequest(clinic.ben, start, end, clinic.pat, clinic.standard))
    page = window.show_area("diary")
    assert isinstance(page, DiaryPage)
    page.go_to(MONDAY)
    page.toolbar.mode_box.setCurrentIndex(1)  # the week
    page.set_shown([clinic.anna, clinic.ben])  # of both practitioners: 2 × 5 narrow columns
    page.toolbar.panels_button.setChecked(True)  # and the waitlist panel open
    qtbot.waitUntil(lambda: short in page.scene.items_by_id)
    window.grab()  # paint, so each item lays out its text
    prepared = page.scene.items_by_id[short]._prepared
    assert prepared is not None
    with ctx.read() as s:
        patient = s.get(Patient, clinic.pat)
        assert patient is not None
        name = f"{patient.first_name} {patient.last_name}"
    assert prepared.name.startswith(name), prepared.name
    assert "…" not in prepared.name[: len(name)]
    assert _squeezed(page.toolbar) == []


def test_patient_search_results_show_whole_names_and_phones_at_1280_by_720(
    qtbot, ctx: ServiceContext, window: MainWindow
) -> None:  # type: ignore[no-untyped-def]
    with ctx.write("patients") as s:
        for first, preferred, last in (("Patricia", "Pat", "Kimball"), ("Mia", "", "Kim")):
            s.add(Patient(patient_number=f"K-{first}", first_name=first, preferred_name=preferred,
                          last_name=last, date_of_birth=date(1961, 3, 4),
                          mobile_phone="0448 660 814"))  # fmt: skip
    page = window.show_area("patients")
    box = page.findChild(QLineEdit, "patientSearch")
    qtbot.keyClicks(box, "kim")
    table = page.findChild(QTableView, "patientResults")
    qtbot.waitUntil(lambda: table.model().rowCount() == 2)
    window.grab()
    metrics = table.fontMetrics()
    header = table.horizontalHeader()
    for row in range(2):
        for col in (0, 2):  # the name, the phone
            text = table.model().index(row, col).data()
            assert metrics.horizontalAdvance(text) + 8 <= header.sectionSize(col), (text, col)


def test_a_read_only_invoice_draws_no_edit_box_round_its_first_cell(
    qtbot, ctx: ServiceContext
) -> None:  # type: ignore[no-untyped-def]
    from billing_world import make_world

    from frontdesk.services import billing
    from frontdesk.ui.billing.invoice_dialog import InvoiceDialog

    world = make_world(ctx)
    inv = billing.invoice_from_appointment(ctx, world.appointments[0])
    billing.issue_invoice(ctx, inv)
    dialog = InvoiceDialog(ctx, inv)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    dialog.table.setFocus()
    qtbot.waitUntil(dialog.table.hasFocus)
    rect = dialog.table.visualItemRect(dialog.table.item(0, 0))
    image = dialog.table.viewport().grab().toImage()
    # the cell's top and left edges: the row's own colour, no frame round the current cell
    ring = [(x, rect.top()) for x in range(rect.left() + 2, rect.right() - 2)]
    ring += [(rect.left(), y) for y in range(rect.top() + 2, rect.bottom() - 2)]
    framed = [p for p in ring if image.pixelColor(*p).lightness() < 235]
    assert len(framed) < 5, framed[:5]


def test_settings_tabs_show_their_ampersands(qtbot, main_window) -> None:  # type: ignore[no-untyped-def]
    """ "Locations & rooms" read "Locations _rooms": a lone & marks a shortcut key in a tab."""
    from PySide6.QtWidgets import QTabWidget

    page = main_window.show_area("settings")
    tabs = page.findChild(QTabWidget, "settingsTabs")
    texts = [tabs.tabText(i) for i in range(tabs.count())]
    assert "Locations && rooms" in texts and "Leave && closures" in texts
    assert not [t for t in texts if re.search(r"(?<!&)&(?!&)", t)]


def test_every_area_has_its_sidebar_icon() -> None:
    from frontdesk.ui.areas import AREAS

    assert [a.key for a in AREAS if icons.area_icon(a.key).isNull()] == []
