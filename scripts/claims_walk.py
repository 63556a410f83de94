"""Issue 19's done-when walk, driven like a person at the front desk: a clinic set up from an
empty data folder through the app's own screens, a Medicare chronic-condition patient whose
5th and 6th visits of the year are booked through the booking dialog, an agency-managed NDIS
participant booked over budget, the NDIA bulk payment request saved from the Claims area and
its payment report imported back. Screenshots of the whole (Xvfb) screen at each step.

xvfb-run -a -s "-screen 0 1440x900x24" .venv/bin/python scripts/claims_walk.py OUTDIR

The clinic's clock is a FakeClock (and time-machine moves Python's clock with it), so the walk
gives the same result on any day: it is set in 2025, the year of the NDIS sample catalogue in
tests/claims/data. Prints what each step saw; exits 1 when a step did not see what it expected.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QPushButton,
    QTableWidget,
    QWidget,
)

from frontdesk.domain.clock import FakeClock
from frontdesk.paths import desk_paths
from frontdesk.services.desk import open_desk
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.style import apply_style

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "tests" / "claims" / "data" / "ndis_support_catalogue_sample.csv"
SYDNEY = ZoneInfo("Australia/Sydney")
LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier
SETUP_DAY = date(2025, 2, 3)  # Monday: the clinic starts using frontdesk
EARLIER_VISITS = (date(2025, 3, 3), date(2025, 4, 7), date(2025, 5, 5), date(2025, 6, 2))
NDIS_DAYS = (date(2025, 6, 2), date(2025, 6, 9))  # sessions invoiced to the NDIA
TODAY = date(2025, 6, 16)  # Monday: the 5th Medicare visit, the NDIS session over budget
NEXT_WEEK = date(2025, 6, 23)  # the 6th Medicare visit
NDIS_ITEM = "15_055_0128_1_3"  # Assessment Recommendation Therapy Or Training - Physiotherapy


class Failed(Exception):
    pass


class Walk:
    """QTest with pytest-qt's manners (wait, wait_until, a modal dialog handled when it opens)
    and the fake clock the desk and Python's time both read."""

    def __init__(self, app: QApplication, out: Path, clock: FakeClock, traveller: Any) -> None:
        self.app, self.out, self.clock, self.traveller = app, out, clock, traveller
        self.errors: list[BaseException] = []
        self.seen: list[str] = []
        self.shots: list[str] = []

    # -- time --
    def at(self, day: date, hour: int, minute: int = 0) -> None:
        when = datetime.combine(day, dtime(hour, minute), SYDNEY).astimezone(UTC)
        self.clock.set(when)
        self.traveller.move_to(when)

    # -- events --
    def wait(self, ms: int = 30) -> None:
        end = time.perf_counter() + ms / 1000
        while time.perf_counter() < end:
            self.app.processEvents()
            time.sleep(0.005)
        self.app.processEvents()

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float = 20) -> None:
        started = time.perf_counter()
        while not ready():
            self.wait(20)
            if time.perf_counter() - started > timeout:
                raise Failed(f"timed out waiting for {what}")

    def click(self, widget: QWidget, pos: QPoint | None = None) -> None:
        if pos is None:
            QTest.mouseClick(widget, LEFT)
        else:
            QTest.mouseClick(widget, LEFT, Qt.KeyboardModifier.NoModifier, pos)
        self.wait(10)

    def type(self, widget: QWidget, text: str) -> None:
        widget.setFocus()
        QTest.keyClick(widget, Qt.Key.Key_A, CTRL)
        QTest.keyClicks(widget, text)

    def key(self, widget: QWidget, key: Qt.Key, mods: Any = Qt.KeyboardModifier.NoModifier) -> None:
        QTest.keyClick(widget, key, mods)
        self.wait(10)

    def in_dialog(self, act: Callable[[Any], None]) -> None:
        """Run ``act(dialog)`` once the next modal dialog is up (the click that opens it blocks
        in exec()); a failure closes the dialog and is raised after."""

        def poll() -> None:
            dialog = QApplication.activeModalWidget()
            if dialog is None:
                QTimer.singleShot(10, poll)
                return
            try:
                act(dialog)
            except BaseException as exc:
                self.errors.append(exc)
            finally:
                if dialog.isVisible():
                    dialog.reject()

        QTimer.singleShot(0, poll)

    def check(self) -> None:
        if self.errors:
            raise self.errors.pop(0)

    # -- looking --
    def shot(self, name: str, widget: QWidget | None = None) -> Path:
        """The whole screen (what a person sees: the dialog over the window), and the widget
        alone when one is named."""
        self.wait(60)
        path = self.out / f"{len(self.shots) + 1:02d}_{name}.png"
        screen = self.app.primaryScreen()
        screen.grabWindow(0).save(str(path))
        if widget is not None:
            widget.grab().save(str(path.with_name(path.stem + "_dialog.png")))
        self.shots.append(path.name)
        print(f"  screenshot {path.name}")
        return path

    def saw(self, what: str, got: object, expected: object) -> None:
        ok = got == expected if not isinstance(expected, Expect) else expected.ok(got)
        line = f"{'ok ' if ok else 'BAD'} {what}: {got!r}"
        print("  " + line)
        self.seen.append(line)
        if not ok:
            raise Failed(f"{what}: saw {got!r}, expected {expected!r}")


