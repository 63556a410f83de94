"""Account codes (issue 20): typed on Settings → Accounting as a manager would, saved in the
clinic settings (they sync), and written by the Xero and MYOB exports — revenue per payer,
the GST codes, payments to the clearing account of their method; bad codes are named and
nothing is saved."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from billing_world import make_world
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from frontdesk.domain.vocab import Role
from frontdesk.models import SyncOutbox
from frontdesk.services import accounting_codes as ac
from frontdesk.services import accounting_export as ax
from frontdesk.services import billing
from frontdesk.services.report_types import Period
from frontdesk.store.context import Actor, ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.settings.accounting import AccountingCodesPage, create

DAY = Period(date(2026, 11, 27), date(2026, 11, 27))


def _type(qtbot, edit, text: str) -> None:  # type: ignore[no-untyped-def]
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def _rows(path: Path) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8")
    return [r for r in csv.DictReader(io.StringIO(text)) if any(r.values())]


def test_codes_typed_in_settings_go_into_both_exports(
    qtbot, ctx: ServiceContext, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    w = make_world(ctx)
    own = billing.invoice_from_appointment(ctx, w.appointments[0])
    billing.issue_invoice(ctx, own)
    funded = billing.invoice_from_appointment(ctx, w.fund_appointment)
    billing.issue_invoice(ctx, funded)
    billing.take_payment(ctx, method="cash", amount_cents=9500, invoice_ids=[own])
    billing.take_payment(ctx, method="eftpos", amount_cents=9000, invoice_ids=[funded])

    page = AccountingCodesPage(ctx)
    qtbot.addWidget(page)
    page.show()
    assert page.main["revenue"].text() == "200"  # Xero's usual defaults until set
    _type(qtbot, page.main["revenue"], "41000")
    _type(qtbot, page.main["gst_free"], "GST Free Income")
    _type(qtbot, page.payers[w.fund], "41500")
    qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
    assert page.message.text().startswith("Saved") and page.error.text() == ""

    page.system.setCurrentIndex(1)  # MYOB
    assert page.main["clearing"].text() == "1-1210"
    _type(qtbot, page.main["revenue"], "4-1100")
    _type(qtbot, page.methods["cash"], "1-1220")
    qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
    assert page.message.text().startswith("Saved")

    xero = ax.export_period(ctx, "xero", DAY, tmp_path)
    lines = _rows(xero.files[0])
    by_number = {r["*InvoiceNumber"]: r["*AccountCode"] for r in lines}
    assert set(by_number.values()) == {"41000", "41500"}  # the fund's invoice: its own account
    myob = ax.export_period(ctx, "myob", DAY, tmp_path)
    sales = _rows(myob.files[0])
    assert {r["Account #"] for r in sales} == {"4-1100"}
    deposits = {r["Payment Method"]: r["Deposit Account #"] for r in _rows(myob.files[1])}
    assert deposits == {"Cash": "1-1220", "EFTPOS": "1-1210"}
    # kept in the clinic settings, which sync to the other desks
    with ctx.read() as s:
        assert s.scalar(select(func.count()).select_from(SyncOutbox)
                        .where(SyncOutbox.entity == "clinic_settings")) >= 2  # fmt: skip
    # a fresh screen shows what was saved
    again = AccountingCodesPage(ctx)
    qtbot.addWidget(again)
    assert again.main["revenue"].text() == "41000" and again.payers[w.fund].text() == "41500"


def test_a_bad_code_is_named_and_nothing_saved(qtbot, ctx: ServiceContext) -> None:  # type: ignore[no-untyped-def]
    make_world(ctx)
    page = AccountingCodesPage(ctx)
    qtbot.addWidget(page)
    page.show()
    _type(qtbot, page.main["revenue"], "")
    qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
    assert page.error.text() == "Revenue account is empty."
    _type(qtbot, page.main["revenue"], "=HYPERLINK(1)")
    qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
    assert "is not an account code" in page.error.text()
    assert not page.message.text()
    assert ac.account_codes(ctx, "xero") == ac.DEFAULTS["xero"]


def test_reception_cannot_change_the_codes(qtbot, ctx: ServiceContext, bus: ChangeBus) -> None:  # type: ignore[no-untyped-def]
    ctx.actor = Actor("u1", "Front desk", Role.RECEPTION)
    tab = create(ctx, bus, None)
    qtbot.addWidget(tab)
    tab.show()
    assert "cannot change clinic settings" in tab.currentWidget().text()
