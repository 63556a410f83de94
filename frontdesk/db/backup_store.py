"""A deduplicating backup store: the database cut into page-aligned chunks, each kept once by
its SHA-256 and compressed with Zstandard; each backup is a small manifest listing its chunks.

Layout (everything inside the backups folder, so copying that folder copies every backup)::

    backups/daily-20261207-083000+1100.fdbackup     a manifest (JSON)
    backups/chunks/ab/ab12…ef.zst                   one chunk, named by the SHA-256 of its bytes

A clinic's file changes in few chunks from one day to the next (new rows land at the ends of
tables and indexes; updates touch few pages), so 23 backups cost about one compressed copy plus
the chunks that changed, and a backup compresses and writes only chunks the store lacks.

**A consistent read without a copy.** The desk runs in WAL mode. The backup checkpoints the
log and then opens a read transaction; when no commit came in between (``PRAGMA
data_version`` unchanged) and the checkpoint left no frame behind, SQLite reads that snapshot
from the database file alone (its read lock 0), and no checkpoint may write into the file
while the lock is held — so the file's bytes *are* the snapshot, and are read once, straight
from the disk. Writers carry on meanwhile (into the log). When that cannot be had (a long
reader kept frames in the log), SQLite's online backup API copies the database into a work file
first, as earlier versions did.

**Verification.** Each chunk written is read back, unpacked and its SHA-256 compared with its
name; a chunk reused from an earlier backup was checked so when it was written and is not read
again (that is what makes a backup quick): the full check (``check``: every chunk unpacked and
compared), which the daily backup runs on itself off the GUI thread and every restore runs,
finds one spoilt on the disk since; it is set aside, and the next backup writes it afresh,
which mends every older backup that lists it. The manifest records the file's size, page
size, revision and a digest: the SHA-256 of the chunks' SHA-256s in order, which fixes every
byte of the file as strongly as a hash of the file itself and costs nothing extra to compute.
``restore_to`` (and ``check``) unpack every chunk, compare each chunk's SHA-256 and then the
digest: a missing or damaged chunk is named in a clear message, and the backup is not used.

**Crash safety.** Chunks are written under temporary names and renamed into place, fsynced,
before the manifest, which is itself written as ``….partial``, fsynced and renamed: an
interrupted backup leaves no manifest (only chunks, which the next prune removes). Pruning
deletes manifests first and then chunks no manifest lists — never a chunk younger than
``GRACE_SECONDS``, and nothing at all while a backup is being written (its marker file in
``chunks/``), so an interrupted or concurrent prune never takes a chunk a live manifest or a
backup in progress needs. A backup reuses only chunks a manifest lists, and checks at the end
that every chunk it lists is still there.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import sqlite3
import sys
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from frontdesk.db import file_lock
from frontdesk.db.live_file import LiveReader

FORMAT = "frontdesk-backup-store/1"
MANIFEST_SUFFIX = ".fdbackup"
CHUNKS = "chunks"
# 64 KiB, page-aligned (SQLite's page size divides it). A day of the 10-year clinic changes
# ≈ 4,600 pages scattered over the indexes: 26 % of 1 MiB chunks (112 MB to store a day), 4 %
# of 64 KiB ones (18 MB); 16 KiB would store 9 MB but make 150,000 files. The 10-year clinic
# is ≈ 38,000 chunks. See docs/performance.md section 2.
CHUNK_BYTES = 1 << 16
LEVEL = 1
GRACE_SECONDS = 6 * 3600
_IN_FLIGHT = 6  # chunks read ahead of the workers
_FILE_MODE = 0o600

Progress = Callable[[str, float], None]


class StoreDamaged(sqlite3.DatabaseError):
    """A manifest or chunk is missing or damaged (the message names which, for a person); a
    DatabaseError like a damaged database file, so every restore path refuses it alike.
    ``chunk``: the damaged chunk's file, when that is what failed."""

    def __init__(self, message: str, chunk: Path | None = None) -> None:
        super().__init__(message)
        self.chunk = chunk


