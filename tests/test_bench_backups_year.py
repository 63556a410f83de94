"""The arithmetic behind ``bench_backups_year``'s year of kept backups: the schedule the prune
rule really keeps, the bound from consecutive kept backups holding on a real store, and each gap
charged no less than was measured."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from benchmarks.bench_backups_year import kept_gaps, new_bytes, span_bytes
from frontdesk.db import backup_store

SYDNEY = ZoneInfo("Australia/Sydney")


@pytest.mark.parametrize("end", ["2026-11-27", "2027-01-01", "2027-03-31", "2028-02-29"])
def test_a_year_of_daily_backups_keeps_the_last_week_three_sundays_and_eleven_month_ends(
    end: str,
) -> None:
    at = datetime.fromisoformat(f"{end}T07:00").replace(tzinfo=SYDNEY)
    gaps = kept_gaps(SYDNEY, at)
    assert 18 <= len(gaps) <= 20  # 19-21 distinct backups: the three rules overlap
    assert gaps[-6:] == [1] * 6  # the last 7 days
    assert sum(g >= 28 for g in gaps) >= 9  # month-ends a month apart
    assert 300 <= sum(gaps) <= 337  # the oldest: the month-end about eleven months back


def test_each_gap_is_charged_at_least_what_was_measured_over_a_span_as_long() -> None:
    measured = {1: 19.0, 7: 45.0, 30: 77.0}
    assert span_bytes(measured, 1) == 19.0
    assert span_bytes(measured, 2) == 45.0  # the next span up, not a line below the curve
    assert span_bytes(measured, 8) == 77.0
    assert span_bytes(measured, 30) == 77.0
    assert span_bytes(measured, 31) == pytest.approx(77.0 * 31 / 30)
    assert span_bytes({1: 3.0}, 7) == pytest.approx(21.0)


def test_kept_backups_together_take_no_more_than_the_first_plus_each_ones_new_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a real file and store: rows appended and rows updated in place between backups, then
    the union of every chunk the backups list is within the chain bound the benchmark uses."""
    monkeypatch.setattr(backup_store, "CHUNK_BYTES", 4096)
    db = tmp_path / "clinic.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA page_size=4096")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k BLOB, v TEXT)")
    conn.execute("CREATE INDEX ix_t_k ON t (k)")
    conn.executemany("INSERT INTO t (k, v) VALUES (randomblob(16), ?)",
                     [(f"row {i} " * 8,) for i in range(3000)])  # fmt: skip
    store = tmp_path / "backups"
    store.mkdir()
    lists: list[dict[str, int]] = []
    for day in range(6):
        if day:
            conn.executemany("INSERT INTO t (k, v) VALUES (randomblob(16), ?)",
                             [(f"day {day} {i}",) for i in range(150)])  # fmt: skip
            conn.execute("UPDATE t SET v = v || '.' WHERE id % 97 = ?", (day,))
        made = backup_store.write_backup(db, store / f"daily-2026120{day}-070000.fdbackup")
        lists.append({c.digest: c.packed for c in made.chunks})
    conn.close()
    union: dict[str, int] = {}
    for chunks in lists:
        union.update(chunks)
    bound = sum(lists[0].values()) + sum(
        new_bytes(older, newer) for older, newer in itertools.pairwise(lists)
    )
    assert sum(union.values()) <= bound
    assert sum(union.values()) == backup_store.chunks_bytes(store)  # nothing else is kept
    assert new_bytes(lists[0], lists[-1]) < sum(
        new_bytes(older, newer) for older, newer in itertools.pairwise(lists)
    )  # a chunk changed on several days counts once over the whole span