class Expect:
    def __init__(self, part: str) -> None:
        self.part = part

    def ok(self, got: object) -> bool:
        return self.part in str(got)

    def __repr__(self) -> str:
        return f"…{self.part}…"


def button(parent: QWidget, text: str) -> QPushButton:
    found = [b for b in parent.findChildren(QPushButton) if b.text() == text and b.isVisible()]
    if not found:
        raise Failed(f"no visible button {text!r}")
    return found[0]


def save_button(dialog: QWidget) -> QPushButton:
    box = dialog.findChild(QDialogButtonBox)
    return box.button(QDialogButtonBox.StandardButton.Save)


# -- the steps ------------------------------------------------------------------------------


def first_start(w: Walk, ctx: Any) -> None:
    """The owner's account on an empty data folder (the first-run dialog), then sign-in."""
    from frontdesk.ui.signin import FirstRunDialog, sign_in_at_start

    def owner(d: Any) -> None:
        assert isinstance(d, FirstRunDialog), type(d)
        w.type(d.display_name, "Olive Owner")
        w.type(d.username, "olive")
        w.type(d.password, "harbour physio 2025")
        w.type(d.confirm, "harbour physio 2025")
        w.shot("first_run_owner_account")
        w.click(button(d, "Create account and sign in"))

    w.in_dialog(owner)
    signed_in = sign_in_at_start(ctx)
    w.check()
    w.saw("owner account made and signed in", signed_in and ctx.actor is not None, True)


