"""Real processes: a desk killed with SIGKILL in the middle of a push and of a pull, and the
server killed in the middle of a batch; each resumes and the clinic converges."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.vocab import SeriesKind
from frontdesk.models import Patient
from frontdesk.paths import DeskPaths
from frontdesk.server.merge import COMMIT_EVERY
from frontdesk.services.billing.balances import check_balances
from frontdesk.services.desk import open_desk
from frontdesk.store.numbering import next_number
from frontdesk.sync.engine import PUSH_BATCH
from tests.sync.clinic import START

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "PYTHON_KEYRING_BACKEND": "tests.sync.file_keyring.FileKeyring",
            "FRONTDESK_TEST_KEYRING": str(tmp / "keyring.json"),
            "QT_QPA_PLATFORM": "offscreen",
        }
    )
    return env


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, tmp: Path) -> None:
        self.db = tmp / "server.sqlite3"
        self.port = _port()
        self.env = _env(tmp)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "frontdesk.server.cli", "--database", str(self.db), *args],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout

    def start(self, pause_at: str = "") -> None:
        env = dict(self.env)
        if pause_at:
            env.update(_pause_env(self.db.parent, pause_at))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "frontdesk.server.cli",
                "--database",
                str(self.db),
                "run",
                "--port",
                str(self.port),
            ],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                if httpx.get(f"{self.url}/health", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def count(self, sql: str) -> int:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute(sql).fetchone()[0])
        finally:
            conn.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path)
    s.cli("init")
    s.start()
    yield s
    if s.proc and s.proc.poll() is None:
        s.kill()


def _pause_env(tmp: Path, pause_at: str) -> dict[str, str]:
    """Make the process stop at an exact place (frontdesk/faults.py) and say so in a file."""
    marker = tmp / "paused"
    marker.unlink(missing_ok=True)
    return {"FRONTDESK_PAUSE_AT": pause_at, "FRONTDESK_PAUSE_FILE": str(marker)}


def _kill_when_paused(proc: subprocess.Popen[bytes], tmp: Path, limit: float = 120) -> None:
    marker = tmp / "paused"
    deadline = time.monotonic() + limit
    while not marker.exists():
        assert proc.poll() is None, "the process ended before reaching its pause point"
        assert time.monotonic() < deadline, "the process never reached its pause point"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    marker.unlink()


def _desk_cli(tmp: Path, desk: Path, *args: str, pause_at: str = "") -> subprocess.Popen[bytes]:
    env = _env(tmp)
    if pause_at:
        env.update(_pause_env(tmp, pause_at))
    return subprocess.Popen(
        [sys.executable, "-m", "frontdesk.app", "--data-dir", str(desk), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _enrol(tmp: Path, server: Server, desk: Path, name: str) -> None:
    code = server.cli("enrol", "--name", name).split(": ", 1)[1].split()[0]
    proc = _desk_cli(tmp, desk, "enrol", "--server", server.url, "--code", code, "--name", name)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()


def _desk_count(desk: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{desk / 'frontdesk.sqlite3'}?mode=ro", uri=True, timeout=5)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def _sync_ok(tmp: Path, desk: Path) -> str:
    proc = _desk_cli(tmp, desk, "sync")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    return out.decode()


def test_kill_desk_mid_push_and_mid_pull_and_server_mid_batch(
    tmp_path: Path, server: Server
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _enrol(tmp_path, server, a, "Front desk")
    _enrol(tmp_path, server, b, "Back office")
    ctx = open_desk(DeskPaths(a), clock=FakeClock(START))
    with ctx.write("import patients") as s:
        for n in range(2500):
            _sid, number = next_number(s, SeriesKind.PATIENT)
            s.add(Patient(patient_number=number, first_name=f"K{n}", last_name="Kill"))
    ctx.engine.dispose()
    total = _desk_count(a, "select count(*) from sync_outbox where state='pending'")
    assert total >= 5000

    results = "select count(*) from server_mutation_results"
    pending_sql = "select count(*) from sync_outbox where state='pending'"

    # 1. The desk dies in the middle of its push: the server has answered its second batch,
    #    the desk has not recorded that answer.
    before = server.count(results)  # what desk b sent when it enrolled
    proc = _desk_cli(tmp_path, a, "sync", pause_at="desk.push.answered:2")
    _kill_when_paused(proc, tmp_path)
    assert server.count(results) == before + 2 * PUSH_BATCH
    assert _desk_count(a, pending_sql) == total - PUSH_BATCH  # the second answer was lost

    # 2. The server dies in the middle of a batch, one chunk of it committed. (The desk first
    #    sends again the batch whose answer it lost: answered from the stored results, that
    #    push passes the pause point once; the next push is the new batch.)
    server.kill()
    server.start(pause_at="server.push.chunk:2")
    proc = _desk_cli(tmp_path, a, "sync")
    _kill_when_paused(server.proc, tmp_path)  # type: ignore[arg-type]
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and b"Traceback" not in err  # a clear message, not a crash
    assert server.count(results) == before + 2 * PUSH_BATCH + COMMIT_EVERY
    server.start()

    # 3. Resume: everything arrives exactly once.
    _sync_ok(tmp_path, a)
    assert _desk_count(a, pending_sql) == 0
    assert server.count(results) == before + total
    assert server.count(results) == server.count(
        "select count(distinct mutation_id) from server_mutation_results"
    )
    assert server.count("select count(*) from patients where last_name='Kill'") == 2500

    # 4. The other desk dies right after committing its first pulled batch, then resumes.
    cursor = "select pull_cursor from sync_state"
    start_cursor = _desk_count(b, cursor)
    proc = _desk_cli(tmp_path, b, "sync", pause_at="desk.pull.applied:1")
    _kill_when_paused(proc, tmp_path)
    mid = _desk_count(b, cursor)
    latest = server.count("select max(seq) from server_change_log")
    assert start_cursor < mid < latest
    _sync_ok(tmp_path, b)
    assert _desk_count(b, "select count(*) from patients where last_name='Kill'") == 2500
    assert _desk_count(b, cursor) == server.count("select max(seq) from server_change_log")


def _server_patients(server: Server, count: int) -> None:
    """Copies of one patient straight into the server database (a big clinic, quickly)."""
    conn = sqlite3.connect(server.db, isolation_level=None)
    try:
        cur = conn.execute("SELECT * FROM patients LIMIT 1")
        names = [d[0] for d in cur.description]
        row = list(cur.fetchone())
        rows = []
        for n in range(count):
            copy = list(row)
            copy[names.index("id")] = f"{n:08x}-0000-7000-8000-000000000000"
            copy[names.index("patient_number")] = f"BULK-{n:06d}"
            copy[names.index("first_name")] = f"Bulk{n}"
            rows.append(copy)
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO patients VALUES ({', '.join('?' * len(names))})", rows)
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_kill_desk_mid_first_sync_then_it_completes(tmp_path: Path, server: Server) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _enrol(tmp_path, server, a, "Front desk")
    ctx = open_desk(DeskPaths(a), clock=FakeClock(START))
    with ctx.write("add patient") as s:
        _sid, number = next_number(s, SeriesKind.PATIENT)
        s.add(Patient(patient_number=number, first_name="First", last_name="Kill"))
    ctx.engine.dispose()
    _sync_ok(tmp_path, a)
    _server_patients(server, 120_000)
    total = server.count("select count(*) from patients")

    # The new desk enrols and dies in the middle of its first sync (some pages written).
    code = server.cli("enrol", "--name", "New desk").split(": ", 1)[1].split()[0]
    proc = _desk_cli(
        tmp_path, b, "enrol", "--server", server.url, "--code", code,
        pause_at="desk.snapshot.written:2",
    )  # fmt: skip
    _kill_when_paused(proc, tmp_path)
    assert 0 < _desk_count(b, "select count(*) from patients") < total
    assert _desk_count(b, "select pull_cursor from sync_state") == 0
    indexes = "select count(*) from sqlite_master where type='index'"
    assert _desk_count(b, indexes) < _desk_count(a, indexes)  # killed while loading bare

    # Resume: the snapshot starts again and ends equal, with every index and the search index.
    _sync_ok(tmp_path, b)
    assert _desk_count(b, "select count(*) from patients") == total
    assert _desk_count(b, "select pull_cursor from sync_state") > 0
    assert _desk_count(b, indexes) == _desk_count(a, indexes)
    match = "select count(*) from patients_fts where patients_fts match 'bulk119999'"
    assert _desk_count(b, match) == 1
    assert _desk_count(b, "select count(*) from patients_fts_docsize") == total


def test_killed_mid_first_sync_balances_are_rebuilt_at_the_next_start(tmp_path: Path) -> None:
    """A first sync loads the ledger bare with the balance summary paused; killed there, the
    next start (no sync needed) brings the indexes back and rebuilds the summary, and the
    sync after it ends with the clinic's own balances."""
    source = tmp_path / "clinic"
    demo = _desk_cli(tmp_path, source, "demo", "--as-of", "2026-11-27")
    _out, err = demo.communicate(timeout=300)
    assert demo.returncode == 0, err.decode()
    server = Server(tmp_path)
    server.cli("seed", "--from-desk", str(source))
    server.start()
    try:
        desk = tmp_path / "new"
        code = server.cli("enrol", "--name", "New desk").split(": ", 1)[1].split()[0]
        proc = _desk_cli(
            tmp_path, desk, "enrol", "--server", server.url, "--code", code,
            pause_at="desk.snapshot.written:3",
        )  # fmt: skip
        _kill_when_paused(proc, tmp_path)  # fault injection: kill -9 mid-load
        paused = "select paused from ledger_summary_state"
        indexes = "select count(*) from sqlite_master where type='index'"
        assert _desk_count(desk, paused) == 1
        assert _desk_count(desk, indexes) < _desk_count(source, indexes)
        assert _desk_count(desk, "select pull_cursor from sync_state") == 0

        # The next start, with no sync: indexes back, the summary rebuilt and switched on.
        ctx = open_desk(DeskPaths(desk), clock=FakeClock(START))
        try:
            assert _desk_count(desk, paused) == 0
            assert _desk_count(desk, indexes) == _desk_count(source, indexes)
            check = check_balances(ctx)
            assert check.ok, check.differences[:3]
        finally:
            ctx.engine.dispose()

        # The sync after it completes the load: every balance as the clinic's own desk has it.
        _sync_ok(tmp_path, desk)
        owing = (
            "select count(*) || '/' || sum(balance_cents) || '/' || sum(owing_cents) "
            "|| '/' || sum(credit_cents) from ledger_summary_debtors"
        )
        assert _desk_text(desk, owing) == _desk_text(source, owing)
        assert _desk_count(desk, paused) == 0
        ctx = open_desk(DeskPaths(desk), clock=FakeClock(START))
        try:
            assert check_balances(ctx).ok
        finally:
            ctx.engine.dispose()
    finally:
        server.kill()


def _desk_text(desk: Path, sql: str) -> str:
    conn = sqlite3.connect(f"file:{desk / 'frontdesk.sqlite3'}?mode=ro", uri=True, timeout=5)
    try:
        return str(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()
