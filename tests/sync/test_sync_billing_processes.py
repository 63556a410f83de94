"""Real processes (issue 12): a clinic server on loopback and two desks synced with the
``frontdesk sync`` command. Each desk's drafts and invoices reach the server; a refused change
makes ``frontdesk sync`` exit 1; ``frontdesk-server devices`` shows when each desk was seen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdesk.models import Invoice
from frontdesk.services.billing.invoices import (
    DraftHeader,
    DraftLine,
    create_draft,
    issue_invoice,
)
from frontdesk.services.context import ServiceContext
from frontdesk.services.desk import DeskPaths, open_desk
from frontdesk.services.patients import create_patient
from tests.sync.test_sync_kill import Server, _desk_cli, _enrol, _sync_ok

pytestmark = pytest.mark.slow


@pytest.fixture
def loopback(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path)
    s.cli("init")
    s.start()
    yield s
    if s.proc and s.proc.poll() is None:
        s.kill()


def _on_desk(desk: Path) -> ServiceContext:
    return open_desk(DeskPaths(desk))


def test_every_desks_drafts_and_invoices_reach_the_server(tmp_path: Path, loopback: Server) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _enrol(tmp_path, loopback, a, "Front desk")
    _enrol(tmp_path, loopback, b, "Back office")
    ctx = _on_desk(a)
    patient = create_patient(ctx, {"first_name": "Sam", "last_name": "Lee"}).patient_id
    ctx.engine.dispose()
    _sync_ok(tmp_path, a)
    _sync_ok(tmp_path, b)
    drafts = {}
    for desk in (a, b):
        ctx = _on_desk(desk)
        drafts[desk] = create_draft(ctx, DraftHeader(patient), [DraftLine("Consult", 9900)])
        ctx.engine.dispose()
        assert "rejected" not in _sync_ok(tmp_path, desk)
    assert loopback.count("SELECT count(*) FROM invoices WHERE status = 'draft'") == 2
    for desk in (a, b):
        ctx = _on_desk(desk)
        issue_invoice(ctx, drafts[desk])
        ctx.engine.dispose()
        _sync_ok(tmp_path, desk)
    numbers = "SELECT count(DISTINCT substr(number, 1, 2)) FROM invoices WHERE status = 'issued'"
    assert loopback.count(numbers) == 2  # D1-… and D2-…
    listing = loopback.cli("devices")
    assert "last seen" in listing and "never" not in listing
    assert listing.count("active") == 2

    # A change the server refuses: the sync command says so and exits 1.
    ctx = _on_desk(b)
    with ctx.write("invoice from another series") as s:
        s.add(
            Invoice(
                status="issued",
                number="D1-000077",
                patient_id=patient,
                issued_at=ctx.clock.now(),
                total_cents=100,
            )
        )
    ctx.engine.dispose()
    proc = _desk_cli(tmp_path, b, "sync")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, out.decode()
    assert "1 rejected" in out.decode() and "refused" in err.decode()
    assert "revoke" not in (out + err).decode().lower()
