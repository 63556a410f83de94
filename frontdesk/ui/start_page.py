"""Where the main window opens for the person signing in: an owner or practice manager may
choose to open on the Reports dashboard; everyone else (and they, until they choose) opens
where this desk was last left.

The choice is per person on this desk (the desk's preferences file, keyed by staff account),
so two owners sharing a desk each keep their own."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from frontdesk.domain.vocab import Role
from frontdesk.store.actor import Actor

MAY_CHOOSE = (Role.OWNER, Role.PRACTICE_MANAGER)


def may_choose(actor: Actor) -> bool:
    return actor.staff_user_id is not None and actor.role in MAY_CHOOSE


def _key(actor: Actor) -> str:
    return f"users/{actor.staff_user_id}/open_on_dashboard"


def opens_on_dashboard(prefs: QSettings, actor: Actor) -> bool:
    if not may_choose(actor):
        return False
    value = prefs.value(_key(actor), False)
    return value is True or str(value).lower() == "true"


def set_opens_on_dashboard(prefs: QSettings, actor: Actor, on: bool) -> None:
    if not may_choose(actor):
        return
    prefs.setValue(_key(actor), on)
    prefs.sync()
