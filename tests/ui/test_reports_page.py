from __future__ import annotations

from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.reports import ReportsPage


def test_reports_page_shows_a_table_with_totals(
    qtbot, demo_ctx: ServiceContext, bus: ChangeBus
) -> None:
    page = ReportsPage(demo_ctx, bus)
    qtbot.addWidget(page)
    page.show()
    page.kind.setCurrentText("Revenue by payer")
    qtbot.waitUntil(lambda: page.report is not None and page.report.title == "Revenue by payer")
    last = page.table.model().rowCount() - 1
    assert page.table.model().index(last, 0).data() == "Total"
    assert page.table.model().index(last, 2).data().startswith("$")
    assert page.export_button.isEnabled()
