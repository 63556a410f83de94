"""A woken desk's page applied the fast way (``store/raw_rows.py``: the desk's own SQLite
connection, no statement built) leaves exactly what the SQLAlchemy way leaves: two desks at the
same place are woken by the same change, one syncs each way, and what each sync changed in its
file — every table, as SQLite stores it (keys as bytes, times as integers) — is the same."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from frontdesk.protocol import Endpoint
from frontdesk.store import raw_rows
from tests.sync.clinic import START, Clinic, Desk
from tests.sync.test_sync_wait import Recording

Rows = dict[str, Counter[tuple[Any, ...]]]
_STATE = "pull_cursor, server_epoch, last_sync_at, last_attempt_at, last_error, restored_at, "
_STATE += "server_audit_key"


def _file(desk: Desk) -> Path:
    database = desk.ctx.engine.url.database
    assert database
    return Path(database)


def _dump(desk: Desk) -> Rows:
    """Every row of every table, as stored."""
    conn = sqlite3.connect(f"file:{_file(desk)}?mode=ro", uri=True)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        out = {n: Counter(conn.execute(f'SELECT * FROM "{n}"').fetchall()) for n in names}
        # the sync's own state, without what names the desk (its id, name, certificate...)
        out["sync_state"] = Counter(conn.execute(f"SELECT {_STATE} FROM sync_state").fetchall())
        return out
    finally:
        conn.close()


def _changed(before: Rows, after: Rows) -> dict[str, tuple[Counter[Any], Counter[Any]]]:
    """Per table, the rows a sync added and removed (an update: one of each)."""
    out = {}
    for name in after:
        added, removed = after[name] - before[name], before[name] - after[name]
        if added or removed:
            out[name] = (added, removed)
    return out


@contextmanager
def _counting() -> Iterator[Counter[str]]:
    """How often the fast path wrote (so the comparison is not of two slow syncs)."""
    seen: Counter[str] = Counter()
    saved = raw_rows.insert_many, raw_rows.update_many

    def counted(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*a: Any, **kw: Any) -> Any:
            seen[name] += 1
            return fn(*a, **kw)

        return call

    raw_rows.insert_many = counted("insert", saved[0])  # type: ignore[assignment]
    raw_rows.update_many = counted("update", saved[1])  # type: ignore[assignment]
    try:
        yield seen
    finally:
        raw_rows.insert_many, raw_rows.update_many = saved


def _woken_sync(desk: Desk, *, fast: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    sent = Recording(desk.engine.transport)
    desk.engine.transport = sent  # type: ignore[assignment]
    try:
        assert desk.engine.wait_for_change(timeout_s=5) is True
        before = _dump(desk)
        with monkeypatch.context() as m, _counting() as seen:
            m.setattr(raw_rows, "ENABLED", fast)
            assert desk.sync()
        assert sent.paths == [Endpoint.WAIT]  # the woken page was the whole sync
        assert bool(seen) is fast
        return _changed(before, _dump(desk))
    finally:
        desk.engine.transport = sent.inner


def test_a_woken_page_applied_the_fast_way_leaves_what_the_orm_way_leaves(
    any_clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, fast, slow = any_clinic.add_desk(), any_clinic.add_desk(), any_clinic.add_desk()
    any_clinic.settle()
    prac = a.add_practitioner("Robin")
    patient = a.add_patient("Kim", "Ode")
    steps: list[Callable[[], Any]] = [
        lambda: a.book(prac, patient, START + timedelta(days=1)),
        lambda: a.move(a.ids(_appointment())[0], START + timedelta(days=2)),
        lambda: a.pay(patient, 4250),
        lambda: a.cancel(a.ids(_appointment())[0]),
        lambda: a.edit_patient(patient, first_name="Kimberley", date_of_birth=START.date()),
        lambda: a.invoice(patient, 9500),
    ]
    for step in [lambda: None, *steps]:
        step()
        assert a.sync()
        by_fast = _woken_sync(fast, fast=True, monkeypatch=monkeypatch)
        by_slow = _woken_sync(slow, fast=False, monkeypatch=monkeypatch)
        assert by_fast, "the sync changed nothing: nothing compared"
        assert set(by_fast) >= {"sync_state"} or "audit_anchors" in by_fast
        assert by_fast == by_slow
    any_clinic.settle()
    any_clinic.assert_converged()


def _appointment() -> Any:
    from frontdesk.models import Appointment

    return Appointment
