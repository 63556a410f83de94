"""Funded care on the benchmark clinic (issue 19): the booking-time funding check (target p95
≤ 5 ms), building the NDIA bulk payment request for a month (≤ 1 s) and importing a 5,000-line
remittance (≤ 2 s) — each beside the same work done with raw sqlite3 in the same run.

Set-up adds, with the bulk writer, a Medicare CDM plan for 300 patients with
their last year's appointments counted against it, and 5,000 issued NDIS invoices (agency-
managed) with prepared claims, a month of which go in the bulk payment request.
"""

from __future__ import annotations

import csv
import io
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchmarks.harness import DEMO_TODAY, Bench, demo_clock, percentile, time_ms
from frontdesk.db.types import key_blob, key_text, sqlite_utc_value
from frontdesk.domain.funding import ClaimStatus
from frontdesk.domain.ids import uuid7
from frontdesk.models import Base
from frontdesk.paths import desk_paths
from frontdesk.services.claims import claims as claims_svc
from frontdesk.services.claims.check import funding_check
from frontdesk.services.claims.remittance import import_remittance
from frontdesk.services.desk import open_desk
from frontdesk.store.bulk import BulkWriter

REMITTANCE_LINES = 5_000
MONTH = date(DEMO_TODAY.year, DEMO_TODAY.month, 1) - timedelta(days=1)  # last month
MONTH = MONTH.replace(day=1)