def setup_wizard(w: Walk, ctx: Any, bus: ChangeBus, window: Any) -> None:
    from frontdesk.ui.setup_wizard import SetupWizard, offer_setup

    wizard = offer_setup(ctx, bus, window)
    assert isinstance(wizard, SetupWizard)
    w.wait(100)
    step = wizard.clinic
    w.type(step.name, "Harbour Physio")
    w.type(step.abn, "51 824 753 556")
    w.type(step.address, "1 Main St, Manly NSW 2095")
    step.state.setFocus()
    QTest.keyClicks(step.state, "NSW")
    w.shot("setup_1_clinic")
    w.click(wizard.next)
    w.saw("set-up step after the clinic", wizard.key(), "locations")

    def add(opener: QPushButton, fill: Callable[[Any], None]) -> None:
        def act(d: Any) -> None:
            fill(d)
            w.click(button(d, "Save"))
            if d.isVisible():
                raise Failed("not saved: " + " | ".join(lb.text() for lb in d.findChildren(QLabel)))

        w.in_dialog(act)
        w.click(opener)
        w.check()

    places = wizard.steps["locations"]
    add(places.locations.add, lambda d: w.type(d.name, "Manly"))
    add(places.rooms.add, lambda d: w.type(d.name, "Room 1"))
    w.click(wizard.next)

    def practitioner(d: Any) -> None:
        w.type(d.first_name, "Priya")
        w.type(d.last_name, "Shah")
        w.type(d.profession.lineEdit(), "Physiotherapy")
        w.type(d.provider_number, "2428841A")
        d.room.setFocus()
        QTest.keyClicks(d.room, "Room 1")
        w.shot("setup_3_practitioner", d)

    add(wizard.steps["practitioners"].list.add, practitioner)
    w.click(wizard.next)

    hours = wizard.steps["hours"]
    grid = hours.view
    for day in range(5):  # Monday to Friday, 9 to 5, typed into the week grid
        grid.setFocus()
        grid.setCurrentIndex(hours.grid.index(day, 1))
        w.key(grid, Qt.Key.Key_F2)
        (editor,) = [e for e in grid.findChildren(QLineEdit) if e.isVisible()]
        w.type(editor, "9-17")
        w.key(editor, Qt.Key.Key_Return)
    w.click(hours.save)
    w.saw("hours saved", hours.error.text(), Expect("Saved"))
    w.click(wizard.next)

    def appointment_type(d: Any) -> None:
        w.type(d.name, "Standard consultation")
        w.type(d.profession.lineEdit(), "Physiotherapy")
        w.type(d.price, "95.00")

    add(wizard.steps["types"].list.add, appointment_type)
    w.click(wizard.next)  # staff: none to add
    w.click(wizard.next)
    w.saw("set-up summary", wizard.done_text.text(), Expect("1 practitioner(s), 1 room(s)"))
    w.shot("setup_7_ready")
    w.click(wizard.next)
    w.wait_until(lambda: not wizard.isVisible(), "the set-up to close")


def settings_topic(w: Walk, window: Any, topic: str) -> QWidget:
    page = window.show_area("settings")
    topics = page.findChild(QListWidget, "settingsTopics")
    item = topics.findItems(topic, Qt.MatchFlag.MatchExactly)[0]
    topics.scrollToItem(item)
    w.click(topics.viewport(), topics.visualItemRect(item).center())
    tabs = page.findChild(QWidget, "settingsTabs")
    return tabs.currentWidget()  # type: ignore[no-any-return]


def ndia_payer_and_type(w: Walk, window: Any) -> None:
    """Settings → Payers: the NDIA; Settings → Appointment types: an NDIS therapy session at
    the NDIA's item number and price; Claims → Files: the NDIA's price limits."""
    payers = settings_topic(w, window, "Payers")

    def payer(d: Any) -> None:
        w.click(save_button(d))  # nothing typed: refused beside the field
        w.saw("payer without a name", d.findChild(QLabel, "error_name").text(),
              "Type the payer's name.")  # fmt: skip
        d.kind.setFocus()
        QTest.keyClicks(d.kind, "NDIA")
        w.type(d.name, "NDIA")
        w.shot("settings_payer_ndia", d)
        w.click(save_button(d))
        if d.isVisible():
            raise Failed("payer not saved")

    w.in_dialog(payer)
    w.click(payers.list.add)
    w.check()
    w.saw("payers listed", payers.list.model.rows, [["NDIA", "NDIA or NDIS plan manager", ""]])

    types = settings_topic(w, window, "Appointment types")

    def ndis_type(d: Any) -> None:
        w.type(d.name, "NDIS therapy session")
        w.type(d.profession.lineEdit(), "Physiotherapy")
        d.length.setFocus()
        QTest.keyClick(d.length, Qt.Key.Key_A, CTRL)
        QTest.keyClicks(d.length, "60")
        w.type(d.price, "193.99")
        w.click(d.funder_prices.add)
        _line, box, (item, price) = d.funder_prices.rows[0]
        box.setFocus()
        QTest.keyClicks(box, "NDIA")
        w.type(item, NDIS_ITEM)
        w.type(price, "193.99")
        w.shot("settings_ndis_type", d)
        w.click(button(d, "Save"))
        if d.isVisible():
            raise Failed("type not saved: " + " | ".join(x.text() for x in d.findChildren(QLabel)))

    w.in_dialog(ndis_type)
    w.click(types.list.add)
    w.check()

    area = window.show_area("claims")
    area.tabs.setCurrentIndex(1)
    w.type(area.catalogue_path, str(CATALOGUE))
    w.click(area.import_catalogue)
    w.saw("price limits", area.catalogue_result.text(), Expect("Loaded 5 NDIS support items"))


