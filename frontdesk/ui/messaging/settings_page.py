"""Settings → Messages: the inbox of SMS replies waiting for reception, the templates (each
previewed live on a real appointment with its SMS length, segments and cost), the reminder
schedule, and the provider, sender, quiet hours and a test send."""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QDate, QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.messaging import PLACEHOLDERS, MessageKind
from frontdesk.domain.money import format_money
from frontdesk.domain.vocab import MessageChannel
from frontdesk.services.messaging import recalls, replies, setup, views
from frontdesk.services.messaging.queueing import DEFAULT_TEMPLATES
from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.ops import in_label, run_op
from frontdesk.ui.row_table import Column, RowModel, fit_columns, row_table, source_row
from frontdesk.ui.settings.setup_common import watch

KINDS = [MessageKind.CONFIRMATION, MessageKind.REMINDER, MessageKind.MOVED, MessageKind.CANCELLED,
         MessageKind.BIRTHDAY]  # fmt: skip


def _error_label(name: str) -> QLabel:
    label = QLabel("")
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet("color: #b91c1c;")
    return label


class InboxTab(QWidget):
    """SMS replies that were not "Y", "C" or STOP, linked to the patient, until handled."""

    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        tz = ctx.tz
        columns: list[Column[replies.InboxRow]] = [
            Column(
                "Received",
                lambda r: r.received_at.astimezone(tz).strftime("%d/%m %H:%M"),
                lambda r: r.received_at.timestamp(),
            ),
            Column("From", lambda r: r.from_number),
            Column("Patient", lambda r: r.patient_name),
            Column("Reply", lambda r: r.body, stretch=True),
            Column("Note", lambda r: r.outcome),
        ]
        self.model: RowModel[replies.InboxRow] = RowModel(columns, key=lambda r: r.id, parent=self)
        self.table = row_table(self.model, "smsInbox")
        self.handled = QPushButton("Mark handled")
        self.handled.setObjectName("inboxHandled")
        self.handled.clicked.connect(self.mark_handled)
        self.status = _error_label("inboxStatus")
        row = QHBoxLayout()
        row.addWidget(self.handled)
        row.addStretch(1)
        col = QVBoxLayout(self)
        col.addWidget(self.table, 1)
        col.addLayout(row)
        col.addWidget(self.status)
        watch(bus, self, {"inbound_messages"}, self.reload)
        self.reload()

    def reload(self) -> None:
        rows = replies.inbox(self.ctx)
        self.model.reset(rows)
        fit_columns(self.table)
        self.handled.setEnabled(bool(rows))

    def mark_handled(self) -> None:
        at = source_row(self.table)
        if at is None:
            self.status.setText("Choose a reply first.")
            return
        row = self.model.row(at)
        run_op(lambda: replies.mark_handled(self.ctx, row.id), in_label(self.status),
               refresh=self.reload)  # fmt: skip


