"""The sync engine's long-poll and status: a desk waiting for changes hears of another desk's
push at once, and hears nothing when there is nothing new."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from frontdesk.models import Practitioner
from frontdesk.protocol import Endpoint
from frontdesk.server import schema as server_schema
from frontdesk.sync.engine import SyncEngine, SyncFailed
from frontdesk.sync.summary import SyncSummary
from tests.sync.clinic import Clinic


def test_wait_for_change_answers_when_another_desk_pushes(clinic: Clinic) -> None:
    a, b = clinic.add_desk(), clinic.add_desk()
    clinic.settle()
    assert b.sync()
    assert b.engine.wait_for_change(timeout_s=0.2) is False
    a.add_practitioner()
    assert b.engine.status().pending == 0
    assert a.engine.status().pending > 0
    assert a.sync()
    assert b.engine.wait_for_change(timeout_s=5) is True
    assert b.sync()
    assert b.engine.wait_for_change(timeout_s=0.2) is False
    status = b.engine.status()
    assert status.enrolled and status.last_sync_at is not None and status.refused == 0


def test_wait_for_change_refused_without_access(clinic: Clinic) -> None:
    b = clinic.add_desk()
    assert b.sync()
    b.engine.token = "not-a-token"
    with pytest.raises(SyncFailed):
        b.engine.wait_for_change(timeout_s=0.2)


class Recording:
    """The desk's transport, noting the path of every request it sends."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.paths = inner, []

    def send(self, method: str, path: str, **kw: Any) -> Any:
        self.paths.append(str(path))
        return self.inner.send(method, path, **kw)


def test_a_woken_wait_brings_the_pull_and_its_check_so_the_desk_does_not_ask(
    any_clinic: Clinic,
) -> None:
    """The long-poll's answer to a change carries the pull's first page and the check after
    it: the woken desk's sync takes both from there (no other request) and ends with the same
    clinic."""
    a, b = any_clinic.add_desk(), any_clinic.add_desk()
    any_clinic.settle()
    prac = a.add_practitioner("Robin")
    assert a.sync()
    sent = Recording(b.engine.transport)
    b.engine.transport = sent  # type: ignore[assignment]
    assert b.engine.wait_for_change(timeout_s=5) is True
    assert b.sync()
    # the page came with the check after it, read at the same moment: nor check asked for,
    # nor the audit heads on their own
    assert sent.paths == [Endpoint.WAIT]
    assert b.engine.anchors_kept
    with b.ctx.read() as s:
        assert s.get(Practitioner, prac) is not None
    assert b.engine._state().pull_cursor == any_clinic.store.latest_seq
    any_clinic.settle()
    any_clinic.assert_converged()


def test_a_page_older_than_the_desks_own_push_is_not_used(any_clinic: Clinic) -> None:
    """A desk that pushes in the same sync asks for the pull again: the page came before its
    own changes. A wait that asks for no page (an older desk) gets the plain answer."""
    a, b = any_clinic.add_desk(), any_clinic.add_desk()
    any_clinic.settle()
    theirs = a.add_practitioner("Robin")
    assert a.sync()
    assert b.engine.wait_for_change(timeout_s=5) is True
    ours = b.add_practitioner("Kim")
    sent = Recording(b.engine.transport)
    b.engine.transport = sent  # type: ignore[assignment]
    assert b.sync()
    assert Endpoint.PUSH in sent.paths and Endpoint.PULL in sent.paths
    with b.ctx.read() as s:
        assert s.get(Practitioner, theirs) is not None and s.get(Practitioner, ours) is not None
    any_clinic.settle()
    any_clinic.assert_converged()
    older = b.plain.send("GET", Endpoint.WAIT, token=b.engine.token,
                         params={"cursor": 0, "timeout": 0})  # fmt: skip
    assert older.ok and set(older.body) == {"latest", "changed"} and older.body["changed"]


def test_a_row_that_differs_from_the_page_check_is_checked_and_repaired(
    any_clinic: Clinic,
) -> None:
    """The server's row drifted from its change log (changed without a log entry): the page's
    fingerprint of it differs from what the desk applied, so the desk asks for the check,
    which gives it the row as the server holds it."""
    a, b = any_clinic.add_desk(), any_clinic.add_desk()
    any_clinic.settle()
    prac = a.add_practitioner("Robin")
    assert a.sync()
    t = server_schema.data_tables()["practitioners"]
    with any_clinic.store.writing() as conn:
        conn.execute(update(t).where(t.c.id == prac).values(display_name="Robin Drifted"))
    sent = Recording(b.engine.transport)
    b.engine.transport = sent  # type: ignore[assignment]
    assert b.engine.wait_for_change(timeout_s=5) is True
    assert b.sync()
    assert sent.paths == [Endpoint.WAIT, Endpoint.STATS]
    assert b.repaired == 1
    with b.ctx.read() as s:
        row = s.get(Practitioner, prac)
        assert row is not None and row.display_name == "Robin Drifted"


