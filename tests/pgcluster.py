"""A throwaway PostgreSQL cluster for tests (``initdb`` + ``pg_ctl``), one per test session.

PostgreSQL refuses to run as root: when the tests run as root (as CI does), the cluster runs as
the system user ``pgtest`` (created here with ``useradd`` if missing) through ``runuser``.
Binaries are looked up on PATH, then /usr/local/bin, then /usr/lib/postgresql/*/bin. Without
them the PostgreSQL tests are skipped, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_USER = "pgtest"


def _find(binary: str) -> str | None:
    found = shutil.which(binary)
    if found:
        return found
    for folder in ["/usr/local/bin", *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]:
        path = Path(folder) / binary
        if path.exists():
            return str(path)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    if subprocess.run(["id", PG_USER], capture_output=True, check=False).returncode != 0:
        # several test workers may get here at once: whoever loses the race finds the user made
        subprocess.run(["useradd", "--system", "--no-create-home", PG_USER], check=False)
        subprocess.run(["id", PG_USER], capture_output=True, check=True)
    return ["runuser", "-u", PG_USER, "--", *cmd]


class PgCluster:
    """``data_from``: start on a copy of a data directory a cluster left with ``stop(keep=…)``
    (the benchmarks' seeded clinic) instead of a new, empty one."""

    def __init__(self, data_from: Path | None = None) -> None:
        initdb, pg_ctl = _find("initdb"), _find("pg_ctl")
        if not initdb or not pg_ctl:
            raise FileNotFoundError("initdb/pg_ctl not found")
        self.pg_ctl = pg_ctl
        self.dir = Path(tempfile.mkdtemp(prefix="frontdesk-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.user = PG_USER if os.geteuid() == 0 else os.environ.get("USER", "postgres")
        if os.geteuid() == 0:
            _as_user(["true"])  # make sure the user exists
            shutil.chown(self.dir, PG_USER)
        os.chmod(self.dir, 0o755)
        if data_from is not None:  # ownership and modes kept: PostgreSQL checks both
            copy = ["cp", "-a", "--reflink=auto", str(data_from), str(self.data)]
            subprocess.run(copy, check=True)
            (self.data / "postmaster.pid").unlink(missing_ok=True)
        else:
            self._initdb(initdb)
        self._start()

    def _initdb(self, initdb: str) -> None:
        subprocess.run(
            _as_user(
                [
                    initdb,
                    "-D",
                    str(self.data),
                    "-A",
                    "trust",
                    "-U",
                    self.user,
                    "--no-sync",
                    "-E",
                    "UTF8",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def _start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200"
        )
        subprocess.run(
            _as_user(
                [
                    self.pg_ctl,
                    "-D",
                    str(self.data),
                    "-o",
                    opts,
                    "-l",
                    str(self.dir / "log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self, keep: Path | None = None) -> None:
        """Stop and delete the cluster; with ``keep``, stop it cleanly (a checkpoint) and move
        its data directory there instead, for ``PgCluster(data_from=keep)``."""
        subprocess.run(
            _as_user(
                [self.pg_ctl, "-D", str(self.data), "-m", "fast" if keep else "immediate", "stop"]
            ),
            capture_output=True,
            check=keep is not None,
        )
        if keep is not None:
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(self.data), str(keep))
        time.sleep(0.1)
        shutil.rmtree(self.dir, ignore_errors=True)


def pg_cluster_fixture() -> Iterator[PgCluster]:
    try:
        cluster = PgCluster()
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no PostgreSQL for tests: {exc}")
    yield cluster
    cluster.stop()