def new_patient(w: Walk, window: Any, first: str, last: str, ndis: str = "") -> Any:
    page = window.show_area("patients")

    def fill(d: Any) -> None:
        w.type(d.edits["first_name"], first)
        w.type(d.edits["last_name"], last)
        w.click(save_button(d))

    w.in_dialog(fill)
    w.click(page.new_button)
    w.check()
    card = page.card
    w.wait_until(lambda: card.patient_id is not None, "the new card")
    if ndis:
        edit = card.form.edits["ndis_number"]
        w.type(edit, ndis)
        w.click(card.save)
    return card


def add_plan(w: Walk, card: Any, fill: Callable[[Any], None], name: str) -> None:
    card.tabs.setCurrentWidget(card.plans)
    tab = card.plans

    def act(d: Any) -> None:
        fill(d)
        w.shot(name, d)
        w.click(save_button(d))
        if d.isVisible():
            raise Failed("plan not saved: " + d.error.text())

    w.in_dialog(act)
    w.click(tab.add)
    w.check()


def type_in_cell(w: Walk, table: QTableWidget, row: int, col: int, text: str) -> None:
    table.setFocus()
    table.setCurrentCell(row, col)
    w.key(table, Qt.Key.Key_F2)
    (editor,) = [e for e in table.findChildren(QLineEdit) if e.isVisible()]
    QTest.keyClicks(editor, text)
    w.key(editor, Qt.Key.Key_Return)


def diary_at(w: Walk, window: Any, day: date, hour: int) -> Any:
    page = window.show_area("diary")
    page.go_to(day)
    w.wait(30)
    page.view.setFocus()
    page.view.set_cursor(0, hour * 60)
    return page


def book(w: Walk, window: Any, day: date, hour: int, who: str, kind: str,
         shot: str = "") -> str:  # fmt: skip
    """Book through the diary's booking dialog (Enter on an empty slot), typing the patient's
    name and choosing the type from the keyboard. Returns the funding line as shown."""
    page = diary_at(w, window, day, hour)
    seen: dict[str, str] = {}

    def fill(d: Any) -> None:
        QTest.keyClicks(d.search, who)
        w.wait(250)
        w.key(d.search, Qt.Key.Key_Return)
        d.type.setFocus()
        QTest.keyClicks(d.type, kind)
        w.wait(60)
        seen["plan"] = d.funding.plan.currentText()
        seen["funding"] = d.funding.text()
        if shot:
            w.shot(shot, d)
        w.key(d.type, Qt.Key.Key_Return, CTRL)
        if d.isVisible():
            raise Failed("booking not saved")

    w.in_dialog(fill)
    w.key(page.view, Qt.Key.Key_Return)
    w.check()
    print(f"  booked {who} {day} {hour}:00 under {seen['plan']!r}")
    return seen["funding"]


def from_menu(w: Walk, page: Any, text: str) -> None:
    """The appointment's menu from the keyboard (the Menu key), then ``text``."""

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(10, choose)
            return
        actions = [a for a in menu.actions() if a.text() == text]
        if not actions:
            w.errors.append(Failed(f"no {text!r} in {[a.text() for a in menu.actions()]}"))
            menu.close()
            return
        menu.setActiveAction(actions[0])
        QTest.keyClick(menu, Qt.Key.Key_Return)

    QTimer.singleShot(0, choose)
    w.key(page.view, Qt.Key.Key_Menu)
    w.check()


