"""Staff accounts: create, change, archive, passwords, PINs, and the first owner on a new desk.

Managing accounts needs MANAGE_STAFF; owner accounts (and giving someone the owner role) need
MANAGE_OWNERS, so a practice manager cannot promote themselves. Accounts are synced rows like
any other (their hashes travel to the other desks); the audit trail never shows the hashes.
Signing in lives in services/signin.py.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frontdesk.domain import signing
from frontdesk.domain.errors import NotFound, RuleViolation, ValidationFailed
from frontdesk.domain.vocab import Role
from frontdesk.models import Practitioner, StaffUser
from frontdesk.services.passwords import check_password_rules, check_pin_rules, hash_secret
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import Actor, ServiceContext
from frontdesk.store.tracking import record_event

MAX_USERNAME = 60
MAX_DISPLAY_NAME = 120

ROLE_LABELS = {
    Role.RECEPTION: "Reception",
    Role.PRACTITIONER: "Practitioner",
    Role.PRACTICE_MANAGER: "Practice manager",
    Role.OWNER: "Owner",
}


@dataclass(frozen=True)
class StaffView:
    id: str
    username: str
    display_name: str
    role: Role
    practitioner_id: str | None
    practitioner_name: str
    has_pin: bool
    locked_until: datetime | None
    last_sign_in_at: datetime | None
    archived: bool


@dataclass(frozen=True)
class NewStaff:
    username: str
    display_name: str
    role: Role
    password: str
    practitioner_id: str | None = None
    pin: str | None = None


def normalise_username(username: str) -> str:
    """User names are matched without regard to case or surrounding spaces. Anything else in
    them (quotes, semicolons, SQL) is just text: every query binds it as a parameter."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def check_username(username: str) -> str:
    name = normalise_username(username)
    if not name:
        raise ValidationFailed("Type a user name.", field="username")
    if len(name) > MAX_USERNAME:
        raise ValidationFailed(
            f"A user name can be at most {MAX_USERNAME} characters long.", field="username"
        )
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ValidationFailed("A user name cannot contain control characters.", field="username")
    return name


def _check_display_name(display_name: str) -> str:
    text = display_name.strip()
    if not text:
        raise ValidationFailed("Type the person's name as it should be shown.", field="name")
    if len(text) > MAX_DISPLAY_NAME:
        raise ValidationFailed(
            f"A name can be at most {MAX_DISPLAY_NAME} characters long.", field="name"
        )
    return text


def has_staff(ctx: ServiceContext) -> bool:
    """False on a new desk: the app then asks for the owner's account first."""
    with ctx.read() as session:
        return (
            session.scalars(
                select(StaffUser.id).where(StaffUser.deleted_at.is_(None)).limit(1)
            ).first()
            is not None
        )


def actor_for(user: StaffUser, key: signing.SigningKey | None = None) -> Actor:
    return Actor(
        staff_user_id=user.id,
        name=user.display_name,
        role=Role(user.role),
        practitioner_id=user.practitioner_id,
        signing_key=key,
    )


def key_fields(password: str, key: signing.SigningKey | None = None) -> dict[str, str]:
    """A staff member's signing key (a new one unless given), its private half wrapped by their
    password: the two columns of their account that let them sign on any desk."""
    key = key or signing.new_private_key()
    return {
        "signing_public_key": signing.public_hex(key),
        "signing_key_wrapped": signing.wrap(key, password),
    }


def create_first_owner(ctx: ServiceContext, username: str, display_name: str, password: str) -> str:
    """The owner's account on a desk with no staff yet (then sign them in with signin.sign_in)."""
    name, shown = check_username(username), _check_display_name(display_name)
    check_password_rules(password)
    password_hash = hash_secret(password)
    with ctx.write("create the owner's account") as session:
        if session.scalars(select(StaffUser.id).limit(1)).first() is not None:
            raise RuleViolation(
                "This desk already has staff accounts; sign in and add people in Settings."
            )
        # Trusted on first use: the clinic server accepts the first owner's key unsigned
        # while it holds no account with a key (docs/threat-model.md).
        user = StaffUser(
            username=name,
            display_name=shown,
            role=Role.OWNER,
            password_hash=password_hash,
            **key_fields(password),
        )
        session.add(user)
        session.flush()
        return user.id


