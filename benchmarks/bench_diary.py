"""Diary speed on the 10-year, 20-practitioner clinic, each beside a plain baseline run here:

- day change, 20 practitioners, click → painted scene  vs raw sqlite3 + bare QGraphicsRectItems
- week view, 5 practitioners                           vs the same baseline for the week
- one mouse move during a drag, clash preview included vs moving a bare rect item
- booking through the service (checks, audit, outbox)  vs a raw sqlite3 INSERT + commit
"""

from __future__ import annotations

import sqlite3
import time as clock_time
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from benchmarks.harness import Bench, percentile, time_ms

TZ = ZoneInfo("Australia/Sydney")


def _app():  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    from frontdesk.ui.style import apply_style

    app = QApplication.instance() or QApplication([])
    if not app.property("frontdesk_styled"):
        apply_style(app)  # type: ignore[arg-type]
        app.setProperty("frontdesk_styled", True)
    return app


def _weekdays(start: date, n: int) -> list[date]:
    out, day = [], start
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def run(bench: Bench) -> None:
    from PySide6.QtCore import QPointF, QRectF, QSettings
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsScene, QGraphicsView

    from frontdesk.db.types import from_sqlite_utc_value, key_blob, key_text
    from frontdesk.domain.clock import FakeClock
    from frontdesk.paths import DeskPaths
    from frontdesk.services.desk import open_desk
    from frontdesk.ui.bus import ChangeBus
    from frontdesk.ui.diary.interactions import MoveInteraction
    from frontdesk.ui.diary.page import DiaryPage

    app = _app()
    folder = bench.fresh_scale_dir()
    db = folder / "frontdesk.sqlite3"
    raw = sqlite3.connect(db)
    last = raw.execute("SELECT max(starts_at) FROM appointments").fetchone()[0]
    end_day = from_sqlite_utc_value(last).astimezone(TZ).date()
    today = end_day - timedelta(weeks=4)  # the demo books four weeks ahead of its "today"
    clock = FakeClock(datetime.combine(today, time(7, 0), TZ).astimezone(UTC))
    ctx = open_desk(DeskPaths(folder), clock=clock)
    bus = ChangeBus()
    ctx.listeners.append(bus.publish)
    prefs = QSettings(str(folder / "bench.ini"), QSettings.Format.IniFormat)
    prefs.clear()
    page = DiaryPage(ctx, bus, prefs)
    page.setMinimumSize(1200, 800)
    page.resize(1440, 900)
    page.show()
    app.processEvents()
    from frontdesk.gc_tuning import settle_heap

    settle_heap()  # as app.py does once the main window is up
    pids = [p.id for p in page.practitioners]
    print(f"  {len(pids)} practitioners; demo today {today}", flush=True)
    days = _weekdays(today - timedelta(days=60), 40)

    # -- day change ---------------------------------------------------------------------------
    cycle = iter(range(10**6))

    def day_change() -> None:
        page.go_to(days[next(cycle) % len(days)])
        page.view.viewport().repaint()
        page.view.header.repaint()

    ours = time_ms(day_change, repeat=60, warmup=5)
    count = len(page.scene.items_by_id)
    ours_cpu = cpu_ms(day_change, repeat=60)

    # flipping to the next day as a person does: the desk is idle between clicks, so the
    # neighbouring days have been loaded in the background
    from PySide6.QtTest import QTest

    flipped: list[float] = []
    page.go_to(days[0])

    def show_day(day: date) -> None:
        page.go_to(day)
        page.view.viewport().repaint()
        page.view.header.repaint()

    from PySide6.QtCore import QThreadPool

    for day in days[1:31]:
        for _ in range(100):
            QTest.qWait(10)
            if ((day,), tuple(page.shown_ids())) in page._prefetched:
                break
        QThreadPool.globalInstance().waitForDone()  # the desk is idle: nothing else loading
        app.processEvents()
        flipped += time_ms(lambda day=day: show_day(day), repeat=1, warmup=0)

    scene = QGraphicsScene()
    view = QGraphicsView(scene)
    view.resize(page.view.size())
    view.show()
    app.processEvents()
    width = page.view.viewport().width() / max(1, len(pids))
    # the baseline fetches exactly the rows the diary fetches (the same SQL, flags included),
    # with raw sqlite3, and draws each as a bare rectangle
    day_sql = _raw_sql(pids)
    column = {key_blob(pid): i for i, pid in enumerate(pids)}  # as raw rows carry them
    base_cycle = iter(range(10**6))

    def baseline_for(day_list: list[date]) -> None:
        start = datetime.combine(day_list[0], time(0), TZ).astimezone(UTC)
        end = datetime.combine(day_list[-1] + timedelta(days=1), time(0), TZ).astimezone(UTC)
        rows = raw.execute(day_sql(start, end)).fetchall()
        scene.clear()
        for row in rows:
            pid, s, e = row[1], row[5], row[6]
            s_dt = from_sqlite_utc_value(s).astimezone(TZ)
            e_dt = from_sqlite_utc_value(e)
            minutes = (e_dt - s_dt).total_seconds() / 60
            y = (s_dt.hour * 60 + s_dt.minute - 420) * 1.6
            item = QGraphicsRectItem(QRectF(column[pid] * width, y, width, minutes * 1.6))
            item.setBrush(QColor("#7fb2e5"))
            scene.addItem(item)
        view.viewport().repaint()

    def baseline_day() -> None:
        baseline_for([days[next(base_cycle) % len(days)]])

    base = time_ms(baseline_day, repeat=60, warmup=5)
    base_cpu = cpu_ms(baseline_day, repeat=60)
    bench.record("diary: day change (any day), 20 practitioners", "p95", percentile(ours, 95), "ms",
                 percentile(base, 95), f"{count} appointments on the last day")  # fmt: skip
    bench.record("diary: day change (any day), 20 practitioners", "p50", percentile(ours, 50), "ms",
                 percentile(base, 50))  # fmt: skip
    bench.record("diary: day change, 20 practitioners, CPU time", "p95", percentile(ours_cpu, 95),
                 "ms", percentile(base_cpu, 95), "this process only")  # fmt: skip
    bench.record("diary: next day, 20 practitioners (prefetched)", "p95", percentile(flipped, 95),
                 "ms", percentile(base, 95), "neighbouring days loaded while idle")  # fmt: skip

    # -- week view, five practitioners --------------------------------------------------------
    prefs.setValue("diary/week_practitioners", pids[:5])
    page.toolbar.mode_box.setCurrentIndex(1)  # the mode box moved to the toolbar
    weeks = [today - timedelta(weeks=w, days=today.weekday()) for w in range(1, 30)]
    week_cycle = iter(range(10**6))

    def week_change() -> None:
        page.go_to(weeks[next(week_cycle) % len(weeks)])
        page.view.viewport().repaint()

    ours = time_ms(week_change, repeat=40, warmup=3)
    five = pids[:5]
    column = {key_blob(pid): i for i, pid in enumerate(five)}
    week_sql = _raw_sql(five)
    wb_cycle = iter(range(10**6))

    def baseline_week() -> None:
        monday = weeks[next(wb_cycle) % len(weeks)]
        start = datetime.combine(monday, time(0), TZ).astimezone(UTC)
        end = start + timedelta(days=7)
        rows = raw.execute(week_sql(start, end)).fetchall()
        scene.clear()
        for row in rows:
            pid, s, e = row[1], row[5], row[6]
            s_dt = from_sqlite_utc_value(s).astimezone(TZ)
            e_dt = from_sqlite_utc_value(e)
            x = (s_dt.weekday() * 5 + column[pid]) * 60
            y = (s_dt.hour * 60 + s_dt.minute - 420) * 1.6
            scene.addItem(QGraphicsRectItem(QRectF(x, y, 60, (e_dt - s_dt).total_seconds() / 37.5)))
        view.viewport().repaint()

    base = time_ms(baseline_week, repeat=40, warmup=3)
    bench.record("diary: week view, 5 practitioners", "p95", percentile(ours, 95), "ms",
                 percentile(base, 95))  # fmt: skip

    # -- one mouse move of a drag, with the clash preview ---------------------------------------
    page.toolbar.mode_box.setCurrentIndex(0)
    page.go_to(today)
    page.view.viewport().repaint()
    lay = page.layout_
    assert lay is not None
    item = next(iter(page.scene.items_by_id.values()))
    press = item.rect.center()
    interaction = MoveInteraction(page.view, item, press)
    path = [QPointF(lay.x_of(c % len(lay.columns)) + 20, lay.y_of(8 * 60 + (m * 7) % 540))
            for c in range(20) for m in range(12)]  # fmt: skip
    step = iter(range(10**6))

    def mouse_move() -> None:
        interaction.move(path[next(step) % len(path)])
        app.processEvents()  # paints only what changed, as the running app does

    ours = time_ms(mouse_move, repeat=240, warmup=10)
    interaction.cancel()
    rect = QGraphicsRectItem(QRectF(0, 0, lay.column_width, 48))
    scene.addItem(rect)
    rect_step = iter(range(10**6))

    def bare_move() -> None:
        rect.setPos(path[next(rect_step) % len(path)])
        app.processEvents()

    base = time_ms(bare_move, repeat=240, warmup=10)
    bench.record("diary: drag mouse move with clash preview", "p95", percentile(ours, 95), "ms",
                 percentile(base, 95))  # fmt: skip

    # -- booking through the service -----------------------------------------------------------
    from frontdesk.services import diary
    from frontdesk.services.diary import BookingRequest
    from frontdesk.services.diary.groups import next_available

    slots = next_available(ctx, duration_minutes=30, limit=60, starting=today + timedelta(days=1))
    patients = [key_text(r[0]) for r in raw.execute(
        "SELECT id FROM patients WHERE archived_at IS NULL LIMIT 200").fetchall()]  # fmt: skip
    slot_iter = iter(range(10**6))

    def book() -> None:
        i = next(slot_iter)
        s = slots[i % len(slots)]
        diary.book(ctx, BookingRequest(s.practitioner_id, s.start, s.end, patients[i % 200]),
                   allow_clash=True)  # fmt: skip

    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("PRAGMA synchronous=FULL")
    # checkpoints as the desk's own connections take them (db/checkpoint.py): neither side of
    # the comparison pays for a checkpoint the other's writes made due
    from frontdesk.db.checkpoint import BACKSTOP_PAGES

    writer.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    from frontdesk.domain.ids import uuid7

    raw_iter = iter(range(10**6))

    def raw_insert() -> None:
        i = next(raw_iter)
        s = slots[i % len(slots)]
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO appointments (id, version, created_at, updated_at, practitioner_id, "
            "patient_id, starts_at, ends_at, status, cancellation_note, is_group, capacity, "
            "notes, clash_flagged) VALUES (?, 0, ?, ?, ?, ?, ?, ?, 'booked', '', 0, 1, '', 0)",
            (key_blob(uuid7()), _txt(clock.now()), _txt(clock.now()), key_blob(s.practitioner_id),
             key_blob(patients[i % 200]), _txt(s.start), _txt(s.end)),
        )  # fmt: skip
        writer.execute("COMMIT")

    # interleaved, so both see the same disk state (the copied database is still being flushed)
    ours, base, ours_cpu, base_cpu = [], [], [], []
    for _ in range(min(50, len(slots) - 2)):
        ours += time_ms(book, repeat=1, warmup=0)
        base += time_ms(raw_insert, repeat=1, warmup=0)
        ours_cpu += cpu_ms(book, repeat=1)
        base_cpu += cpu_ms(raw_insert, repeat=1)
    bench.record("diary: book through the service", "p95", percentile(ours, 95), "ms",
                 percentile(base, 95), "clash check, history, audit, outbox")  # fmt: skip
    bench.record("diary: book through the service", "p50", percentile(ours, 50), "ms",
                 percentile(base, 50))  # fmt: skip
    note = "this process's CPU; the fsync is not counted"
    bench.record("diary: book through the service, CPU", "p50", percentile(ours_cpu, 50), "ms",
                 percentile(base_cpu, 50), note)  # fmt: skip
    page.close()
    view.close()
    ctx.engine.dispose()


