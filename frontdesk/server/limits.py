"""Limits on what one request may make the server do, whatever its framing.

``BodyCap`` is a plain ASGI middleware that counts the body bytes as the app reads them and
stops at ``MAX_BODY_BYTES``: a chunked body (no Content-Length) is refused with 413 as soon as
it passes the cap, so it never sits in memory whole. ``EnrolThrottle`` slows enrolment-code
guessing: a few wrong codes a minute per client address.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any

from frontdesk.server.store import ServerProblem

Scope = dict[str, Any]
Message = dict[str, Any]


class _TooLarge(Exception):
    """Raised into the app when the body passes the cap: it stops reading."""


class BodyCap:
    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = 0
        over = started = False

        async def capped() -> Message:
            nonlocal seen, over
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise _TooLarge
            return message

        async def answer(message: Message) -> None:
            nonlocal started
            if over:
                return  # whatever the app makes of the stop, the answer is 413 (below)
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, capped, answer)
        except Exception:
            if not over:
                raise
        if over and not started:
            body = json.dumps({"error": "big", "message": "The request is too large."}).encode()
            headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
            await send({"type": "http.response.start", "status": 413, "headers": headers})
            await send({"type": "http.response.body", "body": body})


class EnrolThrottle:
    """At most ``per_minute`` wrong enrolment codes a minute from one address; past that,
    every try is refused until the minute is over (right codes never count)."""

    def __init__(self, per_minute: int = 10) -> None:
        self.per_minute = per_minute
        self._misses: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        misses = self._misses.setdefault(address, deque())
        while misses and now - misses[0] > 60:
            misses.popleft()
        return misses

    def check(self, address: str) -> None:
        with self._lock:
            if len(self._recent(address, time.monotonic())) >= self.per_minute:
                raise ServerProblem(
                    429,
                    "Too many wrong enrolment codes from this computer. Wait a minute, then "
                    "try again with the code from the person who runs the clinic server.",
                    code="slow_down",
                )

    def missed(self, address: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._recent(address, now).append(now)
