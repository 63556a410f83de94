"""The patient card: who they are at a glance (name, number, age, phone, alerts in red), then
the details edited in place, funding, alerts and consents, appointment history and account.
"Book appointment" hands the patient to the diary."""

from __future__ import annotations

import contextlib

from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.errors import FieldProblems, FrontdeskError, ValidationFailed
from frontdesk.domain.patient_rules import clean_dob
from frontdesk.services import patients as svc
from frontdesk.services.funders import list_funders
from frontdesk.services.patients.card import PatientCard, load_card
from frontdesk.services.patients.merge import undo_merge
from frontdesk.services.patients.search import age_on
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.messaging.patient_tab import MessagesTab
from frontdesk.ui.ops import in_box, in_label, run_op
from frontdesk.ui.patients.card_form import CardForm, ConsentBoxes, show_date
from frontdesk.ui.patients.card_tabs import AccountTab, FundingTab, HistoryTab, MembershipDialog

ALERT_STYLE = (
    "background: #fee2e2; color: #991b1b; border: 1px solid #fca5a5; "
    "border-radius: 6px; padding: 8px 10px; font-weight: bold; font-size: 13px;"
)


class PatientCardView(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.bus = ctx, bus
        self.card: PatientCard | None = None
        self.patient_id: str | None = None
        self.dirty = False

        self.name = QLabel("")
        self.name.setObjectName("pageTitle")
        self.meta = QLabel("")
        self.meta.setObjectName("muted")
        self.meta.setWordWrap(True)
        self.book = QPushButton("Book appointment")
        self.book.setProperty("primary", True)
        self.book.clicked.connect(self.book_appointment)
        self.archive = QPushButton("Archive")
        self.archive.clicked.connect(self.toggle_archive)
        self.undo = QPushButton("Undo merge…")
        self.undo.clicked.connect(self.undo_last_merge)
        head = QHBoxLayout()
        names = QVBoxLayout()
        names.addWidget(self.name)
        names.addWidget(self.meta)
        head.addLayout(names, 1)
        for b in (self.undo, self.archive, self.book):
            head.addWidget(b)
        self.alert_banner = QLabel("")
        self.alert_banner.setObjectName("alertBanner")
        self.alert_banner.setWordWrap(True)
        self.alert_banner.setStyleSheet(ALERT_STYLE)
        self.notice = QLabel("")
        self.notice.setObjectName("muted")

        self.form = CardForm(on_edit=self._edited)
        self.save = QPushButton("Save changes")
        self.save.setProperty("primary", True)
        self.save.setEnabled(False)
        self.save.clicked.connect(self.save_changes)
        self.revert = QPushButton("Revert")
        self.revert.setEnabled(False)
        self.revert.clicked.connect(self.reload)
        details = QWidget()
        dcol = QVBoxLayout(details)
        dcol.addWidget(self.form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save)
        buttons.addWidget(self.revert)
        buttons.addStretch(1)
        dcol.addLayout(buttons)
        dcol.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(details)

        self.consents = ConsentBoxes()
        self.consents.sms.clicked.connect(lambda on: self._save_fields({"sms_consent": on}))
        self.consents.email.clicked.connect(lambda on: self._save_fields({"email_consent": on}))
        self.funding = FundingTab(self.add_alert, self.remove_alert, self.add_funding,
                                  self.remove_funding, self.consents)  # fmt: skip
        self.history = HistoryTab()
        self.account = AccountTab()
        self.tabs = QTabWidget()
        self.tabs.addTab(scroll, "Card")
        self.tabs.addTab(self.funding, "Funding, alerts && consents")
        from frontdesk.ui.claims.plans_tab import PlansTab

        self.plans = PlansTab(ctx)
        self.tabs.addTab(self.plans, "Referrals && plans")
        self.tabs.addTab(self.history, "Appointments")
        self.tabs.addTab(self.account, "Account")
        self.messages = MessagesTab(ctx)
        self.tabs.addTab(self.messages, "Messages")

        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(head)
        col.addWidget(self.alert_banner)
        col.addWidget(self.notice)
        col.addWidget(self.tabs, 1)

    # -- loading --------------------------------------------------------------------------------
    def open(self, patient_id: str) -> None:
        self.patient_id = patient_id
        self.reload()

    def reload(self) -> None:
        patient_id = self.patient_id
        if patient_id is None:
            return
        loaded = run_op(lambda: load_card(self.ctx, patient_id), in_label(self.name))
        if not loaded:
            return
        self.card = card = loaded.get()
        p = card.patient
        today = self.ctx.clock.now().astimezone(self.ctx.tz).date()
        name = " ".join(x for x in (p.title, p.first_name, p.last_name) if x)
        if p.preferred_name and p.preferred_name != p.first_name:
            name += f"  “{p.preferred_name}”"
        self.name.setText(name)
        age = age_on(p.date_of_birth, today)
        bits = [p.patient_number]
        if p.date_of_birth:
            bits.append(f"born {show_date(p.date_of_birth)} (age {age})")
        bits += [x for x in (p.pronouns, p.mobile_phone or p.home_phone, p.email) if x]
        bits.append(f"{card.did_not_arrive} DNA · {card.cancellations} cancelled")
        # A narrow card wraps between facts, never inside one ("they/ them", "· 2 DNA").
        whole = [b.replace(" ", "\u00a0").replace("/", "/\u2060") for b in bits]
        self.meta.setText("\u00a0 ·  ".join(whole))
        if card.alerts:
            self.alert_banner.setText("⚠  " + "   ⚠  ".join(a.text for a in card.alerts))
            self.alert_banner.show()
        else:
            self.alert_banner.hide()
        archived = p.archived_at is not None
        if card.merged_into_number:
            self.notice.setText(f"This card was merged into {card.merged_into_number}.")
        elif archived:
            self.notice.setText("Archived: hidden from search unless “Include archived” is on.")
        else:
            self.notice.setText("")
        self.notice.setVisible(bool(self.notice.text()))
        self.archive.setText("Unarchive" if archived else "Archive")
        self.undo.setVisible(bool(card.undoable_merge_ids))
        self.form.load(p)
        self.consents.sms.setChecked(p.sms_consent)
        self.consents.email.setChecked(p.email_consent)
        self.consents.sms_at.setText(self._when(p.sms_consent_at))
        self.consents.email_at.setText(self._when(p.email_consent_at))
        self.consents.privacy_at.setText(
            f"accepted ({self._when(p.privacy_consent_at)})" if p.privacy_consent_at else "not yet"
        )
        self.funding.load(card)
        self.plans.load(patient_id)
        self.history.load(card, self.ctx.tz)
        self.account.load(card, self.ctx.tz)
        self.messages.load(patient_id)
        self._set_dirty(False)

    def _when(self, at: object) -> str:
        from datetime import datetime

        if not isinstance(at, datetime):
            return ""
        return "recorded " + at.astimezone(self.ctx.tz).strftime("%d/%m/%Y")

    # -- editing --------------------------------------------------------------------------------
    def _edited(self) -> None:
        self._set_dirty(True)

    def _set_dirty(self, dirty: bool) -> None:
        self.dirty = dirty
        self.save.setEnabled(dirty)
        self.revert.setEnabled(dirty)

    def save_changes(self) -> bool:
        if self.patient_id is None:
            return False
        changes = self.form.values()
        today = self.ctx.clock.now().astimezone(self.ctx.tz).date()
        patient_id = self.patient_id

        def save() -> None:
            for key in ("date_of_birth", "referral_date"):
                if key in changes:
                    # not a date: left as typed, the service names it with the other problems
                    with contextlib.suppress(ValidationFailed):
                        changes[key] = clean_dob(changes[key], today, key)
            if changes:
                svc.update_patient(self.ctx, patient_id, changes)

        def show(exc: FrontdeskError) -> None:
            if isinstance(exc, FieldProblems):
                self.form.show_problems(exc.problems)
            else:
                self.form.show_error(exc.user_message, getattr(exc, "field", None))

        if not run_op(save, show):
            return False
        self.reload()
        return True

    def _save_fields(self, fields: dict[str, object]) -> None:
        if self.patient_id is None:
            return
        patient_id = self.patient_id
        run_op(
            lambda: svc.update_patient(self.ctx, patient_id, fields),
            in_box(self, "Patient card"),
            refresh=self.reload,
        )

    def _run(self, action: object, *args: object) -> None:
        run_op(
            lambda: action(self.ctx, *args),  # type: ignore[operator]
            in_box(self, "Patient card"),
            refresh=self.reload,
        )

    def add_alert(self) -> None:
        text, ok = QInputDialog.getText(self, "Add alert", "Alert (e.g. Latex allergy):")
        if ok and self.patient_id:
            self._run(svc.add_alert, self.patient_id, text)

    def remove_alert(self, alert_id: str) -> None:
        self._run(svc.archive_alert, alert_id)

    def add_funding(self) -> None:
        funders = [(f.id, f.name) for f in list_funders(self.ctx)]
        dialog = MembershipDialog(funders, self)
        if dialog.exec() and self.patient_id:
            self._run(svc.save_membership, self.patient_id, dialog.values())

    def remove_funding(self, membership_id: str) -> None:
        self._run(svc.archive_membership, membership_id)

    def toggle_archive(self) -> None:
        if self.card is None or self.patient_id is None:
            return
        if self.card.patient.archived_at is None:
            self._run(svc.archive_patient, self.patient_id)
        else:
            self._run(svc.unarchive_patient, self.patient_id)

    def undo_last_merge(self) -> None:
        if self.card is None or not self.card.undoable_merge_ids:
            return
        answer = QMessageBox.question(
            self, "Undo merge",
            "Separate the most recently merged card from this one again? Appointments, "
            "invoices and payments that came with it go back to it.",
        )  # fmt: skip
        if answer == QMessageBox.StandardButton.Yes:
            self._run(undo_merge, self.card.undoable_merge_ids[0])

    def book_appointment(self) -> None:
        if self.patient_id:
            self.bus.navigate.emit("diary", {"book_for_patient": self.patient_id})
