"""A patient's "C" reply reaching another desk's diary on the 10-year clinic (issue 18's
"p95 ≤ 2 s"), run only when ``FRONTDESK_BENCH_REPLY_SCALE=1`` (its first run builds two
10-year desks and a server, ~8 GB, cached in ``FRONTDESK_BENCH_CACHE/reply-<key>``).

- the clinic server is seeded from the cached 10-year desk (``seed_from_desk``, as
  ``frontdesk-server seed --from-desk`` does);
- the reception desk is a copy of that desk enrolled to the server (the seeded desk: no
  snapshot, it pulls from the start of the change log);
- the messaging desk (``frontdesk messages send --loop``) is a new desk that made its first
  sync (the 10-year snapshot) once, when the cache was built;
- the messaging desk looks for replies every second (``--replies-every``'s default;
  ``FRONTDESK_BENCH_REPLY_POLL`` sets another);
- each run books 20 appointments on the messaging desk for patients with new numbers, sends
  their confirmations through the local Twilio, then per appointment: a note on the
  messaging desk (the baseline: the same push / long-poll / pull / diary read) and the
  patient's "C" posted to the server's Twilio webhook, signed with ``X-Twilio-Signature``
  (the server process reads the Auth Token from the same file keychain), both timed until
  the reception desk's ``load_view`` (the diary's read) shows them.

Runs reuse the cached desks and server in place (each adds its 20 appointments on a new day),
with keychain entries in a JSON file beside them (``tests/sync/file_keyring.py``).
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import keyring
from sqlalchemy import update

from benchmarks.bench_messaging_send import _book_and_confirm, _measure
from benchmarks.bench_sync import START, ServerProcess
from benchmarks.harness import CACHE, Bench, ensure_scale_db, schema_key
from frontdesk.models import SyncState
from frontdesk.paths import DeskPaths
from frontdesk.server.seed import seed_from_desk
from frontdesk.server.store import ServerStore
from frontdesk.services.desk import open_desk
from frontdesk.services.messaging.secrets import save_secret
from frontdesk.services.messaging.setup import save_settings
from frontdesk.sync import keychain
from frontdesk.sync.setup import engine_for
from tests.messaging.local_providers import TWILIO_TOKEN, LocalSms
from tests.sync.file_keyring import FileKeyring

ENABLED = os.environ.get("FRONTDESK_BENCH_REPLY_SCALE") == "1"
# ``frontdesk messages send --loop``'s default --replies-every (commands/messages.py)
POLL_S = float(os.environ.get("FRONTDESK_BENCH_REPLY_POLL", "1.0"))


def run(bench: Bench) -> None:
    if not ENABLED:
        print("  (skipped: FRONTDESK_BENCH_REPLY_SCALE=1 runs it on the 10-year clinic)")
        return
    folder = _cached_clinic(bench)
    runs = folder / "runs"
    run_no = int(runs.read_text()) + 1 if runs.exists() else 1
    runs.write_text(str(run_no))
    server = ServerProcess(folder / "server.sqlite3")
    sms = LocalSms().start()
    try:
        m_ctx, m = _desk(folder / "messaging", server.url)
        r_ctx, r = _desk(folder / "reception", server.url)
        m.sync()
        r.sync()
        save_settings(m_ctx, enabled=True)
        mobiles = f"0499 0{run_no % 100:02d}"  # the demo never makes 0499 0xx
        first = START + timedelta(days=400 + run_no)
        save_secret("twilio", TWILIO_TOKEN)  # the server checks X-Twilio-Signature with it
        appts, refs = _book_and_confirm(m_ctx, m, r_ctx, r, sms, first, mobiles, twilio=True)
        _measure(bench, server, m_ctx, m, r_ctx, r, appts, refs, mobiles,
                 "messaging: C reply on another desk, 10-year clinic",
                 "; both desks and the server hold the 10-year clinic; Twilio-signed",
                 poll_s=POLL_S, twilio=True)  # fmt: skip
        m_ctx.engine.dispose()
        r_ctx.engine.dispose()
    finally:
        sms.stop()
        server.stop()


def _desk(folder: Path, url: str):  # type: ignore[no-untyped-def]
    """An enrolled cached desk, pointed at this run's server port."""
    from benchmarks.harness import demo_clock

    ctx = open_desk(DeskPaths(folder), clock=demo_clock())
    with ctx.write("bench: this run's server port") as s:
        s.execute(update(SyncState).where(SyncState.id == 1).values(server_url=url))
    return ctx, engine_for(ctx)


def _use_file_keyring(folder: Path) -> None:
    os.environ["FRONTDESK_TEST_KEYRING"] = str(folder / "keyring.json")
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "tests.sync.file_keyring.FileKeyring")
    keyring.set_keyring(FileKeyring())


def _cached_clinic(bench: Bench) -> Path:
    folder = CACHE / f"reply-{schema_key()}"
    _use_file_keyring(folder)
    if (folder / "ready").exists():
        return folder
    for old in CACHE.glob("reply-*"):
        shutil.rmtree(old, ignore_errors=True)
    folder.mkdir(parents=True)
    scale = ensure_scale_db(bench)
    print("  building the reply clinic: server seeded from the 10-year desk…", flush=True)
    (folder / "reception").mkdir()
    shutil.copy2(scale / "frontdesk.sqlite3", folder / "reception" / "frontdesk.sqlite3")
    store = ServerStore(str(folder / "server.sqlite3"))
    store.init()
    seed_from_desk(store, folder / "reception")
    store.dispose()
    server = ServerProcess(folder / "server.sqlite3")
    try:
        for name, label in (("reception", "Reception"), ("messaging", "Messaging desk")):
            print(f"  enrolling {label} and syncing it…", flush=True)
            ctx, engine = server.desk(folder / name, label)
            summary = engine.sync()
            print(f"    {summary.snapshot_rows:,} snapshot rows, {summary.pulled:,} pulled")
            assert keychain.load_token(folder / name)
            ctx.engine.dispose()
    finally:
        server.stop()
    (folder / "ready").write_text("")
    return folder
