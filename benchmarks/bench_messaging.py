"""Messaging on the 10-year clinic: planning a day's reminders for every practitioner (20 in
the benchmark clinic) — templates, consent, number checks, rendering, segments, quiet hours,
one ``ctx.write`` with its outbox and audit rows.

Baseline: the same day's booked appointments with their patients and practitioners read in raw
sqlite3 and one plain INSERT per reminder, in one transaction (rolled back)."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, update

from benchmarks.harness import Bench, demo_clock, median
from frontdesk.db.types import from_sqlite_utc_value, key_blob, sqlite_utc_value
from frontdesk.domain.ids import uuid7
from frontdesk.domain.messaging import _normalise_mobile
from frontdesk.models import OutgoingMessage, Patient
from frontdesk.paths import DeskPaths
from frontdesk.services.desk import open_desk
from frontdesk.services.messaging import queueing
from frontdesk.services.messaging.setup import save_settings

DAY = date(2026, 11, 30)  # the Monday after the benchmark clinic's "today"


def run(bench: Bench) -> None:
    folder = bench.fresh_scale_dir()
    ctx = open_desk(DeskPaths(folder), clock=demo_clock())
    save_settings(ctx, enabled=True)
    with ctx.write("bench: consent") as s:
        s.execute(update(Patient).values(sms_consent=True))
    samples, planned = [], 0
    for _ in range(5):
        _normalise_mobile.cache_clear()  # each sample parses the numbers afresh
        started = time.perf_counter()
        planned = queueing.plan_reminders(ctx, DAY)
        samples.append((time.perf_counter() - started) * 1000)
        with ctx.write("bench: reset") as s:
            s.execute(delete(OutgoingMessage))
    raw = sqlite3.connect(folder / "frontdesk.sqlite3")
    start = datetime.combine(DAY, datetime.min.time(), tzinfo=ctx.tz)
    # times and keys bound as the desk stores them: integer microseconds, 16-byte blobs
    lo = sqlite_utc_value(start.astimezone(UTC))
    hi = sqlite_utc_value((start + timedelta(days=1)).astimezone(UTC))
    base, rows = [], []
    for _ in range(5):
        started = time.perf_counter()
        rows = raw.execute(
            "SELECT a.id, a.starts_at, p.first_name, p.mobile_phone, pr.display_name, p.id "
            "FROM appointments a JOIN patients p ON p.id = a.patient_id "
            "JOIN practitioners pr ON pr.id = a.practitioner_id "
            "WHERE a.starts_at >= ? AND a.starts_at < ? AND a.status = 'booked' "
            "AND p.sms_consent = 1",
            (lo, hi),
        ).fetchall()
        raw.executemany(
            "INSERT INTO outgoing_messages (id, version, created_at, updated_at, patient_id, "
            "appointment_id, channel, to_address, subject, body, status, queued_at, kind, "
            "attempts, provider, idempotency_key, segments) "
            "VALUES (?, 0, ?, ?, ?, ?, 'sms', ?, '', ?, 'queued', ?, 'reminder', 0, '', '', 1)",
            [(key_blob(uuid7()), lo, lo, r[5], r[0], r[3],
              f"Hi {r[2]}, {r[4]} {from_sqlite_utc_value(r[1]):%H:%M}", lo) for r in rows],
        )  # fmt: skip
        raw.rollback()
        base.append((time.perf_counter() - started) * 1000)
    # the baseline reads every booked appointment the service could remind (some it skips)
    assert len(rows) >= planned > 0, (len(rows), planned)
    bench.record(f"messaging: plan a day's reminders ({planned})", "p50", median(samples), "ms",
                 median(base), "20 practitioners; vs raw select + insert")  # fmt: skip
    raw.close()
    ctx.engine.dispose()
