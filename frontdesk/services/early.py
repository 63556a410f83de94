"""The diary painted before SQLAlchemy and the models are imported (docs/performance.md, cold
start), then handed over to the services.

``EarlyContext`` stands where the window and the diary expect a ``ServiceContext`` while the
real one is not open yet: it answers what the first screen asks (the clock, the clinic's zone,
who is signed in) from a plain ``sqlite3`` read of the file (``store/first_day.py``), and once
``attach(ctx)`` is called it passes everything to the real context. The functions below are
what the first screen calls: before the hand-over they read with ``sqlite3``, after it they
are the services' own (imported then). Anything else asked of an ``EarlyContext`` before the
hand-over raises ``NotReady``; the start takes no input until the hand-over (app.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from frontdesk.domain.clock import Clock
from frontdesk.domain.diary import RosterRule
from frontdesk.domain.diary_view import DiaryData, PractitionerInfo, RoomInfo, TypeInfo
from frontdesk.store.actor import Actor

if TYPE_CHECKING:
    from frontdesk.store.context import ServiceContext
    from frontdesk.store.first_day import FirstScreen

_OWN = frozenset({"_ctx", "_database", "_screen", "_clock", "_actor", "_listeners"})


class NotReady(RuntimeError):
    """Something asked the early context for what only the open desk has."""


class EarlyContext:
    def __init__(self, database: Path, screen: FirstScreen, clock: Clock) -> None:
        self._ctx: ServiceContext | None = None
        self._database = database
        self._screen = screen
        self._clock = clock
        self._actor = Actor()  # the system, as open_desk's context starts
        self._listeners: list[Any] = []

    # -- the hand-over ----------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self._ctx is not None

    def attach(self, ctx: ServiceContext) -> None:
        """From now on everything is the open desk's (listeners added meanwhile move to it)."""
        ctx.listeners.extend(x for x in self._listeners if x not in ctx.listeners)
        self._ctx = ctx

    @property
    def context(self) -> ServiceContext:
        if self._ctx is None:
            raise NotReady("the desk is not open yet")
        return self._ctx

    @property
    def screen(self) -> FirstScreen:
        return self._screen

    # -- what the first screen asks -------------------------------------------------------------
    @property
    def clock(self) -> Clock:
        return self._clock if self._ctx is None else self._ctx.clock

    @property
    def tz(self) -> ZoneInfo:
        return self._screen.tz if self._ctx is None else self._ctx.tz

    @property
    def actor(self) -> Actor:
        return self._actor if self._ctx is None else self._ctx.actor

    @property
    def listeners(self) -> list[Any]:
        return self._listeners if self._ctx is None else self._ctx.listeners

    def server_now(self) -> datetime:
        # the real context's offset is zero too until its first sync
        return self._clock.now() if self._ctx is None else self._ctx.server_now()

    def __getattr__(self, name: str) -> Any:
        if name in _OWN:  # not set yet (copying, unpickling)
            raise AttributeError(name)
        return getattr(self.context, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self.context, name, value)


def early(ctx: object) -> EarlyContext | None:
    """The early context while it stands in (not handed over yet), else None."""
    return ctx if isinstance(ctx, EarlyContext) and not ctx.ready else None


def real(ctx: ServiceContext) -> ServiceContext:
    """The open desk's context behind ``ctx`` (``ctx`` itself when it is one)."""
    return ctx.context if isinstance(ctx, EarlyContext) else ctx


def clinic_name(ctx: ServiceContext) -> str:
    first = early(ctx)
    if first is not None:
        return first.screen.clinic_name
    from frontdesk.services import clinic_settings

    return clinic_settings.clinic_name(ctx)


def catalogue(ctx: ServiceContext) -> tuple[list[PractitionerInfo], list[TypeInfo], list[RoomInfo]]:
    first = early(ctx)
    if first is not None:
        screen = first.screen
        return list(screen.practitioners), list(screen.types), list(screen.rooms)
    from frontdesk.services.diary.view import catalogue as read

    return read(ctx)


def load_view(
    ctx: ServiceContext,
    days: Sequence[date],
    practitioner_ids: Sequence[str],
    *,
    practitioners: list[PractitionerInfo] | None = None,
    tz: ZoneInfo | None = None,
    rules: dict[str, list[RosterRule]] | None = None,
    rooms: list[RoomInfo] | None = None,
) -> DiaryData:
    """``services.diary.view.load_view``; before the hand-over the same values read with
    ``sqlite3`` (the catalogue is the first read's, as the page's cache is)."""
    first = early(ctx)
    if first is not None:
        from frontdesk.store.first_day import read_view, reading

        with reading(first._database) as conn:
            return read_view(conn, first.screen, days, practitioner_ids, first.server_now())
    from frontdesk.services.diary.view import load_view as read

    return read(ctx, days, practitioner_ids, practitioners=practitioners, tz=tz, rules=rules,
                rooms=rooms)  # fmt: skip
