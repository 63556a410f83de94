"""``run_op``: the one way a screen calls a service — call it, show its refusal, refresh.

A service refuses with a ``FrontdeskError`` whose ``user_message`` is fit for a receptionist;
``run_op`` shows it where the screen asks (a message box, a label, the diary's banner) and
returns a falsy result, so the screen never writes its own ``try/except``. Anything else is a
bug and goes on to the crash handler. (After Anki's ``CollectionOp``.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from frontdesk.domain.errors import FrontdeskError

T = TypeVar("T")
Show = Callable[[FrontdeskError], None]


class Done(Generic[T]):
    """What ``run_op`` returns: truthy when the service call succeeded, with its value."""

    __slots__ = ("ok", "value")

    def __init__(self, ok: bool, value: T | None = None) -> None:
        self.ok = ok
        self.value = value

    def __bool__(self) -> bool:
        return self.ok

    def get(self) -> T:
        """The value of a call that succeeded."""
        assert self.ok, "the call was refused"
        return self.value  # type: ignore[return-value]


def show_error(parent: QWidget | None, exc: BaseException, title: str) -> None:
    """A person-readable message box for a refused action; bugs go on to the crash handler."""
    if isinstance(exc, FrontdeskError):
        QMessageBox.warning(parent, title, exc.user_message)
    else:
        raise exc


def in_box(parent: QWidget | None, title: str) -> Show:
    """Show a refusal in a message box over ``parent``."""
    return lambda exc: show_error(parent, exc, title)


def in_label(label: QLabel) -> Show:
    """Show a refusal as the text of a label (a dialog's error line)."""
    return lambda exc: label.setText(exc.user_message)


def run_op(
    fn: Callable[[], T],
    show: Show,
    *,
    refresh: Callable[[], object] | None = None,
) -> Done[T]:
    """Call ``fn`` (a service call); on a refusal ``show`` it. ``refresh`` runs afterwards
    either way (the screen re-reads what the call may have changed)."""
    try:
        return Done(True, fn())
    except FrontdeskError as exc:
        show(exc)
        return Done(False)
    finally:
        if refresh is not None:
            refresh()
