"""Issue 15: a hostile desk holding a valid token pushes random changes to audit entries, staff
accounts, clinic settings, issued invoices and (issue 17) the API's holds, straight to the
server. Whatever it sends, the honest desks' audit trails, staff accounts, issued documents
and holds never change, their tamper check stays intact, and their sync never stops."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from frontdesk.domain import signing
from frontdesk.domain.ids import uuid7
from frontdesk.domain.vocab import Role
from frontdesk.models import AppointmentHold, AuditEvent, Invoice, Patient, StaffUser
from frontdesk.protocol import Endpoint
from frontdesk.server import schema as server_schema
from frontdesk.services import audit, staff
from frontdesk.services.signin import sign_in
from frontdesk.store.context import Actor
from tests.sync.clinic import Clinic, Desk

TABLES = ("audit_events", "staff_users", "clinic_settings", "invoices", "appointment_holds")
PASSWORD = "correct horse battery"
_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=12),
    st.sampled_from(["owner", "reception", "2026-11-27T01:00:00+00:00", "0" * 64]),
)  # fmt: skip


def _held(desk: Desk) -> dict[str, Any]:
    """What must never change on an honest desk: its trail, accounts and issued invoices."""
    with desk.ctx.read() as s:
        trail = s.execute(
            select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.device_id != "server")
        ).all()
        people = s.scalars(select(StaffUser)).all()
        issued = s.scalars(select(Invoice).where(Invoice.status != "draft")).all()
        holds = s.scalars(select(AppointmentHold)).all()
        cols = ("password_hash", "pin_hash", "role", "signing_public_key", "archived_at",
                "username", "deleted_at")  # fmt: skip
        return {
            "trail": {r.id: r.hash for r in trail},
            "staff": {p.id: tuple(getattr(p, c) for c in cols) for p in people},
            "issued": {
                i.id: (i.number, i.total_cents, i.status, i.patient_id, i.deleted_at)
                for i in issued
            },
            "holds": {h.id: (h.starts_at, h.expires_at, h.released_at) for h in holds},
        }


def _row_ids(clinic: Clinic, table: str) -> list[str]:
    t = server_schema.data_tables()[table]
    with clinic.store.reading() as conn:
        return [r[0] for r in conn.execute(select(t.c.id).limit(50)).all()]


@st.composite
def _changes(draw: st.DrawFn, ids: dict[str, list[str]], owner: str) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 4))):
        table = draw(st.sampled_from(TABLES))
        t = server_schema.data_tables()[table]
        known = ids[table]
        row_id = draw(st.sampled_from(known)) if known and draw(st.booleans()) else uuid7()
        names = sorted(c.name for c in t.columns if c.name != "id")
        fields = draw(st.dictionaries(st.sampled_from(names), _values, min_size=1, max_size=5))
        proof = None
        if draw(st.booleans()):  # signed with a key of its own making, in the owner's name
            key = signing.new_private_key()
            proof = {"by": owner, "sig": signing.sign(key, {"entity": table, "row_id": row_id})}
        out.append({
            "mutation_id": uuid7(), "entity": table, "row_id": row_id,
            "op": draw(st.sampled_from(["insert", "update"])),
            "base_version": draw(st.integers(0, 5)), "hlc": "", "fields": fields, "proof": proof,
        })  # fmt: skip
    return out


def test_a_hostile_desk_cannot_change_what_honest_desks_hold(any_clinic: Clinic) -> None:
    a, hostile, c = any_clinic.add_desk(), any_clinic.add_desk(), any_clinic.add_desk()
    owner = staff.create_first_owner(a.ctx, "olive", "Olive Owner", PASSWORD)
    sign_in(a.ctx, "olive", PASSWORD)
    staff.create_staff(a.ctx, staff.NewStaff("rita", "Rita R", Role.RECEPTION, "reception pass"))
    pat = a.add_patient()
    a.invoice(pat, cents=12_300)
    any_clinic.settle()
    held = {d.name: _held(d) for d in (a, c)}
    ids = {t: _row_ids(any_clinic, t) for t in TABLES}
    whoami = hostile.plain.send("GET", Endpoint.DEVICE, token=hostile.engine.token)
    state = {"seq": int(whoami.body["last_seq"]) + 1}
    statuses: list[tuple[str, str]] = []

    @settings(
        max_examples=25, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )  # fmt: skip
    @given(_changes(ids, owner))
    def attack(changes: list[dict[str, Any]]) -> None:
        for ch in changes:
            ch["seq"] = state["seq"]
            state["seq"] += 1
        reply = hostile.plain.send(
            "POST", Endpoint.PUSH, token=hostile.engine.token, json={"mutations": changes}
        )
        assert reply.status in (200, 413, 422), reply.message
        if reply.status == 200:
            state["seq"] = int(reply.body["last_seq"]) + 1
            kinds = {ch["mutation_id"]: ch["entity"] for ch in changes}
            statuses.extend((kinds[r["mutation_id"]], r["status"]) for r in reply.body["results"])
        for desk in (a, c):
            assert desk.sync(), f"{desk.name} could not sync"
            now = _held(desk)
            before = held[desk.name]
            assert {k: now["trail"].get(k) for k in before["trail"]} == before["trail"]
            assert now["staff"] == before["staff"]
            assert now["holds"] == before["holds"] == {}  # only the server makes holds
            assert {k: now["issued"].get(k) for k in before["issued"]} == before["issued"]
            desk.ctx.actor = Actor(name="auditor", role=Role.OWNER)
            report = audit.verify_chain(desk.ctx)
            assert report.intact, report.message

    attack()
    guarded = [st for table, st in statuses if table != "invoices"]
    assert guarded and set(guarded) == {"rejected"}, statuses
    a.add_patient("Zed")  # and the honest desks still work together
    any_clinic.settle()
    assert len(c.ids(Patient)) == 2
