"""Billing → Invoices showing 10,000 invoices while a payment is taken (issue 14): how long the
GUI thread's event loop stalls, from the payment's write to the list's update by row. The
baseline is the same payment with the list filtered to nothing, in the same run.

The stall is measured by a 1 ms timer: the longest gap between its ticks while the payment is
written and its change notice handled (p95 over the payments)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import Bench, percentile

SHOWN = 10_000
PAYMENTS = 20


def _demo(folder: Path) -> None:
    """A one-year, four-practitioner demo clinic (about 17,000 invoices, ~10 s to build)."""
    subprocess.run(
        [sys.executable, "-m", "frontdesk.app", "--data-dir", str(folder), "demo",
         "--years", "1", "--practitioners", "4"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def longest_stall(work: Callable[[], object], window_ms: int = 250) -> float:
    """Run ``work`` from the event loop and return the longest gap (ms) between the ticks of a
    1 ms timer over ``window_ms`` (the work and the change notices it queued)."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer

    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        gaps.append((now - last[0]) / 1e6)
        last[0] = now

    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(1)
    probe.timeout.connect(tick)
    loop = QEventLoop()
    probe.start()
    QTimer.singleShot(20, work)
    QTimer.singleShot(window_ms, loop.quit)
    loop.exec()
    probe.stop()
    return max(gaps)


def run(bench: Bench) -> None:
    from PySide6.QtCore import QDate
    from PySide6.QtWidgets import QApplication

    from frontdesk.paths import desk_paths
    from frontdesk.services import billing
    from frontdesk.services.desk import open_desk
    from frontdesk.ui.billing.invoices import InvoiceListPage
    from frontdesk.ui.bus import ChangeBus

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="bench-invoices-") as tmp:
        folder = Path(tmp) / "desk"
        _demo(folder)
        ctx = open_desk(desk_paths(folder))
        bus = ChangeBus()
        ctx.listeners.append(bus.publish)
        page = InvoiceListPage(ctx, bus)
        page.resize(1280, 720)
        page.show()
        page.limit = SHOWN
        page.start.setDate(QDate(2000, 1, 1))
        start = time.perf_counter()
        page.reload()
        fill_ms = (time.perf_counter() - start) * 1000
        shown = page.model.rowCount()
        owing = [
            r.id
            for r in billing.list_invoices(
                ctx, billing.InvoiceFilter(owing_only=True, limit=4 * PAYMENTS)
            )
        ]
        if len(owing) < 2 * PAYMENTS:
            raise RuntimeError(f"the demo has only {len(owing)} invoices owing")
        visible = {r.id for r in page.model.rows}

        def pay(invoice_id: str) -> None:
            amount = billing.invoice_view(ctx, invoice_id).total_cents
            billing.take_payment(ctx, method="eftpos", amount_cents=min(amount, 100),
                                 invoice_ids=[invoice_id])  # fmt: skip

        def stalls(invoice_ids: list[str]) -> list[float]:
            return [longest_stall(lambda i=invoice_id: pay(i)) for invoice_id in invoice_ids]

        shown_ids = [i for i in owing if i in visible][:PAYMENTS]
        rest = [i for i in owing if i not in shown_ids][:PAYMENTS]
        if len(shown_ids) < PAYMENTS // 2:
            shown_ids = owing[:PAYMENTS]
            rest = owing[PAYMENTS : 2 * PAYMENTS]
        stalls(owing[-3:])  # warm-up
        full = stalls(shown_ids)
        page.search.setText("no such patient zzzz")
        page.reload()
        assert page.model.rowCount() == 0
        empty = stalls(rest)
        page.close()
        app.processEvents()
        ctx.engine.dispose()
    bench.record(
        f"invoice list: payment while {shown:,} invoices shown (event-loop stall)",
        "p95",
        percentile(full, 95),
        "ms",
        percentile(empty, 95),
        f"baseline: same payment, empty list; target ≤ 50 ms; first fill {fill_ms:.0f} ms",
    )
