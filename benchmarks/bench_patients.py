"""Patient cards at scale: importing 100,000 rows into the 10-year clinic (which brings it past
200,000 patients), then search per keystroke, then opening a card with 200 past appointments
and 100 invoices. Baselines are the same work in raw sqlite3 in the same run."""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.harness import Bench, demo_clock, percentile, time_ms
from frontdesk.db.types import key_text, sqlite_utc_value
from frontdesk.demo import words
from frontdesk.domain.patient_csv import guess_mapping, read_table
from frontdesk.paths import DeskPaths
from frontdesk.services.desk import open_desk
from frontdesk.services.patients.card import load_card
from frontdesk.services.patients.importing import import_patients
from frontdesk.services.patients.search import build_sql, search
from frontdesk.store.context import ServiceContext

IMPORT_ROWS = 100_000


def _csv(rows: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    out = ["First Name,Last Name,Date of Birth,Mobile,Email,City,State,Post Code,Occupation"]
    for i in range(rows):
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        dob = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 80))
        mobile = f"04{rng.randrange(10, 99)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}"
        slug = "".join(ch for ch in f"{first}.{last}".lower() if ch.isascii() and ch.isalnum())
        out.append(f'{first},"{last}",{dob:%d/%m/%Y},{mobile},{slug}{i}@example.com,'
                   f"Newtown,NSW,2042,Import {i}")  # fmt: skip
    return ("\n".join(out) + "\n").encode()


def _bench_import(bench: Bench, ctx: ServiceContext, db: Path) -> None:
    data = _csv(IMPORT_ROWS)
    moves: list[tuple[float, int]] = []
    start = time.perf_counter()
    table = read_table("bench.csv", data)
    report = import_patients(
        ctx, table, guess_mapping(table.headers),
        progress=lambda done, _total: moves.append((time.perf_counter(), done)),
    )  # fmt: skip
    ours = time.perf_counter() - start
    assert report.imported == IMPORT_ROWS
    # Baseline: the same rows inserted with executemany on a raw connection (triggers fire),
    # then rolled back.
    raw = sqlite3.connect(db, isolation_level=None)
    now = sqlite_utc_value(ctx.clock.now())
    info = [
        (r[1], bool(r[3]), str(r[2]).upper()) for r in raw.execute("PRAGMA table_info(patients)")
    ]
    blank = {n: (0 if t.startswith(("INT", "BOOL")) else "") if nn else None for n, nn, t in info}
    names = [n for n, _nn, _t in info]
    given = ("first_name", "last_name", "date_of_birth", "mobile_phone", "email", "suburb",
             "state", "postcode")  # fmt: skip
    rows = []
    for i, r in enumerate(table.rows):
        values = dict(blank, id=f"bench-{i}", created_at=now, updated_at=now,
                      patient_number=f"B-{i:06d}")  # fmt: skip
        values.update(zip(given, r[:8], strict=True))
        rows.append(tuple(values[n] for n in names))
    start = time.perf_counter()
    raw.execute("BEGIN")
    raw.executemany(
        f"INSERT INTO patients ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})", rows
    )
    baseline = time.perf_counter() - start
    raw.execute("ROLLBACK")
    raw.close()
    bench.record("patients: import 100,000 CSV rows", "total", ours, "s", baseline,
                 f"progress moved {len(moves)} times; baseline: raw executemany")  # fmt: skip


def _keystrokes(ctx: ServiceContext, n: int = 40) -> list[str]:
    """What reception types, one keystroke at a time: surnames, first + last, phones, dates."""
    rng = random.Random(3)
    with ctx.read() as session:
        from sqlalchemy import text

        people = session.execute(
            text("SELECT first_name, last_name, mobile_phone, date_of_birth FROM patients "
                 "WHERE rowid % 997 = 0 LIMIT :n"), {"n": n}
        ).all()  # fmt: skip
    typed: list[str] = []
    for first, last, mobile, dob in people:
        kind = rng.randrange(4)
        if kind == 0:
            target = last
        elif kind == 1:
            target = f"{first} {last}"
        elif kind == 2:
            target = mobile
        else:
            d = date.fromisoformat(dob)
            target = f"{d.day}/{d.month}/{d.year % 100:02d}"
        typed += [target[:i] for i in range(1, len(target) + 1) if target[:i].strip()]
    return typed


