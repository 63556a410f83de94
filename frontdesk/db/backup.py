"""Backups of the desk database: an SQLite online backup into a work file, checked (SQLite's
quick_check, and that it opens at this schema) while Zstandard packs it into a frame that carries
the content's length and checksum; the packed file is then read back and its CRC-32 compared
with that of the bytes written. Only then is it fsynced and renamed into place.

A ``….sqlite3.zst`` destination is compressed; any other name gets a plain SQLite copy (still
checked). ``materialise`` turns either kind back into a database file, so backups written by
earlier versions (plain ``.sqlite3``) restore as before. Whatever stops a backup half-way, no
``.partial`` file is left behind. ``check="restore"`` checks by a full trial restore into a
temporary file instead (the slower way of earlier versions, kept for comparison).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import IO, BinaryIO, Literal, cast

from frontdesk.domain.errors import EnvironmentProblem
from frontdesk.paths import keep_private, private_dir

Progress = Callable[[str, float], None]  # (what is happening, fraction done 0..1)
COMPRESSED_SUFFIX = ".zst"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CHUNK = 4 << 20
# Level 1: the 10-year clinic packs to under a fifth of its size at a few hundred MB/s a core;
# level 3 saved ~10% more bytes for twice the time (benchmarks/bench_storage.py).
LEVEL = 1
_PAGES_PER_STEP = 16_384  # online backup pages copied between progress reports (64 MB)
# The source is read through a memory map: a fifth off the online copy of the 10-year clinic.
_MMAP_BYTES = 1 << 30


def _no_progress(_what: str, _fraction: float) -> None:
    return None


def is_compressed(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == ZSTD_MAGIC
    except OSError:
        return False


def backup_file(
    source: Path,
    destination: Path,
    progress: Progress | None = None,
    *,
    check: Literal["stream", "restore"] = "stream",
) -> Path:
    """Copy a live database with SQLite's online backup API (safe while others write), compress
    it when ``destination`` ends in ``.zst``, then prove the packed file unpacks to the checked
    copy. A full disk or unwritable folder becomes an EnvironmentProblem."""
    report = progress or _no_progress
    private_dir(destination.parent)
    partial = destination.with_name(destination.name + ".partial")
    staging = destination.with_name(destination.name + ".db.partial")
    compress = destination.name.endswith(COMPRESSED_SUFFIX)
    try:
        copy_to = staging if compress else partial
        online_copy(source, copy_to, report, 0.45 if compress else 0.8)
        if compress:
            size = staging.stat().st_size
            # SQLite checks the copy while Zstandard packs it (both release the GIL) ...
            with ThreadPoolExecutor(1, thread_name_prefix="backup-check") as pool:
                checked = pool.submit(_checked_copy, staging)
                written = _compress(staging, partial, size, report)
                checked.result()
            staging.unlink()
            report("Checking the backup", 0.85)
            # ... and the packed file, read back, is byte for byte what Zstandard wrote (CRC-32);
            # the frame's own checksum of the checked content is verified by every restore.
            if check == "restore":
                check_restores(partial, expected_size=size, full_check=False)
            else:
                _check_packed(partial, size, written)
        else:
            report("Checking the backup", 0.85)
            verify(partial)
        keep_private(partial)
        _fsync(partial)  # on the disk before it takes the backup's name
        partial.replace(destination)
        report("Backed up and checked", 1.0)
    except sqlite3.OperationalError as exc:
        raise EnvironmentProblem(
            f"The backup could not be written to {destination.parent}: {exc}. "
            "Check there is free disk space and that the folder can be written to.",
        ) from exc
    except OSError as exc:
        raise EnvironmentProblem(
            f"The backup could not be written to {destination.parent}: {exc.strerror}. "
            "Check there is free disk space and that the folder can be written to.",
        ) from exc
    finally:  # whatever stopped it (a damaged source too), no .partial file is left behind
        for leftover in (partial, staging):
            for suffix in ("", "-journal"):
                Path(f"{leftover}{suffix}").unlink(missing_ok=True)
    return destination


def _checked_copy(path: Path) -> None:
    """The work copy is an intact database (quick_check) that opens at a schema revision."""
    verify(path, quick=True)
    _opens(path)


def _check_packed(path: Path, expected_size: int, written: int) -> None:
    """The packed file as it lies on the disk: its CRC-32 equals that of the bytes Zstandard
    wrote (a short or damaged write shows), and its frame header says it holds the checked
    copy's length with a checksum of the content, which every restore then verifies."""
    import zstandard

    crc = 0
    with path.open("rb") as raw:
        head = raw.read(18)  # the longest frame header
        crc = zlib.crc32(head)
        while chunk := raw.read(CHUNK):
            crc = zlib.crc32(chunk, crc)
    if crc != written:
        raise EnvironmentProblem(f"{path.name} was not written as packed (checksum differs).")
    try:
        frame = zstandard.get_frame_parameters(head)
    except zstandard.ZstdError as exc:
        raise EnvironmentProblem(f"{path.name} does not unpack: {exc}") from exc
    if frame.content_size != expected_size or not frame.has_checksum:
        raise EnvironmentProblem(f"{path.name} unpacks to a file of the wrong size.")


