"""Every benchmark in ``make bench`` runs to its end on a small demo desk, its raw SQL bound as
the desk stores things.

The benchmarks measure the 10-year clinic (20+ minutes to build) and nothing else runs them, so
a change to how the desk stores keys or times (16-byte blobs and integer microseconds since
0390/0400) broke several unnoticed: a raw read handed a blob to a service (``NotAKeyError``),
a baseline bound a key as text and silently matched nothing. Here each module's ``run`` goes
through once on a small demo clinic (each timed piece run once, not its hundreds of times), and
every raw ``sqlite3`` connection a benchmark opens on a desk file refuses a key bound as text,
a time bound as text, or a key written into the SQL as a text literal — each a baseline that
would compare against nothing. (Services already refuse a blob given for a key.)
"""

from __future__ import annotations

import importlib
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks import harness

# Modules other sessions are changing, or that need PostgreSQL for minutes (their own tests
# cover their raw SQL), or that measure a whole process's cold start.
NOT_HERE = {
    "bench_api_pg": "PostgreSQL server seeded for minutes",
    "bench_api_load_pg": "PostgreSQL server seeded for minutes",
    "bench_group": "50 desks on PostgreSQL for minutes",
    "bench_sync": "owned by another change",
    "bench_startup": "cold starts of the bundle",
}
# Each module's sizes brought down to the small desk (the 10-year clinic's are the defaults),
# and the opt-in ones switched on.
SMALL: dict[str, dict[str, Any]] = {
    "bench_api_desk": {"ENABLED": True, "BOOKINGS": 3},
    "bench_api_feed": {"BOOKINGS": 3},
    "bench_api_load": {"SECONDS": 2.0, "RATE": 20.0},
    "bench_auth": {"TRAIL": 3_000},
    "bench_invoice_list": {"SHOWN": 500, "PAYMENTS": 3},
    "bench_messaging_reply": {"ENABLED": True, "POLL_S": 0.2},
    "bench_messaging_send": {"MESSAGES": 40},
    "bench_patients": {"IMPORT_ROWS": 2_000},
    "bench_storage": {"BACKUP_DAYS": 2, "DAY_BOOKINGS": 20},
    "bench_backups_year": {"DAYS": 8, "DAY_BOOKINGS": 10},
}
MODULES = sorted(p.stem for p in (harness.ROOT / "benchmarks").glob("bench_*.py"))

UUID_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UUID_LITERAL = re.compile(r"'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'")
TIME_LITERAL = re.compile(r"'\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
TIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")


def _loose_columns() -> dict[str, set[str]]:
    """Per table, the columns that legitimately hold text looking like a key or a time (the
    audit trail keeps keys as text: it names rows of any kind)."""
    from frontdesk.db.types import UTCDateTime, is_key
    from frontdesk.models import Base

    return {
        name: {c.name for c in table.columns if not is_key(c)
               and not isinstance(c.type, UTCDateTime)}
        for name, table in Base.metadata.tables.items()
    }  # fmt: skip


LOOSE = _loose_columns()
TABLES = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)
INSERT = re.compile(r"INSERT\s+INTO\s+\"?(\w+)\"?\s*\(([^)]*)\)\s*VALUES\s*\((.*)\)", re.I | re.S)
COMPARED = re.compile(r"([\w.\"]+)\s*(?:=|==|!=|<>|<=|>=|<|>|\bLIKE)\s*$", re.IGNORECASE)


def _columns_of_marks(sql: str) -> list[str | None]:
    """The column each ``?`` of a statement is written into or compared with, where plain."""
    insert = INSERT.search(sql)
    if insert:
        columns = [c.strip().strip('"') for c in insert.group(2).split(",")]
        values = [v.strip() for v in insert.group(3).split(",")]
        if len(columns) == len(values):
            return [c for c, v in zip(columns, values, strict=True) if v == "?"]
    marks: list[str | None] = []
    for i, ch in enumerate(sql):
        if ch == "?":
            found = COMPARED.search(sql[:i])
            marks.append(found.group(1).split(".")[-1].strip('"') if found else None)
    return marks


def _check(sql: str, params: Any, *, keys: bool = True) -> None:
    if keys and UUID_LITERAL.search(sql):
        raise AssertionError(f"a key written into raw SQL as text (stored as a blob): {sql[:200]}")
    if TIME_LITERAL.search(sql):
        raise AssertionError(f"a time written into raw SQL as text (stored as integer "
                             f"microseconds): {sql[:200]}")  # fmt: skip
    tables = {t for t in TABLES.findall(sql) if t in LOOSE}
    if isinstance(params, dict):
        named = [(k, v) for k, v in params.items()]
    else:
        marks = _columns_of_marks(sql)
        named = [(marks[i] if i < len(marks) else None, v) for i, v in enumerate(params)]
    for column, value in named:
        if not isinstance(value, str) or (column and any(column in LOOSE[t] for t in tables)):
            continue
        if keys and UUID_TEXT.match(value):
            raise AssertionError(
                f"a key bound as text ({value}, {column}) to a desk, which stores keys as "
                f"16 bytes: bind key_blob(...) — {sql[:200]}"
            )
        if TIME_TEXT.match(value):
            raise AssertionError(
                f"a time bound as text ({value!r}, {column}) to a desk, which stores integer "
                f"microseconds: bind sqlite_utc_value(...) — {sql[:200]}"
            )


