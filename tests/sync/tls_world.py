"""Real TLS for tests: a ``frontdesk-server`` process serving https on loopback (with the
certificate ``frontdesk-server cert`` made, or one given with --cert/--key), and a small
certificate authority made in the test for the "trusted by the system" path."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.sync.test_sync_kill import Server


class TlsServer(Server):
    """``frontdesk-server run --tls`` (or ``--cert/--key``) on 127.0.0.1, its data folder in
    ``tmp/server-data``. ``printed`` is the fingerprint line the server printed at start."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp)
        self.folder = tmp / "server-data"
        self.printed = ""

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "frontdesk.server.cli", "--data-dir", str(self.folder),
                "--database", str(self.db), *args]  # fmt: skip

    def run_cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )

    def cli(self, *args: str) -> str:
        out = self.run_cli(*args)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def enrolment_code(self, name: str = "Front desk") -> str:
        return self.cli("enrol", "--name", name).split(": ", 1)[1].split()[0]

    def start(self, *run_args: str) -> None:  # type: ignore[override]
        self.proc = subprocess.Popen(
            self.command("run", "--port", str(self.port), *(run_args or ("--tls",))),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.printed = self.proc.stdout.readline().strip()
        for _ in range(150):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:  # uvicorn waits for connections a failed handshake may leave half-open
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()


def printed_fingerprint(line: str) -> str:
    """``… SHA256 AB:CD:…`` → ``AB:CD:…``."""
    return line.rsplit("SHA256 ", 1)[1].strip()


def make_authority(folder: Path) -> tuple[Path, Path, Path]:
    """A test certificate authority and a server certificate it issued for 127.0.0.1 and
    localhost: (authority PEM, server certificate PEM, server key PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    # A fixed validity window, not one around "now": OpenSSL checks validity against the C
    # library's clock, which scripts/clock_matrix.py does not move (it moves Python's), so a
    # window around a moved "now" would look not-yet-valid or expired. 2020-2049 covers any
    # moment a test runs at.
    valid_from = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    valid_until = dt.datetime(2049, 12, 31, tzinfo=dt.UTC)

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Test Clinic Group CA"))
        .issuer_name(name("Test Clinic Group CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_until)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "ca.pem", folder / "issued-cert.pem", folder / "issued-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths
