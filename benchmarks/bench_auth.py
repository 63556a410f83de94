"""Auth benchmarks on the 10-year clinic: sign-in, audit queries and chain check over a large
trail, and backups. Baselines: bare argon2, raw sqlite3, hashlib, and a plain file copy."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher

from benchmarks.harness import Bench, demo_clock, percentile, time_ms
from frontdesk.db.types import from_sqlite_utc_value, key_blob, key_text, sqlite_utc_value
from frontdesk.domain.ids import uuid7
from frontdesk.paths import DeskPaths
from frontdesk.services import audit, backups
from frontdesk.services.desk import open_desk
from frontdesk.services.signin import sign_in
from frontdesk.store.outbox import canonical_json
from frontdesk.store.tracking import GENESIS_HASH, audit_hash, audit_payload

TRAIL = 200_000  # audit events: a busy clinic's few years


def _fill_trail(db: Path, device: str, staff_ids: list[str], patient_ids: list[str]) -> None:
    """A realistic, correctly chained trail, written with raw sqlite3 like the demo."""
    conn = sqlite3.connect(db)
    start = datetime(2017, 1, 2, tzinfo=UTC)
    step = timedelta(minutes=13 * 200_000 // TRAIL)  # from 2017 into 2022, whatever its length
    prev = GENESIS_HASH
    rows = []
    for seq in range(1, TRAIL + 1):
        at = start + step * seq
        row = {
            "id": uuid7(), "device_id": device, "device_seq": seq, "hlc": f"{seq:016d}",
            "at": at, "staff_user_id": staff_ids[seq % len(staff_ids)], "staff_name": "Staff",
            "action": "edit patient",
            "entity": "patients", "entity_id": patient_ids[seq % len(patient_ids)],
            "patient_id": patient_ids[seq % len(patient_ids)], "summary": "",
            "before_json": canonical_json({"mobile_phone": "0400 000 000"}),
            "after_json": canonical_json({"mobile_phone": f"0400 {seq:06d}"}),
        }  # fmt: skip
        row["hash"] = audit_hash(prev, audit_payload(row))
        row["prev_hash"], prev = prev, row["hash"]
        rows.append((key_blob(row["id"]), device, seq, row["hlc"], sqlite_utc_value(at),
                     row["staff_user_id"], row["staff_name"], row["action"], row["entity"],
                     row["entity_id"], row["patient_id"], "", row["before_json"],
                     row["after_json"], row["prev_hash"], row["hash"],
                     sqlite_utc_value(at), sqlite_utc_value(at)))  # fmt: skip
    conn.executemany(
        "INSERT INTO audit_events (id, device_id, device_seq, hlc, at, staff_user_id, staff_name,"
        " action, entity, entity_id, patient_id, summary, before_json, after_json, prev_hash,"
        " hash, created_at, updated_at, version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)",
        rows,
    )
    conn.commit()
    conn.close()


def run(bench: Bench) -> None:
    folder = bench.fresh_scale_dir()
    paths = DeskPaths(folder)
    ctx = open_desk(paths, clock=demo_clock())
    conn = sqlite3.connect(paths.database)
    staff_ids = [key_text(r[0]) for r in conn.execute("SELECT id FROM staff_users")]
    patient_ids = [key_text(r[0]) for r in conn.execute("SELECT id FROM patients LIMIT 5000")]
    conn.close()
    _fill_trail(paths.database, "bench-desk-0000000000000000000000", staff_ids, patient_ids)

    # Sign-in: our service (lookup, argon2id verify, audited write) vs a bare argon2 verify.
    hasher = PasswordHasher(time_cost=3, memory_cost=12_288, parallelism=1)
    bare = hasher.hash("owner-demo")
    ours = time_ms(lambda: sign_in(ctx, "owner", "owner-demo"), repeat=15)
    base = time_ms(lambda: hasher.verify(bare, "owner-demo"), repeat=15)
    bench.record("auth: sign in (argon2id + audit)", "p95", percentile(ours, 95), "ms",
                 percentile(base, 95), "bare argon2 verify")  # fmt: skip

    # Audit queries, newest 500 for a staff member / a patient / a month.
    raw = sqlite3.connect(paths.database)
    tz = ctx.tz
    month = (datetime(2021, 6, 1).date(), datetime(2021, 6, 30).date())
    cases = {
        "staff member": (audit.AuditFilter(staff_user_id=staff_ids[1]),
                         "WHERE staff_user_id = ?", (staff_ids[1],)),
        "patient": (audit.AuditFilter(patient_id=patient_ids[7]),
                    "WHERE patient_id = ?", (patient_ids[7],)),
        "one month": (audit.AuditFilter(first_day=month[0], last_day=month[1]),
                      "WHERE at >= ? AND at < ?",
                      (sqlite_utc_value(datetime(2021, 6, 1, tzinfo=tz)),
                       sqlite_utc_value(datetime(2021, 7, 1, tzinfo=tz)))),
    }  # fmt: skip
    for label, (filt, where, params) in cases.items():
        ours = time_ms(lambda f=filt: audit.query(ctx, f), repeat=20)
        sql = f"SELECT * FROM audit_events {where} ORDER BY at DESC, device_seq DESC LIMIT 500"
        found = len(raw.execute(sql, params).fetchall())
        assert found == len(audit.query(ctx, filt)) > 0, (label, found)  # the same rows
        base = time_ms(lambda s=sql, p=params: raw.execute(s, p).fetchall(), repeat=20)
        bench.record(f"auth: audit query by {label} (500 newest)", "p95", percentile(ours, 95),
                     "ms", percentile(base, 95), "raw sqlite3")  # fmt: skip

    # Chain check over the whole trail vs hashing the same rows with hashlib alone.
    started = time.perf_counter()
    report = audit.verify_chain(ctx)
    ours_s = time.perf_counter() - started
    assert report.intact, report.message
    cols = list(audit_payload({}))
    started = time.perf_counter()
    hashed = 0
    for row in raw.execute(
        f"SELECT prev_hash, {', '.join(cols)} FROM audit_events ORDER BY device_id, device_seq"
    ):
        data = dict(zip(cols, row[1:], strict=True))
        data["id"] = key_text(data["id"])  # as stored: a 16-byte key, integer microseconds
        data["at"] = from_sqlite_utc_value(data["at"]).isoformat()
        payload = canonical_json(data)
        hashlib.sha256((row[0] + payload).encode()).hexdigest()
        hashed += 1
    base_s = time.perf_counter() - started
    assert hashed == report.checked, (hashed, report.checked)
    note = f"{report.checked:,} entries; baseline raw sqlite3 + json + sha256"
    bench.record("auth: verify audit chain", "rate", report.checked / ours_s, "per_s",
                 report.checked / base_s, note)  # fmt: skip

    # Backup of the whole database vs copying the file.
    raw.close()
    size = paths.database.stat().st_size / 1e6
    started = time.perf_counter()
    made = backups.backup_now(ctx)
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    shutil.copyfile(paths.database, folder / "plain-copy.sqlite3")
    base_s = time.perf_counter() - started
    bench.record("auth: back up now (online backup + integrity check)", "total", ours_s, "s",
                 base_s, f"{size:.0f} MB; baseline plain file copy")  # fmt: skip
    made.unlink()
    ctx.engine.dispose()
