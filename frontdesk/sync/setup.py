"""Enrolling a desk with the clinic server, and building the sync engine for a desk."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Table, text, update

from frontdesk.db import sync_totals
from frontdesk.domain.errors import EnvironmentProblem, RuleViolation
from frontdesk.domain.vocab import SeriesKind
from frontdesk.models import Base, SyncState, synced_tables
from frontdesk.protocol import Endpoint, EnrolReply, EnrolRequest, fingerprint, series_prefixes
from frontdesk.services.permissions import Action, require
from frontdesk.store import balances, outbox
from frontdesk.store.context import ServiceContext
from frontdesk.store.numbering import resume_series, start_series
from frontdesk.sync import keychain
from frontdesk.sync.engine import SyncEngine, SyncFailed, UpgradeNeeded
from frontdesk.sync.pinning import is_https
from frontdesk.sync.transport import HttpTransport, Transport


def data_dir_of(ctx: ServiceContext) -> Path:
    if ctx.data_dir is None:
        raise EnvironmentProblem("This desk has no data folder, so it cannot sync.")
    return ctx.data_dir


def server_url(ctx: ServiceContext) -> str | None:
    return server_address(ctx)[0]


def server_address(ctx: ServiceContext) -> tuple[str | None, str | None]:
    """The clinic server's address and the certificate pinned for it (PEM), if any."""
    with ctx.read() as session:
        state = session.get(SyncState, 1)
        return (state.server_url, state.server_certificate) if state else (None, None)


def transport_to(url: str, pinned_pem: str | None) -> HttpTransport:
    """A connection that trusts only the pinned certificate when there is one, otherwise the
    system's certificate authorities (https) or nothing (plain http on the LAN)."""
    return HttpTransport(url, pinned_pem=pinned_pem if is_https(url) else None)


def pin_certificate(ctx: ServiceContext, pem: str) -> None:
    """Trust from now on only ``pem`` for this desk's server: after a person confirmed its
    fingerprint (for example when the server was given a new certificate)."""
    require(ctx.actor, Action.MANAGE_SYNC)
    fingerprint(pem)  # refuses anything that is not a certificate
    with ctx.write("confirm the clinic server's certificate") as session:
        session.execute(
            update(SyncState)
            .where(SyncState.id == 1)
            .values(server_certificate=pem, last_error=None)
        )


def normalise_address(address: str) -> str:
    address = address.strip().rstrip("/")
    if not address:
        raise RuleViolation("Enter the clinic server's address, for example 192.168.1.20:8765.")
    if "://" not in address:
        address = f"http://{address}"
    return address


def enrol(
    ctx: ServiceContext,
    address: str,
    code: str,
    *,
    transport: Transport | None = None,
    device_name: str = "",
    certificate: str | None = None,
) -> str:
    """Enrol this desk with a one-time code; returns the desk's invoice-number prefix.

    ``certificate`` is the server's certificate (PEM) a person confirmed by fingerprint: it
    becomes the only one this desk accepts for an https server. Without it an https server
    must be trusted by the system's certificate authorities.
    """
    require(ctx.actor, Action.MANAGE_SYNC)
    url = normalise_address(address)
    code = code.strip()
    if not code:
        raise RuleViolation("Enter the enrolment code from the clinic server.")
    keychain.check_available()
    if not is_https(url):
        certificate = None
    transport = transport or transport_to(url, certificate)
    request = EnrolRequest(code, ctx.device_id, device_name or "desk")
    reply = transport.send("POST", Endpoint.ENROL, json=request.as_json())
    if reply.status == 426:
        raise UpgradeNeeded(reply.message)
    if not reply.ok:
        raise RuleViolation(reply.message)
    body = EnrolReply.from_json(reply.body)
    keychain.save_token(data_dir_of(ctx), str(body.token))
    prefix = str(body.series_prefix)
    delivered = int(body.delivered_through or 0)
    with ctx.write("enrol with the clinic server") as session:
        now = ctx.clock.now()
        if delivered:  # the server was seeded from this desk: those changes are there already
            # Every row's version changes once (millions on a clinic of years): the sync
            # check's figures are counted once after it, not kept row by row through it.
            paused = balances.is_paused(session)
            balances.set_paused(session, True)
            for table in seeded_tables():
                # The server's first copy holds these rows at version 1 (never below).
                session.execute(update(table).where(table.c.version == 0).values(version=1))
            if not paused:
                raw = lambda sql: session.execute(text(sql))  # noqa: E731
                sync_totals.rebuild(raw, balances.covered_tables())
                balances.set_paused(session, False)
            # Changes made since the seeding were based on those rows: version 1 now.
            outbox.accept_seeded(session, delivered, now)
        for kind, p in series_prefixes(prefix).items():
            # Enrolling again (after a revoke, or a lost keychain entry) keeps its series.
            if not resume_series(session, SeriesKind(kind), p):
                start_series(session, SeriesKind(kind), p, now)
        session.execute(
            update(SyncState)
            .where(SyncState.id == 1)
            .values(
                server_url=url,
                # The desk the server was seeded from already holds the server's first copy:
                # it starts pulling at the beginning of the change log, with no snapshot.
                server_epoch=str(body.epoch) if delivered else None,
                pull_cursor=0,
                device_name=device_name[:120],
                last_error=None,
                server_certificate=certificate,
            )
        )
    return prefix


def seeded_tables() -> list[Table]:
    """The synced tables a server copies from a desk when it is seeded from it."""
    from frontdesk.protocol import LOCAL_ONLY

    return [
        t
        for name, t in Base.metadata.tables.items()
        if name in synced_tables() and name not in LOCAL_ONLY and "version" in t.c
    ]


def engine_for(ctx: ServiceContext, transport: Transport | None = None) -> SyncEngine:
    """The sync engine for an enrolled desk, with its token from the keychain."""
    url, pinned = server_address(ctx)
    if not url:
        raise SyncFailed("This desk is not enrolled with a clinic server yet.")
    token = keychain.load_token(data_dir_of(ctx))
    if not token:
        raise SyncFailed(
            "This desk's access key for the clinic server is missing from the keychain. "
            "Enrol it again with a new code."
        )
    return SyncEngine(ctx, transport or transport_to(url, pinned), token)