def _setup(ctx, raw: sqlite3.Connection) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """Plans, sessions, invoices and claims written with the bulk writer (set-up, not
    measured; the rows are the same as the services write)."""
    rng = random.Random(19)
    year_ago = datetime.combine(DEMO_TODAY - timedelta(days=365), datetime.min.time(), UTC)
    rows = raw.execute(
        "SELECT patient_id, id FROM appointments WHERE patient_id IS NOT NULL AND starts_at >= ? "
        "AND status = 'completed' ORDER BY patient_id",
        (sqlite_utc_value(year_ago),),
    ).fetchall()
    by_patient: dict[str, list[str]] = {}
    for pid, aid in rows:  # keys are 16-byte blobs on the desk; the writer takes their text
        by_patient.setdefault(key_text(pid), []).append(key_text(aid))
    patients = sorted(by_patient)
    rng.shuffle(patients)
    cdm = min(300, len(patients) * 3 // 8)  # 300 of the 10-year clinic's thousands
    cdm_patients = patients[:cdm]
    ndis_patients = patients[cdm : cdm + 500]
    now = datetime.combine(DEMO_TODAY, datetime.min.time(), UTC)
    tables = Base.metadata.tables
    w = {
        name: BulkWriter(raw, tables[name], now=now)
        for name in ("funders", "funding_plans", "funding_budgets", "plan_sessions",
                     "invoices", "invoice_lines", "claims")
    }  # fmt: skip
    ndia = w["funders"].add(kind="ndis_plan_manager", name="NDIA (benchmark)")
    for pid in cdm_patients:
        plan = w["funding_plans"].add(
            patient_id=pid, kind="medicare_cdm", referrer_name="Dr Bench",
            referrer_provider_number="2345671A", starts_on=DEMO_TODAY - timedelta(days=400),
        )  # fmt: skip
        for aid in by_patient[pid][:5]:
            w["plan_sessions"].add(plan_id=plan, appointment_id=aid)
    ndis_plans = {}
    for pid in ndis_patients:
        plan = w["funding_plans"].add(
            patient_id=pid, kind="ndis", funder_id=ndia, ndis_management="agency",
            starts_on=DEMO_TODAY - timedelta(days=300), expires_on=DEMO_TODAY + timedelta(days=60),
        )  # fmt: skip
        w["funding_budgets"].add(plan_id=plan, category="Capacity Building",
                                 budget_cents=10_000_000)  # fmt: skip
        ndis_plans[pid] = plan
    references: list[str] = []
    for n in range(REMITTANCE_LINES):
        pid = ndis_patients[n % len(ndis_patients)]
        served = MONTH + timedelta(days=n % 28) if n < 1500 else MONTH - timedelta(days=1 + n % 200)
        number = f"NDIS-{n:06d}"
        inv = w["invoices"].add(
            status="issued", number=number, patient_id=pid, payer_funder_id=ndia,
            issue_date=served, issued_at=now, total_cents=19_399,
        )  # fmt: skip
        w["invoice_lines"].add(
            invoice_id=inv, description="Physiotherapy", item_number="15_055_0128_1_3",
            unit_price_cents=19_399, total_cents=19_399, service_date=served,
        )  # fmt: skip
        w["claims"].add(
            invoice_id=inv, plan_id=ndis_plans[pid], funder_kind="ndis", reference=number,
            claimed_cents=19_399,
            status=ClaimStatus.SUBMITTED if n >= 1500 else ClaimStatus.PREPARED,
        )  # fmt: skip
        references.append(number)
    for writer in w.values():  # parents first: the dict is in that order
        writer.flush()
    raw.execute(
        "UPDATE patients SET ndis_number = '43' || lower(substr(hex(id), 1, 7)) "
        "WHERE ndis_number = ''"
    )
    raw.commit()
    return cdm_patients, references


def _raw_check(raw: sqlite3.Connection, patient_id: str, start: datetime) -> tuple[int, int]:
    """The baseline: the same counts a booking check needs, as plain SQL."""
    plans = raw.execute(
        "SELECT id, kind FROM funding_plans WHERE patient_id = ? AND deleted_at IS NULL "
        "AND archived_at IS NULL",
        (key_blob(patient_id),),
    ).fetchall()
    used = year = 0
    y0 = sqlite_utc_value(datetime(start.year, 1, 1, tzinfo=UTC))
    y1 = sqlite_utc_value(datetime(start.year + 1, 1, 1, tzinfo=UTC))
    for plan_id, _kind in plans:
        used += raw.execute(
            "SELECT count(*) FROM plan_sessions ps JOIN appointments a ON a.id = ps.appointment_id "
            "WHERE ps.plan_id = ? AND ps.deleted_at IS NULL AND a.status != 'cancelled'",
            (plan_id,),
        ).fetchone()[0]
        year += raw.execute(
            "SELECT count(*) FROM plan_sessions ps JOIN appointments a ON a.id = ps.appointment_id"
            " JOIN funding_plans p ON p.id = ps.plan_id WHERE p.patient_id = ? AND p.kind = ? "
            "AND a.starts_at >= ? AND a.starts_at < ? AND a.status != 'cancelled'",
            (key_blob(patient_id), _kind, y0, y1),
        ).fetchone()[0]
    return used, year


def _cpu_ms(fn: Callable[[], object], repeat: int) -> list[float]:
    """This thread's CPU milliseconds of each of ``repeat`` calls (after two untimed)."""
    fn()
    fn()
    samples = []
    for _ in range(repeat):
        start = time.thread_time()
        fn()
        samples.append((time.thread_time() - start) * 1000)
    return samples


def run(bench: Bench) -> None:
    folder = bench.fresh_scale_dir()
    ctx = open_desk(desk_paths(folder), clock=demo_clock())
    db = folder / "frontdesk.sqlite3"
    raw = sqlite3.connect(db)
    started = time.perf_counter()
    cdm_patients, references = _setup(ctx, raw)
    print(f"  (set-up: {time.perf_counter() - started:.1f} s)", flush=True)

    # -- the booking-time funding check ----------------------------------------------------
    start = demo_clock().now() + timedelta(days=3)
    assert _raw_check(raw, cdm_patients[0], start)[0] > 0  # the baseline finds the sessions
    it = iter(range(10**9))
    samples = time_ms(
        lambda: funding_check(ctx, cdm_patients[next(it) % len(cdm_patients)], start, 30),
        repeat=300,
    )
    base = time_ms(
        lambda: _raw_check(raw, cdm_patients[next(it) % len(cdm_patients)], start), repeat=300
    )
    bench.record("claims: booking-time funding check", "p50", percentile(samples, 50), "ms",
                 percentile(base, 50))  # fmt: skip
    bench.record("claims: booking-time funding check", "p95", percentile(samples, 95), "ms",
                 percentile(base, 95), "target ≤ 5 ms")  # fmt: skip
    # The same as this thread's CPU time: with the machine's cores shared by other processes a
    # 0.5 ms call is often descheduled mid-way, and the wall clock's p95 counts that wait.
    cpu = _cpu_ms(
        lambda: funding_check(ctx, cdm_patients[next(it) % len(cdm_patients)], start, 30), 300
    )
    cpu_base = _cpu_ms(
        lambda: _raw_check(raw, cdm_patients[next(it) % len(cdm_patients)], start), 300
    )
    bench.record("claims: booking-time funding check (CPU time)", "p95", percentile(cpu, 95),
                 "ms", percentile(cpu_base, 95))  # fmt: skip

    # -- a month's bulk payment request --------------------------------------------------------
    def build() -> None:
        claims_svc.build_bulk_payment_request(ctx, MONTH, "4050012345")

    def raw_build() -> int:
        out = io.StringIO()
        w = csv.writer(out)
        nxt = (MONTH + timedelta(days=32)).replace(day=1)
        for row in raw.execute(
            "SELECT p.ndis_number, l.service_date, l.item_number, c.reference, l.quantity, "
            "l.unit_price_cents FROM claims c JOIN funding_plans f ON f.id = c.plan_id "
            "JOIN invoice_lines l ON l.invoice_id = c.invoice_id "
            "JOIN patients p ON p.id = f.patient_id WHERE c.status = 'prepared' "
            "AND f.kind = 'ndis' AND f.ndis_management = 'agency' AND l.service_date >= ? "
            "AND l.service_date < ? ORDER BY l.service_date, c.reference",
            (MONTH.isoformat(), nxt.isoformat()),
        ):
            w.writerow(row)
        return out.getvalue().count("\n")

    assert raw_build() == 1500  # the month's prepared lines, as the service's request holds

    samples = time_ms(build, repeat=5, warmup=1)
    base = time_ms(raw_build, repeat=5, warmup=1)
    bench.record("claims: bulk payment request for a month (1,500 lines)", "p50",
                 percentile(samples, 50), "ms", percentile(base, 50), "target ≤ 1 s")  # fmt: skip

    # -- matching a 5,000-line remittance ---------------------------------------------------
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "payment_report.csv"
        body = ["ClaimReference,Claimed Amount,Paid Total Amount,Payment Request Status"]
        body += [f"{ref},193.99,193.99,PAID" for ref in references]
        path.write_text("\n".join(body) + "\n")
        t0, c0 = time.perf_counter(), time.process_time()
        result = import_remittance(ctx, path)
        ours = (time.perf_counter() - t0) * 1000
        ours_cpu = (time.process_time() - c0) * 1000
        assert result.lines == REMITTANCE_LINES and result.paid == REMITTANCE_LINES

        # The baseline on a copy taken before: parse, look up each reference, write the
        # allocations and claim updates in one transaction, with nothing else.
        t0, c0 = time.perf_counter(), time.process_time()
        with path.open() as fh:
            lines = list(csv.DictReader(fh))
        refs = {r["ClaimReference"] for r in lines}
        found = {
            ref: (cid, inv)
            for ref, cid, inv in raw.execute(
                "SELECT reference, id, invoice_id FROM claims WHERE reference IN "
                "(SELECT value FROM json_each(?))",
                (__import__("json").dumps(sorted(refs)),),
            )
        }
        assert len(found) == len(refs) == result.lines, (len(found), len(refs))
        payment = key_blob(uuid7())  # keys and times as the desk stores them
        stamp = sqlite_utc_value(demo_clock().now())
        raw.execute("BEGIN")
        for r in lines:
            cid, inv = found[r["ClaimReference"]]
            raw.execute(
                "INSERT INTO payment_allocations (id, version, created_at, updated_at, "
                "payment_id, invoice_id, amount_cents) VALUES (?, 0, ?, ?, ?, ?, ?)",
                (key_blob(uuid7()), stamp, stamp, payment, inv, 19_399),
            )
            raw.execute("UPDATE claims SET status = 'paid' WHERE id = ?", (cid,))
        raw.execute("ROLLBACK")
        base_ms = (time.perf_counter() - t0) * 1000
        base_cpu = (time.process_time() - c0) * 1000
    bench.record("claims: import a 5,000-line remittance", "total", ours, "ms", base_ms,
                 "target ≤ 2 s")  # fmt: skip
    # The same, as this process's CPU time: on a shared, loaded machine the wall clock also
    # counts the time other processes held the cores.
    bench.record("claims: import a 5,000-line remittance (CPU time)", "total", ours_cpu, "ms",
                 base_cpu)  # fmt: skip
    raw.close()
    ctx.engine.dispose()
