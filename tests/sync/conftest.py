"""Sync fixtures: an in-memory keychain for every test, and a clinic of desks around one
in-process server (SQLite by default; the PostgreSQL variants use tests/server/pg.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgcluster import pg_cluster_fixture
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


pg_cluster = pytest.fixture(scope="session")(pg_cluster_fixture)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "server.sqlite3")
    cluster = request.getfixturevalue("pg_cluster")
    return str(cluster.new_database())


@pytest.fixture
def any_clinic(tmp_path: Path, server_url: str) -> Iterator[Clinic]:
    """A clinic whose server runs on SQLite and, in a second run, on PostgreSQL."""
    c = Clinic(tmp_path, server_url)
    yield c
    c.close()
