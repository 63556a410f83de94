"""What issue 21 changed on the write paths of the 10-year clinic, each A/B in one run,
interleaved so both sides see the same machine: booking with one flush (now) against the two it
made before, and checkout with the ledger summary's triggers on against the same checkout with
them paused (the cost of keeping balances in the same transaction)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from benchmarks.harness import DEMO_TODAY, Bench, demo_clock, percentile
from frontdesk.db.types import key_text
from frontdesk.paths import desk_paths
from frontdesk.services import billing, diary
from frontdesk.services.desk import open_desk
from frontdesk.services.diary import BookingRequest, appointments
from frontdesk.services.diary.groups import next_available
from frontdesk.store import balances


def _ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def run(bench: Bench) -> None:
    folder = bench.fresh_scale_dir()
    ctx = open_desk(desk_paths(folder), clock=demo_clock())
    raw = sqlite3.connect(folder / "frontdesk.sqlite3")

    # -- booking: one flush against two --------------------------------------------------------
    slots = next_available(
        ctx, duration_minutes=30, limit=400, starting=DEMO_TODAY + timedelta(days=1)
    )
    patients = [key_text(r[0]) for r in raw.execute(  # keys: 16-byte blobs on the desk
        "SELECT id FROM patients WHERE archived_at IS NULL LIMIT 200")]  # fmt: skip
    count = iter(range(10**6))

    def book() -> None:
        i = next(count)
        s = slots[i % len(slots)]
        diary.book(ctx, BookingRequest(s.practitioner_id, s.start, s.end, patients[i % 200]),
                   allow_clash=True)  # fmt: skip

    history = appointments._history

    def two_flushes(session: Any, *args: Any, **kw: Any) -> None:
        session.flush()  # what booking did before: the appointment flushed on its own
        history(session, *args, **kw)

    ours, before = [], []
    for _ in range(3):
        book()
    for _ in range(60):
        appointments._history = two_flushes  # type: ignore[assignment]
        before.append(_ms(book))
        appointments._history = history
        ours.append(_ms(book))
    for stat in (50, 95):
        bench.record("writes: book through the service, one flush", f"p{stat}",
                     percentile(ours, stat), "ms", percentile(before, stat),
                     "baseline: the same booking with two flushes (before issue 21), "
                     "interleaved")  # fmt: skip

    # -- checkout: the ledger summary's triggers on against paused ---------------------------
    appts = [r[0] for r in raw.execute(
        "SELECT a.id FROM appointments a JOIN patients p ON p.id = a.patient_id "
        "JOIN appointment_types t ON t.id = a.appointment_type_id "
        "WHERE a.status = 'booked' AND p.archived_at IS NULL "
        "AND t.default_service_id IS NOT NULL ORDER BY a.starts_at LIMIT 200 OFFSET 100"
    )]  # fmt: skip
    raw.executemany(
        "UPDATE appointments SET status = 'completed' WHERE id = ?", [(a,) for a in appts]
    )
    raw.commit()
    queue = iter(key_text(a) for a in appts)

    def checkout() -> None:
        invoice_id = billing.invoice_from_appointment(ctx, next(queue))
        billing.issue_invoice(ctx, invoice_id)
        owing = billing.invoice_view(ctx, invoice_id).total_cents
        billing.take_payment(ctx, method="eftpos", amount_cents=max(owing, 1),
                             invoice_ids=[invoice_id], keep_credit=True)  # fmt: skip

    def pause(flag: bool) -> None:
        with ctx.write("benchmark") as session:
            balances.set_paused(session, flag)

    ours, paused = [], []
    for _ in range(3):
        checkout()
    for _ in range(50):
        pause(True)
        paused.append(_ms(checkout))
        pause(False)
        ours.append(_ms(checkout))
    with ctx.write("benchmark") as session:
        balances.rebuild(session)
    for stat in (50, 95):
        bench.record("writes: checkout, balances kept by trigger", f"p{stat}",
                     percentile(ours, stat), "ms", percentile(paused, stat),
                     "baseline: the same checkout with the summary's triggers paused, "
                     "interleaved")  # fmt: skip
    raw.close()
    ctx.engine.dispose()