def list_staff(ctx: ServiceContext, *, include_archived: bool = False) -> list[StaffView]:
    require(ctx.actor, Action.MANAGE_STAFF)
    with ctx.read() as session:
        query = (
            select(StaffUser, Practitioner.display_name)
            .outerjoin(Practitioner, Practitioner.id == StaffUser.practitioner_id)
            .where(StaffUser.deleted_at.is_(None))
            .order_by(func.lower(StaffUser.display_name))
        )
        if not include_archived:
            query = query.where(StaffUser.archived_at.is_(None))
        return [_view(u, p or "") for u, p in session.execute(query).all()]


def _view(user: StaffUser, practitioner_name: str) -> StaffView:
    return StaffView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        practitioner_id=user.practitioner_id,
        practitioner_name=practitioner_name,
        has_pin=user.pin_hash is not None,
        locked_until=user.locked_until,
        last_sign_in_at=user.last_sign_in_at,
        archived=user.archived_at is not None,
    )


def _check_role_link(session: Session, role: Role, practitioner_id: str | None) -> None:
    if role is Role.PRACTITIONER and not practitioner_id:
        raise ValidationFailed(
            "A practitioner's account must be linked to their practitioner record.",
            field="practitioner",
        )
    if practitioner_id:
        prac = session.get(Practitioner, practitioner_id)
        if prac is None or prac.archived_at is not None or prac.deleted_at is not None:
            raise ValidationFailed("That practitioner is not on the list.", field="practitioner")


def _username_free(session: Session, name: str) -> None:
    taken = session.scalars(select(StaffUser).where(StaffUser.username == name)).first()
    if taken is not None:
        archived = " (an archived account)" if taken.archived_at is not None else ""
        raise ValidationFailed(
            f"The user name “{name}” is already used{archived}. Choose another.",
            field="username",
        )


def create_staff(ctx: ServiceContext, new: NewStaff) -> str:
    require(ctx.actor, Action.MANAGE_STAFF)
    if new.role is Role.OWNER:
        require(ctx.actor, Action.MANAGE_OWNERS)
    name, shown = check_username(new.username), _check_display_name(new.display_name)
    check_password_rules(new.password)
    if new.pin:
        check_pin_rules(new.pin)
    password_hash = hash_secret(new.password)
    pin_hash = hash_secret(new.pin) if new.pin else None
    with ctx.write("add a staff account") as session:
        _check_role_link(session, new.role, new.practitioner_id)
        _username_free(session, name)
        user = StaffUser(
            username=name,
            display_name=shown,
            role=new.role,
            practitioner_id=new.practitioner_id or None,
            password_hash=password_hash,
            pin_hash=pin_hash,
            **key_fields(new.password),
        )
        session.add(user)
        session.flush()
        return user.id


def _managed(ctx: ServiceContext, session: Session, staff_id: str) -> StaffUser:
    """Load an account the signed-in person may manage."""
    user = session.get(StaffUser, staff_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("That staff account no longer exists.")
    if user.role == Role.OWNER:
        require(ctx.actor, Action.MANAGE_OWNERS)
    return user


def _other_active_owners(session: Session, staff_id: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(StaffUser)
            .where(
                StaffUser.role == Role.OWNER,
                StaffUser.archived_at.is_(None),
                StaffUser.deleted_at.is_(None),
                StaffUser.id != staff_id,
            )
        )
        or 0
    )


def update_staff(
    ctx: ServiceContext,
    staff_id: str,
    *,
    display_name: str,
    role: Role,
    practitioner_id: str | None,
) -> None:
    require(ctx.actor, Action.MANAGE_STAFF)
    if role is Role.OWNER:
        require(ctx.actor, Action.MANAGE_OWNERS)
    shown = _check_display_name(display_name)
    with ctx.write("change a staff account") as session:
        user = _managed(ctx, session, staff_id)
        _check_role_link(session, role, practitioner_id)
        if (
            user.role == Role.OWNER
            and role is not Role.OWNER
            and not _other_active_owners(session, staff_id)
        ):
            raise RuleViolation(
                "The clinic needs at least one owner; make someone else owner first."
            )
        user.display_name = shown
        user.role = role
        user.practitioner_id = practitioner_id or None
    if ctx.actor.staff_user_id == staff_id:
        ctx.actor = Actor(staff_id, shown, role, practitioner_id or None)


def reset_password(ctx: ServiceContext, staff_id: str, new_password: str) -> None:
    """A manager sets a new password for someone who forgot theirs (and unlocks them)."""
    require(ctx.actor, Action.MANAGE_STAFF)
    check_password_rules(new_password)
    password_hash = hash_secret(new_password)
    with ctx.write("reset a staff password") as session:
        user = _managed(ctx, session, staff_id)
        user.password_hash = password_hash
        # Their old key is wrapped by the forgotten password: they get a new one.
        for key, value in key_fields(new_password).items():
            setattr(user, key, value)
        user.failed_attempts = 0
        user.locked_until = None


