"""Issue 15, item 1: a desk holding a valid token cannot rewrite or forge another desk's audit
trail. The server takes audit entries only as new entries continuing the chain of the desk that
sends them, refuses anything else change by change (the sender's sync goes on, so does
everyone else's), records the attempt in its own trail, and countersigns each chain's head, so
a trail rewritten later on any desk is named by the tamper check."""

from __future__ import annotations

import json

from sqlalchemy import delete, select, update

from frontdesk.domain.vocab import Role
from frontdesk.models import AuditAnchor, AuditEvent, SyncOutbox
from frontdesk.services import audit
from frontdesk.store.context import Actor
from frontdesk.store.tracking import audit_hash, audit_payload
from tests.sync.clinic import Clinic, Desk


def _report(desk: Desk) -> audit.ChainReport:
    desk.ctx.actor = Actor(name="auditor", role=Role.OWNER)
    return audit.verify_chain(desk.ctx)


def _chain(desk: Desk, chain: str) -> list[AuditEvent]:
    with desk.ctx.read() as s:
        q = select(AuditEvent).where(AuditEvent.device_id == chain)
        return list(s.scalars(q.order_by(AuditEvent.device_seq)))


def _refusals(desk: Desk) -> list[dict[str, object]]:
    with desk.ctx.read() as s:
        q = select(SyncOutbox.result_json).where(SyncOutbox.state == "rejected")
        return [json.loads(r or "{}") for r in s.scalars(q)]


def _rehash(desk: Desk, chain: str, *, summary: str, outbox: bool) -> None:
    """Change the chain's first entry and re-hash every entry after it, as a tamperer would:
    through the desk's own writes (they travel) or behind its back (they do not)."""
    with desk.ctx.write("tamper", origin="local" if outbox else "sync") as s:
        prev = "0" * 64
        for i, e in enumerate(s.scalars(
            select(AuditEvent).where(AuditEvent.device_id == chain).order_by(AuditEvent.device_seq)
        )):  # fmt: skip
            if i == 0:
                e.summary = summary
            data = {k: getattr(e, k) for k in audit_payload({})}
            e.prev_hash, e.hash = prev, audit_hash(prev, audit_payload(data))
            prev = e.hash


def test_a_desk_cannot_rewrite_or_forge_another_desks_trail(any_clinic: Clinic) -> None:
    a, b, c = any_clinic.add_desk(), any_clinic.add_desk(), any_clinic.add_desk()
    a.add_patient("Ana")
    any_clinic.settle()
    chain_a = a.ctx.device_id
    honest = [(e.id, e.hash) for e in _chain(c, chain_a)]
    assert len(honest) >= 1

    # Desk B rewrites A's trail, re-hashes it, and appends an entry in A's name.
    _rehash(b, chain_a, summary="nothing happened here", outbox=True)
    last = _chain(b, chain_a)[-1]
    with b.ctx.write("forge") as s:
        forged = {k: getattr(last, k) for k in audit_payload({})}
        forged.update(id="0" * 8 + last.id[8:], device_seq=last.device_seq + 1)
        forged.update(summary="the owner deleted every invoice", staff_name="Ana")
        s.add(AuditEvent(**forged, prev_hash=last.hash,
                         hash=audit_hash(last.hash, audit_payload(forged))))  # fmt: skip
    assert b.sync()  # refused change by change: B's own sync goes on
    codes = {str(r.get("code")) for r in _refusals(b)}
    assert codes == {"audit_append_only", "audit_not_yours"}, codes

    # A's next entries are accepted, and every desk holds A's trail as A wrote it.
    a.add_patient("Ben")
    assert a.sync() and _refusals(a) == []
    any_clinic.settle()
    for desk in (a, c):
        chain = [(e.id, e.hash) for e in _chain(desk, chain_a)]
        assert chain[: len(honest)] == honest and len(chain) > len(honest)
        assert all(e.summary != "the owner deleted every invoice" for e in _chain(desk, chain_a))
        report = _report(desk)
        assert report.intact, report.message
        # A person sees the attempt: the server's own trail names the desk that tried.
        seen = [e for e in _chain(desk, "server") if e.action == "refused a change"]
        assert len(seen) == len(_refusals(b)) and all("desk2" in e.summary for e in seen)
    assert [e.id for e in _chain(b, chain_a)] == [e.id for e in _chain(a, chain_a)]


