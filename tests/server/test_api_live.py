"""The integration API against a real ``frontdesk-server run`` on loopback, SQLite and
PostgreSQL: keys made with the real command line, two clients racing for the same slots
(exactly one wins each, the other gets 409 with alternatives), and the reference client
``examples/receptionist.py`` making its scripted phone call."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from frontdesk.server import schema as s
from frontdesk.server.store import ServerStore
from tests.server.api_world import API, auth, build
from tests.server.live import LiveServer, server_command, start_server
from tests.sync.clinic import Clinic

ROOT = Path(__file__).resolve().parents[2]


def _live(tmp_path: Path, url: str) -> tuple[LiveServer, Any]:
    clinic = Clinic(tmp_path / "desks", url)
    world = build(clinic)
    clinic.close()
    server = start_server(tmp_path / "srv", url)
    return server, world


def _cli_key(server: LiveServer, *scopes: str, rate: str = "600") -> str:
    args = [a for sc in scopes for a in ("--scope", sc)] + ["--rate", rate]
    out = subprocess.run(
        server_command(
            server.data_dir, server.database, "api-key", "create", "--name", "racer", *args
        ),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return next(line for line in out.splitlines() if line.startswith("fdk_"))


def _count(url: str) -> int:
    store = ServerStore(url)
    try:
        with store.reading() as conn:
            table = s.data_tables()["appointments"]
            return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)
    finally:
        store.dispose()


def test_two_clients_racing_for_one_slot_exactly_one_wins(tmp_path: Path, server_url: str) -> None:
    server, world = _live(tmp_path, server_url)
    try:
        token = _cli_key(server, "availability:read", "appointments:write")
        found = httpx.get(
            server.base + f"{API}/availability",
            headers=auth(token),
            params={"appointment_type_id": world.type_id, "limit": 40},
        ).json()["slots"]
        # on the half hour: 30-minute bookings that do not overlap one another
        slots = [sl for sl in found if sl["start"][14:16] in ("00", "30")][:6]
        assert len(slots) == 6
        before = _count(server_url)
        for n, slot in enumerate(slots):
            body = {
                "patient_id": world.patient_id,
                "practitioner_id": slot["practitioner_id"],
                "appointment_type_id": world.type_id,
                "start": slot["start"],
            }
            answers: list[httpx.Response] = []
            go = threading.Barrier(2)

            def racer(
                who: str,
                body: dict[str, Any] = body,
                n: int = n,
                go: threading.Barrier = go,
                answers: list[httpx.Response] = answers,
            ) -> None:
                with httpx.Client(base_url=server.base, timeout=60) as client:
                    go.wait()
                    answers.append(
                        client.post(
                            f"{API}/appointments",
                            json=body,
                            headers=auth(token, **{"Idempotency-Key": f"{who}-{n}"}),
                        )
                    )

            threads = [threading.Thread(target=racer, args=(w,)) for w in ("a", "b")]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            codes = sorted(r.status_code for r in answers)
            assert codes == [201, 409], [r.text for r in answers]
            lost = next(r for r in answers if r.status_code == 409).json()
            assert lost["code"] == "slot_taken" and lost["alternatives"]
            assert all(
                a["start"] != slot["start"] or a["practitioner_id"] != slot["practitioner_id"]
                for a in lost["alternatives"]
            )
        assert _count(server_url) == before + len(slots)
        assert "Sam" not in server.log() and "0412" not in server.log()  # no patient data
    finally:
        server.stop()


def test_the_reference_client_makes_its_phone_call(tmp_path: Path) -> None:
    server, world = _live(tmp_path, str(tmp_path / "server.sqlite3"))
    try:
        token = _cli_key(server, "availability:read", "appointments:write", "patients:read")
        done = subprocess.run(
            [
                sys.executable,
                str(ROOT / "examples" / "receptionist.py"),
                "--server",
                server.base,
                "--key",
                token,
                "--caller",
                "+61 412 345 678",
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0] == f"caller: patient {world.patient_id} (Sam)"
        assert [ln.split(":")[0] for ln in lines[1:]] == [
            "offer 1",
            "offer 2",
            "offer 3",
            "hold",
            "booked",
            "confirmed",
            "moved",
            "cancelled",
        ]
        offered = [ln.split(": ", 1)[1].split(" with ")[0] for ln in lines[1:4]]
        # the caller hears who they will see, not an id
        for ln in lines[1:4]:
            assert ln.split(" with ")[1] in (
                "Alex Ng (Physiotherapist)",
                "Bea Ng (Physiotherapist)",
            )
        assert lines[5].endswith(f"at {offered[0]}")
        assert lines[7].endswith(f"to {offered[2]}")
        log = subprocess.run(
            server_command(server.data_dir, server.database, "api-log"),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        for op in ("find patients", "availability", "hold", "book", "move", "cancel"):
            assert f" {op} " in log + " ", op
        assert world.patient_id in log
        wrong = subprocess.run(
            [
                sys.executable,
                str(ROOT / "examples" / "receptionist.py"),
                "--server",
                server.base,
                "--key",
                "fdk_wrong",
                "--caller",
                "0412345678",
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert wrong.returncode == 1 and "not known" in wrong.stderr
    finally:
        server.stop()


@pytest.mark.parametrize("scope", ["bogus"])
def test_cli_refuses_an_unknown_scope_with_a_sentence(tmp_path: Path, scope: str) -> None:
    done = subprocess.run(
        server_command(
            tmp_path,
            str(tmp_path / "s.sqlite3"),
            "api-key",
            "create",
            "--name",
            "x",
            "--scope",
            scope,
        ),
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "Unknown scope bogus" in done.stderr
