"""Staff accounts and signing in: hashing, roles, throttling, and the attacks in issue 7."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.errors import PermissionDenied, RuleViolation, ValidationFailed
from frontdesk.domain.vocab import Role
from frontdesk.models import AuditEvent, Practitioner, StaffUser
from frontdesk.services import signin, staff
from frontdesk.services.signin import SignInRefused, sign_in
from frontdesk.store.context import SYSTEM, ServiceContext


def _snapshot(ctx: ServiceContext) -> tuple[int, int, list[tuple[str, int]]]:
    with ctx.read() as s:
        events = s.scalar(select(func.count()).select_from(AuditEvent)) or 0
        users = s.scalar(select(func.count()).select_from(StaffUser)) or 0
        attempts = [(u.username, u.failed_attempts) for u in s.scalars(select(StaffUser))]
    return events, users, sorted(attempts)


def _practitioner(ctx: ServiceContext) -> str:
    with ctx.write("add practitioner") as s:
        p = Practitioner(
            first_name="Pat", last_name="Lee", display_name="Pat Lee", profession="Physio"
        )
        s.add(p)
        s.flush()
        return p.id


def test_first_owner_then_sign_in_sets_actor_and_is_audited(ctx: ServiceContext) -> None:
    assert not staff.has_staff(ctx)
    staff.create_first_owner(ctx, "  Olive ", "Olive Owner", "correct horse")
    assert staff.has_staff(ctx)
    actor = sign_in(ctx, "OLIVE", "correct horse")
    assert ctx.actor is actor
    assert actor.role is Role.OWNER and actor.name == "Olive Owner"
    with ctx.read() as s:
        user = s.scalars(select(StaffUser)).one()
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "sign in")).first()
        assert event is not None and event.staff_user_id == user.id
        # Hashes sync but never show in the audit trail.
        for e in s.scalars(select(AuditEvent)):
            assert "argon2" not in (e.after_json or "") + (e.before_json or "")
    with pytest.raises(RuleViolation):
        staff.create_first_owner(ctx, "second", "Second", "another password")


def test_wrong_password_is_refused_audited_and_changes_nothing_else(owner: ServiceContext) -> None:
    with pytest.raises(SignInRefused, match="not right"):
        sign_in(owner, "owner", "wrong horse")
    assert owner.actor.name == "Olive Owner"  # still the owner: a failure signs nobody in
    with owner.read() as s:
        failed = s.scalars(select(AuditEvent).where(AuditEvent.action == "failed sign-in")).all()
        assert failed and all(e.staff_user_id is None for e in failed)
        assert s.scalars(select(StaffUser)).one().failed_attempts == 1


@pytest.mark.parametrize("secret", ["", "x" * 10_000])
def test_empty_and_huge_passwords_get_a_clear_message_at_once(
    owner: ServiceContext, secret: str
) -> None:
    before = _snapshot(owner)
    started = time.perf_counter()
    with pytest.raises(ValidationFailed) as err:
        sign_in(owner, "owner", secret)
    assert time.perf_counter() - started < 5  # not a timing test: only "did not hash 10k chars"
    assert "password" in err.value.user_message.lower()
    assert _snapshot(owner) == before
    with pytest.raises(ValidationFailed):
        staff.reset_password(owner, owner.actor.staff_user_id or "", secret)
    assert _snapshot(owner) == before


def test_sql_in_a_user_name_is_just_text(owner: ServiceContext) -> None:
    evil = "x' OR '1'='1'; DROP TABLE staff_users;--"
    with pytest.raises(SignInRefused, match="not right"):
        sign_in(owner, evil, "correct horse")
    staff_id = staff.create_staff(
        owner, staff.NewStaff(evil, "Bobby Tables", Role.RECEPTION, "little bobby")
    )
    actor = sign_in(owner, evil.upper(), "little bobby")
    assert actor.staff_user_id == staff_id
    with owner.read() as s:
        assert s.execute(text("SELECT count(*) FROM staff_users")).scalar_one() == 2


def test_repeated_failures_slow_down_then_lock_then_expire(owner: ServiceContext) -> None:
    clock = owner.clock
    assert isinstance(clock, FakeClock)
    for _ in range(3):
        with pytest.raises(SignInRefused, match="not right"):
            sign_in(owner, "owner", "bad guess!")
    with pytest.raises(SignInRefused, match="not right"):
        sign_in(owner, "owner", "bad guess!")  # 4th: now a 10 s wait
    with pytest.raises(SignInRefused, match="Wait 10 seconds"):
        sign_in(owner, "owner", "correct horse")  # even the right password waits
    clock.advance(timedelta(seconds=11))
    with pytest.raises(SignInRefused, match="not right"):
        sign_in(owner, "owner", "bad guess!")  # 5th: 30 s
    clock.advance(timedelta(seconds=31))
    with pytest.raises(SignInRefused, match="not right"):
        sign_in(owner, "owner", "bad guess!")  # 6th: locked
    with pytest.raises(SignInRefused, match="locked"):
        sign_in(owner, "owner", "correct horse")
    with owner.read() as s:
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "account locked")).first()
    clock.advance(timedelta(minutes=16))
    sign_in(owner, "owner", "correct horse")
    with owner.read() as s:
        user = s.scalars(select(StaffUser)).one()
        assert user.failed_attempts == 0 and user.locked_until is None


def test_manager_unlocks_a_locked_account(owner: ServiceContext) -> None:
    rid = staff.create_staff(owner, staff.NewStaff("jess", "Jess", Role.RECEPTION, "front desk 1"))
    for _ in range(6):
        with pytest.raises(SignInRefused):
            sign_in(owner, "jess", "nope nope")
    sign_in(owner, "owner", "correct horse")
    staff.unlock(owner, rid)
    assert sign_in(owner, "jess", "front desk 1").staff_user_id == rid


def test_pin_switch_and_switch_is_audited(owner: ServiceContext) -> None:
    rid = staff.create_staff(
        owner, staff.NewStaff("jess", "Jess", Role.RECEPTION, "front desk 1", pin="2468")
    )
    actor = sign_in(owner, "jess", "2468")
    assert actor.staff_user_id == rid and owner.actor.role is Role.RECEPTION
    with pytest.raises(SignInRefused, match="PIN"):
        sign_in(owner, "owner", "1234")  # the owner has no PIN
    with owner.read() as s:
        switch = s.scalars(select(AuditEvent).where(AuditEvent.action == "switch user")).one()
        assert "Olive Owner" in switch.summary and switch.staff_user_id == rid
    signin.lock_screen(owner, reason="idle")
    with owner.read() as s:
        locked = s.scalars(select(AuditEvent).where(AuditEvent.action == "screen locked")).one()
        assert locked.staff_user_id == rid


def test_roles_and_owner_protection(owner: ServiceContext) -> None:
    with pytest.raises(ValidationFailed, match="linked"):
        staff.create_staff(owner, staff.NewStaff("pat", "Pat", Role.PRACTITIONER, "treat people"))
    pid = _practitioner(owner)
    pat = staff.create_staff(
        owner, staff.NewStaff("pat", "Pat", Role.PRACTITIONER, "treat people", practitioner_id=pid)
    )
    assert sign_in(owner, "pat", "treat people").practitioner_id == pid
    with pytest.raises(PermissionDenied):
        staff.list_staff(owner)
    sign_in(owner, "owner", "correct horse")
    mgr = staff.create_staff(
        owner, staff.NewStaff("mgr", "Max", Role.PRACTICE_MANAGER, "manage things")
    )
    sign_in(owner, "mgr", "manage things")
    # A manager manages staff, but cannot make or touch an owner (no self-promotion).
    with pytest.raises(PermissionDenied):
        staff.update_staff(owner, mgr, display_name="Max", role=Role.OWNER, practitioner_id=None)
    with pytest.raises(PermissionDenied):
        staff.reset_password(owner, _owner_id(owner), "taken over!")
    staff.archive_staff(owner, pat)
    with pytest.raises(SignInRefused):
        sign_in(owner, "pat", "treat people")
    sign_in(owner, "owner", "correct horse")
    with pytest.raises(RuleViolation, match="at least one owner"):
        staff.update_staff(
            owner, _owner_id(owner), display_name="O", role=Role.RECEPTION, practitioner_id=None
        )
    with pytest.raises(RuleViolation, match="your own"):
        staff.archive_staff(owner, _owner_id(owner))
    names = [v.username for v in staff.list_staff(owner, include_archived=True)]
    assert sorted(names) == ["mgr", "owner", "pat"]


def _owner_id(ctx: ServiceContext) -> str:
    with ctx.read() as s:
        return s.scalars(select(StaffUser.id).where(StaffUser.role == Role.OWNER)).one()


def test_user_names_are_unique_and_passwords_have_rules(owner: ServiceContext) -> None:
    with pytest.raises(ValidationFailed, match="already used"):
        staff.create_staff(owner, staff.NewStaff(" OWNER", "X", Role.RECEPTION, "long enough"))
    with pytest.raises(ValidationFailed, match="at least 8"):
        staff.create_staff(owner, staff.NewStaff("amy", "Amy", Role.RECEPTION, "short"))
    with pytest.raises(ValidationFailed, match="PIN"):
        staff.create_staff(
            owner, staff.NewStaff("amy", "Amy", Role.RECEPTION, "long enough", pin="12")
        )
    with pytest.raises(ValidationFailed, match="user name"):
        staff.create_staff(owner, staff.NewStaff("  ", "Amy", Role.RECEPTION, "long enough"))


def test_change_own_password_and_pin(owner: ServiceContext) -> None:
    with pytest.raises(ValidationFailed, match="current password"):
        staff.change_own_password(owner, "wrong one", "new horse battery")
    staff.change_own_password(owner, "correct horse", "new horse battery")
    staff.set_pin(owner, _owner_id(owner), "9876")
    assert sign_in(owner, "owner", "9876").role is Role.OWNER
    assert sign_in(owner, "owner", "new horse battery").role is Role.OWNER
    owner.actor = SYSTEM
    with pytest.raises(RuleViolation, match="Sign in"):
        staff.change_own_password(owner, "new horse battery", "whatever else")


def test_idle_lock_minutes_setting(owner: ServiceContext) -> None:
    assert staff.idle_lock_minutes(owner) == 10
    staff.set_idle_lock_minutes(owner, 3)
    assert staff.idle_lock_minutes(owner) == 3
    with pytest.raises(ValidationFailed):
        staff.set_idle_lock_minutes(owner, 0)
