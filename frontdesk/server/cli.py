"""``frontdesk-server``: set up, run and administer the clinic server.

    frontdesk-server init [--database URL]           # create, or upgrade, the database
    frontdesk-server upgrade                         # bring the database to this version
    frontdesk-server run [--host H --port P --database URL --cert FILE --key FILE]
    frontdesk-server enrol --name "Front desk"      # prints a one-time code
    frontdesk-server revoke NAME_OR_ID
    frontdesk-server devices
    frontdesk-server seed --from-desk DIR            # load an existing desk's clinic

Without ``--database`` the server keeps a SQLite file in its data folder (``--data-dir`` or the
platform's user-data folder), so a back-office PC needs nothing else installed.

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

import platformdirs

from frontdesk.domain.errors import FrontdeskError


def default_database(data_dir: str | None) -> str:
    folder = Path(data_dir or platformdirs.user_data_dir("frontdesk-server", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / "server.sqlite3")


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


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)
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
    run.add_argument("--cert", help="TLS certificate (PEM)")
    run.add_argument("--key", help="TLS private key (PEM)")
    enrol = sub.add_parser("enrol", help="make a one-time enrolment code for a new desk")
    enrol.add_argument("--name", required=True)
    revoke = sub.add_parser("revoke", help="revoke a desk's access")
    revoke.add_argument("device", help="device name or id")
    sub.add_parser("devices", help="list enrolled desks")
    seed = sub.add_parser("seed", help="load the clinic of an existing desk into a new server")
    seed.add_argument("--from-desk", required=True, help="the desk's data folder")
    sub.add_parser("new-epoch", help="after restoring a backup: make every desk re-sync")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging()
    url = getattr(args, "run_database", None) or args.database or default_database(args.data_dir)
    try:
        return _dispatch(args, url)
    except FrontdeskError as exc:
        print(exc.user_message, file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace, url: str) -> int:
    from frontdesk.server.store import ServerStore

    if args.command == "run":
        import uvicorn

        from frontdesk.server.app import create_app

        app = create_app(url)
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            ssl_certfile=args.cert,
            ssl_keyfile=args.key,
            log_config=None,
            access_log=False,
        )
        return 0
    store = ServerStore(url)
    outcome = store.init()
    if args.command in ("init", "upgrade"):
        print(f"{outcome.describe()} ({_safe(url)})")
    if args.command == "enrol":
        code = store.create_enrolment_code(args.name)
        print(f"Enrolment code for {args.name!r}: {code}")
        print("Enter it on the desk under Settings → Clinic server. It works once.")
    elif args.command == "revoke":
        count = store.revoke(args.device)
        print(f"Revoked {count} desk(s).")
        return 0 if count else 1
    elif args.command == "devices":
        for d in store.list_devices():
            state = "revoked" if d["revoked_at"] else "active"
            print(f"{d['number']:>3} {d['id']} {d['series_prefix']:<5} {state:<8} {d['name']}")
    elif args.command == "seed":
        from frontdesk.server.seed import seed_from_desk

        counts = seed_from_desk(store, Path(args.from_desk))
        print(f"Loaded {sum(counts.values()):,} rows from the desk into the server.")
    elif args.command == "new-epoch":
        print(f"New epoch {store.new_epoch()}: every desk will re-sync.")
    store.dispose()
    return 0


def _safe(url: str) -> str:
    """The database URL without a password, for printing."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


if __name__ == "__main__":
    sys.exit(main())