@dataclass(frozen=True)
class Chunk:
    digest: str  # SHA-256 of the plain bytes (hex)
    packed: int  # bytes of the compressed file


@dataclass(frozen=True)
class Manifest:
    path: Path
    size: int
    page_size: int
    revision: str | None
    chunk_bytes: int
    digest: str
    chunks: tuple[Chunk, ...]
    read: str  # "snapshot" (the file under a read lock) or "online copy"

    @property
    def packed_bytes(self) -> int:
        return sum(c.packed for c in self.chunks)


def is_manifest(path: Path) -> bool:
    return path.name.endswith(MANIFEST_SUFFIX)


def chunk_path(store: Path, digest: str) -> Path:
    return store / CHUNKS / digest[:2] / f"{digest}.zst"


def combined_digest(digests: Iterable[str], size: int) -> str:
    whole = hashlib.sha256(f"{FORMAT}:{size}:".encode())
    for d in digests:
        whole.update(bytes.fromhex(d))
    return whole.hexdigest()


# -- reading ----------------------------------------------------------------------------------
def _parse(path: Path) -> tuple[dict[str, Any], bytes, array[int]]:
    """A manifest's fields, its chunks' digests (32 bytes each) and their packed sizes."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise StoreDamaged(f"{path.name} is not a frontdesk backup manifest.")
        digests = base64.b64decode(data["digests"], validate=True)
        packed = array("I")
        packed.frombytes(base64.b64decode(data["packed"], validate=True))
        if sys.byteorder != "little":
            packed.byteswap()
        if len(digests) != 32 * len(packed):
            raise ValueError("the list of parts is cut short")
        return data, digests, packed
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise StoreDamaged(f"{path.name} is damaged or cut short ({exc}).") from exc


def read_manifest(path: Path) -> Manifest:
    data, digests, packed = _parse(path)
    try:
        chunks = tuple(Chunk(digests[32 * i : 32 * i + 32].hex(), p) for i, p in enumerate(packed))
        return Manifest(
            path=path,
            size=int(data["size"]),
            page_size=int(data["page_size"]),
            revision=data.get("revision"),
            chunk_bytes=int(data["chunk_bytes"]),
            digest=str(data["digest"]),
            chunks=chunks,
            read=str(data.get("read", "")),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreDamaged(f"{path.name} is damaged or cut short ({exc}).") from exc


def _unpacked(store: Path, manifest: Manifest, index: int, chunk: Chunk) -> bytes:
    import zstandard

    where = chunk_path(store, chunk.digest)
    label = f"Part {index + 1} of {len(manifest.chunks)} of the backup {manifest.path.name}"
    try:
        packed = where.read_bytes()
    except FileNotFoundError as exc:
        raise StoreDamaged(f"{label} is missing ({where.name} is not in {where.parent}).") from exc
    try:
        plain: bytes = _decompressor().decompress(packed)
    except zstandard.ZstdError as exc:
        raise StoreDamaged(f"{label} is damaged ({where.name} does not unpack).", where) from exc
    if hashlib.sha256(plain).hexdigest() != chunk.digest:
        raise StoreDamaged(
            f"{label} is damaged ({where.name} does not hold what it should).", where
        )
    return plain


def _replay(manifest: Manifest, sink: Callable[[bytes], object], report: Progress) -> None:
    """Unpack every chunk in order into ``sink``, checking each one and then the whole."""
    store = manifest.path.parent
    n = len(manifest.chunks)
    per = max(1, (1 << 20) // max(manifest.chunk_bytes, 1))  # ~1 MiB to a worker at a time

    def run(start: int) -> bytes:
        return b"".join(
            _unpacked(store, manifest, i, manifest.chunks[i])
            for i in range(start, min(start + per, n))
        )

    with ThreadPoolExecutor(2, thread_name_prefix="backup-read") as pool:
        pending: deque[Future[bytes]] = deque()
        for start in range(0, n, per):
            pending.append(pool.submit(run, start))
            if len(pending) >= _IN_FLIGHT:
                sink(pending.popleft().result())
                report("Reading the backup", start / max(n, 1))
        while pending:
            sink(pending.popleft().result())
        report("Reading the backup", 1.0)
    digests = [c.digest for c in manifest.chunks]
    if combined_digest(digests, manifest.size) != manifest.digest:
        raise StoreDamaged(f"The backup {manifest.path.name} does not match its digest.")


def check(path: Path, progress: Progress | None = None) -> Manifest:
    """Unpack every chunk of the backup at ``path`` and compare its digests (nothing is written).
    Raises StoreDamaged naming a missing or damaged part."""
    manifest = read_manifest(path)
    total = 0

    def count(data: bytes) -> None:
        nonlocal total
        total += len(data)

    _replay(manifest, count, progress or _no_progress)
    if total != manifest.size:
        raise StoreDamaged(f"The backup {path.name} unpacks to a file of the wrong size.")
    return manifest


def restore_to(path: Path, target: Path, progress: Progress | None = None) -> Manifest:
    """Write the database held by the backup at ``path`` to ``target``, checked chunk by chunk
    and as a whole. The file comes out in SQLite's rollback-journal mode (header bytes 18–19),
    self-contained like every restored file; its pages are otherwise those that were backed up."""
    manifest = read_manifest(path)
    with target.open("wb") as out:
        _replay(manifest, out.write, progress or _no_progress)
        if out.tell() != manifest.size:
            raise StoreDamaged(f"The backup {path.name} unpacks to a file of the wrong size.")
        if manifest.size >= 100:
            out.seek(18)
            out.write(b"\x01\x01")
    return manifest


# -- writing ----------------------------------------------------------------------------------
def _no_progress(_what: str, _fraction: float) -> None:
    return None


_local = threading.local()
# One backup or prune at a time in this process (the daily one and "Back up now" may overlap);
# another process (the command line) is kept off young chunks by GRACE_SECONDS.
_busy = threading.RLock()
LOCK_NAME = ".lock"  # backups and tidying take turns on it, across processes (db/file_lock.py)


def _compressor() -> object:
    import zstandard

    c = getattr(_local, "compressor", None)
    if c is None:
        c = _local.compressor = zstandard.ZstdCompressor(level=LEVEL, write_checksum=True)
    return c


def _decompressor() -> Any:
    """One per thread: making one per chunk cost more than unpacking it."""
    import zstandard

    d = getattr(_local, "decompressor", None)
    if d is None:
        d = _local.decompressor = zstandard.ZstdDecompressor()
    return d


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0),
                 _FILE_MODE)  # fmt: skip
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _store_piece(store: Path, data: bytes, known: dict[str, int]) -> list[tuple[Chunk, bool]]:
    """Keep each chunk of ``data`` (a run of whole chunks) that the store lacks; returns each
    chunk's entry and whether it was written. ``known``: chunks on the disk, by their packed
    size (read only, shared by the workers)."""
    out = []
    for start in range(0, len(data), CHUNK_BYTES):
        piece = data[start : start + CHUNK_BYTES]
        digest = hashlib.sha256(piece).hexdigest()
        size = known.get(digest)
        if size is not None:
            out.append((Chunk(digest, size), False))
        else:
            out.append((Chunk(digest, _write_chunk(store, digest, piece)), True))
    return out


def _write_chunk(store: Path, digest: str, data: bytes) -> int:
    """Compress, write under a temporary name, read back (it must unpack to ``data``), then
    rename into place. Returns the packed size."""

    packed = _compressor().compress(data)  # type: ignore[attr-defined]
    where = chunk_path(store, digest)
    where.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = where.with_name(f"{where.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        _write_private(temporary, packed)
        back = temporary.read_bytes()
        if hashlib.sha256(_decompressor().decompress(back)).hexdigest() != digest:
            raise OSError(5, "a part of the backup was not written as packed")
        os.replace(temporary, where)
    finally:
        temporary.unlink(missing_ok=True)
    return len(packed)


@contextlib.contextmanager
def _snapshot(
    source: Path, work: Path, report: Progress
) -> Iterator[tuple[BinaryIO, int, int, str]]:
    """A consistent view of ``source``: (file, size, page size, how it was read)."""
    try:  # read-write: the checkpoint writes the log into the file
        conn = sqlite3.connect(f"file:{source}?mode=rw", uri=True, isolation_level=None, timeout=5)
        mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    except sqlite3.OperationalError:  # a read-only file, say: the online copy below
        conn, mode = sqlite3.connect(":memory:"), "unusable"
    try:
        for _attempt in range(40 if mode != "unusable" else 0):
            before = conn.execute("PRAGMA data_version").fetchone()[0]
            settled = True
            if mode == "wal":
                try:
                    busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.OperationalError:  # e.g. opened read-only after all
                    break
                settled = busy == 0 and log == done
            conn.execute("BEGIN")
            page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
            pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
            after = conn.execute("PRAGMA data_version").fetchone()[0]
            size = page_size * pages
            if settled and before == after and source.stat().st_size >= size:
                # The file alone is the snapshot, and stays so while this read lock is held.
                # never open()/close() the live file: closing drops this process's SQLite
                # locks on it (live_file explains)
                yield cast(BinaryIO, LiveReader(source)), size, page_size, "snapshot"
                conn.execute("COMMIT")
                return
            conn.execute("ROLLBACK")
            time.sleep(0.05)
    finally:
        conn.close()
    # A reader kept frames in the log throughout: copy with SQLite's online backup API.
    from frontdesk.db.backup import online_copy

    copy = work / f".backup-{os.getpid()}-{threading.get_ident()}.sqlite3.partial"
    try:
        online_copy(source, copy, lambda what, f: report(what, 0.45 * f), 1.0)
        size = copy.stat().st_size
        with copy.open("rb") as fh:
            page_size = int.from_bytes(fh.read(18)[16:18], "big")
            fh.seek(0)
            yield fh, size, (65536 if page_size == 1 else page_size), "online copy"
    finally:
        for suffix in ("", "-journal"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)


def _revision(source: Path) -> str | None:
    try:
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None
    return str(row[0]) if row else None


def _present(store: Path) -> set[str]:
    """The chunks whose files are in the store (folder listings only)."""
    present: set[str] = set()
    folder = store / CHUNKS
    if folder.is_dir():
        for sub in os.scandir(folder):
            if sub.is_dir():
                present.update(e.name[:-4] for e in os.scandir(sub.path) if e.name.endswith(".zst"))
    return present


def _on_disk(store: Path) -> dict[str, int]:
    """The chunks in the store a backup may reuse, by packed size: those a manifest lists and
    whose file is there (one listing of each folder, no file opened). A chunk set aside as
    damaged is not there, so the next backup writes it afresh — mending the older backups that
    list it. Chunks no manifest lists are not reused (a prune may be removing them)."""
    present = _present(store)
    # The newest backup lists nearly every chunk the file still has (a day changes ~4 %):
    # reading it alone keeps this quick (older ones' chunks would only rarely match again).
    newest = sorted(store.glob(f"*{MANIFEST_SUFFIX}"), key=_mtime, reverse=True)
    for manifest_path in newest:
        with contextlib.suppress(StoreDamaged):
            chunks = read_manifest(manifest_path).chunks
            return {c.digest: c.packed for c in chunks if c.digest in present}
    return {}


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def write_backup(source: Path, manifest_path: Path, progress: Progress | None = None) -> Manifest:
    """Back up the live database ``source`` into the store holding ``manifest_path`` (its
    folder). Returns the manifest once it is on the disk."""
    store = manifest_path.parent
    (store / CHUNKS).mkdir(parents=True, exist_ok=True, mode=0o700)
    marker = store / CHUNKS / f".writing-{os.getpid()}-{threading.get_ident()}"
    with _busy, file_lock.held(store / CHUNKS / LOCK_NAME):  # one at a time, any process
        marker.touch()  # an older frontdesk's prune leaves the store alone meanwhile
        try:
            return _write_backup(source, manifest_path, progress or _no_progress)
        finally:
            marker.unlink(missing_ok=True)


def _write_backup(source: Path, manifest_path: Path, report: Progress) -> Manifest:
    store = manifest_path.parent
    partial = manifest_path.with_name(manifest_path.name + ".partial")
    revision = _revision(source)
    known = _on_disk(store)
    try:
        with _snapshot(source, store, report) as (fh, size, page_size, how):
            start = 0.45 if how == "online copy" else 0.0  # after the copy's share
            chunks = _chunk_file(
                fh, store, size, known, lambda what, f: report(what, start + (1 - start) * f)
            )
        # every chunk listed is on the disk still (a prune elsewhere that had started before
        # this backup could have taken one it reused)
        present = _present(store)
        missing = [c for c in chunks if c.digest not in present]
        if missing:
            raise StoreDamaged(
                f"{len(missing)} part(s) of the earlier backups went missing while backing up "
                "(another frontdesk was tidying the folder). Back up again."
            )
        digest = combined_digest((c.digest for c in chunks), size)
        packed = array("I", (c.packed for c in chunks))
        if sys.byteorder != "little":
            packed.byteswap()
        body = {
            "format": FORMAT,
            "size": size,
            "page_size": page_size,
            "revision": revision,
            "chunk_bytes": CHUNK_BYTES,
            "digest": digest,
            "read": how,
            "digests": base64.b64encode(b"".join(bytes.fromhex(c.digest) for c in chunks)).decode(),
            "packed": base64.b64encode(packed.tobytes()).decode(),
        }
        report("Finishing the backup", 0.98)
        for folder in {chunk_path(store, c.digest).parent for c in chunks if c.digest not in known}:
            _fsync_dir(folder)
        _write_private(partial, json.dumps(body, separators=(",", ":")).encode())
        os.replace(partial, manifest_path)
        _fsync_dir(store)
    finally:
        partial.unlink(missing_ok=True)
    report("Backed up and checked", 1.0)
    return read_manifest(manifest_path)


def _chunk_file(
    fh: BinaryIO, store: Path, size: int, known: dict[str, int], report: Progress
) -> list[Chunk]:
    chunks: list[Chunk] = []
    run = CHUNK_BYTES * max(1, (1 << 20) // CHUNK_BYTES)  # read ~1 MiB at a time
    left = size
    with ThreadPoolExecutor(2, thread_name_prefix="backup-chunk") as pool:
        pending: deque[Future[list[tuple[Chunk, bool]]]] = deque()

        def collect() -> None:
            chunks.extend(c for c, _written in pending.popleft().result())
            report("Backing up", 0.95 * (size - left) / max(size, 1))

        while left > 0:
            data = fh.read(min(run, left))
            if not data:
                raise OSError(5, "the database file ended early while it was read")
            left -= len(data)
            pending.append(pool.submit(_store_piece, store, data, known))
            if len(pending) >= _IN_FLIGHT:
                collect()
        while pending:
            collect()
    return chunks


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # NTFS makes a rename durable with the file; folders cannot be opened
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- pruning and sizes ------------------------------------------------------------------------
def live_chunks(store: Path) -> set[str]:
    """Every chunk a manifest in ``store`` lists. A manifest that cannot be read keeps all
    chunks (nothing is deleted on a guess)."""
    live: set[str] = set()
    for path in store.glob(f"*{MANIFEST_SUFFIX}"):
        live.update(c.digest for c in read_manifest(path).chunks)
    return live


def collect_garbage(store: Path, *, now: float | None = None) -> int:
    """Delete chunks no manifest lists and older than GRACE_SECONDS; returns bytes freed.
    Leftovers of interrupted writes (``.partial``) past the grace period go too."""
    folder = store / CHUNKS
    if not folder.is_dir():
        return 0
    with _busy, file_lock.held(folder / LOCK_NAME, wait=False) as mine:
        # a backup in another process holds the lock from before it lists the parts it reuses
        # until its manifest is down: tidying meanwhile could take one it has just reused
        return _collect(store, folder, now) if mine else 0


def collecting_blocked(store: Path, *, now: float | None = None) -> bool:
    """True while ``collect_garbage`` would free nothing whatever is removed: a backup is being
    written (its marker is recent) or a manifest cannot be read (its chunks cannot be told
    apart from unused ones). A prune by size must not remove backups then: it would go on
    removing them one by one while the folder stays the size it was."""
    folder = store / CHUNKS
    if folder.is_dir():
        with file_lock.held(folder / LOCK_NAME, wait=False) as free:
            if not free:
                return True
    if not folder.is_dir():
        return False
    cutoff = (fs_now(folder) if now is None else now) - GRACE_SECONDS
    for marker in folder.glob(".writing-*"):
        with contextlib.suppress(OSError):
            if marker.stat().st_mtime > cutoff:
                return True
    try:
        live_chunks(store)
    except StoreDamaged:
        return True
    return False


def fs_now(folder: Path) -> float:
    """The file system's clock, read by writing a byte: the ages compared with it are file
    times the same clock set (the process's own clock may differ from it: changed by hand,
    or faked for a whole process in the tests)."""
    probe = folder / ".clock"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        os.write(fd, b"\n")
    finally:
        os.close(fd)
    return probe.stat().st_mtime


def _collect(store: Path, folder: Path, now: float | None) -> int:
    cutoff = (fs_now(folder) if now is None else now) - GRACE_SECONDS
    for marker in folder.glob(".writing-*"):  # a backup is being written (another process)
        with contextlib.suppress(OSError):
            if marker.stat().st_mtime > cutoff:
                return 0
            marker.unlink()  # left by a backup that never finished
    try:
        live = live_chunks(store)
    except StoreDamaged:
        return 0
    freed = 0
    for path in folder.glob("*/*"):
        name = path.name
        digest = name.split(".")[0]
        if name.endswith(".zst") and digest in live:
            continue
        try:
            stat = path.stat()
            if stat.st_mtime > cutoff:
                continue
            path.unlink()
            freed += stat.st_size
        except OSError:
            continue
    return freed


def chunks_bytes(store: Path) -> int:
    folder = store / CHUNKS
    total = 0
    if folder.is_dir():
        for path in folder.glob("*/*"):
            with contextlib.suppress(OSError):
                total += path.stat().st_size
    return total


def usage(manifests: list[Path]) -> dict[Path, tuple[int, int]]:
    """(bytes only this backup holds, bytes it shares with others) for each manifest: the
    first is what deleting it would free. Works on the raw digests (0.7 s for 5 backups of
    a ten-year clinic, ≈ 38,000 chunks each)."""
    lists: dict[Path, dict[bytes, int]] = {}
    for path in manifests:
        with contextlib.suppress(StoreDamaged):
            _data, digests, packed = _parse(path)
            lists[path] = dict(zip((digests[i : i + 32] for i in range(0, len(digests), 32)),
                                   packed, strict=True))  # fmt: skip
    users: dict[bytes, int] = {}
    for seen in lists.values():
        for d in seen:
            users[d] = users.get(d, 0) + 1
    out: dict[Path, tuple[int, int]] = {}
    for path, seen in lists.items():
        own = sum(p for d, p in seen.items() if users[d] == 1)
        out[path] = (own, sum(seen.values()) - own)
    return out
