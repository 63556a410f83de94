"""Trusting the clinic server's TLS certificate: the system's certificate authorities, or one
certificate a person confirmed by its SHA-256 fingerprint (a clinic's self-signed certificate
on a back-office PC). Standard library only, so the desk needs no extra crypto package.
"""

from __future__ import annotations

import re
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from frontdesk.domain.errors import EnvironmentProblem, RuleViolation
from frontdesk.protocol import fingerprint

DEFAULT_HTTPS_PORT = 443


class CertificateProblem(EnvironmentProblem):
    """The clinic server's certificate is not one this desk may trust; nothing was sent."""


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as typed or pasted ("sha256 ab:cd…", "ABCD…") in the colon-hex form."""
    cleaned = re.sub(r"(?i)^\s*sha-?256\s*[:=]?\s*", "", text)
    digits = re.sub(r"[\s:\-]", "", cleaned).upper()
    if not re.fullmatch(r"[0-9A-F]{64}", digits):
        raise RuleViolation(
            "That is not a SHA-256 fingerprint: it should be 32 pairs of the digits 0-9 and "
            "letters A-F, as frontdesk-server prints it."
        )
    return ":".join(digits[i : i + 2] for i in range(0, 64, 2))


def is_https(url: str) -> bool:
    return url.lower().startswith("https://")


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or DEFAULT_HTTPS_PORT


def system_context() -> ssl.SSLContext:
    """The operating system's certificate authorities (honours SSL_CERT_FILE / SSL_CERT_DIR)."""
    return ssl.create_default_context()


def pinned_context(pem: str) -> ssl.SSLContext:
    """A context that accepts exactly the pinned certificate and nothing else."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cadata=pem)
    # The pinned certificate itself is the only trust anchor, even when a clinic's own CA
    # issued it: the chain ends at the pin, and no other CA (system or otherwise) is loaded.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    # The pin *is* the server's identity: a person compared its fingerprint with the one the
    # server printed. A LAN server is often reached by an IP address or a name its certificate
    # does not list (DHCP changes, a new hostname), so the name check adds nothing here and
    # would only break working desks. Signature, validity dates and the pin are still checked.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def context_for(url: str, pinned_pem: str | None) -> ssl.SSLContext | bool:
    """What httpx's ``verify=`` gets for this server address."""
    if not is_https(url):
        return True  # plain http: no TLS at all (the Settings tab says so)
    return pinned_context(pinned_pem) if pinned_pem else system_context()


def _handshake(url: str, context: ssl.SSLContext, timeout: float) -> bytes | None:
    host, port = _host_port(url)
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as sock,
            context.wrap_socket(sock, server_hostname=host) as tls,
        ):
            return tls.getpeercert(binary_form=True)
    except ssl.SSLCertVerificationError:
        raise
    except (OSError, ssl.SSLError) as exc:
        from frontdesk.sync.transport import Unreachable

        raise Unreachable(
            f"The clinic server at {url} cannot be reached over https. Check the address and "
            "that the server runs with a certificate.",
            detail=type(exc).__name__,
        ) from exc


def fetch_certificate(url: str, timeout: float = 10.0) -> str:
    """The certificate the server at ``url`` presents, as PEM, without trusting it (only to
    show its fingerprint to a person, or to name a changed one)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # a look only: nothing is sent over this connection
    der = _handshake(url, context, timeout)
    if not der:
        raise CertificateProblem(f"The clinic server at {url} sent no certificate.")
    return ssl.DER_cert_to_PEM_cert(der)


def system_trusts(url: str, timeout: float = 10.0) -> bool:
    """Does this computer's own list of certificate authorities vouch for the server (its
    name included)?"""
    try:
        _handshake(url, system_context(), timeout)
    except ssl.SSLCertVerificationError:
        return False
    return True


@dataclass(frozen=True)
class ServerCertificate:
    """What a desk learnt about an https server before trusting it."""

    url: str
    pem: str
    fingerprint: str
    trusted_by_system: bool


def inspect_server(url: str) -> ServerCertificate:
    """Fetch the server's certificate and whether the system trusts it (network: not on the
    GUI thread)."""
    pem = fetch_certificate(url)
    return ServerCertificate(url, pem, fingerprint(pem), system_trusts(url))


def confirm(found: ServerCertificate, expected: str) -> str:
    """The certificate to pin when ``expected`` (typed by a person) matches; refuse otherwise."""
    if normalise_fingerprint(expected) != found.fingerprint:
        raise CertificateProblem(
            "The clinic server's certificate does not match the fingerprint you gave, so this "
            "desk will not trust it and nothing was saved. The server presents "
            f"SHA256 {found.fingerprint}. Check the address, and compare with the fingerprint "
            "frontdesk-server printed when it started."
        )
    return found.pem


def changed_message(url: str, pinned_pem: str, presented_pem: str | None) -> str:
    now = fingerprint(presented_pem) if presented_pem else "unknown"
    if now == fingerprint(pinned_pem):
        return (
            f"The clinic server's certificate (SHA256 {now}) is no longer valid: it has expired "
            "or its dates are wrong. Sync has stopped. Make a new certificate on the server "
            "(frontdesk-server cert --replace), then confirm its fingerprint in Settings → "
            "Clinic server."
        )
    return (
        f"The clinic server's certificate has changed: {url} now presents SHA256 {now}; this "
        f"desk trusts only SHA256 {fingerprint(pinned_pem)}. Sync has stopped. If the server "
        "got a new certificate on purpose, re-enrol or confirm the new fingerprint in "
        "Settings → Clinic server; otherwise tell whoever runs the server."
    )


def untrusted_message(url: str) -> str:
    return (
        f"The clinic server at {url} uses a certificate this computer does not trust. Compare "
        "its fingerprint with the one frontdesk-server printed and confirm it (Settings → "
        "Clinic server, or frontdesk enrol --fingerprint)."
    )
