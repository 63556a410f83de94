"""Seeding a PostgreSQL server by COPY (``server/seed.py``): the same rows, as the desk's own
code reads them, as a SQLite server seeded from the same desk; and the tables' indexes and
foreign keys, dropped for the load, all back as the migrations made them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from frontdesk.demo.generator import DemoSpec, build_demo
from frontdesk.domain.clock import FakeClock
from frontdesk.paths import DeskPaths
from frontdesk.server import schema as s
from frontdesk.server.seed import seed_from_desk
from frontdesk.server.store import ServerStore
from frontdesk.services.desk import open_desk
from tests.pgcluster import PgCluster
from tests.sync.clinic import START

pytestmark = pytest.mark.postgres

_SHAPE = """
SELECT 'index', t.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
  JOIN pg_class t ON t.oid = i.indrelid WHERE t.relnamespace = current_schema()::regnamespace
UNION ALL
SELECT 'constraint ' || c.contype::text, t.relname, c.conname || ' ' || pg_get_constraintdef(c.oid)
  FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
  WHERE t.relnamespace = current_schema()::regnamespace
"""


def _rows(store: ServerStore) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with store.reading() as conn:
        for table in s.all_data_tables():
            key = [c for c in table.primary_key.columns]
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*key))]
    return out


def _shape(store: ServerStore) -> set[tuple[str, str, str]]:
    with store.reading() as conn:
        return {(a, b, c) for a, b, c in conn.execute(text(_SHAPE))}


def test_copy_seeding_matches_a_sqlite_server_and_keeps_every_index(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    desk = open_desk(DeskPaths(tmp_path / "desk"), clock=FakeClock(START))
    build_demo(desk, DemoSpec(practitioners=3, weeks_past=3, weeks_future=2, patients=120))
    desk.engine.dispose()

    lite = ServerStore(str(tmp_path / "server.sqlite3"))
    lite.init(backup=False)
    lite_counts = seed_from_desk(lite, tmp_path / "desk")

    empty = ServerStore(pg_cluster.new_database())
    empty.init(backup=False)
    pg = ServerStore(pg_cluster.new_database())
    pg.init(backup=False)
    pg_counts = seed_from_desk(pg, tmp_path / "desk")
    try:
        assert pg_counts == lite_counts and pg_counts["appointments"] > 100
        want, got = _rows(lite), _rows(pg)
        for name, rows in want.items():  # per table: a difference names its table
            assert got[name] == rows, name
        shape = _shape(pg)
        assert any(k == "constraint f" for k, _t, _d in shape)  # foreign keys are there
        assert shape == _shape(empty)
        with pg.reading() as conn:  # VACUUM (ANALYZE) ran: sizes known, pages all-visible
            analysed, pages, visible = conn.execute(
                text(
                    "SELECT reltuples, relpages, relallvisible FROM pg_class "
                    "WHERE relname = 'appointments'"
                )
            ).one()
        assert analysed == pg_counts["appointments"] and visible == pages > 0
        with pg.reading() as conn:
            assert pg.info(conn, "seeded_through")
    finally:
        for store in (lite, empty, pg):
            store.dispose()