class TemplatesTab(QWidget):
    """One template at a time: kind and channel, the words with placeholders, the reminder
    schedule; the preview below fills it for the next booked appointment as you type."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.kind = QComboBox()
        self.kind.setObjectName("templateKind")
        for k in KINDS:
            self.kind.addItem(k.value.capitalize(), k.value)
        self.channel = QComboBox()
        self.channel.setObjectName("templateChannel")
        self.channel.addItem("SMS", MessageChannel.SMS.value)
        self.channel.addItem("Email", MessageChannel.EMAIL.value)
        self.subject = QLineEdit()
        self.subject.setObjectName("templateSubject")
        self.body = QPlainTextEdit()
        self.body.setObjectName("templateBody")
        self.body.setMinimumHeight(90)
        self.days = QSpinBox()
        self.days.setObjectName("reminderDays")
        self.days.setRange(0, 60)
        self.days.setValue(2)
        self.at = QTimeEdit(QTime(10, 0))
        self.at.setObjectName("reminderAt")
        self.at.setDisplayFormat("HH:mm")
        self.placeholders = QLabel(
            "Placeholders: " + "  ".join("{" + k + "}" for k in PLACEHOLDERS)
        )
        self.placeholders.setWordWrap(True)
        self.placeholders.setObjectName("muted")
        self.preview = QLabel("")
        self.preview.setObjectName("templatePreview")
        self.preview.setWordWrap(True)
        self.preview.setStyleSheet("background: #f1f5f9; padding: 8px; border-radius: 6px;")
        self.length = QLabel("")
        self.length.setObjectName("templateLength")
        self.problem = _error_label("templateProblem")
        self.problem.setMinimumHeight(44)
        self.save = QPushButton("Save template")
        self.save.setObjectName("saveTemplate")
        self.save.setProperty("primary", True)
        self.save.clicked.connect(self.save_template)
        self.saved = QLabel("")
        self.saved.setObjectName("muted")
        form = QFormLayout()
        kinds = QHBoxLayout()
        kinds.addWidget(self.kind)
        kinds.addWidget(self.channel)
        kinds.addStretch(1)
        form.addRow("Message", kinds)
        form.addRow("Subject (email)", self.subject)
        form.addRow("Words", self.body)
        when = QHBoxLayout()
        when.addWidget(self.days)
        when.addWidget(QLabel("days before, at"))
        when.addWidget(self.at)
        when.addWidget(QLabel("clinic time (reminders)"))
        when.addStretch(1)
        form.addRow("Schedule", when)
        col = QVBoxLayout(self)
        col.addLayout(form)
        col.addWidget(self.placeholders)
        col.addWidget(QLabel("Preview"))
        col.addWidget(self.preview)
        col.addWidget(self.length)
        col.addWidget(self.problem)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save)
        buttons.addWidget(self.saved, 1)
        col.addLayout(buttons)
        col.addStretch(1)
        self.kind.currentIndexChanged.connect(self.load_default)
        self.channel.currentIndexChanged.connect(self.load_default)
        self.body.textChanged.connect(self.update_preview)
        self.load_default()

    def _kind(self) -> MessageKind:
        return MessageKind(self.kind.currentData())

    def _channel(self) -> MessageChannel:
        return MessageChannel(self.channel.currentData())

    def load_default(self) -> None:
        subject, body = DEFAULT_TEMPLATES[(self._kind(), self._channel())]
        self.subject.setText(subject)
        self.subject.setEnabled(self._channel() is MessageChannel.EMAIL)
        self.body.setPlainText(body)
        self.saved.setText("")

    def update_preview(self) -> None:
        p = views.preview(self.ctx, self.body.toPlainText(), self._channel())
        self.preview.setText(p.text or "—")
        cost = f", about {format_money(p.cost_cents)} to send" if p.segments else ""
        self.length.setText(f"{p.length}{cost} · previewed on {p.on}" if p.length else "")
        self.problem.setText(p.problem)
        self.save.setEnabled(not p.problem)

    def save_template(self) -> None:
        t = self.at.time()
        done = run_op(
            lambda: setup.save_template(
                self.ctx, kind=self._kind(), channel=self._channel(),
                body=self.body.toPlainText(), subject=self.subject.text(),
                days_before=self.days.value(), send_at_minute=t.hour() * 60 + t.minute(),
            ),
            in_label(self.problem),
        )  # fmt: skip
        if done:
            self.saved.setText("Saved.")


class ProviderTab(QWidget):
    """Messaging on/off, the SMS provider and account, email server, quiet hours, the segment
    limit and cost, and a test send. Secrets are typed into the keychain, never stored here."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        v = setup.read_settings(ctx).values
        self.enabled = QCheckBox("Send messages to patients")
        self.enabled.setObjectName("messagingEnabled")
        self.enabled.setChecked(bool(v["enabled"]))
        self.provider = QComboBox()
        self.provider.setObjectName("smsProvider")
        for label, key in (("None", ""), ("Twilio", "twilio"), ("ClickSend", "clicksend")):
            self.provider.addItem(label, key)
        self.provider.setCurrentIndex(max(0, self.provider.findData(v["sms_provider"])))
        self.account = QLineEdit(v["provider_account"])
        self.account.setObjectName("providerAccount")
        self.sender_name = QLineEdit(v["sms_sender"])
        self.sender_name.setObjectName("smsSender")
        self.quiet_from = QTimeEdit(
            QTime(v["quiet_start_minute"] // 60, v["quiet_start_minute"] % 60)
        )
        self.quiet_to = QTimeEdit(QTime(v["quiet_end_minute"] // 60, v["quiet_end_minute"] % 60))
        for box, name in ((self.quiet_from, "quietFrom"), (self.quiet_to, "quietTo")):
            box.setDisplayFormat("HH:mm")
            box.setObjectName(name)
        self.limit = QSpinBox()
        self.limit.setObjectName("segmentLimit")
        self.limit.setRange(1, 10)
        self.limit.setValue(int(v["segment_limit"]))
        self.cost = QSpinBox()
        self.cost.setObjectName("segmentCost")
        self.cost.setRange(0, 500)
        self.cost.setSuffix(" c a segment")
        self.cost.setValue(int(v["segment_cost_cents"]))
        self.smtp_host = QLineEdit(v["smtp_host"])
        self.smtp_host.setObjectName("smtpHost")
        self.smtp_port = QSpinBox()
        self.smtp_port.setRange(1, 65535)
        self.smtp_port.setValue(int(v["smtp_port"]))
        self.email_from = QLineEdit(v["email_from"])
        self.save = QPushButton("Save")
        self.save.setObjectName("saveMessaging")
        self.save.setProperty("primary", True)
        self.save.clicked.connect(self.save_settings)
        self.status = _error_label("messagingStatus")
        self.test_to = QLineEdit()
        self.test_to.setObjectName("testTo")
        self.test_to.setPlaceholderText("0412 345 678")
        self.test = QPushButton("Test send")
        self.test.setObjectName("testSend")
        self.test.clicked.connect(self.test_send)
        self.test_result = QLabel("")
        self.test_result.setObjectName("testResult")
        self.test_result.setWordWrap(True)
        form = QFormLayout()
        form.addRow("", self.enabled)
        form.addRow("SMS provider", self.provider)
        form.addRow("Account (SID / user name)", self.account)
        form.addRow("Sender (number or name)", self.sender_name)
        quiet = QHBoxLayout()
        quiet.addWidget(QLabel("from"))
        quiet.addWidget(self.quiet_from)
        quiet.addWidget(QLabel("to"))
        quiet.addWidget(self.quiet_to)
        quiet.addStretch(1)
        form.addRow("Quiet hours (clinic time)", quiet)
        form.addRow("Longest SMS (segments)", self.limit)
        form.addRow("Cost", self.cost)
        form.addRow("Email server (STARTTLS)", self.smtp_host)
        form.addRow("Port", self.smtp_port)
        form.addRow("Email from", self.email_from)
        test = QHBoxLayout()
        test.addWidget(self.test_to)
        test.addWidget(self.test)
        col = QVBoxLayout(self)
        col.addLayout(form)
        col.addWidget(QLabel("Passwords and API keys are kept in this computer's keychain."))
        col.addWidget(self.save)
        col.addWidget(self.status)
        col.addLayout(test)
        col.addWidget(self.test_result)
        col.addStretch(1)

    def save_settings(self) -> None:
        a, b = self.quiet_from.time(), self.quiet_to.time()
        done = run_op(
            lambda: setup.save_settings(
                self.ctx, enabled=self.enabled.isChecked(),
                sms_provider=self.provider.currentData(), provider_account=self.account.text(),
                sms_sender=self.sender_name.text(), quiet_start_minute=a.hour() * 60 + a.minute(),
                quiet_end_minute=b.hour() * 60 + b.minute(), segment_limit=self.limit.value(),
                segment_cost_cents=self.cost.value(), smtp_host=self.smtp_host.text().strip(),
                smtp_port=self.smtp_port.value(), email_from=self.email_from.text().strip(),
            ),
            in_label(self.status),
        )  # fmt: skip
        if done:
            self.status.setStyleSheet("color: #15803d;")
            self.status.setText(f"Saved at {datetime.now().strftime('%H:%M')}.")

    def test_send(self) -> None:
        self.test_result.setStyleSheet("color: #b91c1c;")
        done = run_op(lambda: views.test_send(self.ctx, self.test_to.text()),
                      in_label(self.test_result))  # fmt: skip
        if done:
            self.test_result.setStyleSheet("color: #15803d;")
            self.test_result.setText(done.get())


class RecallsTab(QWidget):
    """Patients last seen at least N weeks ago with nothing booked ahead; queue their recall."""

    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        tz = ctx.tz
        self.weeks = QSpinBox()
        self.weeks.setObjectName("recallWeeks")
        self.weeks.setRange(1, 104)
        self.weeks.setValue(6)
        self.weeks.setSuffix(" weeks")
        columns: list[Column[recalls.RecallRow]] = [
            Column("Patient", lambda r: r.patient_name),
            Column(
                "Last visit",
                lambda r: r.last_visit.astimezone(tz).strftime("%d/%m/%Y"),
                lambda r: r.last_visit.timestamp(),
            ),
            Column("With", lambda r: r.practitioner),
            Column(
                "Recall",
                lambda r: (
                    "queued"
                    if r.already_recalled
                    else ("can be sent" if r.reachable else r.why_not)
                ),
                stretch=True,
            ),
        ]
        self.model: RowModel[recalls.RecallRow] = RowModel(
            columns, key=lambda r: r.patient_id, parent=self
        )
        self.table = row_table(self.model, "recallList")
        self.queue = QPushButton("Queue recalls")
        self.queue.setObjectName("queueRecalls")
        self.queue.clicked.connect(self.queue_all)
        self.status = QLabel("")
        self.status.setObjectName("recallStatus")
        top = QHBoxLayout()
        top.addWidget(QLabel("Last seen at least"))
        top.addWidget(self.weeks)
        top.addWidget(QLabel("ago, nothing booked ahead"))
        top.addStretch(1)
        top.addWidget(self.queue)
        col = QVBoxLayout(self)
        col.addLayout(top)
        col.addWidget(self.table, 1)
        col.addWidget(self.status)
        self.weeks.valueChanged.connect(lambda _v: self.reload())
        watch(bus, self, {"outgoing_messages", "appointments"}, self.reload)
        self.reload()

    def reload(self) -> None:
        rows = recalls.recall_list(self.ctx, weeks=self.weeks.value())
        self.model.reset(rows)
        fit_columns(self.table)

    def queue_all(self) -> None:
        rows = [self.model.row(i) for i in range(self.model.rowCount())]
        done = run_op(lambda: recalls.queue_recalls(self.ctx, rows), in_label(self.status),
                      refresh=self.reload)  # fmt: skip
        if done:
            self.status.setText(f"{done.get()} recall(s) queued.")


class DayTab(QWidget):
    """The day's messages report: what was sent, failed or replied on a day (clinic time)."""

    def __init__(self, ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        tz = ctx.tz
        today = ctx.clock.now().astimezone(tz).date()
        self.day = QDateEdit(QDate(today.year, today.month, today.day))
        self.day.setObjectName("messagesDay")
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd d MMM yyyy")
        columns: list[Column[views.DayRow]] = [
            Column(
                "Time", lambda r: r.at.astimezone(tz).strftime("%H:%M"), lambda r: r.at.timestamp()
            ),
            Column("", lambda r: "→" if r.direction == "out" else "←"),
            Column("Patient", lambda r: r.patient_name),
            Column("What", lambda r: r.kind.replace("_", " ")),
            Column("Number / address", lambda r: r.number),
            Column("Status", lambda r: r.status),
            Column("Detail", lambda r: r.detail, stretch=True),
        ]
        self.model: RowModel[views.DayRow] = RowModel(
            columns, key=lambda r: f"{r.direction}{r.at.isoformat()}{r.number}{r.kind}", parent=self
        )
        self.table = row_table(self.model, "dayMessages")
        self.summary = QLabel("")
        self.summary.setObjectName("dayMessagesSummary")
        self.summary.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Messages on"))
        top.addWidget(self.day)
        top.addStretch(1)
        col = QVBoxLayout(self)
        col.addLayout(top)
        col.addWidget(self.summary)
        col.addWidget(self.table, 1)
        self.day.dateChanged.connect(lambda _d: self.reload())
        watch(bus, self, {"outgoing_messages", "inbound_messages"}, self.reload)
        self.reload()

    def reload(self) -> None:
        d = self.day.date()
        report = views.day_report(self.ctx, date(d.year(), d.month(), d.day()))
        self.model.reset(report.rows)
        fit_columns(self.table)
        self.summary.setText(report.summary)


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    tabs = QTabWidget(parent)
    tabs.setObjectName("messagingTabs")
    tabs.addTab(InboxTab(ctx, bus), "Inbox")
    tabs.addTab(DayTab(ctx, bus), "Day report")
    tabs.addTab(TemplatesTab(ctx), "Templates")
    tabs.addTab(RecallsTab(ctx, bus), "Recalls")
    tabs.addTab(ProviderTab(ctx), "Provider && hours")
    return tabs
