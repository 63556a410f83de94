"""The clinic server's HTTP API (FastAPI): health, enrol, push, pull, snapshot, change wait,
table check and revoke. ``create_app(url)`` is the factory; the OpenAPI description is at
``/openapi.json``.

Every request from a desk carries the protocol and schema versions; outside the accepted range
the answer is 426 "upgrade needed". Well-formed but wrong requests get a 4xx with a sentence
for a person, never a 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from frontdesk import __version__
from frontdesk.domain.clock import Clock
from frontdesk.server import merge
from frontdesk.server.store import Device, ServerProblem, ServerStore
from frontdesk.sync.protocol import (
    MAX_BODY_BYTES,
    MAX_DIGEST_ROWS,
    MAX_PROTOCOL,
    MAX_PULL_CHANGES,
    MAX_SNAPSHOT_ROWS,
    MIN_PROTOCOL,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SCHEMA_HEADER,
    schema_version,
)

log = logging.getLogger("frontdesk.server")


class EnrolBody(BaseModel):
    code: str = Field(min_length=4, max_length=40)
    device_id: str = Field(min_length=8, max_length=36)
    device_name: str = Field(default="", max_length=120)


class PushBody(BaseModel):
    cursor: int = Field(default=0, ge=0)
    mutations: list[dict[str, Any]] = Field(max_length=100_000)


class StatsBody(BaseModel):
    tables: list[str] = Field(max_length=200)
    # table → row id → content digest of rows the desk touched in this sync (optional).
    rows: dict[str, dict[str, str]] = Field(default_factory=dict, max_length=200)


def current_device(request: Request, authorization: Annotated[str, Header()] = "") -> Device:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ServerProblem(
            401, "This desk is not enrolled with the clinic server.", code="unauthorised"
        )
    store: ServerStore = request.app.state.store
    return store.authenticate(token)


Dev = Annotated[Device, Depends(current_device)]


def _problem(status: int, message: str, code: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


def _json(body: dict[str, Any]) -> Response:
    """An answer of plain JSON values, encoded once (FastAPI's encoder walks every value)."""
    return Response(json.dumps(body), media_type="application/json")


def create_app(url: str, *, clock: Clock | None = None, init: bool = True) -> FastAPI:
    store = ServerStore(url, clock)
    if init:
        store.init()
    schema = schema_version()
    app = FastAPI(title="frontdesk clinic server", version=__version__)
    app.state.store = store

    @app.exception_handler(ServerProblem)
    async def _server_problem(_request: Request, exc: ServerProblem) -> JSONResponse:
        return _problem(exc.status, exc.user_message, exc.code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()[:3])
        return _problem(422, f"The request was not understood ({where}).", "invalid")

    @app.middleware("http")
    async def _guard(request: Request, call_next: Any) -> Any:
        started = time.perf_counter()
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > MAX_BODY_BYTES):
            return _problem(413, "The request is too large.", "big")
        if request.url.path.startswith("/v1/"):
            proto = request.headers.get(PROTOCOL_HEADER, "")
            desk_schema = request.headers.get(SCHEMA_HEADER, "")
            if not proto.isdigit() or not MIN_PROTOCOL <= int(proto) <= MAX_PROTOCOL:
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
        response = await call_next(request)
        log.info(
            "%s %s %d %.0fms",
            request.method,
            request.url.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "protocol": PROTOCOL_VERSION,
            "schema": schema,
            "epoch": store.epoch(),
        }

    @app.post("/v1/enrol")
    def enrol(body: EnrolBody) -> dict[str, Any]:
        dev, token, has_clinic = store.enrol(body.code, body.device_id, body.device_name)
        log.info("enrolled device=%s number=%d", dev.id, dev.number)
        return {
            "device_id": dev.id,
            "series_prefix": dev.series_prefix,
            "token": token,
            "epoch": store.epoch(),
            "has_clinic": has_clinic,
            # Changes of this desk up to here are in the server's copy (it was seeded from it).
            "delivered_through": dev.last_seq,
        }

    @app.post("/v1/push", response_model=dict[str, Any])
    def push(body: PushBody, dev: Dev) -> Response:
        mutations = merge.validate(body.mutations, store.now())
        return _json(merge.push(store, dev, mutations, body.cursor))

    @app.get("/v1/pull", response_model=dict[str, Any])
    def pull(
        dev: Dev,
        cursor: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PULL_CHANGES)] = 500,
        echo: bool = True,
        unsent: Annotated[int | None, Query(ge=0)] = None,
    ) -> Response:
        # echo=false: a desk restored from a backup needs its own later changes in full.
        own = dev.id if echo else ""
        store.note_received(dev, cursor, unsent)
        return Response(store.pull_json(cursor, limit, own), media_type="application/json")

    @app.get("/v1/snapshot")
    def snapshot_start(dev: Dev) -> dict[str, Any]:
        return store.snapshot_start()

    @app.get("/v1/snapshot/{table}", response_model=dict[str, Any])
    def snapshot_page(
        table: str,
        dev: Dev,
        after: Annotated[str, Query(max_length=36)] = "",
        limit: Annotated[int, Query(ge=1, le=MAX_SNAPSHOT_ROWS)] = 2000,
        form: Annotated[Literal["rows", "columns"], Query()] = "rows",
    ) -> Response:
        """Rows after id ``after``: one object per row, or with ``form=columns`` the column
        names once and each row as an array (what current desks ask for)."""
        page = store.snapshot_page_json(table, after, limit, columns=form == "columns")
        return Response(page, media_type="application/json")

    @app.post("/v1/stats")
    def stats(body: StatsBody, dev: Dev) -> dict[str, Any]:
        if sum(len(ids) for ids in body.rows.values()) > MAX_DIGEST_ROWS * 20:
            raise ServerProblem(413, "too many rows to check at once", code="big")
        tables, latest = store.table_stats(body.tables)
        repair = store.differing_rows(body.rows, MAX_DIGEST_ROWS) if body.rows else {}
        return {"tables": tables, "latest": latest, "last_seq": dev.last_seq, "repair": repair}

    @app.get("/v1/device")
    def whoami(dev: Dev) -> dict[str, Any]:
        return {
            "device_id": dev.id,
            "last_seq": dev.last_seq,
            "series_prefix": dev.series_prefix,
            "epoch": store.epoch(),
        }

    @app.get("/v1/wait")
    async def wait(
        dev: Dev,
        cursor: Annotated[int, Query(ge=0)] = 0,
        timeout: Annotated[float, Query(ge=0, le=60)] = 25,
    ) -> dict[str, Any]:
        """Long-poll: answers as soon as the change log passes ``cursor`` (or at the timeout)."""
        deadline = time.monotonic() + timeout
        checks = 0
        while time.monotonic() < deadline:
            if store.latest_seq > cursor:
                break
            checks += 1
            if store.is_postgres and checks % 10 == 0:  # another server process may write
                store.latest_seq = await run_in_threadpool(lambda: store.pull(cursor, 1)["latest"])
                continue
            await asyncio.sleep(0.05)
        return {"latest": store.latest_seq, "changed": store.latest_seq > cursor}

    @app.post("/v1/revoke")
    def revoke_self(dev: Dev) -> dict[str, Any]:
        store.revoke(dev.id)
        return {"revoked": dev.id}

    return app
