"""Billing on the 10-year clinic: one invoice PDF, a batch of 500, the checkout flow (invoice
from appointment, payment, receipt PDF) and aged debtors for the whole clinic — each beside the
same work done the plainest way (a bare ReportLab canvas, raw sqlite3) in the same run."""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from benchmarks.harness import DEMO_TODAY, ROOT, Bench, demo_clock, percentile, time_ms
from frontdesk.db.types import key_blob, key_text, sqlite_utc_value
from frontdesk.domain.billing import bucket_cutoffs
from frontdesk.domain.ids import uuid7
from frontdesk.gc_tuning import settle_heap
from frontdesk.paths import desk_paths
from frontdesk.services import billing
from frontdesk.services.billing.ledger import aged_sql
from frontdesk.services.billing.views import InvoiceView
from frontdesk.services.desk import open_desk
from frontdesk.services.documents import render_invoice, render_receipt, write_invoice_pdf
from frontdesk.services.documents.layout import FONT, register_fonts


def bare_page(view: InvoiceView) -> bytes:
    """The baseline: the same words on one page with the same embedded font, no layout."""
    register_fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=True)
    c.setFont(FONT, 9)
    y = 800.0
    words = [
        view.clinic.name,
        view.clinic.business_number,
        view.clinic.address,
        "Tax invoice",
        view.number or "",
        str(view.issue_date),
        view.patient.name,
        view.practitioner,
        view.provider_number,
    ]
    words += [f"{ln.item_number} {ln.description} {ln.total_cents}" for ln in view.lines]
    words += [str(view.total_cents), str(view.tax_cents), str(view.paid_cents)]
    for text in words:
        for line in text.splitlines() or [""]:
            c.drawString(50, y, line)
            y -= 12
    c.showPage()
    c.save()
    return buf.getvalue()


# Renders 60 invoices 200 times in a fresh process and prints the p95 in ms. With "earlier",
# as before issue 21's last round: ReportLab's pure-Python paths (no rl-accel) and ASCII85.
_RENDER = """
import sys
if sys.argv[2] == "earlier":
    sys.modules["_rl_accel"] = None  # the import fails: ReportLab falls back to Python
from datetime import UTC, datetime
from pathlib import Path
from benchmarks.harness import demo_clock, percentile, time_ms
from frontdesk.paths import desk_paths
from frontdesk.services import billing
from frontdesk.services.desk import open_desk
from frontdesk.services.documents import render_invoice
from reportlab import rl_config
import frontdesk.services.documents.layout
if sys.argv[2] == "earlier":
    rl_config.useA85 = 1
ctx = open_desk(desk_paths(Path(sys.argv[1])), clock=demo_clock())
ids = sys.argv[3].split(",")
views = [billing.invoice_view(ctx, i) for i in ids]
it = iter(range(10**9))
samples = time_ms(lambda: render_invoice(views[next(it) % len(views)]), repeat=200, warmup=5)
print(percentile(samples, 95))
"""


