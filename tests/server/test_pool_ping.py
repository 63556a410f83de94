"""The server's PostgreSQL connections are pinged before use only after sitting idle
(``db/engine.py``): a busy server's calls save a round trip each, and a connection the
database dropped while idle is still replaced without the call noticing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import exc, text

from frontdesk.db import engine as engine_mod
from frontdesk.server.store import ServerStore
from tests.pgcluster import PgCluster

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(pg_cluster: PgCluster) -> Iterator[ServerStore]:
    st = ServerStore(pg_cluster.new_database())
    yield st
    st.dispose()


def _pings(st: ServerStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the dialect's pings (each still goes to the database)."""
    seen: list[int] = []
    real = st.engine.dialect.do_ping

    def counted(conn: Any) -> bool:
        seen.append(1)
        return bool(real(conn))

    monkeypatch.setattr(st.engine.dialect, "do_ping", counted)
    return seen


def _kill_connections(cluster: PgCluster, st: ServerStore) -> int:
    name = st.engine.url.database
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        return len(
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            ).fetchall()
        )


def _one(st: ServerStore) -> int:
    with st.reading() as conn:
        return int(conn.execute(text("SELECT 1")).scalar_one())


def test_a_connection_in_steady_use_is_not_pinged(
    store: ServerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _pings(store, monkeypatch)
    for _ in range(20):
        assert _one(store) == 1
    assert pings == []


def test_a_connection_dropped_while_idle_is_replaced_unnoticed(
    store: ServerStore, pg_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _pings(store, monkeypatch)
    assert _one(store) == 1
    assert _kill_connections(pg_cluster, store) == 1  # the pooled one
    monkeypatch.setattr(engine_mod, "IDLE_PING_SECONDS", 0.0)  # it has now been idle long enough
    assert _one(store) == 1  # no error: the ping found it dead and the pool connected afresh
    assert pings == [1]


def test_a_connection_dropped_between_busy_calls_fails_one_call_only(
    store: ServerStore, pg_cluster: PgCluster
) -> None:
    """The price of not pinging a busy connection: the next statement meets the drop; the
    pool then starts afresh and the call after works."""
    assert _one(store) == 1
    assert _kill_connections(pg_cluster, store) == 1
    with pytest.raises(exc.OperationalError):
        _one(store)
    assert _one(store) == 1
