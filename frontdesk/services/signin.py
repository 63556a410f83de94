"""Signing in at this desk, switching user and locking the screen, all audited.

Sign-in checks the local database only, so it works offline. Wrong passwords slow the account
down and then lock it for a while (domain/sign_in_policy.py); an unknown user name gets the same
answer, after the same work, as a wrong password.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select

from frontdesk.domain import signing
from frontdesk.domain.errors import RuleViolation, ValidationFailed
from frontdesk.domain.sign_in_policy import hold_after_failure, is_locked_out, wait_text
from frontdesk.models import StaffUser
from frontdesk.services.passwords import (
    MAX_PASSWORD,
    hash_secret,
    is_pin_shaped,
    needs_rehash,
    spend_equal_time,
    verify_secret,
)
from frontdesk.services.staff import MAX_USERNAME, actor_for, key_fields, normalise_username
from frontdesk.store.context import Actor, ServiceContext
from frontdesk.store.tracking import record_event

log = logging.getLogger("frontdesk.signin")
SIGN_IN_SCREEN = Actor(name="sign-in screen")
NOT_RIGHT = "The user name or password is not right. Check Caps Lock and try again."


class SignInRefused(RuleViolation):
    """Wrong user name or password, or the account is waiting or locked."""


@contextmanager
def acting_as(ctx: ServiceContext, actor: Actor) -> Iterator[None]:
    """Write as someone other than who is signed in (the sign-in screen records failures)."""
    previous = ctx.actor
    ctx.actor = actor
    try:
        yield
    finally:
        ctx.actor = previous


def sign_in(ctx: ServiceContext, username: str, secret: str) -> Actor:
    """Check a password (or a 4–6 digit PIN) and make that person ``ctx.actor``."""
    name = normalise_username(username)
    if not name:
        raise ValidationFailed("Type your user name.", field="username")
    if not secret:
        raise ValidationFailed("Type your password or PIN.", field="password")
    if len(secret) > MAX_PASSWORD or len(name) > MAX_USERNAME:
        # Checked before any hashing: a huge paste is answered at once and nothing is recorded.
        raise ValidationFailed(
            f"That is longer than any password can be (at most {MAX_PASSWORD} characters).",
            field="password",
        )
    now = ctx.clock.now()
    with ctx.read() as session:
        user = session.scalars(
            select(StaffUser).where(StaffUser.username == name, StaffUser.deleted_at.is_(None))
        ).first()
    if user is None or user.archived_at is not None:
        spend_equal_time(secret)
        with acting_as(ctx, SIGN_IN_SCREEN), ctx.write("failed sign-in") as session:
            record_event(session, "failed sign-in", summary="Unknown user name")
        raise SignInRefused(NOT_RIGHT)
    if user.locked_until is not None and user.locked_until > now:
        wait = wait_text(user.locked_until, now)
        if is_locked_out(user.failed_attempts):
            raise SignInRefused(
                f"This account is locked after too many wrong passwords. Try again in {wait}, "
                "or ask a practice manager to unlock it."
            )
        raise SignInRefused(f"Too many wrong passwords. Wait {wait}, then try again.")
    with_pin = is_pin_shaped(secret)
    stored = user.pin_hash if with_pin else user.password_hash
    if not verify_secret(stored, secret):
        _record_failure(ctx, user.id, with_pin)
        raise SignInRefused(NOT_RIGHT if not with_pin else "That PIN is not right.")
    previous = ctx.actor
    key, new_key = _signing_key(user, secret, with_pin, previous)
    actor = actor_for(user, key)
    ctx.actor = actor
    switched = previous.staff_user_id is not None and previous.staff_user_id != user.id
    how = "PIN" if with_pin else "password"
    if switched:
        summary = f"Switched from {previous.name} ({how})"
    elif previous.staff_user_id == user.id:
        summary = f"Unlocked the screen ({how})"
    else:
        summary = f"Signed in ({how})"
    with ctx.write("switch user" if switched else "sign in") as session:
        row = session.get(StaffUser, user.id)
        assert row is not None
        if row.failed_attempts or row.locked_until is not None:
            row.failed_attempts = 0
            row.locked_until = None
        row.last_sign_in_at = now
        if not with_pin and needs_rehash(row.password_hash):
            row.password_hash = hash_secret(secret)
        if new_key:  # an account from before signing keys: it gets one now (first use)
            for name, value in key_fields(secret, key).items():
                setattr(row, name, value)
        record_event(
            session,
            "switch user" if switched else "sign in",
            summary=summary,
            entity="staff_users",
            entity_id=user.id,
        )
    return actor


def _signing_key(
    user: StaffUser, secret: str, with_pin: bool, previous: Actor
) -> tuple[signing.SigningKey | None, bool]:
    """(the staff member's signing key, whether it is new). A password opens it; a PIN does
    not, but unlocking one's own screen keeps the key the password opened."""
    if with_pin:
        same = previous.staff_user_id == user.id
        return (previous.signing_key if same else None), False
    if user.signing_key_wrapped is None:
        return signing.new_private_key(), True
    try:
        return signing.unwrap(user.signing_key_wrapped, secret), False
    except signing.BadPassword:
        # Wrapped by a password set on another desk before this one synced: sign in works,
        # signing waits for the next sign-in with the current key.
        log.warning("sign-in: the signing key does not open with this password")
        return None, False


def _record_failure(ctx: ServiceContext, staff_id: str, with_pin: bool) -> None:
    now = ctx.clock.now()
    with acting_as(ctx, SIGN_IN_SCREEN), ctx.write("failed sign-in") as session:
        row = session.get(StaffUser, staff_id)
        assert row is not None
        row.failed_attempts += 1
        row.locked_until = hold_after_failure(row.failed_attempts, now)
        record_event(
            session,
            "failed sign-in",
            summary=f"Wrong {'PIN' if with_pin else 'password'} ({row.failed_attempts} in a row)",
            entity="staff_users",
            entity_id=staff_id,
        )
        if is_locked_out(row.failed_attempts) and row.locked_until is not None:
            record_event(
                session,
                "account locked",
                summary=f"Locked for {wait_text(row.locked_until, now)} after wrong passwords",
                entity="staff_users",
                entity_id=staff_id,
            )


def lock_screen(ctx: ServiceContext, *, reason: str = "locked by hand") -> None:
    """The screen was locked (idle or by hand). Who was signed in stays ``ctx.actor`` so that
    their unsaved work is still theirs when they come back."""
    with ctx.write("lock screen") as session:
        record_event(
            session,
            "screen locked",
            summary=reason.capitalize(),
            entity="staff_users",
            entity_id=ctx.actor.staff_user_id,
        )