def _render_p95(folder: Path, way: str, ids: list[str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _RENDER, str(folder), way, ",".join(ids)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


def run(bench: Bench) -> None:
    folder = bench.fresh_scale_dir()
    ctx = open_desk(desk_paths(folder), clock=demo_clock())
    settle_heap()  # the collector as the app sets it once its window is up (app.py)
    db = folder / "frontdesk.sqlite3"
    raw = sqlite3.connect(db)
    ids = [
        key_text(r[0])
        for r in raw.execute(
            "SELECT id FROM invoices WHERE status = 'issued' ORDER BY issue_date DESC LIMIT 600"
        )
    ]
    views = [billing.invoice_view(ctx, i) for i in ids[:60]]

    # -- one invoice PDF: the earlier render against this one, each in a fresh process -------
    # interleaved, best of three each: the machine's load drifts between processes
    pairs = [(_render_p95(folder, "earlier", ids[:60]), _render_p95(folder, "now", ids[:60]))
             for _ in range(3)]  # fmt: skip
    earlier, now = min(e for e, _n in pairs), min(n for _e, n in pairs)
    note = "baseline: the same views without rl-accel, with ASCII85 (as before)"
    bench.record("billing: one invoice PDF (render), now vs earlier", "p95", now, "ms", earlier,
                 note)  # fmt: skip

    # -- one invoice PDF ------------------------------------------------------------------
    it = iter(range(10**9))
    samples = time_ms(lambda: render_invoice(views[next(it) % len(views)]), repeat=200, warmup=5)
    base = time_ms(lambda: bare_page(views[next(it) % len(views)]), repeat=200, warmup=5)
    bench.record(
        "billing: one invoice PDF (render)",
        "p95",
        percentile(samples, 95),
        "ms",
        percentile(base, 95),
        "bare canvas page, same text and font",
    )
    samples = time_ms(
        lambda: render_invoice(billing.invoice_view(ctx, ids[next(it) % 600])), repeat=200, warmup=5
    )
    bench.record(
        "billing: one invoice PDF (read + render)",
        "p95",
        percentile(samples, 95),
        "ms",
        percentile(base, 95),
        "bare canvas page, same text and font",
    )

    # The same, in process CPU time (time.process_time), which other processes' load does not
    # inflate: read + render and the bare page taken in turn, 200 of each.
    ours_cpu: list[float] = []
    bare_cpu: list[float] = []
    for k in range(205):
        started = time.process_time()
        render_invoice(billing.invoice_view(ctx, ids[(k * 7) % 600]))
        middle = time.process_time()
        bare_page(views[k % len(views)])
        ended = time.process_time()
        if k >= 5:  # warm-up
            ours_cpu.append((middle - started) * 1000)
            bare_cpu.append((ended - middle) * 1000)
    bench.record(
        "billing: one invoice PDF (read + render), CPU",
        "p95",
        percentile(ours_cpu, 95),
        "ms",
        percentile(bare_cpu, 95),
        "bare canvas page, CPU time, taken in turn",
    )

    # -- 500 invoices in a batch ------------------------------------------------------------
    out = Path(tempfile.mkdtemp(prefix="bench-billing-"))
    try:
        started = time.perf_counter()
        for invoice_id in ids[:500]:
            write_invoice_pdf(ctx, invoice_id, out)
        ours = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(500):
            (out / f"bare-{i}.pdf").write_bytes(bare_page(views[i % len(views)]))
        bare = time.perf_counter() - started
    finally:
        shutil.rmtree(out, ignore_errors=True)
    bench.record(
        "billing: 500 invoice PDFs to a folder",
        "total",
        ours,
        "s",
        bare,
        "bare canvas pages written to files",
    )

    # -- checkout: invoice from appointment, payment, receipt PDF -----------------------------
    stored = [
        r[0]
        for r in raw.execute(
            "SELECT a.id FROM appointments a JOIN patients p ON p.id = a.patient_id "
            "JOIN appointment_types t ON t.id = a.appointment_type_id "
            "WHERE a.status = 'booked' AND p.archived_at IS NULL "
            "AND t.default_service_id IS NOT NULL "
            "ORDER BY a.starts_at LIMIT 80"
        )
    ]
    raw.executemany(
        "UPDATE appointments SET status = 'completed' WHERE id = ?", [(a,) for a in stored]
    )
    raw.commit()
    queue = iter(key_text(a) for a in stored)

    def checkout() -> None:
        invoice_id = billing.invoice_from_appointment(ctx, next(queue))
        billing.issue_invoice(ctx, invoice_id)
        owing = billing.invoice_view(ctx, invoice_id).total_cents
        paid = billing.take_payment(
            ctx,
            method="eftpos",
            amount_cents=max(owing, 1),
            invoice_ids=[invoice_id],
            keep_credit=True,
        )
        render_receipt(billing.receipt_view(ctx, paid.payment_id))

    samples = time_ms(checkout, repeat=60, warmup=3)
    patient, price = raw.execute(
        "SELECT patient_id, total_cents FROM invoices WHERE status = 'issued' LIMIT 1"
    ).fetchone()

    def bare_checkout() -> None:
        inv, pay = key_blob(uuid7()), key_blob(uuid7())  # keys as the desk stores them
        now = sqlite_utc_value(datetime(2026, 11, 27, tzinfo=UTC))
        with raw:
            raw.execute(
                "INSERT INTO invoices (id, version, created_at, updated_at, status, "
                "patient_id, payer_reference, total_cents, tax_cents, notes, number, "
                "issue_date, issued_at) VALUES (?, 0, ?, ?, 'issued', ?, '', ?, 0, '', "
                "?, '2026-11-27', ?)",
                (inv, now, now, patient, price, f"B-{inv.hex()}", now),
            )
            raw.execute(
                "INSERT INTO invoice_lines (id, version, created_at, updated_at, "
                "invoice_id, position, description, item_number, quantity, "
                "unit_price_cents, discount_bp, taxable, tax_rate_bp, total_cents, "
                "tax_cents) VALUES (?, 0, ?, ?, ?, 0, 'Consult', '', 1, ?, 0, 0, 0, ?, "
                "0)",
                (key_blob(uuid7()), now, now, inv, price, price),
            )
            raw.execute(
                "INSERT INTO payments (id, version, created_at, updated_at, kind, "
                "method, amount_cents, patient_id, received_at, business_date, "
                "device_id, reference, note) VALUES (?, 0, ?, ?, 'payment', 'eftpos', "
                "?, ?, ?, '2026-11-27', 'bench', '', '')",
                (pay, now, now, price, patient, now),
            )
            raw.execute(
                "INSERT INTO payment_allocations (id, version, created_at, updated_at, "
                "payment_id, invoice_id, amount_cents) VALUES (?, 0, ?, ?, ?, ?, ?)",
                (key_blob(uuid7()), now, now, pay, inv, price),
            )
        bare_page(views[0])

    base = time_ms(bare_checkout, repeat=60, warmup=3)
    bench.record(
        "billing: checkout (invoice, issue, pay, receipt PDF)",
        "p95",
        percentile(samples, 95),
        "ms",
        percentile(base, 95),
        "raw sqlite3 inserts + bare canvas page",
    )

    # -- aged debtors for the whole clinic ---------------------------------------------------
    today = DEMO_TODAY
    c30, c60, c90 = bucket_cutoffs(today)
    params = {"c30": c30.isoformat(), "c60": c60.isoformat(), "c90": c90.isoformat()}
    # 30 reads: a p95 of 7 was their slowest, whichever moment the machine stalled
    samples = time_ms(lambda: billing.aged_debtors(ctx, today), repeat=30, warmup=2)
    base = time_ms(lambda: raw.execute(aged_sql(), params).fetchall(), repeat=10, warmup=1)
    debtors = len(billing.aged_debtors(ctx, today).rows)
    note = f"raw sqlite3, same aggregate (10 runs); {debtors} debtors"
    for stat in ("p50", "p95"):
        q = int(stat[1:])
        bench.record("billing: aged debtors, whole clinic", stat, percentile(samples, q), "ms",
                     percentile(base, q), note)  # fmt: skip
    raw.close()
    ctx.engine.dispose()