def cpu_ms(fn: Callable[[], object], repeat: int) -> list[float]:
    """Like time_ms, but the CPU time of this process (other work on the machine excluded)."""
    samples = []
    for _ in range(repeat):
        start = clock_time.process_time()
        fn()
        samples.append((clock_time.process_time() - start) * 1000)
    return samples


def _raw_sql(pids: list[str]) -> Callable[[datetime, datetime], str]:
    """The diary's own appointment query as plain SQL text for raw sqlite3 (same rows)."""
    from sqlalchemy.dialects import sqlite

    from frontdesk.db.types import key_blob
    from frontdesk.services.diary.view import _appointment_query

    marks = {k: datetime(1901, 1, 1, 0, 0, i + 1, tzinfo=UTC)
             for i, k in enumerate(("early", "end", "start"))}  # fmt: skip
    compiled = _appointment_query().params(ids=pids, **marks)
    dialect = sqlite.dialect()
    dialect.frontdesk_text_keys = True  # type: ignore[attr-defined]  # ids rendered as text…
    text = str(compiled.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    for pid in pids:  # … then as the 16-byte blobs the desk stores (db/types.py)
        text = text.replace(f"'{pid}'", f"X'{key_blob(pid).hex()}'")

    def for_span(start: datetime, end: datetime) -> str:
        values = {"early": start - timedelta(hours=12), "end": end, "start": start}
        out = text
        for key, mark in marks.items():
            out = out.replace(_txt(mark), _txt(values[key]))
        return out

    return for_span


def _txt(value: datetime) -> str:
    """A time as the compiled SQL's literal: the stored integer (db/types.py)."""
    from frontdesk.db.types import sqlite_utc_value

    return str(sqlite_utc_value(value))