def test_a_trail_rewritten_after_the_server_countersigned_it_is_named(
    any_clinic: Clinic,
) -> None:
    a, b = any_clinic.add_desk(), any_clinic.add_desk()
    for name in ("Ana", "Ben", "Cy"):
        a.add_patient(name)
    any_clinic.settle()
    chain_a = a.ctx.device_id
    with b.ctx.read() as s:
        anchor = s.get(AuditAnchor, chain_a)
        assert anchor is not None and anchor.seq == len(_chain(a, chain_a))
    assert _report(b).intact

    # Rewritten and re-hashed behind the desk's back: the chain checks out on its own...
    _rehash(b, chain_a, summary="edited", outbox=False)
    report = _report(b)
    assert not report.intact and "countersigned" in report.message, report.message

    # ... and the newest entry deleted together with its outbox row is named on desk A.
    newest = _chain(a, chain_a)[-1]
    with a.ctx.write("tamper", origin="sync") as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == newest.id))
        s.execute(delete(SyncOutbox).where(SyncOutbox.row_id == newest.id))
    report = _report(a)
    assert not report.intact and f"up to entry {newest.device_seq}" in report.message

    # An anchor edited to match cannot be passed off: its countersignature fails.
    with a.ctx.write("tamper", origin="sync") as s:
        s.execute(
            update(AuditAnchor)
            .where(AuditAnchor.chain_id == chain_a)
            .values(seq=newest.device_seq - 1, hash=_chain(a, chain_a)[-1].hash)
        )
    assert not _report(a).intact


def _paths_called(desk: Desk, strip_audit: bool = False) -> list[str]:
    """Record the paths this desk's engine calls (and, with ``strip_audit``, answer the check
    as a server from before the heads came with it)."""
    from frontdesk.protocol import Endpoint

    called: list[str] = []
    real = desk.engine._call

    def call(method: str, path: str, **kw):  # type: ignore[no-untyped-def]
        called.append(path)
        reply = real(method, path, **kw)
        if strip_audit and path == Endpoint.STATS:
            reply.body.pop("audit", None)
        return reply

    desk.engine._call = call  # type: ignore[method-assign]
    return called


def test_the_heads_come_with_the_check_in_one_request(any_clinic: Clinic) -> None:
    """A sync that moved audit entries takes the countersigned heads from its check's answer
    (one request, one server read), and from a server that does not send them there, asks
    for them on their own as before."""
    from frontdesk.protocol import Endpoint

    a, b = any_clinic.add_desk(), any_clinic.add_desk()
    any_clinic.settle()
    a.add_patient("Ana")
    a.sync()
    called = _paths_called(b)
    b.sync()
    assert Endpoint.STATS in called and Endpoint.AUDIT_HEADS not in called
    chain_a = a.ctx.device_id
    with b.ctx.read() as s:
        anchor = s.get(AuditAnchor, chain_a)
        assert anchor is not None and anchor.seq == len(_chain(a, chain_a))
    assert _report(b).intact

    a.add_patient("Ben")
    a.sync()
    b.engine = b.engine.__class__(b.engine.ctx, b.engine.transport, b.engine.token)
    called = _paths_called(b, strip_audit=True)
    b.sync()
    assert Endpoint.STATS in called and Endpoint.AUDIT_HEADS in called
    with b.ctx.read() as s:
        anchor = s.get(AuditAnchor, chain_a)
        assert anchor is not None and anchor.seq == len(_chain(a, chain_a))
