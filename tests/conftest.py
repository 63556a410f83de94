"""Shared fixtures: a real SQLite desk database in a temporary folder, a fake clock, and
platformdirs pointed away from the developer's home."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from frontdesk.db import int_times
from frontdesk.domain.clock import FakeClock
from frontdesk.paths import DeskPaths
from frontdesk.services.desk import open_desk
from frontdesk.store.context import ServiceContext

# Property tests explore at random on a developer's machine; CI runs the same fixed examples
# every time (.ci/run sets CI=true), so a red build is never luck. Each test's own settings
# (examples, steps, health checks) are built on the loaded profile. (Newer Hypothesis loads a
# built-in "ci" profile when CI is set; this one replaces it, on every Hypothesis we allow.)
settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))


@pytest.fixture
def clock() -> FakeClock:
    # A Friday morning in Sydney: 2026-11-27 09:00 AEDT.
    return FakeClock(datetime(2026, 11, 26, 22, 0, tzinfo=UTC))


@pytest.fixture
def desk_paths(tmp_path: Path) -> DeskPaths:
    return DeskPaths(tmp_path / "desk")


@pytest.fixture
def ctx(desk_paths: DeskPaths, clock: FakeClock) -> Iterator[ServiceContext]:
    context = open_desk(desk_paths, clock=clock)
    yield context
    context.engine.dispose()
    assert_no_text_times(desk_paths.database)


def assert_no_text_times(database: Path) -> None:
    """After a test's workflow no stored time is text (a raw-SQL site that bound or wrote a
    time as text would leave one: text never compares equal to the integer times)."""
    if not database.exists():
        return
    conn = sqlite3.connect(database)
    try:
        found = int_times.text_times(lambda sql: conn.execute(sql).fetchall())
    finally:
        conn.close()
    assert found == [], f"times stored as text: {found}"


@pytest.fixture
def demo_ctx(ctx: ServiceContext) -> ServiceContext:
    """A desk filled with a small demo clinic (2 weeks past, 1 ahead, 4 practitioners)."""
    from frontdesk.demo.generator import DemoSpec, build_demo

    build_demo(ctx, DemoSpec(practitioners=4, weeks_past=2, weeks_future=1, patients=300))
    return ctx


@pytest.fixture
def owner(ctx: ServiceContext) -> ServiceContext:
    """A desk with the owner's account (user name ``owner``, password ``correct horse``),
    signed in as Olive Owner."""
    from frontdesk.services import signin, staff

    staff.create_first_owner(ctx, "owner", "Olive Owner", "correct horse")
    signin.sign_in(ctx, "owner", "correct horse")
    return ctx


def _no_raw_datetime(value: datetime) -> str:
    raise TypeError(
        "a datetime bound raw to SQLite: stored times are integers, bind sqlite_utc_value(at) "
        "(frontdesk/db/types.py)"
    )


# A datetime handed to sqlite3 itself (raw SQL, not a UTCDateTime column) would be stored or
# compared as text against integer times and silently match nothing: every test refuses it.
sqlite3.register_adapter(datetime, _no_raw_datetime)