def _bench_search(bench: Bench, ctx: ServiceContext, db: Path) -> None:
    typed = _keystrokes(ctx)
    today = ctx.clock.now().astimezone(ctx.tz).date()
    now = sqlite_utc_value(ctx.clock.now())
    raw = sqlite3.connect(db)
    ours: list[float] = []
    base: list[float] = []
    for t in typed:
        built = build_sql(t, today, include_archived=False)
        if built is None:
            ours += time_ms(lambda t=t: search(ctx, t), repeat=3, warmup=1)
            continue
        sql, params = built
        params = {**params, "now": now, "limit": 20}
        # Interleaved, both warm: the first to touch a page must not pay for the other.
        search(ctx, t)
        raw.execute(sql, params).fetchall()
        for _ in range(3):
            ours += time_ms(lambda t=t: search(ctx, t), repeat=1, warmup=0)
            base += time_ms(lambda sql=sql, params=params: raw.execute(sql, params).fetchall(),
                            repeat=1, warmup=0)  # fmt: skip
    bare: list[float] = []
    for t in typed:
        q = build_sql(t, today, include_archived=False)
        if q is None or "q" not in q[1]:
            continue
        match = q[1]["q"]
        bare += time_ms(lambda m=match: raw.execute(
            "SELECT rowid FROM patients_fts WHERE patients_fts MATCH ? LIMIT 20", (m,)
        ).fetchall(), repeat=3, warmup=1)  # fmt: skip
    raw.close()
    count = ctx.engine.connect().exec_driver_sql("SELECT count(*) FROM patients").scalar()
    note = f"{len(typed)} keystrokes, {count:,} patients"
    bench.record("patients: search per keystroke", "p95", percentile(ours, 95), "ms",
                 percentile(base, 95), note + "; baseline: same SQL in raw sqlite3")  # fmt: skip
    bench.record("patients: search per keystroke", "p50", percentile(ours, 50), "ms",
                 percentile(base, 50), "baseline: same SQL in raw sqlite3")  # fmt: skip
    bench.record("patients: search vs bare FTS5 MATCH LIMIT 20", "p95", percentile(ours, 95),
                 "ms", percentile(bare, 95), "bare match: no ranking, no join")  # fmt: skip


def _bench_card(bench: Bench, ctx: ServiceContext, db: Path) -> None:
    raw = sqlite3.connect(db, isolation_level=None)
    now = sqlite_utc_value(ctx.clock.now())
    pid = raw.execute(
        "SELECT id FROM patients WHERE rowid <= 4242 ORDER BY rowid DESC LIMIT 1"
    ).fetchone()[0]
    raw.execute("BEGIN")
    moved = raw.execute(
        "UPDATE appointments SET patient_id = ? WHERE id IN (SELECT id FROM appointments "
        "WHERE starts_at < ? AND patient_id IS NOT NULL AND patient_id != ? "
        "AND id NOT IN (SELECT appointment_id FROM invoice_lines WHERE appointment_id IS NOT NULL)"
        " LIMIT 200)", (pid, now, pid),
    ).rowcount  # fmt: skip
    billed = raw.execute(
        "UPDATE invoices SET patient_id = ? WHERE id IN (SELECT id FROM invoices "
        "WHERE patient_id != ? LIMIT 100)", (pid, pid),
    ).rowcount  # fmt: skip
    raw.execute("COMMIT")
    card = load_card(ctx, key_text(pid))  # the raw baseline binds the stored 16 bytes
    # the card shows every row the raw updates gave the patient (200 and 100 on the 10-year
    # clinic; a small demo desk has fewer past appointments)
    assert moved > 0 and len(card.past) >= moved and len(card.invoices) >= billed, (
        moved, len(card.past), billed, len(card.invoices))  # fmt: skip
    ours = time_ms(lambda: load_card(ctx, key_text(pid)), repeat=60, warmup=3)

    def plain() -> None:
        raw.execute("SELECT * FROM patients WHERE id = ?", (pid,)).fetchall()
        raw.execute("SELECT * FROM patient_alerts WHERE patient_id = ?", (pid,)).fetchall()
        raw.execute("SELECT m.*, f.name FROM funding_memberships m LEFT JOIN funders f "
                    "ON f.id = m.funder_id WHERE m.patient_id = ?", (pid,)).fetchall()  # fmt: skip
        raw.execute(
            "SELECT a.id, a.starts_at, a.ends_at, p.display_name, t.name, a.status, "
            "a.cancellation_reason FROM appointments a JOIN practitioners p "
            "ON p.id = a.practitioner_id LEFT JOIN appointment_types t "
            "ON t.id = a.appointment_type_id WHERE a.patient_id = ? ORDER BY a.starts_at DESC",
            (pid,),
        ).fetchall()
        raw.execute(
            "SELECT i.id, i.number, i.issue_date, i.status, i.total_cents, "
            "(SELECT coalesce(sum(amount_cents), 0) FROM payment_allocations pa "
            "WHERE pa.invoice_id = i.id) FROM invoices i WHERE i.patient_id = ? "
            "ORDER BY i.issue_date DESC", (pid,),
        ).fetchall()  # fmt: skip
        raw.execute("SELECT * FROM payments WHERE patient_id = ? ORDER BY received_at DESC",
                    (pid,)).fetchall()  # fmt: skip

    base = time_ms(plain, repeat=60, warmup=3)
    raw.close()
    bench.record("patients: open a card (200 past appts, 100 invoices)", "p95",
                 percentile(ours, 95), "ms", percentile(base, 95),
                 f"{len(card.past)} past, {len(card.invoices)} invoices")  # fmt: skip


def run(bench: Bench) -> None:
    folder = bench.fresh_scale_dir()
    ctx = open_desk(DeskPaths(folder), clock=demo_clock())
    db = folder / "frontdesk.sqlite3"
    try:
        _bench_import(bench, ctx, db)
        _bench_search(bench, ctx, db)
        _bench_card(bench, ctx, db)
    finally:
        ctx.engine.dispose()