def change_own_password(ctx: ServiceContext, current: str, new_password: str) -> None:
    from frontdesk.services.passwords import verify_secret

    staff_id = _signed_in_id(ctx)
    check_password_rules(new_password, field="new_password")
    if len(current) > 1000:
        raise ValidationFailed("Your current password is not right.", field="current_password")
    with ctx.read() as session:
        user = session.get(StaffUser, staff_id)
        stored = user.password_hash if user is not None else None
    if not verify_secret(stored, current):
        raise ValidationFailed("Your current password is not right.", field="current_password")
    password_hash = hash_secret(new_password)
    key = ctx.actor.signing_key or signing.new_private_key()
    with ctx.write("change own password") as session:
        user = session.get(StaffUser, staff_id)
        assert user is not None
        user.password_hash = password_hash
        for name, value in key_fields(new_password, key).items():
            setattr(user, name, value)
    ctx.actor.signing_key = key


def set_pin(ctx: ServiceContext, staff_id: str, pin: str | None) -> None:
    """Set (or with None, remove) the quick-switch PIN: your own, or anyone's with MANAGE_STAFF."""
    if ctx.actor.staff_user_id != staff_id:
        require(ctx.actor, Action.MANAGE_STAFF)
    if pin:
        check_pin_rules(pin)
    pin_hash = hash_secret(pin) if pin else None
    with ctx.write("set a PIN" if pin else "remove a PIN") as session:
        user = (
            _managed(ctx, session, staff_id)
            if ctx.actor.staff_user_id != staff_id
            else session.get(StaffUser, staff_id)
        )
        if user is None:
            raise NotFound("That staff account no longer exists.")
        user.pin_hash = pin_hash


def unlock(ctx: ServiceContext, staff_id: str) -> None:
    require(ctx.actor, Action.MANAGE_STAFF)
    with ctx.write("unlock a staff account") as session:
        user = _managed(ctx, session, staff_id)
        user.failed_attempts = 0
        user.locked_until = None
        record_event(
            session, "unlock account", summary=f"Unlocked {user.display_name}",
            entity="staff_users", entity_id=user.id,
        )  # fmt: skip


def archive_staff(ctx: ServiceContext, staff_id: str) -> None:
    """Someone left: they can no longer sign in; their name stays on everything they did."""
    require(ctx.actor, Action.MANAGE_STAFF)
    if ctx.actor.staff_user_id == staff_id:
        raise RuleViolation("You cannot archive your own account while signed in with it.")
    with ctx.write("archive a staff account") as session:
        user = _managed(ctx, session, staff_id)
        if user.archived_at is not None:
            return
        if user.role == Role.OWNER and not _other_active_owners(session, staff_id):
            raise RuleViolation(
                "The clinic needs at least one owner; make someone else owner first."
            )
        user.archived_at = ctx.clock.now()


def _signed_in_id(ctx: ServiceContext) -> str:
    if ctx.actor.staff_user_id is None:
        raise RuleViolation("Sign in first.")
    return ctx.actor.staff_user_id


def idle_lock_minutes(ctx: ServiceContext) -> int:
    with ctx.read() as session:
        return ctx.settings(session).idle_lock_minutes


def set_idle_lock_minutes(ctx: ServiceContext, minutes: int) -> None:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    if not 1 <= minutes <= 240:
        raise ValidationFailed(
            "The screen locks after 1 to 240 idle minutes.", field="idle_lock_minutes"
        )
    with ctx.write("change the idle lock time") as session:
        ctx.settings(session).idle_lock_minutes = minutes


def practitioner_choices(ctx: ServiceContext) -> list[tuple[str, str]]:
    """(id, name) of the practitioners an account can be linked to."""
    with ctx.read() as session:
        rows = session.execute(
            select(Practitioner.id, Practitioner.display_name)
            .where(Practitioner.archived_at.is_(None), Practitioner.deleted_at.is_(None))
            .order_by(Practitioner.sort_order, Practitioner.display_name)
        ).all()
    return [(r[0], r[1]) for r in rows]


def username_of(ctx: ServiceContext, staff_id: str | None) -> str:
    """The user name to fill in on the lock screen ("" when nobody is signed in)."""
    if staff_id is None:
        return ""
    with ctx.read() as session:
        user = session.get(StaffUser, staff_id)
        return user.username if user is not None else ""