def complete_and_check_out(w: Walk, window: Any, day: date, hour: int, shot: str = "") -> Any:
    from frontdesk.ui.billing.checkout import CheckoutDialog

    page = diary_at(w, window, day, hour)

    def on_it() -> bool:
        page.view.set_cursor(0, hour * 60)
        return page.view.selected_item() is not None

    w.wait_until(on_it, "the booking under the cursor")
    from_menu(w, page, "Mark completed")
    w.wait_until(on_it, "the booking under the cursor")
    from_menu(w, page, "Checkout…")
    w.wait_until(
        lambda: any(d.isVisible() for d in page.findChildren(CheckoutDialog)), "the checkout"
    )
    dialog = next(d for d in page.findChildren(CheckoutDialog) if d.isVisible())
    note = dialog.findChild(QLabel, "fundingNote")
    if shot:
        w.shot(shot, dialog)
    return dialog, note.text() if note is not None else ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--data-dir", help="an empty folder (default: a new temporary one)")
    parser.add_argument("--size", default="1400x860")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = Path(args.data_dir or tempfile.mkdtemp(prefix="claims-walk-"))
    if any(data.iterdir()):
        print(f"{data} is not empty: the walk starts a clinic from nothing", file=sys.stderr)
        return 2
    start = datetime.combine(SETUP_DAY, dtime(8), SYDNEY).astimezone(UTC)
    clock = FakeClock(start)
    traveller = time_machine.travel(start, tick=True).start()
    app = QApplication(sys.argv[:1])
    apply_style(app)
    w = Walk(app, out, clock, traveller)
    try:
        walk(w, data, args.size)
    except Failed as exc:
        print(f"FAILED: {exc}")
        w.shot("failed")
        return 1
    print(f"\n{len(w.seen)} checks passed; {len(w.shots)} screenshots in {out}")
    return 0


