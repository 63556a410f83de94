"""The clinic server's desk API, one route per ``protocol.Endpoint``: enrol, push, pull,
snapshot, table check, who-am-I, change wait and revoke. Bodies are the protocol's dataclasses;
the store comes from the app (``app.state.store``)."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from frontdesk.protocol import (
    MAX_CURSOR,
    MAX_DIGEST_ROWS,
    MAX_PULL_CHANGES,
    MAX_SNAPSHOT_ROWS,
    SERVER_TIME_HEADER,
    DeviceReply,
    Endpoint,
    EnrolReply,
    EnrolRequest,
    PushRequest,
    StatsReply,
    StatsRequest,
)
from frontdesk.server import merge, trust
from frontdesk.server.store import Device, ServerProblem, ServerStore
from frontdesk.server.woken import Bell, WokenPages

log = logging.getLogger("frontdesk.server")
router = APIRouter()


async def server_store(request: Request) -> ServerStore:
    """(On the event loop: a plain function would be run on a thread for every request.)"""
    store: ServerStore = request.app.state.store
    return store


def current_device(request: Request, authorization: Annotated[str, Header()] = "") -> Device:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ServerProblem(
            401, "This desk is not enrolled with the clinic server.", code="unauthorised"
        )
    store: ServerStore = request.app.state.store
    return store.authenticate(token)


async def waiting_device(request: Request, authorization: Annotated[str, Header()] = "") -> Device:
    """A long-poll's device: as ``current_device``, taken without a query (or a thread) when
    its token authenticated within the last moments (``ServerStore.recently_authenticated``)."""
    store: ServerStore = request.app.state.store
    _scheme, _, token = authorization.partition(" ")
    kept = store.recently_authenticated(token) if token else None
    if kept is not None and _scheme.lower() == "bearer":
        return kept
    return await run_in_threadpool(current_device, request, authorization)


Store = Annotated[ServerStore, Depends(server_store)]
Dev = Annotated[Device, Depends(current_device)]
WaitingDev = Annotated[Device, Depends(waiting_device)]


def _json(body: dict[str, Any]) -> Response:
    """An answer of plain JSON values, encoded once (FastAPI's encoder walks every value)."""
    return Response(json.dumps(body), media_type="application/json")


@router.post(Endpoint.ENROL.value)
def enrol(body: EnrolRequest, store: Store, request: Request) -> dict[str, Any]:
    throttle = request.app.state.enrol_throttle
    address = request.client.host if request.client else ""
    throttle.check(address)
    try:
        dev, token, has_clinic, delivered = store.enrol(body.code, body.device_id, body.device_name)
    except ServerProblem as exc:
        if exc.code == "bad_code":
            throttle.missed(address)
        raise
    log.info("enrolled device=%s number=%d", dev.id, dev.number)
    return EnrolReply(
        device_id=dev.id,
        series_prefix=dev.series_prefix,
        token=token,
        epoch=store.epoch(),
        has_clinic=has_clinic,
        delivered_through=delivered,
    ).as_json()


@router.post(Endpoint.PUSH.value, response_model=dict[str, Any])
def push(body: PushRequest, dev: Dev, store: Store) -> Response:
    mutations = merge.validate(body.mutations, store.now())
    return _json(merge.push(store, dev, mutations, body.cursor))


@router.get(Endpoint.PULL.value, response_model=dict[str, Any])
def pull(
    dev: Dev,
    store: Store,
    cursor: Annotated[int, Query(ge=0, le=MAX_CURSOR)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_CHANGES)] = 500,
    echo: bool = True,
    unsent: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    # echo=false: a desk restored from a backup needs its own later changes in full.
    own = dev.id if echo else ""
    store.note_received(dev, cursor, unsent)
    return Response(
        store.pull_json(cursor, limit, own),
        media_type="application/json",
        headers={SERVER_TIME_HEADER: store.now().isoformat()},
    )


@router.get(Endpoint.SNAPSHOT.value)
def snapshot_start(dev: Dev, store: Store) -> dict[str, Any]:
    return store.snapshot_start()


@router.get(Endpoint.SNAPSHOT_TABLE.value, response_model=dict[str, Any])
def snapshot_page(
    table: str,
    dev: Dev,
    store: Store,
    after: Annotated[str, Query(max_length=36)] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_SNAPSHOT_ROWS)] = 2000,
    form: Annotated[Literal["rows", "columns"], Query()] = "rows",
) -> Response:
    """Rows after id ``after``: one object per row, or with ``form=columns`` the column
    names once and each row as an array (what current desks ask for)."""
    page = store.snapshot_page_json(table, after, limit, columns=form == "columns")
    return Response(page, media_type="application/json")


@router.post(Endpoint.STATS.value)
def stats(body: StatsRequest, dev: Dev, store: Store) -> dict[str, Any]:
    if sum(len(ids) for ids in body.rows.values()) > MAX_DIGEST_ROWS * 20:
        raise ServerProblem(413, "too many rows to check at once", code="big")
    also = None
    if body.heads:
        key = trust.audit_key(store)
        also = lambda conn: trust.heads_reply(store, conn, key).as_json()  # noqa: E731
    tables, latest, repair, audit = store.check_answer(
        body.tables, body.rows, MAX_DIGEST_ROWS, also
    )
    return StatsReply(tables, latest, dev.last_seq, repair, audit).as_json()


@router.get(Endpoint.DEVICE.value)
def whoami(dev: Dev, store: Store) -> dict[str, Any]:
    return DeviceReply(dev.id, dev.last_seq, dev.series_prefix, store.epoch()).as_json()


@router.get(Endpoint.WAIT.value)
async def wait(
    dev: WaitingDev,
    store: Store,
    request: Request,
    cursor: Annotated[int, Query(ge=0, le=MAX_CURSOR)] = 0,
    timeout: Annotated[float, Query(ge=0, le=60)] = 25,
    changes: Annotated[int, Query(ge=0, le=MAX_PULL_CHANGES)] = 0,
    echo: bool = True,
    unsent: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """Long-poll: answers as soon as the change log passes ``cursor`` (or at the timeout).
    With ``changes`` (a limit), a change also brings the pull's first page (``pull``: what
    ``GET /pull`` with that cursor, limit and ``echo`` answers) and, when that page is the
    whole of what is new and small, the check after it (``check``: the table figures, the
    page's rows' fingerprints and the audit heads, read at the same moment), so a woken desk
    need ask for neither; a desk that does not ask gets the plain answer, and an older server
    ignores the parameter."""
    bell: Bell = request.app.state.bell
    await bell.wait(cursor, timeout)
    latest = store.latest_seq
    head = f'{{"latest": {latest}, "changed": {"true" if latest > cursor else "false"}'
    members = None
    if changes and latest > cursor:
        woken: WokenPages = request.app.state.woken
        members = await woken.members(dev, cursor, changes, echo)
        if members is not None and store.note_due(dev, cursor, unsent):
            await run_in_threadpool(store.note_received, dev, cursor, unsent)
    if members is None:
        return Response(f"{head}}}", media_type="application/json")
    return Response(b"".join((head.encode(), b", ", members, b"}")), media_type="application/json")


@router.post(Endpoint.REVOKE.value)
def revoke_self(dev: Dev, store: Store) -> dict[str, Any]:
    store.revoke(dev.id)
    return {"revoked": dev.id}


@router.get(Endpoint.AUDIT_HEADS.value)
def audit_heads(dev: Dev, store: Store) -> dict[str, Any]:
    """Each desk's audit-chain head, countersigned by this server (server/trust.py)."""
    return trust.countersigned_heads(store).as_json()