class _Summed:
    """A file Zstandard writes into, keeping the CRC-32 of every byte written."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.crc = 0

    def write(self, data: bytes) -> int:
        self.crc = zlib.crc32(data, self.crc)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)  # Windows flushes only a handle open for writing
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def online_copy(source: Path, target: Path, report: Progress, share: float) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        src.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
        dst = sqlite3.connect(target)
        try:
            # A work file: no journal, no syncs while it is written (it is checked afterwards)
            dst.execute("PRAGMA journal_mode=OFF")
            dst.execute("PRAGMA synchronous=OFF")

            def step(_status: int, remaining: int, total: int) -> None:
                report("Copying the database", share * (total - remaining) / max(total, 1))

            src.backup(dst, pages=_PAGES_PER_STEP, progress=step)
            # A backup is one self-contained file: no -wal/-shm beside it, ever.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _compress(plain: Path, target: Path, size: int, report: Progress) -> int:
    """Pack ``plain`` into ``target``; returns the CRC-32 of the bytes written."""
    import zstandard  # only when backing up: keeps start-up lean

    params = zstandard.ZstdCompressionParameters.from_level(
        LEVEL, threads=-1, write_checksum=True, write_content_size=True
    )
    compressor = zstandard.ZstdCompressor(compression_params=params)
    done = 0
    with plain.open("rb") as src, target.open("wb") as raw:
        summed = _Summed(raw)
        with compressor.stream_writer(cast(IO[bytes], summed), size=size, closefd=False) as out:
            while chunk := src.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                report("Compressing", 0.45 + 0.39 * done / max(size, 1))
    return summed.crc


def materialise(path: Path, target: Path) -> None:
    """Write the database held in backup ``path`` (compressed or not) to ``target``. A cut-short
    or corrupted compressed file raises ``sqlite3.DatabaseError`` like a damaged database (a
    backup in the deduplicating store: ``backup_store.StoreDamaged``, naming the part)."""
    from frontdesk.db import backup_store

    if backup_store.is_manifest(path):
        backup_store.restore_to(path, target)
        return
    if not is_compressed(path):
        shutil.copyfile(path, target)
        return
    import zstandard

    try:
        with path.open("rb") as src, target.open("wb") as out:
            zstandard.ZstdDecompressor().copy_stream(src, out, read_size=CHUNK, write_size=CHUNK)
    except zstandard.ZstdError as exc:  # the frame's checksum or length does not match
        raise sqlite3.DatabaseError(f"the compressed backup is damaged ({exc})") from exc


def check_restores(
    path: Path, *, expected_size: int | None = None, full_check: bool = True
) -> None:
    """Restore backup ``path`` into a temporary file beside it and check that database (without
    ``full_check``: that SQLite opens it and reads its schema and revision; for a file whose
    content was checked before it was packed)."""
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".verify-") as tmp:
        restored = Path(tmp) / "restored.sqlite3.partial"
        try:
            materialise(path, restored)
        except sqlite3.DatabaseError as exc:
            raise EnvironmentProblem(f"{path.name} does not restore: {exc}") from exc
        if expected_size is not None and restored.stat().st_size != expected_size:
            raise EnvironmentProblem(f"{path.name} restores to a file of the wrong size.")
        if full_check:
            verify(restored, quick=True)
        else:
            _opens(restored)


def _opens(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.execute("SELECT version_num FROM alembic_version").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise EnvironmentProblem(f"{path.name} does not open after restoring ({exc}).") from exc


def verify(path: Path, *, quick: bool = False) -> None:
    """Raise EnvironmentProblem unless ``path`` is an intact SQLite database (``quick``:
    SQLite's quick_check, which reads every page but skips matching indexes to rows)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            pragma = "quick_check" if quick else "integrity_check"
            rows = conn.execute(f"PRAGMA {pragma}").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise EnvironmentProblem(
            f"{path.name} is not a readable frontdesk database ({exc})."
        ) from exc
    if rows != [("ok",)]:
        raise EnvironmentProblem(f"{path.name} failed its integrity check: {rows[0][0]}")


def timestamped_name(prefix: str, when: datetime, *, compressed: bool = False) -> str:
    suffix = COMPRESSED_SUFFIX if compressed else ""
    return f"{prefix}-{when.strftime('%Y%m%d-%H%M%S')}.sqlite3{suffix}"
