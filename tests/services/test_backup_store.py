"""The deduplicating backup store (issue 21, backups that fit): backups share what did not change,
restore byte for byte, refuse a damaged or missing part with a clear message, leave no manifest
when interrupted, and pruning keeps every chunk a backup still lists. Real files throughout."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from frontdesk.db import backup_store
from frontdesk.db.backup import backup_file
from frontdesk.domain.backup_retention import backups_to_keep
from frontdesk.domain.clock import FakeClock
from frontdesk.domain.errors import EnvironmentProblem
from frontdesk.models import Patient
from frontdesk.paths import DeskPaths
from frontdesk.services import backups
from frontdesk.services.desk import newest_good_backup
from frontdesk.store.context import ServiceContext
from tests.services.test_backups import dump, refused_and_unchanged

# backups are named by the clock; some tests read the real one (chunks' ages)
pytestmark = pytest.mark.dates

SYDNEY = ZoneInfo("Australia/Sydney")


def later(store: Path) -> float:
    """A prune long after now, by the file system's clock (the chunks' times are by it)."""
    return backup_store.fs_now(store / backup_store.CHUNKS) + 2 * backup_store.GRACE_SECONDS


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo desk is a few MB: 64 KiB chunks (page-aligned too) give it the many chunks a
    ten-year clinic has at 1 MiB."""
    monkeypatch.setattr(backup_store, "CHUNK_BYTES", 1 << 16)


def _paths(ctx: ServiceContext) -> DeskPaths:
    assert ctx.data_dir is not None
    return DeskPaths(ctx.data_dir)


def rename_patients(ctx: ServiceContext, name: str, n: int = 5) -> None:
    with ctx.write("rename patients") as s:
        for p in s.scalars(select(Patient).order_by(Patient.id).limit(n)):
            p.last_name = name


def chunk_files(store: Path) -> set[str]:
    return {p.name.split(".")[0] for p in (store / backup_store.CHUNKS).glob("*/*.zst")}


