"""``frontdesk-server``: set up, run and administer the clinic server.

    frontdesk-server init [--database URL]           # create, or upgrade, the database
    frontdesk-server upgrade                         # bring the database to this version
    frontdesk-server cert [--host NAME_OR_IP ...] [--replace]   # self-signed TLS certificate
    frontdesk-server run [--host H --port P --database URL] [--tls | --cert FILE --key FILE]
    frontdesk-server enrol --name "Front desk"      # prints a one-time code (7 days)
    frontdesk-server codes | cancel-code ID_OR_NAME  # unused codes; cancel one
    frontdesk-server revoke NAME_OR_ID
    frontdesk-server devices
    frontdesk-server seed --from-desk DIR            # load an existing desk's clinic
    frontdesk-server api-key create --name N --scope S [--scope S…] [--expires YYYY-MM-DD]
    frontdesk-server api-key list | api-key revoke ID_PREFIX_OR_NAME | api-log [--limit N]
    frontdesk-server ical create --practitioner ID [--initials] | ical list | ical revoke ID

Without ``--database`` the server keeps a SQLite file in its data folder (``--data-dir`` or the
platform's user-data folder), so a back-office PC needs nothing else installed. ``cert`` (or
``run --tls`` on first use) keeps a self-signed certificate there and prints its SHA-256
fingerprint, which each desk confirms once when it enrols.

Every command first brings the database to this version's schema (``frontdesk.server.migrate``):
``run`` upgrades at start like the desk app does, a SQLite file being copied beside itself
first; a database made by a newer frontdesk-server is refused and left untouched.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import platformdirs

from frontdesk.domain.errors import FrontdeskError, RuleViolation
from frontdesk.paths import private_dir, private_umask

log = logging.getLogger("frontdesk.server")


def server_folder(data_dir: str | None) -> Path:
    folder = Path(data_dir or platformdirs.user_data_dir("frontdesk-server", appauthor=False))
    private_dir(folder)
    return folder


def default_database(data_dir: str | None) -> str:
    return str(server_folder(data_dir) / "server.sqlite3")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (ids and counts, no patient data)."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "at": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "msg": record.getMessage(),
            }
        )


def _setup_logging(serving: bool) -> None:
    """JSON lines on stderr. A running server logs what it does; the admin commands print a
    sentence of their own, so only warnings and errors are logged beside it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO if serving else logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the server logs each upgrade itself


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="frontdesk-server", description="The frontdesk clinic server.")
    p.add_argument("--data-dir", help="folder for the server's SQLite file")
    p.add_argument(
        "--database",
        help="SQLAlchemy URL or SQLite path (postgresql://… for PostgreSQL)",
        default=os.environ.get("FRONTDESK_SERVER_DATABASE"),
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="command")
    sub.add_parser("init", help="create the server database (or upgrade it)")
    sub.add_parser(
        "upgrade", help="bring the server database to this version (SQLite: copied first)"
    )
    run = sub.add_parser("run", help="serve desks")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8765)
    run.add_argument("--database", dest="run_database", help=argparse.SUPPRESS)
    run.add_argument(
        "--tls",
        action="store_true",
        help="serve https with the data folder's certificate (made on first use)",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (default 1; see docs/clinic-server.md)",
    )
    run.add_argument("--cert", help="the clinic's own TLS certificate (PEM) instead")
    run.add_argument("--key", help="its private key (PEM)")
    cert = sub.add_parser("cert", help="make a self-signed TLS certificate in the data folder")
    cert.add_argument(
        "--host",
        dest="hosts",
        action="append",
        default=[],
        metavar="NAME_OR_IP",
        help="a name or address desks use to reach this server (repeat for several)",
    )
    cert.add_argument("--replace", action="store_true", help="replace an existing certificate")
    enrol = sub.add_parser("enrol", help="make a one-time enrolment code for a new desk")
    enrol.add_argument("--name", required=True)
    sub.add_parser("codes", help="list enrolment codes not used yet (they expire after 7 days)")
    cancel = sub.add_parser("cancel-code", help="cancel an unused enrolment code")
    cancel.add_argument("code", help="the id `codes` shows, or the name it was made for")
    revoke = sub.add_parser("revoke", help="revoke a desk's access")
    revoke.add_argument("device", help="device name or id")
    sub.add_parser("devices", help="list enrolled desks")
    seed = sub.add_parser("seed", help="load the clinic of an existing desk into a new server")
    seed.add_argument("--from-desk", required=True, help="the desk's data folder")
    sub.add_parser("new-epoch", help="after restoring a backup: make every desk re-sync")
    totals = sub.add_parser(
        "check-totals", help="count every synced table and compare with the figures desks check"
    )
    totals.add_argument("--repair", action="store_true", help="set the figures to the counts")
    hook = sub.add_parser("sms-webhook-key", help="the key for SMS providers' callback addresses")
    hook.add_argument(
        "--public-url",
        help="this server's address as the provider calls it (Twilio signs that URL)",
    )
    _api_parsers(sub)
    return p


