"""The Claims area: the claims queue (prepare, mark submitted, a terminal's result, rejected),
the NDIA's files (bulk payment request out, payment report in) and plans running out.

Files are named by typing or browsing into a path box, so every step works from the keyboard.
Over 400 lines because the area's tabs share its reload and change notices; its dialogs and
report tabs live beside it (terminal.py, reports.py).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.billing import AgeBucket
from frontdesk.domain.errors import FrontdeskError, ValidationFailed
from frontdesk.domain.funding import ClaimStatus
from frontdesk.domain.money import format_money
from frontdesk.domain.ndis import NDIA_PAYMENT_REPORT, RemittanceMapping
from frontdesk.services.claims import claims as svc
from frontdesk.services.claims.invoice_mail import email_invoice
from frontdesk.services.claims.plans import plans_running_out
from frontdesk.services.claims.remittance import import_remittance
from frontdesk.store.changes import ChangeNotice
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.claims.reports import ApprovalsTab, LetterTemplateDialog
from frontdesk.ui.claims.terminal import TerminalDialog
from frontdesk.ui.ops import in_box, in_label, run_op
from frontdesk.ui.row_table import (
    Column,
    RowModel,
    fit_columns,
    money_column,
    row_table,
    source_row,
)

STATUS_COLOURS = {
    ClaimStatus.REJECTED: "#b91c1c",
    ClaimStatus.PART_PAID: "#b45309",
    ClaimStatus.PAID: "#1f5f3a",
}


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None) -> QWidget:
    return ClaimsArea(ctx, bus, parent)


COLUMNS: list[Column[svc.ClaimRow]] = [
    Column("Invoice", lambda r: r.invoice_number),
    Column("Issued", lambda r: f"{r.issue_date:%-d %b %Y}" if r.issue_date else "",
           lambda r: r.issue_date),
    Column("Patient", lambda r: r.patient_name),
    Column("Funder", lambda r: r.funder_name or r.funder_kind),
    Column("Status", lambda r: r.status.label, colour=lambda r: STATUS_COLOURS.get(r.status)),
    money_column("Claimed", lambda r: r.claimed_cents),
    money_column("Paid", lambda r: r.paid_cents),
    Column("Reason", lambda r: r.rejection_reason, stretch=True),
]  # fmt: skip


EMPTY_QUEUE = (
    "No claims yet. Funded invoices appear here when you press Prepare claims: an appointment "
    "booked under a plan (Referrals & plans on the patient's card) is checked out to the plan's "
    "payer — the NDIA, DVA, an insurer — and the invoice issued."
)


class ClaimsArea(QWidget):
    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.bus = ctx, bus
        col = QVBoxLayout(self)
        col.setContentsMargins(28, 24, 28, 24)
        title = QLabel("Claims")
        title.setObjectName("pageTitle")
        col.addWidget(title)
        self.tabs = QTabWidget()
        col.addWidget(self.tabs, 1)

        # -- the queue --
        queue = QWidget()
        qcol = QVBoxLayout(queue)
        bar = QHBoxLayout()
        self.status = QComboBox()
        self.status.setObjectName("claimStatus")
        self.status.addItem("All claims", None)
        for st in ClaimStatus:
            self.status.addItem(st.label, st.value)
        self.prepare = QPushButton("&Prepare claims")
        self.prepare.setObjectName("prepareClaims")
        self.submitted = QPushButton("Mark &submitted")
        self.terminal = QPushButton("&Terminal result…")
        self.rejected = QPushButton("&Rejected…")
        self.email = QPushButton("&Email invoice")
        self.email.setObjectName("emailInvoice")
        self.email.setToolTip("Queue the invoice (PDF) by email to the plan manager or insurer")
        self.email.clicked.connect(self.email_invoice)
        for w in (self.status, self.prepare, self.submitted, self.terminal, self.rejected,
                  self.email):  # fmt: skip
            bar.addWidget(w)
        bar.addStretch(1)
        qcol.addLayout(bar)
        self.model: RowModel[svc.ClaimRow] = RowModel(COLUMNS, key=lambda r: r.id, parent=self)
        self.table = row_table(self.model, "claimsTable")
        qcol.addWidget(self.table, 1)
        self.summary = QLabel("")
        self.summary.setObjectName("claimsSummary")
        self.summary.setWordWrap(True)
        qcol.addWidget(self.summary)
        self.tabs.addTab(queue, "Queue")

        # -- the NDIA's files --
        files = QWidget()
        fcol = QVBoxLayout(files)
        bpr = QGroupBox("NDIA bulk payment request (agency-managed participants)")
        bform = QFormLayout(bpr)
        self.month = QDateEdit()
        self.month.setObjectName("bprMonth")
        self.month.setDisplayFormat("MMMM yyyy")
        self.month_chosen = False  # until reception picks a month, it follows the clock
        self._follow_the_month()
        self.month.dateChanged.connect(self._month_picked)
        self.registration = QLineEdit()
        self.registration.setObjectName("ndisRegistration")
        self.registration.setPlaceholderText("the clinic's NDIS registration number")
        self.bpr_path = QLineEdit()
        self.bpr_path.setObjectName("bprPath")
        self.save_bpr = QPushButton("&Save request")
        self.save_bpr.setObjectName("saveBpr")
        self.bpr_result = QLabel("")
        self.bpr_result.setObjectName("bprResult")
        self.bpr_result.setWordWrap(True)
        bform.addRow("&Month", self.month)
        bform.addRow("Re&gistration number", self.registration)
        bform.addRow("Save &to", self._with_browse(self.bpr_path, save=True))
        bform.addRow("", self.save_bpr)
        bform.addRow("", self.bpr_result)
        fcol.addWidget(bpr)
        rem = QGroupBox("Remittance (a funder's payment report)")
        rform = QFormLayout(rem)
        self.rem_path = QLineEdit()
        self.rem_path.setObjectName("remittancePath")
        self.import_rem = QPushButton("&Import remittance")
        self.import_rem.setObjectName("importRemittance")
        self.rem_result = QLabel("")
        self.rem_result.setObjectName("remittanceResult")
        self.rem_result.setWordWrap(True)
        self.rem_format = QComboBox()
        self.rem_format.setObjectName("remittanceFormat")
        self.rem_format.addItem("NDIA payment report", "ndia")
        self.rem_format.addItem("Another funder's CSV (name its columns)", "other")
        self.ref_column = QLineEdit()
        self.ref_column.setObjectName("referenceColumn")
        self.ref_column.setPlaceholderText("column holding our invoice number, e.g. Invoice No")
        self.paid_column = QLineEdit()
        self.paid_column.setObjectName("paidColumn")
        self.paid_column.setPlaceholderText("column holding the amount paid, e.g. Benefit Paid")
        for edit in (self.ref_column, self.paid_column):
            edit.setEnabled(False)
        self.rem_format.currentIndexChanged.connect(self._format_changed)
        rform.addRow("F&ormat", self.rem_format)
        rform.addRow("Reference column", self.ref_column)
        rform.addRow("Paid column", self.paid_column)
        rform.addRow("&File", self._with_browse(self.rem_path, save=False))
        rform.addRow("", self.import_rem)
        rform.addRow("", self.rem_result)
        fcol.addWidget(rem)
        limits = QGroupBox("NDIS price limits (the NDIA's support catalogue CSV)")
        lform = QFormLayout(limits)
        self.catalogue_path = QLineEdit()
        self.catalogue_path.setObjectName("cataloguePath")
        self.import_catalogue = QPushButton("Import &price limits")
        self.import_catalogue.setObjectName("importCatalogue")
        self.catalogue_result = QLabel("")
        self.catalogue_result.setObjectName("catalogueResult")
        self.catalogue_result.setWordWrap(True)
        lform.addRow("C&atalogue file", self._with_browse(self.catalogue_path, save=False))
        lform.addRow("", self.import_catalogue)
        lform.addRow("", self.catalogue_result)
        fcol.addWidget(limits)
        fcol.addStretch(1)
        self.tabs.addTab(files, "Files")

        # -- plans running out --
        self.running_out = QTreeWidget()
        self.running_out.setObjectName("plansRunningOut")
        self.running_out.setRootIsDecorated(False)
        self.running_out.setHeaderLabels(["Patient", "Plan", "Why"])
        self.tabs.addTab(self.running_out, "Plans running out")

        # -- reports: outstanding by funder and age, letters due to referrers --
        reports = QWidget()
        rcol = QVBoxLayout(reports)
        rcol.addWidget(QLabel("Claims outstanding by funder and age"))
        self.outstanding = QTreeWidget()
        self.outstanding.setObjectName("claimsOutstanding")
        self.outstanding.setRootIsDecorated(False)
        self.outstanding.setHeaderLabels(
            ["Funder", "Claims", *(b.label for b in AgeBucket), "Total"]
        )
        rcol.addWidget(self.outstanding, 1)
        rcol.addWidget(QLabel("Reports due to referring practitioners"))
        self.letters = QTreeWidget()
        self.letters.setObjectName("reportsDue")
        self.letters.setRootIsDecorated(False)
        self.letters.setHeaderLabels(["Patient", "Referrer", "Report"])
        rcol.addWidget(self.letters, 1)
        lrow = QHBoxLayout()
        self.letter_path = QLineEdit()
        self.letter_path.setObjectName("letterPath")
        self.letter_path.setPlaceholderText("save the letter (PDF) to…")
        self.save_letter = QPushButton("Save &letter")
        self.save_letter.setObjectName("saveLetter")
        self.letter_sent = QPushButton("Mark se&nt")
        self.letter_sent.setObjectName("letterSent")
        lrow.addWidget(self._with_browse(self.letter_path, save=True), 1)
        lrow.addWidget(self.save_letter)
        lrow.addWidget(self.letter_sent)
        self.edit_template = QPushButton("Letter &template…")
        self.edit_template.setObjectName("editLetterTemplate")
        self.edit_template.clicked.connect(lambda: LetterTemplateDialog(ctx, self).exec())
        lrow.addWidget(self.edit_template)
        rcol.addLayout(lrow)
        self.letter_result = QLabel("")
        self.letter_result.setObjectName("letterResult")
        rcol.addWidget(self.letter_result)
        self.tabs.addTab(reports, "Reports")
        self.approvals = ApprovalsTab(ctx)
        self.tabs.addTab(self.approvals, "Approvals")
        self.save_letter.clicked.connect(self.write_letter)
        self.letter_sent.clicked.connect(self.mark_letter_sent)

        self.status.currentIndexChanged.connect(lambda _i: self.reload())
        self.tabs.currentChanged.connect(lambda _i: self._follow_the_month())
        self.prepare.clicked.connect(self.prepare_claims)
        self.submitted.clicked.connect(self.mark_submitted)
        self.terminal.clicked.connect(self.terminal_result)
        self.rejected.clicked.connect(self.mark_rejected)
        self.save_bpr.clicked.connect(self.save_bulk_request)
        self.import_rem.clicked.connect(self.import_remittance)
        self.import_catalogue.clicked.connect(self.import_price_limits)
        bus.changed.connect(self._on_changed)
        self.reload()

    def _follow_the_month(self) -> None:
        """The current month, unless reception chose one: a desk left open across a month's
        end offers the new month, not the one the area opened in."""
        if self.month_chosen:
            return
        today = self.ctx.clock.now().astimezone(self.ctx.tz).date()
        self.month.blockSignals(True)
        self.month.setDate(QDate(today.year, today.month, 1))
        self.month.blockSignals(False)

    def _month_picked(self) -> None:
        self.month_chosen = True

    def _with_browse(self, edit: QLineEdit, *, save: bool) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        browse = QPushButton("Browse…")
        browse.setAutoDefault(False)

        def pick() -> None:
            if save:
                path, _ = QFileDialog.getSaveFileName(self, "Save", edit.text(), "CSV (*.csv)")
            else:
                path, _ = QFileDialog.getOpenFileName(self, "Open", edit.text(), "CSV (*.csv)")
            if path:
                edit.setText(path)

        browse.clicked.connect(pick)
        row.addWidget(browse)
        return box

    # -- loading ------------------------------------------------------------------------------
    def _on_changed(self, notice: ChangeNotice) -> None:
        if notice.touches("claims", "funding_plans", "plan_sessions", "invoices", "payments"):
            self.reload()

    def reload(self) -> None:
        status = self.status.currentData()
        loaded = run_op(
            lambda: svc.list_claims(self.ctx, status=ClaimStatus(status) if status else None),
            in_label(self.summary),
        )
        if not loaded:
            return
        rows = loaded.get()
        self.model.reset(rows)
        fit_columns(self.table)
        owing = sum(r.claimed_cents - r.paid_cents for r in rows if r.status != ClaimStatus.PAID)
        if rows:
            self.summary.setText(f"{len(rows)} claims · {format_money(owing)} not yet paid")
        elif status:
            self.summary.setText("No claims with this status.")
        else:
            self.summary.setText(EMPTY_QUEUE)
        self._load_reports()
        self.approvals.load()
        out = run_op(lambda: plans_running_out(self.ctx), in_label(self.summary))
        self.running_out.clear()
        for r in out.get() if out else []:
            self.running_out.addTopLevelItem(QTreeWidgetItem([r.patient_name, r.plan_label, r.why]))

    def _load_reports(self) -> None:
        from frontdesk.services.claims.letters import reports_due

        self.outstanding.clear()
        got = run_op(lambda: svc.outstanding_by_funder(self.ctx), in_label(self.summary))
        for r in got.get() if got else []:
            cells = [r.funder, str(r.claims)]
            cells += [format_money(r.buckets[b.value]) for b in AgeBucket]
            cells.append(format_money(r.total_cents))
            self.outstanding.addTopLevelItem(QTreeWidgetItem(cells))
        for i in range(self.outstanding.columnCount()):
            self.outstanding.resizeColumnToContents(i)
        self.letters.clear()
        due = run_op(lambda: reports_due(self.ctx), in_label(self.letter_result))
        self.due = due.get() if due else []
        for d in self.due:
            kind = "after the first service" if d.kind == "first" else "after the last service"
            self.letters.addTopLevelItem(QTreeWidgetItem([d.patient_name, d.referrer, kind]))

    def _due(self) -> Any:
        item = self.letters.currentItem()
        i = self.letters.indexOfTopLevelItem(item) if item is not None else -1
        return self.due[i] if 0 <= i < len(self.due) else None

    def write_letter(self) -> None:
        from frontdesk.services.claims.letters import referrer_letter

        d = self._due()
        target = self.letter_path.text().strip()
        if d is None or not target:
            self.letter_result.setText("Choose a report in the list and where to save it.")
            return
        pdf = run_op(lambda: referrer_letter(self.ctx, d.plan_id, d.kind),
                     in_label(self.letter_result))  # fmt: skip
        if not pdf:
            return
        try:
            Path(target).write_bytes(pdf.get())
        except OSError as e:
            self.letter_result.setText(f"The letter could not be saved: {e.strerror}.")
            return
        self.letter_result.setText(
            f"Saved the letter to {Path(target).name}. Once it is sent, press Mark sent."
        )

    def mark_letter_sent(self) -> None:
        from frontdesk.services.claims.letters import mark_report_sent

        d = self._due()
        if d is not None and run_op(
            lambda: mark_report_sent(self.ctx, d.plan_id, d.kind), in_label(self.letter_result)
        ):
            self.letter_result.setText(f"Recorded: report on {d.patient_name} sent.")
            self.reload()

    def _current(self) -> svc.ClaimRow | None:
        r = source_row(self.table)
        return self.model.row(r) if r is not None else None

    # -- actions ------------------------------------------------------------------------------
    def prepare_claims(self) -> None:
        made = run_op(lambda: svc.prepare_claims(self.ctx), in_box(self, "Claims"))
        if made:
            self.reload()
            self.summary.setText(f"{made.get()} new claims prepared. " + self.summary.text())

    def mark_submitted(self) -> None:
        row = self._current()
        if row is not None:
            run_op(lambda: svc.mark_submitted(self.ctx, [row.id]), in_box(self, "Claims"),
                   refresh=self.reload)  # fmt: skip

    def mark_rejected(self) -> None:
        row = self._current()
        if row is None:
            return
        reason, ok = QInputDialog.getText(self, "Claim rejected", "Why did the funder reject it?")
        if ok:
            run_op(lambda: svc.reject_claim(self.ctx, row.id, reason), in_box(self, "Claims"),
                   refresh=self.reload)  # fmt: skip

    def email_invoice(self) -> None:
        """Queue the selected claim's invoice to its payer's address (asked for when the
        payer has none on file); the messaging sender sends it."""
        row = self._current()
        if row is None:
            return
        to = ""
        while True:
            try:
                mail = email_invoice(self.ctx, row.invoice_id, to)
            except ValidationFailed as e:
                if e.field != "email":
                    in_box(self, "Claims")(e)
                    return
                to, ok = QInputDialog.getText(
                    self, "Email the invoice", f"{e.user_message}\n\nSend to:"
                )
                if not ok or not to.strip():
                    return
                continue
            except FrontdeskError as e:
                in_box(self, "Claims")(e)
                return
            self.summary.setText(f"Queued {mail.file_name} by email to {mail.to}.")
            return

    def terminal_result(self) -> None:
        row = self._current()
        if row is not None:
            TerminalDialog(self.ctx, row, self).exec()
            self.reload()

    def save_bulk_request(self) -> None:
        d = self.month.date()
        month = date(d.year(), d.month(), 1)
        path = Path(self.bpr_path.text().strip())
        if not self.bpr_path.text().strip():
            self.bpr_result.setText("Say where to save the file.")
            return
        built = run_op(
            lambda: svc.build_bulk_payment_request(self.ctx, month, self.registration.text()),
            in_label(self.bpr_result),
        )
        if not built:
            return
        req = built.get()
        try:
            path.write_text(req.csv_text, encoding="utf-8", newline="")
        except OSError as e:
            self.bpr_result.setText(f"The file could not be saved: {e.strerror}.")
            return
        self.bpr_result.setText(
            f"Saved {req.lines} lines ({format_money(req.total_cents)}) for {month:%B %Y} to "
            f"{path.name}. Upload it in the myplace portal, then mark the claims submitted."
        )

    def import_price_limits(self) -> None:
        """Load the NDIA's support catalogue: the price limits checked at checkout."""
        from frontdesk.services.claims.checkout import import_support_catalogue

        text = self.catalogue_path.text().strip()
        if not text:
            self.catalogue_result.setText("Name the support catalogue file to import.")
            return
        done = run_op(
            lambda: import_support_catalogue(self.ctx, Path(text)), in_label(self.catalogue_result)
        )
        if done:
            self.catalogue_result.setText(
                f"Loaded {done.get()} NDIS support items with their price limits from "
                f"{Path(text).name}."
            )

    def _format_changed(self) -> None:
        other = self.rem_format.currentData() == "other"
        self.ref_column.setEnabled(other)
        self.paid_column.setEnabled(other)

    def import_remittance(self) -> None:
        text = self.rem_path.text().strip()
        if not text:
            self.rem_result.setText("Choose the payment report file.")
            return
        self.rem_result.setStyleSheet("color: #b91c1c;")
        mapping = NDIA_PAYMENT_REPORT
        if self.rem_format.currentData() == "other":
            ref, paid = self.ref_column.text().strip(), self.paid_column.text().strip()
            if not ref or not paid:
                self.rem_result.setText("Name the reference and paid columns of the file.")
                return
            mapping = RemittanceMapping(reference=ref, paid=paid)
        done = run_op(
            lambda: import_remittance(self.ctx, Path(text), mapping), in_label(self.rem_result)
        )
        if done:
            r = done.get()
            self.rem_result.setStyleSheet("")
            self.rem_result.setText(
                f"Imported {r.lines} line{'s' if r.lines != 1 else ''}: "
                f"{format_money(r.paid_cents)} received — {r.paid} "
                f"paid, {r.part_paid} part-paid, {r.rejected} rejected."
            )
            self.reload()
