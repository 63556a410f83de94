"""Kill the sender (SIGKILL) at every step of every message: after the claim, after the
provider has it but before it is recorded, after recording. Each message reaches the provider
at most once, and every queued message eventually exactly once (Twilio and ClickSend)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from frontdesk.domain.clock import FakeClock
from frontdesk.models import OutgoingMessage
from frontdesk.paths import DeskPaths
from frontdesk.services.messaging import queueing
from frontdesk.store.context import ServiceContext
from tests.diary_clinic import MONDAY, Clinic
from tests.messaging.local_providers import LocalSms
from tests.messaging.test_queue_and_send import book, consent

ROOT = Path(__file__).resolve().parents[2]


def _run(
    desk: DeskPaths, kind: str, sms: LocalSms, now: str, pause_at: str, tmp: Path, batch: int = 2
) -> bool:
    """Run a sender round; with ``pause_at`` kill it there. True if it was killed."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    marker = tmp / "paused"
    marker.unlink(missing_ok=True)
    if pause_at:
        env.update(FRONTDESK_PAUSE_AT=pause_at, FRONTDESK_PAUSE_FILE=str(marker))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.messaging.run_sender", str(desk.data_dir), kind, sms.url,
         now, str(batch)],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while proc.poll() is None:
        if pause_at and marker.exists():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        assert time.monotonic() < deadline, "the sender hung"
        time.sleep(0.02)
    _out, err = proc.communicate()
    assert proc.returncode == 0, err.decode()
    return False


@pytest.mark.parametrize("kind", ["twilio", "clicksend"])
def test_killing_the_sender_at_every_step_sends_each_message_exactly_once(
    clinic: Clinic, sms: LocalSms, ctx: ServiceContext, desk_paths: DeskPaths,
    clock: FakeClock, tmp_path: Path, kind: str,
) -> None:  # fmt: skip
    consent(ctx, clinic.pat)
    now = clock.now().isoformat()
    kills = 0
    day = 0
    for point in ("msg.claimed", "msg.sent", "msg.recorded"):
        for nth in (1, 2):
            # three fresh messages for each kill point (the sender claims two at a time here)
            for hh in (9, 10, 11):
                book(clinic, MONDAY + timedelta(days=day), hh)
            day += 1
            kills += _run(desk_paths, kind, sms, now, f"{point}:{nth}", tmp_path)
            # at most once, whenever it was killed
            counts = Counter(r["body"] for r in sms.state.sent)
            assert max(counts.values(), default=0) <= 1, counts
    with ctx.read() as s:
        queued = {
            m.id: m.body for m in s.scalars(select(OutgoingMessage)) if m.kind == "confirmation"
        }
    assert len(queued) == 18
    assert kills == 6  # every point was reached, and killed there
    ctx.engine.dispose()
    _run(desk_paths, kind, sms, now, "", tmp_path)
    counts = Counter(r["body"] for r in sms.state.sent)
    assert sorted(counts) == sorted(queued.values())
    assert set(counts.values()) == {1}
    with ctx.read() as s:
        statuses = {m.id: m.status for m in s.scalars(select(OutgoingMessage))}
    assert all(statuses[mid] == "sent" for mid in queued)
    _ = queueing
