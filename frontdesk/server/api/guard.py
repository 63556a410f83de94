"""Text no name, number or id contains, refused at the door of the integration API and the FHIR
view: a NUL character (U+0000) in a call's path, query or JSON body answers 422 before any
route reads it. PostgreSQL cannot keep a NUL in text, so such a value reached the database
there as a server error (500) — found by the schemathesis run against a PostgreSQL server —
while SQLite merely found nothing. One check here covers every field of every operation."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request

from frontdesk.server.api.problems import ApiProblem

# a JSON escape \u0000 that is not itself escaped (``\\u0000`` is a backslash and "u0000")
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def refused() -> ApiProblem:
    return ApiProblem(
        422,
        "The request holds a NUL character (U+0000), which no name, number or id contains: "
        "remove it and send the request again.",
        "invalid_request",
    )


def has_nul(path: str, query: bytes, body: bytes = b"") -> bool:
    """Whether a call's decoded path, raw query string or body holds a NUL character."""
    return (
        "\x00" in path
        or b"%00" in query
        or b"\x00" in query
        or b"\x00" in body
        or (b"\\u" in body and _ESCAPED_NUL.search(body) is not None)
    )


class NulGuard:
    """A plain ASGI middleware over ``prefixes``: reads a call's body first (the API's bodies
    are small JSON documents), refuses it if :func:`has_nul`, else hands the route the same
    body. Other paths (the desks' sync protocol, health) pass untouched."""

    def __init__(self, app: Any, prefixes: tuple[str, ...]) -> None:
        self.app, self.prefixes = app, prefixes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        body = b""
        if scope["method"] in _WITH_BODY:
            chunks, more = [], True
            while more:
                message = await receive()
                if message["type"] != "http.request":  # the caller went away
                    return
                chunks.append(message.get("body", b""))
                more = bool(message.get("more_body", False))
            body = b"".join(chunks)
        if has_nul(scope["path"], scope.get("query_string", b""), body):
            from frontdesk.server.api.router import problem_response

            response = problem_response(refused(), Request(scope))
            await response(scope, receive, send)
            return
        if scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        given = False

        async def replay() -> dict[str, Any]:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return dict(await receive())

        await self.app(scope, replay, send)
