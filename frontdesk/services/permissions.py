"""Who may do what: one table for the whole product, enforced in services (not only by hiding
buttons). ``require(actor, action)`` raises PermissionDenied with a message for the person."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from frontdesk.domain.errors import PermissionDenied
from frontdesk.domain.vocab import Role


class Action(StrEnum):
    VIEW_DIARY = "view diary"
    EDIT_DIARY = "edit the diary"
    VIEW_PATIENTS = "view patient cards"
    EDIT_PATIENTS = "edit patient cards"
    ARCHIVE_PATIENT = "archive a patient"
    MERGE_PATIENTS = "merge patients"
    UNDO_MERGE = "undo a patient merge"
    IMPORT_PATIENTS = "import patients"
    EXPORT_PATIENTS = "export patients"
    VIEW_CLINICAL = "view clinical notes"
    CREATE_INVOICE = "create invoices"
    TAKE_PAYMENT = "take payments"
    ISSUE_CREDIT_NOTE = "issue credit notes"
    VOID_INVOICE = "void an invoice"
    REVERSE_PAYMENT = "reverse a payment"
    REFUND = "refund a payment"
    CLOSE_DAY = "close the day"
    REOPEN_DAY = "reopen a closed day"
    VIEW_REVENUE = "view revenue reports"
    VIEW_REPORTS = "view reports"
    MANAGE_CATALOGUE = "manage the catalogue"
    MANAGE_STAFF = "manage staff accounts"
    MANAGE_OWNERS = "create or change an owner's account"
    MANAGE_SETTINGS = "change clinic settings"
    VIEW_AUDIT = "view the audit trail"
    BACKUP = "back up the database"
    RESTORE = "restore a backup"
    MANAGE_SYNC = "set up the clinic server"
    RESOLVE_CONFLICTS = "resolve sync conflicts"


_R, _P, _M, _O = Role.RECEPTION, Role.PRACTITIONER, Role.PRACTICE_MANAGER, Role.OWNER
_EVERYONE = frozenset({_R, _P, _M, _O})
_ADMINS = frozenset({_M, _O})

MATRIX: dict[Action, frozenset[Role]] = {
    Action.VIEW_DIARY: _EVERYONE,
    Action.EDIT_DIARY: _EVERYONE,
    Action.VIEW_PATIENTS: _EVERYONE,
    Action.EDIT_PATIENTS: _EVERYONE,
    Action.ARCHIVE_PATIENT: frozenset({_R, _M, _O}),
    Action.MERGE_PATIENTS: _ADMINS,
    Action.UNDO_MERGE: _ADMINS,
    Action.IMPORT_PATIENTS: _ADMINS,
    Action.EXPORT_PATIENTS: _ADMINS,
    Action.VIEW_CLINICAL: frozenset({_P, _O}),
    Action.CREATE_INVOICE: _EVERYONE,
    Action.TAKE_PAYMENT: _EVERYONE,
    Action.ISSUE_CREDIT_NOTE: _ADMINS,
    Action.VOID_INVOICE: _ADMINS,
    Action.REVERSE_PAYMENT: _ADMINS,
    Action.REFUND: _ADMINS,
    Action.CLOSE_DAY: frozenset({_R, _M, _O}),
    Action.REOPEN_DAY: _ADMINS,
    Action.VIEW_REVENUE: _ADMINS,  # reception too unless the clinic hides it: see allowed()
    Action.VIEW_REPORTS: frozenset({_R, _P, _M, _O}),
    Action.MANAGE_CATALOGUE: _ADMINS,
    Action.MANAGE_STAFF: _ADMINS,
    # A practice manager manages staff but cannot make (or change) an owner: no self-promotion.
    Action.MANAGE_OWNERS: frozenset({_O}),
    Action.MANAGE_SETTINGS: _ADMINS,
    Action.VIEW_AUDIT: _ADMINS,
    Action.BACKUP: _EVERYONE,
    Action.RESTORE: frozenset({_O}),
    Action.MANAGE_SYNC: _ADMINS,
    Action.RESOLVE_CONFLICTS: frozenset({_R, _M, _O}),
}


def allowed(role: Role | None, action: Action, *, hide_revenue_from_reception: bool = True) -> bool:
    """``role`` None is the system itself (start-up, demo, sync): always allowed."""
    if role is None:
        return True
    if action is Action.VIEW_REVENUE and role is Role.RECEPTION:
        return not hide_revenue_from_reception
    return role in MATRIX[action]


class HasRole(Protocol):
    @property
    def role(self) -> Role | None: ...


def require(actor: HasRole, action: Action, *, hide_revenue_from_reception: bool = True) -> None:
    if not allowed(actor.role, action, hide_revenue_from_reception=hide_revenue_from_reception):
        raise PermissionDenied(
            f"Your account cannot {action.value}. Ask a practice manager or the owner."
        )
