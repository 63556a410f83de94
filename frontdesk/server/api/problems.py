"""RFC 9457 problem details for the integration API: one exception, one JSON shape, a
sentence a developer understands in ``detail``."""

from __future__ import annotations

from typing import Any

from frontdesk.domain.errors import FrontdeskError

PROBLEM_TYPE = "https://frontdesk.invalid/problems/"
MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Unauthorised",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    410: "Gone",
    412: "Precondition failed",
    413: "Too large",
    422: "Unprocessable request",
    428: "Precondition required",
    429: "Too many requests",
}


class ApiProblem(FrontdeskError):
    """A refused API call; ``code`` ends the problem type URI, ``extra`` adds members."""

    def __init__(
        self,
        status: int,
        detail: str,
        code: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": PROBLEM_TYPE + self.code,
            "title": TITLES.get(self.status, "Refused"),
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            out["instance"] = instance
        out.update(self.extra)
        return out


def not_found(what: str, ident: str) -> ApiProblem:
    return ApiProblem(404, f"No {what} has the id {ident!r} in this clinic.", "not_found")
