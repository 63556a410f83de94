"""The clinic server's own TLS certificate: a self-signed certificate and key in the server's
data folder, for a back-office PC on the LAN that no public authority would certify. Desks
trust it by pinning: a person compares the SHA-256 fingerprint the server prints with the one
the desk shows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from frontdesk.domain.errors import EnvironmentProblem, RuleViolation
from frontdesk.paths import private_dir
from frontdesk.protocol import fingerprint

CERT_FILE = "server-cert.pem"
KEY_FILE = "server-key.pem"
VALID_DAYS = 3650  # pinned, not publicly trusted: a renewal would re-confirm every desk


@dataclass(frozen=True)
class ServerCertificateFiles:
    cert: Path
    key: Path

    def exists(self) -> bool:
        return self.cert.exists() and self.key.exists()

    def fingerprint(self) -> str:
        return certificate_fingerprint(self.cert)


def files_in(folder: Path) -> ServerCertificateFiles:
    return ServerCertificateFiles(folder / CERT_FILE, folder / KEY_FILE)


def certificate_fingerprint(path: Path) -> str:
    try:
        return fingerprint(path.read_text(encoding="ascii"))
    except (OSError, ValueError) as exc:
        raise EnvironmentProblem(
            f"The certificate file {path} cannot be read as a PEM certificate.",
            detail=type(exc).__name__,
        ) from exc


def subject_names(hosts: Iterable[str]) -> list[str]:
    """The names and addresses the certificate lists: those given, the machine's hostname,
    localhost and 127.0.0.1, each once, in that order."""
    names: list[str] = []
    for given in [*hosts, socket.gethostname(), "localhost", "127.0.0.1"]:
        name = given.strip().strip("[]")
        if name and name not in ("0.0.0.0", "::") and name not in names:  # noqa: S104
            names.append(name)
    return names


def make_certificate(
    folder: Path, hosts: Iterable[str] = (), *, replace: bool = False
) -> ServerCertificateFiles:
    """Write a new self-signed certificate and its private key (mode 0600) into ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    files = files_in(folder)
    if files.exists() and not replace:
        raise RuleViolation(
            f"This server already has a certificate ({files.cert}), fingerprint SHA256 "
            f"{files.fingerprint()}. Enrolled desks trust that one; to make a new one anyway "
            "run frontdesk-server cert --replace, then confirm the new fingerprint on every desk."
        )
    names = subject_names(hosts)
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "frontdesk clinic server"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))  # a desk clock a little behind
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    private_dir(folder)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private(files.key, key_pem)
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files


def _write_private(path: Path, data: bytes) -> None:
    """Owner-only from the first byte (0600), replacing any older key."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)  # in case the umask or platform widened it
