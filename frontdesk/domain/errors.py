"""Errors split the way a person needs them: the rules said no, or the environment failed.

Every error carries ``user_message``: a sentence fit for a receptionist. Bugs are ordinary
exceptions and go to the crash dialog and the log.
"""

from __future__ import annotations


class FrontdeskError(Exception):
    """Base of every error that has a message for a person."""

    def __init__(self, user_message: str, *, detail: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.detail = detail


class RuleViolation(FrontdeskError):
    """The clinic's rules refuse this (a clash, a bad date, an archived patient)."""


class ValidationFailed(RuleViolation):
    """Input that cannot be accepted as typed; ``field`` names the input when known."""

    def __init__(self, user_message: str, *, field: str | None = None) -> None:
        super().__init__(user_message)
        self.field = field


class FieldProblems(ValidationFailed):
    """Several inputs that cannot be accepted, each with its own message (a form shows them all
    at once, each beside its field). ``field`` is the first bad one."""

    def __init__(self, problems: dict[str, str]) -> None:
        first = next(iter(problems))
        more = len(problems) - 1
        text = problems[first] + (f" (and {more} more to fix)" if more else "")
        super().__init__(text, field=first)
        self.problems = problems


class NotFound(RuleViolation):
    """The thing asked for does not exist (or no longer exists)."""


class PermissionDenied(RuleViolation):
    """The signed-in person's role does not allow this."""


class EnvironmentProblem(FrontdeskError):
    """The machine failed us: disk full, file locked, server unreachable, no keychain."""


class DatabaseTooNew(EnvironmentProblem):
    """The data file was written by a newer frontdesk than this one."""


class DamagedDatabase(EnvironmentProblem):
    """The desk's database file is damaged; it is kept untouched. ``backup``: the newest backup
    that passed the same checks (a path, or None)."""

    def __init__(self, user_message: str, *, backup: object = None) -> None:
        super().__init__(user_message)
        self.backup = backup


class AlreadyRunning(EnvironmentProblem):
    """Another copy of frontdesk has this data folder open."""
