"""``frontdesk messages send [--loop SECONDS]``: the sender. On the clinic server's machine it
runs as an enrolled desk (the "messaging desk") beside frontdesk-server: each round it syncs,
applies the SMS receipts and replies the server's webhooks took, plans tomorrow's reminders,
sends what is due, and syncs again so every desk sees the result. On a desk with no clinic
server it just plans and sends. Providers come from Settings → Messages and this machine's
keychain.
The provider's callback addresses come from ``frontdesk-server sms-webhook-key``."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from frontdesk.domain.errors import FrontdeskError
from frontdesk.paths import desk_paths
from frontdesk.services.desk import open_desk
from frontdesk.store.context import ServiceContext
from frontdesk.sync.engine import SyncEngine


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("messages", help="send patient messages")
    p.add_argument("action", choices=["send"], help="send what is due (once, or --loop)")
    p.add_argument("--loop", type=float, default=0, help="repeat every SECONDS until stopped")
    p.add_argument(
        "--replies-every",
        type=float,
        default=1.0,
        help="between rounds, look for SMS replies every SECONDS (a reply reaches every desk "
        "within about this long)",
    )
    p.set_defaults(run=run)


def one_round(ctx: ServiceContext) -> str:
    from frontdesk.services.messaging.rounds import local_round
    from frontdesk.sync.setup import engine_for, server_address
    from frontdesk.sync.sms_events import take_sms_events

    url, _pin = server_address(ctx)
    engine = engine_for(ctx) if url else None
    taken = 0
    if engine is not None:
        engine.sync()
        taken = take_sms_events(engine)
    planned, report = local_round(ctx)
    if engine is not None:
        engine.sync()
    return (
        f"replies/receipts {taken}, reminders planned {planned}, sent {report.sent}, "
        f"retrying {report.retried}, failed {report.failed}, withdrawn {report.cancelled}"
    )


def take_replies(engine: SyncEngine) -> int:
    """Between rounds: apply the replies and receipts the server's webhooks took, and sync at
    once when there were any (a "C" shows on every desk's diary within seconds)."""
    from frontdesk.sync.sms_events import take_sms_events

    taken = take_sms_events(engine)
    if taken:
        engine.sync()
    return taken


def run(args: argparse.Namespace) -> int:
    from frontdesk.sync.setup import engine_for, server_address

    ctx = open_desk(desk_paths(args.data_dir))
    engine = None
    try:
        engine = engine_for(ctx) if server_address(ctx)[0] else None
    except FrontdeskError as exc:  # each round says so again; between rounds, nothing to poll
        print(f"Messages: {exc.user_message}", file=sys.stderr, flush=True)
    while True:
        try:
            print(one_round(ctx), flush=True)
        except FrontdeskError as exc:
            print(f"Messages: {exc.user_message}", file=sys.stderr, flush=True)
            if not args.loop:
                return 2
        if not args.loop:
            return 0
        next_round = time.monotonic() + args.loop
        while time.monotonic() < next_round:
            time.sleep(max(0.05, min(args.replies_every, next_round - time.monotonic())))
            if engine is None:
                continue
            try:
                take_replies(engine)
            except FrontdeskError as exc:
                print(f"Messages: {exc.user_message}", file=sys.stderr, flush=True)