def walk(w: Walk, data: Path, size: str) -> None:
    from sqlalchemy import select

    from frontdesk.models import Claim
    from frontdesk.ui.main_window import MainWindow

    paths = desk_paths(data)
    ctx = open_desk(paths, clock=w.clock)
    print(f"[{SETUP_DAY}] an empty data folder: {data}")
    first_start(w, ctx)
    bus = ChangeBus()
    ctx.listeners.append(bus.publish)
    window = MainWindow(ctx, bus, QSettings(str(paths.config_file), QSettings.Format.IniFormat))
    width, height = (int(v) for v in size.split("x"))
    window.resize(width, height)
    window.show()
    w.wait(200)
    diary = window.pages["diary"]
    diary.controller.confirm = lambda text: True  # a booking later today: yes, book it
    setup_wizard(w, ctx, bus, window)
    ndia_payer_and_type(w, window)

    # -- a Medicare chronic condition management plan, referred by the GP --
    ana = new_patient(w, window, "Ana", "Silva")

    def cdm(d: Any) -> None:
        d.kind.setFocus()
        QTest.keyClicks(d.kind, "Medicare")
        w.type(d.referrer, "Dr Amelia Hart")
        w.type(d.provider, "2345671A")

    add_plan(w, ana, cdm, "card_medicare_plan")
    w.saw("Ana's plans", ana.plans.list.topLevelItem(0).text(0),
          "Medicare chronic condition management plan")  # fmt: skip

    # -- four visits earlier in the year, each booked on its day --
    for day in EARLIER_VISITS:
        w.at(day, 8)
        said = book(w, window, day, 10, "Ana Silva", "Standard")
        print(f"[{day}] {said}")

    # -- an NDIS participant, agency-managed, with a small Capacity Building budget --
    w.at(NDIS_DAYS[0], 8, 30)
    ben = new_patient(w, window, "Ben", "Nguyen", ndis="430123456")

    def ndis(d: Any) -> None:
        d.kind.setFocus()
        QTest.keyClicks(d.kind, "NDIS")
        d.funder.setFocus()
        QTest.keyClicks(d.funder, "NDIA")
        d.management.setFocus()
        QTest.keyClicks(d.management, "Agency")
        d.has_expiry.setFocus()
        w.key(d.has_expiry, Qt.Key.Key_Space)  # expires a year on (the date the dialog offers)
        type_in_cell(w, d.budgets, 0, 0, "Capacity Building")
        type_in_cell(w, d.budgets, 0, 1, "450.00")

    add_plan(w, ben, ndis, "card_ndis_plan")
    w.saw("Ben's plan", ben.plans.list.topLevelItem(0).text(5), "Capacity Building: $450.00")
    for n, day in enumerate(NDIS_DAYS):
        w.at(day, 8, 30)
        said = book(w, window, day, 11, "Ben Nguyen", "NDIS")
        print(f"[{day}] NDIS: {said}")
        w.at(day, 12, 15)
        dialog, note = complete_and_check_out(w, window, day, 11, "checkout_ndia" if n else "")
        w.saw("checkout note", note, f"Billed under the NDIS plan: item {NDIS_ITEM}, GST-free.")
        w.click(dialog.issue_button)
        dialog.close()

    # -- today: the 5th Medicare visit, the NDIS session over budget; next week the 6th --
    w.at(TODAY, 8)
    print(f"[{TODAY}] today")
    fifth = book(w, window, TODAY, 10, "Ana Silva", "Standard", "booking_5th_medicare")
    w.saw("5th visit", fifth, "⚠ 5th of 5 Medicare visits in 2025")
    sixth = book(w, window, NEXT_WEEK, 10, "Ana Silva", "Standard", "booking_6th_medicare")
    w.saw("6th visit", sixth, "✖ 6th Medicare visit in 2025: only 5 a year are paid.")
    over = book(w, window, TODAY, 11, "Ben Nguyen", "NDIS", "booking_ndis_over_budget")
    w.saw("NDIS over budget", over,
          "✖ NDIS Capacity Building budget has $62.02 left; this session ($193.99) is over "
          "budget.")  # fmt: skip
    w.at(TODAY, 12, 15)
    dialog, note = complete_and_check_out(w, window, TODAY, 11, "checkout_over_budget")
    w.saw("over-budget checkout", note, Expect("Not billed to the plan"))
    dialog.close()

    # -- Claims: prepare, the bulk payment request for June, the NDIA's payment report --
    area = window.show_area("claims")
    area.tabs.setCurrentIndex(0)
    w.shot("claims_queue_empty")
    w.click(area.prepare)
    w.saw("claims prepared", area.summary.text(), "2 claims · $387.98 not yet paid")
    w.shot("claims_queue_prepared")
    area.tabs.setCurrentIndex(1)
    w.wait(30)
    bpr = w.out / "bulk_payment_request_2025-06.csv"
    # the month offered follows the clock (the area was built in February, at the set-up)
    w.saw("month", area.month.text(), "June 2025")
    w.type(area.registration, "4050012345")
    w.type(area.bpr_path, str(bpr))
    w.click(area.save_bpr)
    w.saw("bulk payment request", area.bpr_result.text(), Expect("Saved 2 lines ($387.98)"))
    w.shot("claims_bulk_payment_request")
    with bpr.open(newline="") as f:
        rows = list(csv.DictReader(f))
    print("  " + bpr.read_text().replace("\n", "\n  "))
    references = [r["ClaimReference"] for r in rows]
    report = w.out / "ndia_payment_report_2025-06.csv"
    copied = ("RegistrationNumber", "NDISNumber", "SupportsDeliveredFrom",
              "SupportsDeliveredTo", "SupportNumber", "ClaimReference", "Quantity", "Hours",
              "UnitPrice", "GSTCode")  # fmt: skip
    with report.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow([*copied, "Claimed Amount", "Paid Total Amount", "Payment Request Number",
                      "Payment Request Status", "Error Message"])  # fmt: skip
        for n, r in enumerate(rows, 1):
            paid = r["UnitPrice"]  # paid in full
            out.writerow([*(r[c] for c in copied), paid, paid, f"PR{88000 + n}", "PAID", ""])
    w.at(date(2025, 6, 20), 9)
    w.type(area.rem_path, str(report))
    w.click(area.import_rem)
    w.saw("remittance", area.rem_result.text(),
          "Imported 2 lines: $387.98 received — 2 paid, 0 part-paid, 0 rejected.")  # fmt: skip
    w.shot("claims_remittance_imported")
    area.tabs.setCurrentIndex(0)
    w.wait(30)
    statuses = [area.model.row(r).status.label for r in range(area.model.rowCount())]
    w.saw("queue statuses", statuses, ["Paid", "Paid"])
    area.table.selectionModel().clear()
    area.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    w.shot("claims_queue_paid")
    with ctx.read() as s:
        w.saw("claims paid in the database",
              sorted(c.status for c in s.scalars(select(Claim))), ["paid", "paid"])  # fmt: skip
    print("  references:", references)


if __name__ == "__main__":
    sys.exit(main())
