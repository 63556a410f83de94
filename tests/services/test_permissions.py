"""Every role × action cell of the permission matrix.

Actions whose services live on this branch are exercised through those services with a real
signed-in account; the rest are checked against the table below, written out independently of
services/permissions.py so that a change to the matrix has to be made twice, on purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from frontdesk.domain.errors import PermissionDenied
from frontdesk.domain.vocab import Role
from frontdesk.models import AuditEvent, Practitioner
from frontdesk.services import audit, backups, clinic_settings, staff
from frontdesk.services.permissions import MATRIX, Action, allowed
from frontdesk.services.signin import sign_in
from frontdesk.store.context import SYSTEM, ServiceContext

R, P, M, O = Role.RECEPTION, Role.PRACTITIONER, Role.PRACTICE_MANAGER, Role.OWNER  # noqa: E741
ALL = {R, P, M, O}
ADMINS = {M, O}

EXPECTED: dict[Action, set[Role]] = {
    Action.VIEW_DIARY: ALL,
    Action.EDIT_DIARY: ALL,
    Action.VIEW_PATIENTS: ALL,
    Action.EDIT_PATIENTS: ALL,
    Action.ARCHIVE_PATIENT: {R, M, O},
    Action.MERGE_PATIENTS: ADMINS,
    Action.UNDO_MERGE: ADMINS,
    Action.IMPORT_PATIENTS: ADMINS,
    Action.EXPORT_PATIENTS: ADMINS,
    Action.VIEW_CLINICAL: {P, O},
    Action.CREATE_INVOICE: ALL,
    Action.TAKE_PAYMENT: ALL,
    Action.ISSUE_CREDIT_NOTE: ADMINS,
    Action.VOID_INVOICE: ADMINS,
    Action.REVERSE_PAYMENT: ADMINS,
    Action.REFUND: ADMINS,
    Action.CLOSE_DAY: {R, M, O},
    Action.REOPEN_DAY: ADMINS,
    Action.VIEW_REVENUE: ADMINS,
    Action.VIEW_REPORTS: ALL,
    Action.MANAGE_CATALOGUE: ADMINS,
    Action.MANAGE_STAFF: ADMINS,
    Action.MANAGE_OWNERS: {O},
    Action.MANAGE_SETTINGS: ADMINS,
    Action.VIEW_AUDIT: ADMINS,
    Action.BACKUP: ALL,
    Action.RESTORE: {O},
    Action.MANAGE_SYNC: ADMINS,
    Action.RESOLVE_CONFLICTS: {R, M, O},
}

ServiceCall = Callable[[ServiceContext, Path], object]


def _settings(ctx: ServiceContext, _b: Path) -> object:
    details = clinic_settings.load(ctx)
    return clinic_settings.update(ctx, replace(details, name="Renamed clinic"))


def _new_reception(ctx: ServiceContext, _b: Path) -> object:
    return staff.create_staff(ctx, staff.NewStaff("new1", "New", R, "a password!"))


def _new_owner(ctx: ServiceContext, _b: Path) -> object:
    return staff.create_staff(ctx, staff.NewStaff("new2", "Co-owner", O, "a password!"))


THROUGH_SERVICES: dict[Action, list[ServiceCall]] = {
    Action.MANAGE_SETTINGS: [_settings, lambda c, _b: staff.set_idle_lock_minutes(c, 5)],
    Action.MANAGE_STAFF: [_new_reception, lambda c, _b: staff.list_staff(c)],
    Action.MANAGE_OWNERS: [_new_owner],
    Action.VIEW_AUDIT: [
        lambda c, _b: audit.query(c, audit.AuditFilter()),
        lambda c, _b: audit.verify_chain(c),
        lambda c, _b: audit.kinds(c),
    ],
    Action.BACKUP: [lambda c, _b: backups.backup_now(c)],
    Action.RESTORE: [backups.restore],
}


def test_expected_table_covers_every_action() -> None:
    assert set(EXPECTED) == set(Action)
    assert {a: set(r) for a, r in MATRIX.items()} == EXPECTED


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", [a for a in Action if a not in THROUGH_SERVICES])
def test_table_cell(role: Role, action: Action) -> None:
    assert allowed(role, action) is (role in EXPECTED[action])
    assert allowed(None, action), "the system itself may do anything"


def test_reception_sees_revenue_only_when_the_clinic_allows() -> None:
    assert not allowed(R, Action.VIEW_REVENUE, hide_revenue_from_reception=True)
    assert allowed(R, Action.VIEW_REVENUE, hide_revenue_from_reception=False)
    assert not allowed(P, Action.VIEW_REVENUE, hide_revenue_from_reception=False)


@pytest.fixture
def desk_with_backup(ctx: ServiceContext) -> tuple[ServiceContext, Path]:
    staff.create_first_owner(ctx, "owner", "Olive Owner", "owner password")
    with ctx.write("add practitioner") as s:
        prac = Practitioner(first_name="P", last_name="L", display_name="P L", profession="Physio")
        s.add(prac)
        s.flush()
        prac_id = prac.id
    sign_in(ctx, "owner", "owner password")
    for role in (R, P, M):
        staff.create_staff(
            ctx,
            staff.NewStaff(
                role.value, role.value, role, "role password",
                practitioner_id=prac_id if role is P else None,
            ),
        )  # fmt: skip
    ctx.actor = SYSTEM
    return ctx, backups.backup_now(ctx)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(THROUGH_SERVICES))
def test_service_cell(
    desk_with_backup: tuple[ServiceContext, Path], role: Role, action: Action
) -> None:
    ctx, backup = desk_with_backup
    if role is O:
        sign_in(ctx, "owner", "owner password")
    else:
        sign_in(ctx, role.value, "role password")
    assert ctx.actor.role is role
    for call in THROUGH_SERVICES[action]:
        with ctx.read() as s:
            events_before = s.scalar(select(func.count()).select_from(AuditEvent))
        if role in EXPECTED[action]:
            call(ctx, backup)
        else:
            with pytest.raises(PermissionDenied) as err:
                call(ctx, backup)
            assert "Your account cannot" in err.value.user_message
            with ctx.read() as s:
                assert s.scalar(select(func.count()).select_from(AuditEvent)) == events_before
