"""The clinic server's HTTP app (FastAPI): ``create_app(url)`` is the factory. It opens the
store, installs the error handlers and the version guard, and mounts the routers: the health
check, the desks' sync protocol (``server/routes.py``) and the integration API (``/api/v1``,
``server/api/router.py``). The OpenAPI 3.1 description is at ``/openapi.json``.

Every request from a desk carries the protocol and schema versions; outside the accepted range
the answer is 426 "upgrade needed". Well-formed but wrong requests get a 4xx with a sentence
for a person, never a 500.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from frontdesk import __version__
from frontdesk.domain.clock import Clock
from frontdesk.protocol import (
    DESK_API_PREFIX,
    MAX_BODY_BYTES,
    MAX_PROTOCOL,
    MIN_PROTOCOL,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SCHEMA_HEADER,
    Endpoint,
    schema_version,
)
from frontdesk.server.api import router as api
from frontdesk.server.api.desk_admin import router as desk_admin_router
from frontdesk.server.api.problems import ApiProblem
from frontdesk.server.limits import BodyCap, EnrolThrottle
from frontdesk.server.routes import router as desk_router
from frontdesk.server.store import ServerProblem, ServerStore
from frontdesk.server.webhooks import router as webhooks_router
from frontdesk.server.woken import Bell, WokenPages

log = logging.getLogger("frontdesk.server")
# a serving process's thread switch interval (create_app)
SWITCH_INTERVAL_S = 0.0005


def create_app(
    url: str, *, clock: Clock | None = None, init: bool = True, serving: bool = False
) -> FastAPI:
    """``serving``: the app of a server process (``frontdesk-server run``), which keeps what
    it has built at start-up out of the garbage collector's passes (``gc_tuning``)."""
    store = ServerStore(url, clock)
    if init:
        store.init()
    if serving:
        # A push holds the writer's lock across a dozen round trips to the database, and after
        # each it waits for the interpreter's lock while other threads and the event loop run
        # (49 woken long-polls' answers), up to a whole switch interval (5 ms by default)
        # each time (bench_group; docs/performance.md, section 9).
        sys.setswitchinterval(SWITCH_INTERVAL_S)
    app = FastAPI(
        title="frontdesk clinic server",
        version=__version__,
        description="The desks' sync protocol (/v1) and the clinic's integration API "
        "(/api/v1: keys from `frontdesk-server api-key create`; see docs/integrations.md).",
    )
    app.state.store = store
    app.state.serving = serving
    _install_error_handlers(app)
    api.install_api(app)
    _install_guard(app, schema_version())
    app.include_router(_health_router(store))
    app.include_router(desk_router)
    app.include_router(webhooks_router)
    app.include_router(desk_admin_router)
    app.add_middleware(BodyCap, limit=MAX_BODY_BYTES)
    app.state.enrol_throttle = EnrolThrottle()
    app.state.woken = WokenPages(store)
    app.state.bell = Bell(store)
    return app


def app_from_environment() -> FastAPI:
    """One of several server processes (``frontdesk-server run --workers N``, which brought
    the database up to date and set the environment): its app, logging as the first does."""
    from frontdesk.server.cli import _setup_logging
    from frontdesk.server.processes import URL_ENV

    _setup_logging(serving=True)
    app = create_app(os.environ[URL_ENV], init=False, serving=True)
    store: ServerStore = app.state.store
    store.refresh_latest()
    return app


def _problem(status: int, message: str, code: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServerProblem)
    async def _server_problem(_request: Request, exc: ServerProblem) -> JSONResponse:
        return _problem(exc.status, exc.user_message, exc.code)

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return api.problem_response(exc, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if api.is_api(request):
            return api.http_problem(exc, request)
        return await http_exception_handler(request, exc)  # the desks' paths as before

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if api.is_api(request):
            return api.validation_problem(exc, request)
        where = "; ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()[:3])
        return _problem(422, f"The request was not understood ({where}).", "invalid")


def _version_problem(proto: str, desk_schema: str, schema: str) -> JSONResponse | None:
    """A 426 answer when the desk's protocol or schema version is not this server's."""
    # ASCII digits only: str.isdigit() also takes '²', which int() then refuses.
    readable = proto.isascii() and proto.isdigit() and len(proto) <= 6
    if not readable or not MIN_PROTOCOL <= int(proto) <= MAX_PROTOCOL:
        return _problem(
            426,
            "This desk's frontdesk is too old or too new for the clinic server. "
            "Upgrade frontdesk on this desk (or the server) so both are the same "
            "version.",
            "upgrade_needed",
            server_protocol=PROTOCOL_VERSION,
        )
    if desk_schema != schema:
        return _problem(
            426,
            "This desk and the clinic server run different versions of frontdesk. "
            "Upgrade both to the same version.",
            "upgrade_needed",
            server_schema=schema,
        )
    return None


def _install_guard(app: FastAPI, schema: str) -> None:
    """Refuse oversized bodies and desks of another version; log each request (no values)."""
    app.add_middleware(Guard, schema=schema)


class Guard:
    """``_install_guard``'s work as a plain ASGI middleware (Starlette's ``@app.middleware``
    runs every request through extra tasks and streams: a fifth of a short call's time)."""

    def __init__(self, app: Any, schema: str) -> None:
        self.app = app
        self.schema = schema

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = Request(scope)
        size = request.headers.get("content-length")
        refused: Response | None = None
        if size is not None and (
            not (size.isascii() and size.isdigit()) or int(size) > MAX_BODY_BYTES
        ):
            refused = _problem(413, "The request is too large.", "big")
        elif request.url.path.startswith(DESK_API_PREFIX):
            refused = _version_problem(
                request.headers.get(PROTOCOL_HEADER, ""),
                request.headers.get(SCHEMA_HEADER, ""),
                self.schema,
            )
        if refused is not None:
            await refused(scope, receive, send)
            return
        status = 0

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:  # a bug: say so without any value from the request
            _log_unexpected(request, exc)
            if status:  # the answer had begun: nothing more can be said on it
                return
            status = 500
            await _problem(
                500,
                "The clinic server hit a problem it did not expect; it is in the server's log.",
                "internal",
            )(scope, receive, send)
        log.info(
            "%s %s %d %.0fms",
            scope["method"],
            scope["path"],
            status,
            (time.perf_counter() - started) * 1000,
        )


def _log_unexpected(request: Request, exc: BaseException) -> None:
    """The exception's type and traceback (file, line, code), never its message: messages of
    database errors carry the values being written (patient data)."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error(
        "unexpected %s at %s %s\nTraceback (most recent call last):\n%s%s",
        type(exc).__qualname__,
        request.method,
        request.url.path,
        frames,
        type(exc).__qualname__,
    )


def _health_router(store: ServerStore) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get(Endpoint.HEALTH.value)
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "protocol": PROTOCOL_VERSION,
            "schema": schema_version(),
            "epoch": store.epoch(),
        }

    return router