def test_a_second_backup_shares_what_did_not_change_and_each_restores_exactly(
    demo_ctx: ServiceContext,
) -> None:
    paths = _paths(demo_ctx)
    seen: list[tuple[str, float]] = []
    first = backups.backup_now(demo_ctx, progress=lambda what, f: seen.append((what, f)))
    assert first.name.endswith(".fdbackup")
    fractions = [f for _w, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    at_first = dump(paths.database)
    rename_patients(demo_ctx, "Second")
    second = backups.backup_now(demo_ctx)
    at_second = dump(paths.database)
    assert at_first != at_second

    one, two = backup_store.read_manifest(first), backup_store.read_manifest(second)
    assert one.read == "snapshot"  # the live file itself, under a read lock: no work copy
    assert one.size == paths.database.stat().st_size or one.size % one.page_size == 0
    shared = {c.digest for c in one.chunks} & {c.digest for c in two.chunks}
    assert len(shared) >= len(one.chunks) // 2, "most of the file did not change"
    assert chunk_files(paths.backups) == {c.digest for c in one.chunks + two.chunks}
    # the store takes less than two compressed copies, and far less than the file
    stored = backup_store.chunks_bytes(paths.backups)
    assert stored < one.packed_bytes + two.packed_bytes
    assert stored * 3 < paths.database.stat().st_size

    assert dump(first) == at_first and dump(second) == at_second
    usage = backups.store_usage(paths.backups)
    own, common = usage[second]
    assert common > own > 0 and own + common == two.packed_bytes
    assert not [p for p in paths.backups.rglob("*") if p.name.endswith(".partial")]


def test_a_backup_while_others_write_holds_only_what_was_committed(
    demo_ctx: ServiceContext,
) -> None:
    paths = _paths(demo_ctx)
    committed = dump(paths.database)
    writer = sqlite3.connect(paths.database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE patients SET last_name = 'Uncommitted'")
        # a write is open on another connection (the backup itself, not "Back up now", which
        # audits it and so waits for the writer)
        made = backups.write_backup(paths.database, paths.backups / "manual-1.fdbackup")
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert dump(made) == committed

    # A reader holding an old snapshot keeps frames in the log: the file alone is not the
    # snapshot, so the backup copies through SQLite's online backup API instead.
    reader = sqlite3.connect(paths.database, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM patients").fetchone()
        rename_patients(demo_ctx, "Logged")
        expected = dump(paths.database)
        seen: list[float] = []
        copied = backups.write_backup(
            paths.database, paths.backups / "manual-2.fdbackup", lambda _w, f: seen.append(f)
        )
        reader.execute("COMMIT")
    finally:
        reader.close()
    assert backup_store.read_manifest(copied).read == "online copy"
    assert seen == sorted(seen) and seen[-1] == 1.0  # the copy, then the chunks: one bar
    assert dump(copied) == expected


def test_a_damaged_or_missing_chunk_fails_the_check_clearly_and_is_not_counted_good(
    demo_ctx: ServiceContext,
) -> None:
    paths = _paths(demo_ctx)
    good = backups.backup_now(demo_ctx)
    rename_patients(demo_ctx, "Later")
    latest = backups.backup_now(demo_ctx)
    old = {c.digest for c in backup_store.read_manifest(good).chunks}
    index, mine = next(
        (i, c) for i, c in enumerate(backup_store.read_manifest(latest).chunks)
        if c.digest not in old
    )  # fmt: skip
    where = backup_store.chunk_path(paths.backups, mine.digest)
    packed = bytearray(where.read_bytes())
    packed[len(packed) // 2] ^= 0xFF  # one flipped byte, as bit rot would
    where.write_bytes(bytes(packed))

    with pytest.raises(EnvironmentProblem) as err:
        backups.check_backup(latest)
    said = err.value.user_message
    assert f"Part {index + 1} of" in said and latest.name in said and "damaged" in said
    backups.check_backup(good)  # the older backup does not use that part
    assert newest_good_backup(paths) == good, "the damaged backup is not counted good"
    refused_and_unchanged(demo_ctx, latest)

    assert not where.exists() and where.with_name(where.name + ".damaged").exists()  # set aside
    with pytest.raises(EnvironmentProblem, match="is missing"):
        backups.check_backup(latest)


def _shared_part(first: Path, second: Path) -> backup_store.Chunk:
    """A part both backups list, from the middle of the file (among the demo's rows): parts
    near its start (small tables every write touches) or its end (the audit row each backup
    adds) may change again before the next backup, which then has no reason to write them."""
    unchanged = {c.digest for c in backup_store.read_manifest(second).chunks}
    chunks = backup_store.read_manifest(first).chunks
    shared = [i for i, c in enumerate(chunks) if c.digest in unchanged]
    return chunks[min(shared, key=lambda i: abs(i - len(chunks) // 2))]


def test_a_shared_chunk_spoilt_on_the_disk_is_found_by_the_check_and_mended_by_the_next_backup(
    demo_ctx: ServiceContext,
) -> None:
    """A backup reuses earlier chunks without reading them (that is its speed); the full check
    (the daily backup runs it on itself; every restore does) finds one spoilt since, sets it
    aside, and the next backup writes it afresh, which mends every backup that lists it."""
    paths = _paths(demo_ctx)
    first = backups.backup_now(demo_ctx)
    second = backups.backup_now(demo_ctx)
    chunk = _shared_part(first, second)
    where = backup_store.chunk_path(paths.backups, chunk.digest)
    packed = bytearray(where.read_bytes())
    packed[-3] ^= 0x01  # one flipped bit in a part both backups list
    where.write_bytes(bytes(packed))
    with pytest.raises(EnvironmentProblem, match="damaged") as err:
        backups.check_backup(first)
    assert "The next backup writes that part afresh" in err.value.user_message
    with pytest.raises(EnvironmentProblem, match="is missing"):  # set aside by that check
        backups.check_backup(second)
    assert newest_good_backup(paths) is None, "neither is counted good"
    again = backups.backup_now(demo_ctx)
    for made in (first, second, again):
        backups.check_backup(made)  # mended: the same bytes under the same name
    assert newest_good_backup(paths) == again


def test_the_daily_backup_that_finds_a_spoilt_part_backs_up_again_at_once(
    demo_ctx: ServiceContext,
) -> None:
    """The day's backup reuses a part spoilt on the disk since; its own check finds it and sets
    it aside, and the day's backup is made again then and there — not tomorrow — so it and every
    earlier backup listing that part restore."""
    paths = _paths(demo_ctx)
    earlier = backups.backup_now(demo_ctx)
    chunk = _shared_part(earlier, backups.backup_now(demo_ctx))
    where = backup_store.chunk_path(paths.backups, chunk.digest)
    packed = bytearray(where.read_bytes())
    packed[-3] ^= 0x01
    where.write_bytes(bytes(packed))
    made = backups.daily_backup_if_due(paths, demo_ctx.clock, demo_ctx.tz)
    assert made is not None
    for backup in (earlier, made):
        backups.check_backup(backup)
    assert [b.path for b in backups.list_backups(paths.backups) if b.kind == "daily"] == [made]


@pytest.mark.parametrize("stop_at", ["Backing up", "Finishing the backup"])
def test_an_interrupted_backup_leaves_no_manifest(demo_ctx: ServiceContext, stop_at: str) -> None:
    paths = _paths(demo_ctx)

    def power_cut(what: str, fraction: float) -> None:
        if what == stop_at and (fraction > 0.5 or what != "Backing up"):
            raise OSError(28, "No space left on device")

    with pytest.raises(EnvironmentProblem, match="free disk space"):
        backups.backup_now(demo_ctx, progress=power_cut)
    assert backups.list_backups(paths.backups) == []
    assert not [p for p in paths.backups.rglob("*") if p.name.endswith(".partial")]
    assert chunk_files(paths.backups), "chunks written before the stop are left ..."
    backup_store.collect_garbage(paths.backups, now=later(paths.backups))
    assert chunk_files(paths.backups) == set(), "... until a prune, as no manifest lists them"
    made = backups.backup_now(demo_ctx)
    assert dump(made) == dump(paths.database)


def test_pruning_keeps_shared_chunks_and_frees_only_unlisted_ones(
    demo_ctx: ServiceContext, clock: FakeClock
) -> None:
    ctx = demo_ctx
    paths = _paths(ctx)
    made = []
    for day in range(10):  # ten days of changes, one daily backup each
        rename_patients(ctx, f"Day{day}", n=1)
        name = backups.local_name("daily", clock.now(), SYDNEY)
        made.append(backups.write_backup(paths.database, paths.backups / name))
        clock.advance(timedelta(days=1))
    states = {m: dump(m) for m in made}
    stamps = {b.path: b.made_at for b in backups.list_backups(paths.backups)}
    keep = backups_to_keep(stamps.values(), SYDNEY)
    assert 7 <= len(keep) < 10
    before = chunk_files(paths.backups)
    removed = backups.prune(paths.backups, SYDNEY)
    assert set(removed) == {p for p, when in stamps.items() if when not in keep}
    assert chunk_files(paths.backups) == before, "young chunks are left to a later prune"
    backup_store.collect_garbage(paths.backups, now=later(paths.backups))
    left = backups.list_backups(paths.backups)
    assert len(left) == len(keep)
    after = chunk_files(paths.backups)
    listed = set().union(
        *({c.digest for c in backup_store.read_manifest(b.path).chunks} for b in left)
    )
    assert after == listed and after < before  # only the pruned backups' own chunks went
    for b in left:  # every backup left restores to what it held
        backups.check_backup(b.path)
        assert dump(b.path) == states[b.path]


def test_a_prune_during_a_backup_never_takes_its_chunks(demo_ctx: ServiceContext) -> None:
    """The chunks of a backup being written are listed by no manifest yet: a prune then (another
    process's, or an interrupted one run again) leaves them, being young."""
    paths = _paths(demo_ctx)

    def prune_meanwhile(what: str, _fraction: float) -> None:
        if what == "Finishing the backup":
            backup_store.collect_garbage(paths.backups)

    made = backups.backup_now(demo_ctx, progress=prune_meanwhile)
    backups.check_backup(made)


@pytest.mark.parametrize("kind", ["plain", "zst", "store"])
def test_every_format_restores(demo_ctx: ServiceContext, kind: str) -> None:
    """Plain .sqlite3 (the first versions), one Zstandard file (the last) and the store."""
    paths = _paths(demo_ctx)
    expected = dump(paths.database)
    if kind == "store":
        backup = backups.backup_now(demo_ctx)
    else:
        suffix = ".sqlite3" if kind == "plain" else ".sqlite3.zst"
        backup = backup_file(paths.database, paths.backups / f"manual-20261001-090000{suffix}")
    assert backup in [b.path for b in backups.list_backups(paths.backups)]
    rename_patients(demo_ctx, "Changed")
    assert dump(paths.database) != expected
    backups.restore(demo_ctx, backup)
    restored = dump(paths.database)
    bookkeeping = {"sync_state", "number_series"}  # a restore starts new series (note_restore)
    assert {t: d for t, d in restored.items() if t not in bookkeeping} == {
        t: d for t, d in expected.items() if t not in bookkeeping
    }


def test_the_store_restores_after_the_folder_is_copied_elsewhere(
    demo_ctx: ServiceContext, tmp_path: Path
) -> None:
    """The README's advice: copy the backups folder off the computer. A store is a folder."""
    import shutil

    paths = _paths(demo_ctx)
    made = backups.backup_now(demo_ctx)
    usb = tmp_path / "usb" / "frontdesk-backups"
    shutil.copytree(paths.backups, usb)
    copied = usb / made.name
    backups.check_backup(copied)
    assert dump(copied) == dump(made)


def test_a_prune_by_size_while_a_backup_is_written_removes_nothing(tmp_path: Path) -> None:
    """Over the size limit while another frontdesk writes a backup (or one was cut short less
    than the grace period ago): no chunk can be freed, so no backup is removed for the size
    either — it once removed every daily backup but the newest and freed nothing."""
    import os
    import sqlite3
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    db = tmp_path / "db.sqlite3"
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t(x BLOB)")
    tz = ZoneInfo("Australia/Sydney")
    store = tmp_path / "backups"
    store.mkdir()
    first = datetime(2026, 12, 1, 9, tzinfo=UTC)
    for day in range(5):  # five daily backups, each day's rows different
        con.execute("INSERT INTO t VALUES (randomblob(300000))")
        con.commit()
        made = first + timedelta(days=day)
        backup_store.write_backup(db, store / backups.local_name("daily", made, tz))
    long_ago = backup_store.fs_now(store / backup_store.CHUNKS) - 86_400
    for chunk in (store / "chunks").glob("*/*"):
        os.utime(chunk, (long_ago, long_ago))
    names = sorted(p.name for p in store.glob("*.fdbackup"))
    (store / "chunks" / ".writing-999-1").touch()  # another process is writing a backup
    assert backups.prune(store, tz, budget=1) == []
    assert sorted(p.name for p in store.glob("*.fdbackup")) == names
    (store / "chunks" / ".writing-999-1").unlink()  # once it has finished, the limit holds
    removed = backups.prune(store, tz, budget=1)
    assert len(removed) == 4 and len(list(store.glob("*.fdbackup"))) == 1
    con.close()


def test_tidying_waits_for_a_backup_in_another_process(tmp_path: Path) -> None:
    """A backup in another process (the command line beside the app) holds the store's lock
    from before it lists the parts it reuses until its manifest is down; tidying meanwhile
    frees nothing, so it can never take a part that backup has just reused."""
    import os
    import sqlite3
    import subprocess
    import sys

    db = tmp_path / "db.sqlite3"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t(x BLOB)")
    con.execute("INSERT INTO t VALUES (randomblob(200000))")
    con.commit()
    store = tmp_path / "backups"
    store.mkdir()
    made = store / "manual-20261201-090000.fdbackup"
    backup_store.write_backup(db, made)
    made.unlink()  # its parts are now listed by no manifest, and old
    long_ago = backup_store.fs_now(store / backup_store.CHUNKS) - 86_400
    for chunk in (store / "chunks").glob("*/*"):
        os.utime(chunk, (long_ago, long_ago))
    holder = subprocess.Popen(  # holds the lock as a backup there would
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from frontdesk.db.file_lock import held\n"
         "with held(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)",
         str(store / "chunks" / backup_store.LOCK_NAME)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert backup_store.collect_garbage(store) == 0
        assert backup_store.collecting_blocked(store)
    finally:
        holder.kill()
        holder.wait()
    assert backup_store.collect_garbage(store) > 0  # once it is done, the orphans go
    con.close()
