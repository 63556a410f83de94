"""Sync fixtures: an in-memory keychain for every test, and a clinic of desks around one
in-process server (SQLite by default; the PostgreSQL variants use tests/server/pg.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync.clinic import Clinic
from tests.sync.fakes import MemoryKeyring, install_memory_keyring


@pytest.fixture(autouse=True)
def memory_keyring() -> MemoryKeyring:
    return install_memory_keyring()


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    c = Clinic(tmp_path, str(tmp_path / "server.sqlite3"))
    yield c
    c.close()