def _api_parsers(sub: Any) -> None:
    """``api-key create|list|revoke`` and ``api-log``: keys of the integration API."""
    from frontdesk.server.api.keys import DEFAULT_RATE, SCOPE_HELP

    keys = sub.add_parser("api-key", help="keys for the integration API (/api/v1)")
    act = keys.add_subparsers(dest="api_command", required=True, metavar="action")
    make = act.add_parser("create", help="make a key (shown once)")
    make.add_argument("--name", required=True, help="who or what uses it")
    make.add_argument(
        "--scope",
        action="append",
        default=[],
        required=True,
        help="; ".join(f"{k.value}: {v}" for k, v in SCOPE_HELP.items()),
    )
    make.add_argument("--expires", help="last day it works (YYYY-MM-DD, UTC); none: no expiry")
    make.add_argument("--rate", type=int, default=DEFAULT_RATE, help="calls a minute")
    act.add_parser("list", help="list keys (never the secrets)")
    gone = act.add_parser("revoke", help="revoke a key")
    gone.add_argument("key", help="its id, the prefix `list` shows, or its name")
    log_ = sub.add_parser("api-log", help="the newest calls of the integration API")
    log_.add_argument("--limit", type=int, default=50)
    ical = sub.add_parser("ical", help="private calendar feeds of practitioners' diaries")
    what = ical.add_subparsers(dest="ical_command", required=True, metavar="action")
    feed = what.add_parser("create", help="make a feed URL (shown once)")
    feed.add_argument("--practitioner", required=True, help="the practitioner's id")
    feed.add_argument("--initials", action="store_true", help="show patients' initials")
    what.add_parser("list", help="list feeds")
    stop = what.add_parser("revoke", help="revoke a feed")
    stop.add_argument("feed", help="the feed's id (from list)")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    private_umask()
    _setup_logging(serving=args.command == "run")
    url = getattr(args, "run_database", None) or args.database or default_database(args.data_dir)
    try:
        code = _dispatch(args, url)
        sys.stdout.flush()
        return code
    except FrontdeskError as exc:
        print(exc.user_message, file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. ``frontdesk-server enrol --name X | head -1``
        from frontdesk.console import stdout_closed

        return stdout_closed()


def _dispatch(args: argparse.Namespace, url: str) -> int:
    from frontdesk.server.store import ServerStore

    if args.command == "cert":
        from frontdesk.server.tls import make_certificate

        files = make_certificate(server_folder(args.data_dir), args.hosts, replace=args.replace)
        print(f"Certificate: {files.cert}\nPrivate key: {files.key} (keep it on this computer)")
        print(f"Fingerprint: SHA256 {files.fingerprint()}")
        print("Desks confirm it when they enrol. Serve with: frontdesk-server run --tls")
        return 0
    if args.command == "run":
        return _run(args, url)
    store = ServerStore(url)
    outcome = store.init()
    if args.command in ("init", "upgrade"):
        print(f"{outcome.describe()} ({_safe(url)})")
    if args.command == "enrol":
        code = store.create_enrolment_code(args.name)
        print(f"Enrolment code for {args.name!r}: {code}")
        print("Enter it on the desk under Settings → Clinic server. It works once, within 7 days.")
    elif args.command == "codes":
        for c in store.list_codes():
            until = "expired" if c["expired"] else f"until {c['expires_at']:%Y-%m-%d %H:%M} UTC"
            print(f"{c['id']}  {c['created_at']:%Y-%m-%d %H:%M} UTC  {until:<26} {c['name']}")
    elif args.command == "cancel-code":
        count = store.cancel_code(args.code)
        print(f"Cancelled {count} enrolment code(s).")
        return 0 if count else 1
    elif args.command == "revoke":
        count = store.revoke(args.device)
        print(f"Revoked {count} desk(s).")
        return 0 if count else 1
    elif args.command == "devices":
        _print_devices(store)
    elif args.command == "seed":
        from frontdesk.server.seed import seed_from_desk

        counts = seed_from_desk(store, Path(args.from_desk))
        print(f"Loaded {sum(counts.values()):,} rows from the desk into the server.")
    elif args.command in ("api-key", "api-log"):
        _api_command(args, store)
    elif args.command == "ical":
        _ical_command(args, store)
    elif args.command == "new-epoch":
        print(f"New epoch {store.new_epoch()}: every desk will re-sync.")
    elif args.command == "check-totals":
        found = store.check_totals(repair=args.repair)
        for line in found:
            print(f"Differs: {line}")
        print("Repaired." if found and args.repair else f"{len(found)} table(s) differ.")
        store.dispose()
        return 1 if found and not args.repair else 0
    elif args.command == "sms-webhook-key":
        from frontdesk.server.webhooks import set_public_url, webhook_key

        if args.public_url:
            set_public_url(store, args.public_url)
        key = webhook_key(store)
        print(f"Give your SMS provider these addresses (this server's public address first):\n"
              f"  delivery receipts: /webhooks/sms/PROVIDER/status?key={key}\n"
              f"  replies:           /webhooks/sms/PROVIDER/inbound?key={key}\n"
              "with PROVIDER twilio or clicksend.")  # fmt: skip
    store.dispose()
    return 0


def _api_command(args: argparse.Namespace, store: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from frontdesk.server.api import keys

    if args.command == "api-log":
        for row in reversed(keys.audit_log(store, args.limit)):
            print(
                f"{row['at']:%Y-%m-%d %H:%M:%S} UTC  key {row['key_id']}  {row['status']}  "
                f"{row['operation']}  patient {row['patient_id'] or '-'}"
            )
    elif args.api_command == "create":
        expires = None
        if args.expires:
            try:
                day = datetime.strptime(args.expires, "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError as exc:
                raise RuleViolation("Give --expires as YYYY-MM-DD, e.g. 2027-06-30.") from exc
            expires = day + timedelta(days=1)
        key, token = keys.create_key(
            store,
            args.name,
            keys.parse_scopes(args.scope),
            expires_at=expires,
            rate_per_minute=args.rate,
        )
        print(f"API key for {key.name!r} (scopes: {' '.join(sorted(key.scopes))}):")
        print(token)
        print("It is shown only this once: store it in the integration's secret settings.")
    elif args.api_command == "list":
        for k in keys.list_keys(store):
            state = "revoked" if k.revoked_at else "active"
            until = f"until {k.expires_at:%Y-%m-%d}" if k.expires_at else "no expiry"
            used = f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never used"
            print(
                f"{k.prefix}  {state:<8} {until:<17} {used:<17} "
                f"{' '.join(sorted(k.scopes)):<40} {k.name}"
            )
    elif args.api_command == "revoke":
        count = keys.revoke_key(store, args.key)
        print(f"Revoked {count} API key(s).")
        if not count:
            raise RuleViolation(f"No active API key is called {args.key!r}.")


def _ical_command(args: argparse.Namespace, store: Any) -> None:
    from frontdesk.server.api import ical

    if args.ical_command == "create":
        detail = "initials" if args.initials else "busy"
        feed, path = ical.create_feed(store, args.practitioner, detail)
        print(
            f"Calendar feed {feed.id} ({detail}): add this address, on the server's host and "
            f"port, to the practitioner's calendar app:"
        )
        print(path)
        print("It is shown only this once; anyone with it can read the feed until it is revoked.")
    elif args.ical_command == "list":
        for f in ical.list_feeds(store):
            state = "revoked" if f.revoked_at else "active"
            print(f"{f.id}  {state:<8} {f.detail:<9} practitioner {f.practitioner_id}")
    elif args.ical_command == "revoke":
        count = ical.revoke_feed(store, args.feed)
        print(f"Revoked {count} calendar feed(s).")
        if not count:
            raise RuleViolation(f"No active calendar feed has the id {args.feed!r}.")


def _print_devices(store: Any) -> None:
    """One line a desk: when it last reached the server (UTC), how many of its own changes it
    said were waiting to be sent, and how many of the clinic's it has not received yet — a desk
    that stopped syncing stands out."""
    with store.reading() as conn:
        latest = store._max_seq(conn)
    print(
        f"{'#':>3} {'desk id':<36} {'series':<6} {'state':<8} {'last seen (UTC)':<17} "
        f"{'to send':>7} {'to get':>7}  name"
    )
    for d in store.list_devices():
        state = "revoked" if d["revoked_at"] else "active"
        seen = d["last_seen_at"].strftime("%Y-%m-%d %H:%M") if d["last_seen_at"] else "never"
        to_get = "?" if d["pull_cursor"] is None else str(max(latest - d["pull_cursor"], 0))
        to_send = "?" if d["unsent"] is None else str(d["unsent"])
        print(
            f"{d['number']:>3} {d['id']:<36} {d['series_prefix']:<6} {state:<8} {seen:<17} "
            f"{to_send:>7} {to_get:>7}  {d['name']}"
        )


def _tls_files(args: argparse.Namespace) -> tuple[str, str] | None:
    """The certificate and key to serve with: the clinic's own, or the data folder's."""
    from frontdesk.server.tls import files_in, make_certificate

    if args.cert or args.key:
        if not (args.cert and args.key):
            raise RuleViolation("Give both --cert and --key (PEM files), or use --tls.")
        return args.cert, args.key
    if not args.tls:
        return None
    files = files_in(server_folder(args.data_dir))
    if not files.exists():
        files = make_certificate(files.cert.parent, [args.host])
        log.info("made a self-signed TLS certificate in the data folder")
    return str(files.cert), str(files.key)


SERVER_KEEP_ALIVE_S = 30
MAX_WORKERS = 16
SERVER_STOP_GRACE_S = 3


def _run(args: argparse.Namespace, url: str) -> int:
    import shutil
    import tempfile

    import uvicorn

    from frontdesk.server.app import create_app
    from frontdesk.server.processes import SHARED_DIR_ENV, URL_ENV
    from frontdesk.server.store import ServerStore
    from frontdesk.server.tls import certificate_fingerprint

    tls = _tls_files(args)
    if tls is not None:
        fp = certificate_fingerprint(Path(tls[0]))
        log.info("serving https, certificate fingerprint SHA256 %s", fp)
        print(f"TLS certificate fingerprint: SHA256 {fp}", flush=True)
    else:
        log.info("serving plain http: not encrypted (use --tls on a shared network)")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise RuleViolation(f"--workers is a number from 1 to {MAX_WORKERS}.")
    target: Any
    if args.workers == 1:
        target = create_app(url, serving=True)
    else:
        # the database is brought up to date once, then each process opens it as it is; they
        # share a folder for the rate limits (server/processes.py) and learn the URL from the
        # environment (uvicorn starts them afresh)
        ServerStore(url).init()
        shared = tempfile.mkdtemp(prefix="frontdesk-server-")
        os.environ[SHARED_DIR_ENV] = shared
        os.environ[URL_ENV] = url
        target = "frontdesk.server.app:app_from_environment"
        log.info("serving with %d processes", args.workers)
    uvicorn.run(
        target,
        factory=args.workers > 1,
        workers=args.workers,
        host=args.host,
        port=args.port,
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
        log_config=None,
        access_log=False,
        # longer than a desk keeps an idle connection (sync/transport.py), so the desk always
        # lets go first and never sends on a connection the server is closing
        timeout_keep_alive=SERVER_KEEP_ALIVE_S,
        # Stopping (a service manager's SIGTERM, Ctrl+C) waits this long for requests in
        # flight, then ends desks' long-polls and integrators' event streams: they reconnect
        # to the next server. Unbounded, one open event stream kept the server from stopping.
        timeout_graceful_shutdown=SERVER_STOP_GRACE_S,
    )
    if args.workers > 1:
        shutil.rmtree(os.environ[SHARED_DIR_ENV], ignore_errors=True)
    return 0


def _safe(url: str) -> str:
    """The database URL without a password, for printing."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


if __name__ == "__main__":
    sys.exit(main())