def test_desks_woken_by_one_change_share_one_read_and_each_ends_right(
    any_clinic: Clinic,
) -> None:
    """Two desks at the same cursor woken by one booking: the server reads the page and its
    check once (kept while the log stays there); each desk applies it and needs no other
    request; the author of the change, whose own rows are echoes, is never given that page."""
    a, b, c = any_clinic.add_desk(), any_clinic.add_desk(), any_clinic.add_desk()
    any_clinic.settle()
    cursor = b.engine._state().pull_cursor
    assert c.engine._state().pull_cursor == cursor
    prac = a.add_practitioner("Robin")
    a.engine.push(SyncSummary(), set())  # a's own push, its pull not yet done
    recorded = []
    for desk in (b, c):
        sent = Recording(desk.engine.transport)
        desk.engine.transport = sent  # type: ignore[assignment]
        assert desk.engine.wait_for_change(timeout_s=5) is True
        assert desk.sync()
        recorded.append(sent.paths)
    assert recorded == [[Endpoint.WAIT], [Endpoint.WAIT]]
    assert any_clinic.app.state.woken.reads == 1
    # the author's long-poll from the same cursor: its own rows come as echoes, not the kept page
    assert a.engine._state().pull_cursor == cursor
    assert a.engine.wait_for_change(timeout_s=5) is True
    assert a.ctx.woken_page is not None
    echoes = [ch["echo"] for ch in a.ctx.woken_page[1].body["changes"]]
    assert echoes and all(echoes)
    assert a.sync()
    for desk in (a, b, c):
        with desk.ctx.read() as s:
            assert s.get(Practitioner, prac) is not None
    any_clinic.settle()
    any_clinic.assert_converged()


def test_the_page_reaches_the_sync_when_another_engine_listened(any_clinic: Clinic) -> None:
    """The app listens with one engine (the listener thread's) and syncs with another (the
    sync worker's): the page and its check are the desk's, so the sync still asks for
    nothing more."""
    a, b = any_clinic.add_desk(), any_clinic.add_desk()
    any_clinic.settle()
    prac = a.add_practitioner("Robin")
    assert a.sync()
    sent = Recording(b.engine.transport)
    listener = SyncEngine(b.ctx, sent, b.engine.token)  # type: ignore[arg-type]
    b.engine.transport = sent  # type: ignore[assignment]
    assert listener.wait_for_change(timeout_s=5) is True
    assert b.sync()
    assert sent.paths == [Endpoint.WAIT]
    with b.ctx.read() as s:
        assert s.get(Practitioner, prac) is not None


def test_a_woken_sync_is_one_commit_with_its_anchors_and_status(any_clinic: Clinic) -> None:
    """The woken page, its check, the anchors it brings and the sync's status are written in
    one transaction; the heads already kept are not written again, and the one that moved is."""
    from sqlalchemy import select

    from frontdesk.models import AuditAnchor

    a, b = any_clinic.add_desk(), any_clinic.add_desk()
    any_clinic.settle()
    with b.ctx.read() as s:
        before = {r.chain_id: r.seq for r in s.execute(select(AuditAnchor)).scalars()}
    assert before
    a.add_practitioner("Robin")
    assert a.sync()
    writes: list[str] = []
    plain = b.ctx.write

    def counted(action: str = "", **kw: Any) -> Any:
        writes.append(action)
        return plain(action, **kw)

    b.ctx.write = counted  # type: ignore[method-assign]
    assert b.engine.wait_for_change(timeout_s=5) is True
    assert b.sync()
    assert writes == ["sync pull"]
    assert b.engine.status().last_sync_at is not None and b.engine.status().last_error is None
    with b.ctx.read() as s:
        after = {r.chain_id: r.seq for r in s.execute(select(AuditAnchor)).scalars()}
    moved = {chain for chain in after if after[chain] != before.get(chain)}
    assert moved == {a.ctx.audit_chain or a.ctx.device_id}


def test_a_revoked_desks_long_poll_is_refused_at_once(clinic: Clinic) -> None:
    """A long-poll takes its device without a query for a moment after its token was checked;
    a revocation through the server clears that, so the next long-poll is refused."""
    b = clinic.add_desk()
    assert b.sync()
    assert b.engine.wait_for_change(timeout_s=0.1) is False  # its token just checked
    assert clinic.store.revoke(b.ctx.device_id) == 1
    with pytest.raises(SyncFailed):
        b.engine.wait_for_change(timeout_s=0.1)
