"""The first-run set-up: clinic details, locations and rooms, practitioners, their hours,
appointment types and prices, staff accounts — ending on a diary ready to book into.

Offered at start on a clinic with nobody to book with; it can be skipped, closed and resumed
(the step it reached is kept in the clinic's settings) and opened again from Settings. Each
step is the same screen as its Settings tab, so there is one way to set a clinic up.
"""

from __future__ import annotations

from zoneinfo import available_timezones

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.clinic_setup import AU_STATES
from frontdesk.services.permissions import Action, allowed
from frontdesk.services.setup import clinic as setup
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import run_op
from frontdesk.ui.settings.setup_common import FieldForm

TITLES = {
    "clinic": ("Your clinic", "The name and ABN printed on invoices, where you are, and GST."),
    "locations": ("Locations and rooms", "Where you see patients, and the rooms there."),
    "practitioners": ("Practitioners", "Everyone who sees patients: a diary column each."),
    "hours": ("Hours", "Each practitioner's week: drag across a day, or type 9:00-17:00."),
    "types": ("Appointment types and prices", "What patients book, how long it takes, the fee."),
    "staff": ("Staff accounts", "Reception and practitioners sign in with their own accounts."),
    "done": ("Ready", ""),
}


class ClinicStep(QWidget):
    """The clinic's details, with the two other ways to start beside them."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        p = setup.load_profile(ctx)
        self.name = QLineEdit(p.name)
        self.name.setObjectName("clinic_name")
        self.abn = QLineEdit(p.business_number)
        self.abn.setObjectName("clinic_abn")
        self.abn.setPlaceholderText("11 digits, e.g. 51 824 753 556")
        self.address = QLineEdit(p.address)
        self.address.setObjectName("clinic_address")
        self.phone = QLineEdit(p.phone)
        self.email = QLineEdit(p.email)
        self.time_zone = QComboBox()
        self.time_zone.addItems(sorted(z for z in available_timezones() if z.startswith("Aus")))
        self.time_zone.setEditable(True)
        self.time_zone.setCurrentText(p.time_zone)
        self.state = QComboBox()
        self.state.setObjectName("clinic_state")
        self.state.addItem("— choose —", "")
        for s in AU_STATES:
            self.state.addItem(s, s)
        self.state.setCurrentIndex(max(0, self.state.findData(p.state)))
        self.gst = QCheckBox("Registered for GST (invoices say “Tax invoice”)")
        self.gst.setChecked(p.tax_registered)
        self.form = FieldForm()
        self.form.field("Clinic name", self.name, "name")
        self.form.field("ABN", self.abn, "business_number")
        self.form.field("Address", self.address, "address")
        self.form.field("Phone", self.phone, "phone")
        self.form.field("Email", self.email, "email")
        self.form.field("Time zone", self.time_zone, "time_zone")
        self.form.field("State (public holidays)", self.state, "state")
        self.form.field("", self.gst, "tax_registered")
        self.form.finish()
        self.demo = QPushButton("Start from a demo clinic instead")
        self.demo.setObjectName("start_demo")
        self.importer = QPushButton("Import patients from another system…")
        self.importer.setObjectName("import_patients")
        self.clinic_importer = QPushButton("Import practitioners, types, appointments…")
        self.clinic_importer.setObjectName("import_clinic")
        others = QHBoxLayout()
        others.addWidget(self.demo)
        others.addWidget(self.importer)
        others.addWidget(self.clinic_importer)
        others.addStretch(1)
        col = QVBoxLayout(self)
        col.addLayout(self.form)
        col.addStretch(1)
        col.addLayout(others)

    def save(self) -> bool:
        profile = setup.ClinicProfile(
            self.name.text(), self.abn.text(), self.address.text(), self.phone.text(),
            self.email.text(), self.time_zone.currentText(), self.gst.isChecked(),
            self.state.currentData() or "",
        )  # fmt: skip
        if not run_op(lambda: setup.save_profile(self.ctx, profile), self.form.show_error):
            return False
        self.form.clear_errors()
        self.abn.setText(setup.load_profile(self.ctx).business_number)
        return True


class SetupWizard(QDialog):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.bus = ctx, bus
        self.setObjectName("setup_wizard")
        self.setWindowTitle("Set up your clinic")
        self.resize(900, 640)
        self.heading = QLabel()
        self.heading.setObjectName("pageTitle")
        self.subheading = QLabel()
        self.subheading.setObjectName("muted")
        self.subheading.setWordWrap(True)
        self.crumbs = QLabel()
        self.crumbs.setObjectName("setup_crumbs")
        self.stack = QStackedWidget()
        self.steps: dict[str, QWidget] = {}
        self.clinic = ClinicStep(ctx)
        self._add("clinic", self.clinic)
        from frontdesk.ui.settings import appointment_types, places, practitioners, rosters, staff

        for key, module in (("locations", places), ("practitioners", practitioners),
                            ("hours", rosters), ("types", appointment_types),
                            ("staff", staff)):  # fmt: skip
            self._add(key, module.create(ctx, bus, self.stack))
        self.done_text = QLabel()
        self.done_text.setObjectName("setup_done_text")
        self.done_text.setWordWrap(True)
        self.done_text.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._add("done", self.done_text)
        self.back = QPushButton("Back")
        self.later = QPushButton("Finish later")
        self.skip = QPushButton("Skip set-up")
        self.next = QPushButton("Next")
        self.next.setObjectName("setup_next")
        self.next.setProperty("primary", True)
        self.next.setDefault(True)
        nav = QHBoxLayout()
        for b in (self.skip, self.later):
            nav.addWidget(b)
        nav.addStretch(1)
        nav.addWidget(self.back)
        nav.addWidget(self.next)
        col = QVBoxLayout(self)
        col.addWidget(self.crumbs)
        col.addWidget(self.heading)
        col.addWidget(self.subheading)
        col.addWidget(self.stack, 1)
        col.addLayout(nav)
        self.back.clicked.connect(lambda: self.go(-1))
        self.next.clicked.connect(self.forward)
        self.later.clicked.connect(self.reject)
        self.skip.clicked.connect(self.skip_setup)
        self.clinic.demo.clicked.connect(self.start_demo)
        self.clinic.importer.clicked.connect(self.import_patients)
        self.clinic.clinic_importer.clicked.connect(self.import_clinic)
        step = setup.progress(ctx).step
        self.show_step(step if step in self.steps and step != "done" else "clinic")

    def _add(self, key: str, widget: QWidget) -> None:
        self.steps[key] = widget
        self.stack.addWidget(widget)

    def key(self) -> str:
        return setup.STEPS[self.stack.currentIndex()]

    def show_step(self, key: str) -> None:
        self.stack.setCurrentWidget(self.steps[key])
        title, sub = TITLES[key]
        self.heading.setText(title)
        self.subheading.setText(sub)
        index = setup.STEPS.index(key)
        self.crumbs.setText(
            "  ›  ".join(
                f"<b>{TITLES[k][0]}</b>" if k == key else TITLES[k][0] for k in setup.STEPS
            )
        )
        self.back.setEnabled(index > 0)
        self.next.setText("Open the diary" if key == "done" else "Next")
        if key == "done":
            self.done_text.setText(self.summary())
        reload = getattr(self.steps[key], "reload", None)
        if reload is not None:
            reload()

    def summary(self) -> str:
        from frontdesk.services.setup import appointment_types, locations, practitioners, rosters

        people = practitioners.list_practitioners(self.ctx)
        rooms = locations.list_rooms(self.ctx)
        types = appointment_types.list_types(self.ctx)
        lines = [
            f"{len(people)} practitioner(s), {len(rooms)} room(s), {len(types)} appointment "
            "type(s).",
        ]
        today = self.ctx.clock.now().astimezone(self.ctx.tz).date()
        for p in people:  # what would leave a column empty or its booking dialog bare
            gaps = []
            if not rosters.roster_for(self.ctx, p.id, today).blocks:
                gaps.append("no hours yet (Hours)")
            if not appointment_types.type_ids_for(self.ctx, p.id):
                gaps.append("no appointment types yet (Appointment types)")
            if gaps:
                lines.append(f"{p.display_name}: {' and '.join(gaps)}.")
        if not people:
            lines.append("Add at least one practitioner before booking: go back two steps.")
        else:
            lines.append(
                "The diary is ready to book into. Everything here can be changed any day "
                "under Settings; this set-up opens again from Settings → Set-up."
            )
        return "\n\n".join(lines)

    def go(self, step: int) -> None:
        index = setup.STEPS.index(self.key()) + step
        if 0 <= index < len(setup.STEPS):
            self.show_step(setup.STEPS[index])
            if allowed(self.ctx.actor.role, Action.MANAGE_SETTINGS):
                setup.reached_step(self.ctx, self.key())

    def forward(self) -> None:
        if self.key() == "clinic" and not self.clinic.save():
            return
        if self.key() == "done":
            setup.finish(self.ctx)
            self.bus.navigate.emit("diary", {})
            self.accept()
            return
        self.go(1)

    def skip_setup(self) -> None:
        setup.finish(self.ctx, skipped=True)
        self.reject()

    def start_demo(self) -> None:
        from frontdesk.demo.generator import DemoSpec, build_demo, is_empty
        from frontdesk.ui.workers import run_in_background

        if not is_empty(self.ctx):
            QMessageBox.information(
                self, "Demo clinic", "This clinic already has practitioners: the demo clinic "
                "starts only in an empty one. Start frontdesk on a new data folder to try it.",
            )  # fmt: skip
            return
        wait = QProgressDialog("Building the demo clinic…", "", 0, 0, self)
        wait.setCancelButton(None)  # type: ignore[arg-type]
        wait.setWindowModality(Qt.WindowModality.WindowModal)
        wait.show()
        spec = DemoSpec(practitioners=4, weeks_past=4, weeks_future=2)

        def done(_result: object) -> None:
            wait.close()
            setup.finish(self.ctx, skipped=True)
            self.bus.navigate.emit("diary", {})
            self.accept()

        def failed(exc: BaseException) -> None:
            wait.close()
            QMessageBox.warning(self, "Demo clinic", str(exc))

        run_in_background(lambda: build_demo(self.ctx, spec), done, failed)

    def import_patients(self) -> None:
        from frontdesk.ui.patients.import_dialog import ImportDialog

        ImportDialog(self.ctx, self).exec()

    def import_clinic(self) -> None:
        from frontdesk.ui.settings.clinic_import import ClinicImportDialog

        ClinicImportDialog(self.ctx, self).exec()
        self.show_step(self.key())  # the lists show what came in


def offer_setup(ctx: ServiceContext, bus: ChangeBus, parent: QWidget) -> SetupWizard | None:
    """Open the set-up over the main window when the clinic has nobody to book with and the
    signed-in person may set it up. Non-blocking: returns the wizard (or None)."""
    if not allowed(ctx.actor.role, Action.MANAGE_SETTINGS) or not setup.progress(ctx).wanted:
        return None
    wizard = SetupWizard(ctx, bus, parent)
    wizard.setWindowModality(Qt.WindowModality.WindowModal)
    wizard.show()
    return wizard


class SetupLauncher(QWidget):
    """Settings → Set-up: opens the set-up again."""

    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.bus = ctx, bus
        text = QLabel("Walk through the clinic's set-up again: details, locations and rooms, "
                      "practitioners, hours, appointment types and staff.")  # fmt: skip
        text.setWordWrap(True)
        self.open = QPushButton("Open the set-up")
        self.open.setObjectName("open_setup")
        self.open.clicked.connect(lambda: SetupWizard(self.ctx, self.bus, self).exec())
        self.importer = QPushButton("Import from another system…")
        self.importer.setObjectName("import_clinic")
        self.importer.clicked.connect(self.import_clinic)
        col = QVBoxLayout(self)
        col.addWidget(text)
        col.addWidget(self.open, 0, Qt.AlignmentFlag.AlignLeft)
        col.addWidget(QLabel("Practitioners, appointment types or future appointments from a "
                             "CSV export (Cliniko's, or any spreadsheet)."))  # fmt: skip
        col.addWidget(self.importer, 0, Qt.AlignmentFlag.AlignLeft)
        col.addStretch(1)

    def import_clinic(self) -> None:
        from frontdesk.ui.settings.clinic_import import ClinicImportDialog

        ClinicImportDialog(self.ctx, self).exec()


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    return SetupLauncher(ctx, bus, parent)
