"""``frontdesk enrol --server URL --code CODE [--fingerprint SHA256]`` and ``frontdesk sync``: set
up and run sync from the command line (for setting up desks by script).

An https server whose certificate this computer does not trust is enrolled only after its
fingerprint is confirmed: ``--fingerprint`` must match, or a person at a terminal says yes.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from frontdesk.domain.errors import FrontdeskError, RuleViolation
from frontdesk.paths import desk_paths
from frontdesk.services.desk import open_desk


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "enrol", help="enrol this desk with a clinic server"
    )
    p.add_argument("--server", required=True, help="the server's address, e.g. http://host:8765")
    p.add_argument("--code", required=True, help="the one-time enrolment code")
    p.add_argument("--name", default="", help="a name for this desk (e.g. Front desk)")
    p.add_argument(
        "--fingerprint",
        help="the SHA-256 fingerprint frontdesk-server printed (https with its own certificate)",
    )
    p.set_defaults(run=run_enrol)
    s: argparse.ArgumentParser = sub.add_parser("sync", help="sync once with the clinic server")
    s.set_defaults(run=run_sync)


def run_enrol(args: argparse.Namespace) -> int:
    from frontdesk.sync.pinning import is_https
    from frontdesk.sync.setup import enrol, normalise_address

    ctx = open_desk(desk_paths(args.data_dir))
    try:
        url = normalise_address(args.server)
        if not is_https(url) and args.fingerprint:
            raise RuleViolation(
                "A fingerprint is only for an https:// server address; this one is not "
                "encrypted. Nothing was saved."
            )
        certificate = _certificate_to_pin(url, args.fingerprint) if is_https(url) else None
        prefix = enrol(ctx, url, args.code, device_name=args.name, certificate=certificate)
    except FrontdeskError as exc:
        print(exc.user_message, file=sys.stderr)
        return 2
    if certificate:
        print("This desk now trusts only the clinic server certificate you confirmed.")
    print(f"Enrolled. This desk numbers its invoices {prefix}-000001 onwards.")
    return run_sync(args)


def _certificate_to_pin(url: str, expected: str | None) -> str | None:
    """The server's certificate to pin (PEM), or None when the system's authorities vouch for
    it and no fingerprint was given; refuses an unconfirmed certificate."""
    from frontdesk.sync.pinning import CertificateProblem, confirm, inspect_server

    found = inspect_server(url)
    if expected:
        return confirm(found, expected)
    if found.trusted_by_system:
        return None
    if not sys.stdin.isatty():
        raise CertificateProblem(
            f"The clinic server at {url} uses a certificate this computer does not trust. "
            f"Its fingerprint is SHA256 {found.fingerprint}. If that is the fingerprint "
            "frontdesk-server printed, run this again with --fingerprint and it. Nothing was "
            "saved."
        )
    print(f"The clinic server at {url} presents a certificate with the fingerprint")
    print(f"  SHA256 {found.fingerprint}")
    answer = input("Is that the fingerprint frontdesk-server printed? Type yes to trust it: ")
    if answer.strip().lower() not in ("y", "yes"):
        raise CertificateProblem("The certificate was not confirmed. Nothing was saved.")
    return found.pem


def run_sync(args: argparse.Namespace) -> int:
    from frontdesk.sync.setup import engine_for

    ctx = open_desk(desk_paths(args.data_dir))
    try:
        summary = engine_for(ctx).sync()
    except FrontdeskError as exc:
        print(f"Sync did not finish: {exc.user_message}", file=sys.stderr)
        return 1
    print(summary.text())
    if summary.rejected:
        # A script (or a scheduled task) must notice: those changes are not on the clinic's copy.
        print(
            f"{summary.rejected} change(s) were refused by the clinic server; the reasons are "
            "listed in the app's Conflicts area.",
            file=sys.stderr,
        )
    return 0 if not summary.pending and not summary.rejected else 1