class _CheckedCursor(sqlite3.Cursor):
    keys = True  # a desk's file: keys are blobs; the server's SQLite keeps them as text

    def execute(self, sql: str, params: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        _check(sql, params, keys=self.keys)
        return super().execute(sql, params)

    def executemany(self, sql: str, seq: Iterable[Any], /) -> sqlite3.Cursor:  # type: ignore[override]
        rows = list(seq)
        for row in rows:
            _check(sql, row, keys=self.keys)
        return super().executemany(sql, rows)


class _ServerCursor(_CheckedCursor):
    keys = False


class _CheckedConnection(sqlite3.Connection):
    cursor_kind: type[sqlite3.Cursor] = _CheckedCursor

    def cursor(self, factory: Any = None) -> Any:  # type: ignore[override]
        return super().cursor(factory or self.cursor_kind)

    def execute(self, sql: str, params: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        return self.cursor().execute(sql, params)

    def executemany(self, sql: str, seq: Iterable[Any], /) -> sqlite3.Cursor:  # type: ignore[override]
        return self.cursor().executemany(sql, seq)


class _ServerConnection(_CheckedConnection):
    cursor_kind = _ServerCursor


def _kind(database: Any) -> type[sqlite3.Connection] | None:
    """Which checks a raw connection gets: a desk's file, a SQLite clinic server's, neither."""
    name = str(database).split("?", 1)[0]
    if name.endswith("frontdesk.sqlite3"):
        return _CheckedConnection
    if name.endswith("server.sqlite3"):
        return _ServerConnection
    return None


@pytest.fixture(scope="module")
def small_clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A benchmark cache holding a small demo clinic where the 10-year one would be."""
    from frontdesk.demo.generator import DemoSpec, build_demo
    from frontdesk.paths import DeskPaths
    from frontdesk.services.desk import open_desk

    cache = tmp_path_factory.mktemp("bench-cache")
    scale = cache / f"scale-{harness.schema_key()}"
    ctx = open_desk(DeskPaths(scale), clock=harness.demo_clock())
    build_demo(ctx, DemoSpec(practitioners=4, weeks_past=3, weeks_future=2, patients=300))
    ctx.engine.dispose()
    shutil.rmtree(scale / "logs", ignore_errors=True)
    return cache


def _once(fn: Callable[[], Any], repeat: int = 1, warmup: int = 0) -> list[float]:
    started = time.perf_counter()
    fn()
    return [(time.perf_counter() - started) * 1000]


@pytest.fixture
def checked_sqlite(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Raw connections a benchmark opens on a desk's file (or a SQLite server's) check what
    they bind."""
    plain = sqlite3.connect

    def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        kind = _kind(database)
        if caller.startswith("benchmarks.") and kind and "factory" not in kwargs:
            kwargs["factory"] = kind
        return plain(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    yield


@pytest.mark.parametrize("name", [m for m in MODULES if m not in NOT_HERE])
def test_benchmark_runs_on_a_small_desk(
    name: str, small_clinic: Path, checked_sqlite: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = small_clinic / name
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir()
    for scale in small_clinic.glob("scale-*"):
        (cache / scale.name).symlink_to(scale, target_is_directory=True)
    module = importlib.import_module(f"benchmarks.{name}")
    for mod in [
        harness,
        module,
        *(m for k, m in sys.modules.items() if k.startswith("benchmarks.")),
    ]:
        if hasattr(mod, "CACHE"):
            monkeypatch.setattr(mod, "CACHE", cache)
        if hasattr(mod, "time_ms"):
            monkeypatch.setattr(mod, "time_ms", _once)
    for attr, value in SMALL.get(name, {}).items():
        assert hasattr(module, attr), f"{name}.{attr} is gone: update SMALL"
        monkeypatch.setattr(module, attr, value)
    # some set a keyring and environment for their desks: put back after, for the next tests
    for var in ("FRONTDESK_TEST_KEYRING", "PYTHON_KEYRING_BACKEND"):
        monkeypatch.delenv(var, raising=False)
    import keyring

    was = keyring.get_keyring()
    bench = harness.Bench()
    try:
        module.run(bench)
    finally:
        keyring.set_keyring(was)
    assert bench.results, f"{name} recorded no figure"
