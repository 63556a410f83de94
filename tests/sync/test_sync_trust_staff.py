"""Issue 15, item 2: a desk holding a valid token cannot take over accounts or settings.
Changes to staff accounts and clinic settings reach the clinic only signed by a staff member
who holds that right (their key opened by their password); anything else is refused change by
change, put back on the desk that sent it, and recorded in the clinic's audit trail."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from frontdesk.domain import signing
from frontdesk.domain.vocab import Role
from frontdesk.models import AuditEvent, ClinicSettings, StaffUser, SyncOutbox
from frontdesk.services import staff
from frontdesk.services.signin import sign_in
from frontdesk.store.context import SYSTEM, Actor
from tests.sync.clinic import Clinic, Desk

OWNER_PW = "correct horse battery"
RITA_PW = "reception desk pass"


def _refusals(desk: Desk) -> list[dict[str, object]]:
    """Refused changes to accounts (a desk's own clinic settings made before it enrolled are
    refused too once the clinic's staff sign: the clinic keeps its own)."""
    with desk.ctx.read() as s:
        q = select(SyncOutbox.result_json).where(
            SyncOutbox.state == "rejected", SyncOutbox.entity == "staff_users"
        )
        return [json.loads(r or "{}") for r in s.scalars(q.order_by(SyncOutbox.seq))]


def _account(desk: Desk, username: str) -> StaffUser:
    with desk.ctx.read() as s:
        return s.scalars(select(StaffUser).where(StaffUser.username == username)).one()


def _set(desk: Desk, username: str, **values: object) -> None:
    """What a hostile desk does: write the account directly and let sync carry it."""
    with desk.ctx.write("tamper") as s:
        user = s.scalars(select(StaffUser).where(StaffUser.username == username)).one()
        for k, v in values.items():
            setattr(user, k, v)


def _clinic_of_three(any_clinic: Clinic) -> tuple[Desk, Desk, Desk]:
    a = any_clinic.add_desk()
    staff.create_first_owner(a.ctx, "olive", "Olive Owner", OWNER_PW)
    sign_in(a.ctx, "olive", OWNER_PW)
    staff.create_staff(a.ctx, staff.NewStaff("rita", "Rita Reception", Role.RECEPTION, RITA_PW))
    b, c = any_clinic.add_desk(), any_clinic.add_desk()
    any_clinic.settle()
    return a, b, c


def test_an_unsigned_or_forged_change_to_an_account_is_refused(any_clinic: Clinic) -> None:
    a, b, c = _clinic_of_three(any_clinic)
    olive, rita = _account(c, "olive"), _account(c, "rita")
    assert olive.signing_public_key and rita.role == Role.RECEPTION
    stolen_hash = staff.hash_secret("attacker's password")

    # Desk B, with nobody signed in, gives the owner a new password and Rita the owner role.
    b.ctx.actor = SYSTEM
    _set(b, "olive", password_hash=stolen_hash)
    _set(b, "rita", role=Role.OWNER)
    # ... and signs one with a key of its own making, in the owner's name.
    fake = signing.new_private_key()
    b.ctx.actor = Actor(olive.id, "Olive Owner", Role.OWNER, signing_key=fake)
    _set(b, "rita", role=Role.PRACTICE_MANAGER)
    assert b.sync()  # refused change by change; desk B's sync goes on
    refused = _refusals(b)
    assert len(refused) == 3 and {r["code"] for r in refused} == {"unsigned"}
    assert any("does not check out" in str(r["reason"]) for r in refused)

    # Rita, signed in with her own password on desk B, may not make herself owner either.
    sign_in(b.ctx, "rita", RITA_PW)
    assert b.ctx.actor.signing_key is not None
    _set(b, "rita", role=Role.OWNER)
    # She may change her own password (her own key signs it).
    staff.change_own_password(b.ctx, RITA_PW, "a brand new passphrase")
    assert b.sync()
    refused = _refusals(b)
    assert len(refused) == 4 and "may not" in str(refused[-1]["reason"])

    any_clinic.settle()
    for desk in (a, b, c):
        o, r = _account(desk, "olive"), _account(desk, "rita")
        assert o.password_hash == olive.password_hash  # put back on B too
        assert r.role == Role.RECEPTION
        assert r.password_hash != rita.password_hash  # her own change went through
    # A person sees every attempt in the audit trail (the server's own entries).
    with c.ctx.read() as s:
        seen = s.scalars(
            select(AuditEvent.summary).where(AuditEvent.action == "refused a change")
        ).all()
    # (Its blank clinic settings, made before anyone signed in there, are no longer sent when
    # it joins a clinic that has its own, so they are not among the refusals.)
    assert len([line for line in seen if "desk2" in line]) == 4
    # The owner still signs in with her password everywhere; the attacker's does not work.
    sign_in(c.ctx, "olive", OWNER_PW)


def test_signed_changes_by_the_right_people_go_through(any_clinic: Clinic) -> None:
    a, b, c = _clinic_of_three(any_clinic)
    # The owner, signed in on desk B, renames the clinic and promotes Rita.
    sign_in(b.ctx, "olive", OWNER_PW)
    with b.ctx.write("change clinic settings") as s:
        settings = s.scalars(select(ClinicSettings).where(ClinicSettings.deleted_at.is_(None)))
        row = settings.first()
        assert row is not None
        row.name = "Harbour Physio"
    rita = _account(b, "rita").id
    staff.update_staff(
        b.ctx, rita, display_name="Rita Reception", role=Role.PRACTICE_MANAGER, practitioner_id=None
    )
    assert b.sync() and _refusals(b) == []
    staff.set_pin(b.ctx, b.ctx.actor.staff_user_id or "", "4321")  # her own PIN
    assert c.sync()
    sign_in(c.ctx, "rita", RITA_PW)  # now a practice manager
    # The desk's own check is bypassed (a modified desk), but her signature is hers: refused.
    _set(c, "olive", password_hash=staff.hash_secret("owner reset by manager"))
    assert c.sync()
    assert "may not" in str(_refusals(c)[-1]["reason"])  # a manager cannot touch an owner
    any_clinic.settle()
    for desk in (a, b, c):
        assert _account(desk, "rita").role == Role.PRACTICE_MANAGER
        with desk.ctx.read() as s:
            names = s.scalars(
                select(ClinicSettings.name).where(ClinicSettings.deleted_at.is_(None))
            ).all()
        assert names == ["Harbour Physio"]
    sign_in(a.ctx, "olive", OWNER_PW)


def test_desks_check_the_proof_of_changes_they_pull(
    any_clinic: Clinic, caplog: pytest.LogCaptureFixture
) -> None:
    """A change to an account that reached the server's change log without a good proof (a
    damaged or tampered change log) is left out by every desk that pulls it."""
    from frontdesk.server.changelog import log_change

    _a, b, c = _clinic_of_three(any_clinic)
    rita = _account(c, "rita")
    with any_clinic.store.writing() as conn:
        for proof in (None, json.dumps({"by": rita.id, "sig": "00" * 64, "fields": {}})):
            log_change(
                any_clinic.store, conn, "staff_users", rita.id, "update", rita.version + 1,
                {"role": "owner"}, "server", None, proof=proof,
            )  # fmt: skip
    with caplog.at_level("WARNING", logger="frontdesk.sync"):
        assert c.sync() and b.sync()
    left_out = [r for r in caplog.records if "left out" in r.getMessage()]
    assert len(left_out) == 4 and all("owner" not in r.getMessage() for r in left_out)
    assert _account(c, "rita").role == Role.RECEPTION
    assert _account(b, "rita").role == Role.RECEPTION
