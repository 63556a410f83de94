"""The server's storage operations other than applying pushes: set-up, enrolment and tokens,
pulling the change log, snapshot pages and table checks.

One writer at a time: a process-wide lock, plus a transaction-level advisory lock on
PostgreSQL, so change-log sequence numbers are assigned in commit order and a reader can never
skip a change that commits late.

Over 400 lines on purpose: one class, ServerStore, that owns the single-writer lock; its
operations share that lock and the connection handling, so they stay together.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, select, text, update

from frontdesk.db import sync_totals
from frontdesk.db.engine import make_engine
from frontdesk.domain.clock import Clock, SystemClock
from frontdesk.domain.errors import FrontdeskError
from frontdesk.domain.ids import uuid7
from frontdesk.faults import checkpoint
from frontdesk.models import ClinicSettings
from frontdesk.models.codec import to_json_value
from frontdesk.protocol import invoice_prefix, series_prefixes
from frontdesk.server import schema as s
from frontdesk.server import snapshot
from frontdesk.server.migrate import Outcome, upgrade_server
from frontdesk.store import balances

ADVISORY_KEY = 7_042_201
_NEWEST = "frontdesk_newest_seq"  # conn.info: the position a write publishes on commit
LATEST_EVERY = 0.1  # seconds between reads of the log's newest position (several processes)
# An enrolment code not used within this long is refused.
CODE_LIFETIME = timedelta(days=7)
# Per-transaction scratch kept on the connection; cleared at every begin and end.
_CHUNK_KEYS = (
    "next_seq",
    "row_cache",
    "insert_buffer",
    "log_buffer",
    "result_buffer",
    "clash_queue",
    "settle_queue",
    "log_index",
    "log_indexed",
    "history_cache",
    "audit_heads",
    "audit_dirty",
    "audit_devices",
    "api_key_used",  # the integration API's write (api/booking.py): its key's row as read,
    "api_cache",  # the slot cache and its position for the clinic's facts,
    "api_places",  # where the bookings it changed now are
)


class ServerProblem(FrontdeskError):
    """A request the server refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, user_message: str, *, code: str = "refused") -> None:
        super().__init__(user_message)
        self.status = status
        self.code = code


def normalise_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def row_to_json(row: Any, table: Table) -> dict[str, Any]:
    """A whole row as JSON values (a refused change's row, a row the content check corrects)."""
    return {c.name: to_json_value(row[c.name]) for c in table.columns}


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# The change log's device for changes the integration API makes (api/booking.py). It and the
# server's own "server" are never a desk's: enrolling under either is refused.
API_DEVICE = "server-api"
RESERVED_DEVICES = frozenset({"server", API_DEVICE})


@dataclass(frozen=True)
class Device:
    id: str
    number: int
    name: str
    series_prefix: str
    last_seq: int
    pull_cursor: int | None = None
    unsent: int | None = None


# A desk's pull position (``frontdesk-server devices``: "last seen", "to get") is written at
# most this often while only the position moves.
NOTE_EVERY_S = 15.0
# A long-poll takes the device its token authenticated as this recently without a query.
AUTH_KEPT_S = 2.0
# A woken long-poll's page brings the check after it when it holds at most this many changes
# (a bigger catch-up asks for the check as before).
INLINE_CHECK_ROWS = 200


class ServerStore:
    def __init__(self, url: str, clock: Clock | None = None) -> None:
        self.engine: Engine = make_engine(normalise_url(url), text_keys=True)
        self.clock: Clock = clock or SystemClock()
        self.lock = threading.Lock()
        self.is_postgres = self.engine.dialect.name == "postgresql"
        # SQLite: a write transaction takes the database's write lock as it begins (BEGIN
        # IMMEDIATE), so several server processes queue for it instead of one failing half-way
        self._writer = self.engine.execution_options(sqlite_immediate=True)
        self._latest = 0  # ``latest_seq``: for long-polls in this process; the database rules
        # called (from any thread) when ``latest_seq`` moves on: wakes this process's long-polls
        self.on_newest: Callable[[], None] = lambda: None
        # other server processes (``run --workers``, or another ``run`` on the same
        # database) may commit: long-polls learn of it by reading the log's newest position,
        # at most every ``LATEST_EVERY`` seconds for all of this process's long-polls
        self.shared = True
        self._noted: dict[str, float] = {}  # device id → when its pull position was written
        # token hash → (when, device): ``recently_authenticated``
        self._authenticated: dict[str, tuple[float, Device]] = {}
        self._times = threading.local()  # ``write_times``

    @property
    def latest_seq(self) -> int:
        """The change log's newest position as this process knows it (its own commits at once,
        other processes' within ``LATEST_EVERY`` while a long-poll waits)."""
        return self._latest

    @latest_seq.setter
    def latest_seq(self, value: int) -> None:
        moved = value > self._latest
        self._latest = value
        if moved:
            self.on_newest()

    # -- set-up -----------------------------------------------------------------------------
    def init(self, *, backup: bool = True) -> Outcome:
        """Create the schema, or bring it to this version's head (``server.migrate``): a
        SQLite file is copied beside itself before an existing database is changed, and one
        made by a newer frontdesk-server is refused untouched (DatabaseTooNew)."""
        outcome = upgrade_server(self.engine, backup=backup)
        with self.reading() as conn:
            self.latest_seq = self._max_seq(conn)
        return outcome

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        asked = time.perf_counter()
        with self.lock:
            got = time.perf_counter()
            try:
                with self._writer.begin() as conn:
                    for key in _CHUNK_KEYS:
                        conn.info.pop(key, None)
                    if self.is_postgres:
                        conn.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_KEY})"))
                    try:
                        yield conn
                    finally:
                        for key in _CHUNK_KEYS:
                            conn.info.pop(key, None)
                        newest = conn.info.pop(_NEWEST, None)
            finally:
                # how long this thread's last write waited for the writer and held it (commit
                # included): the push's log line says, for bench_group
                self._times.last = (got - asked, time.perf_counter() - got)
        if newest is not None:  # committed: now long-polls may wake and read it
            self.latest_seq = max(self.latest_seq, newest)

    def write_times(self) -> tuple[float, float]:
        """Seconds this thread's last ``writing`` waited for the writer, and held it."""
        last: tuple[float, float] = getattr(self._times, "last", (0.0, 0.0))
        return last

    def publish_newest(self, conn: Connection) -> None:
        """The change log's newest position after this write, for this process's long-polls
        once the write has committed: woken before it, 49 desks read pages without the
        change (and woke again and again until it landed; bench_group)."""
        conn.info[_NEWEST] = self.newest_seq(conn)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def refresh_latest(self) -> int:
        """The change log's newest position, read from the database (other processes' commits
        included), kept in ``latest_seq`` for every long-poll of this process."""
        with self.reading() as conn:
            self.latest_seq = max(self.latest_seq, self._max_seq(conn))
        return self.latest_seq

    def info(self, conn: Connection, key: str) -> str:
        value = conn.execute(select(s.server_info.c.value).where(s.server_info.c.key == key))
        return str(value.scalar_one())

    def put_info(self, conn: Connection, key: str, value: str) -> None:
        """Set a server fact, adding it when it is new."""
        found = conn.execute(select(s.server_info.c.key).where(s.server_info.c.key == key))
        if found.first() is None:
            conn.execute(insert(s.server_info).values(key=key, value=value))
        else:
            self.set_info(conn, key, value)

    def set_info(self, conn: Connection, key: str, value: str) -> None:
        conn.execute(update(s.server_info).where(s.server_info.c.key == key).values(value=value))

    def epoch(self) -> str:
        with self.reading() as conn:
            return self.info(conn, "epoch")

    def new_epoch(self) -> str:
        """After restoring the server from a backup: desks re-sync (pushing their outbox first)."""
        with self.writing() as conn:
            epoch = uuid7()
            self.set_info(conn, "epoch", epoch)
        return epoch

    def _max_seq(self, conn: Connection) -> int:
        """The newest change-log position (never below the history floor, even when pruned)."""
        top = int(
            conn.execute(select(func.coalesce(func.max(s.change_log.c.seq), 0))).scalar() or 0
        )
        if top == 0:
            floor = conn.execute(
                select(s.server_info.c.value).where(s.server_info.c.key == "history_floor")
            ).scalar()
            return int(floor or 0)
        return top

    def newest_seq(self, conn: Connection) -> int:
        """The newest change-log position, inside the writer's transaction: the last one this
        transaction took (no query) or, when it took none, the log's."""
        taken = conn.info.get("next_seq")
        return int(taken) - 1 if taken is not None else self._max_seq(conn)

    def next_seq(self, conn: Connection) -> int:
        """The next change-log position, inside the writer's transaction (lock held)."""
        seq = conn.info.get("next_seq")
        if seq is None:
            seq = self._max_seq(conn) + 1
        conn.info["next_seq"] = seq + 1
        return int(seq)

    # -- enrolment and tokens ---------------------------------------------------------------
    def create_enrolment_code(self, name: str) -> str:
        code = "-".join(secrets.token_hex(3).upper() for _ in range(3))
        with self.writing() as conn:
            conn.execute(
                insert(s.enrolment_codes).values(
                    code_hash=hash_secret(code), name=name[:120], created_at=self.clock.now()
                )
            )
        return code

    def enrol(self, code: str, device_id: str, device_name: str) -> tuple[Device, str, bool, int]:
        """Use a one-time code: (device, token, server already holds a clinic, changes of this
        desk already in the server's copy). A desk enrolled before (revoked, or one that lost
        its keychain entry) enrols again with a fresh code: a new token, the same number series
        and change sequence."""
        if device_id.strip().lower() in RESERVED_DEVICES:
            raise ServerProblem(
                422, "That device id belongs to the clinic server itself.", code="reserved_device"
            )
        token = secrets.token_urlsafe(32)
        self._authenticated.clear()  # a desk enrolled again: its old token no longer serves
        with self.writing() as conn:
            row = conn.execute(
                select(s.enrolment_codes).where(
                    s.enrolment_codes.c.code_hash == hash_secret(code.strip().upper())
                )
            ).first()
            now = self.clock.now()
            if row is None or row.used_at is not None:
                raise ServerProblem(
                    403,
                    "That enrolment code is not valid or was already used. Ask the person who "
                    "runs the clinic server for a new one.",
                    code="bad_code",
                )
            if row.created_at + CODE_LIFETIME < now:
                raise ServerProblem(
                    403,
                    f"That enrolment code has expired (codes last {CODE_LIFETIME.days} days). "
                    "Ask the person who runs the clinic server for a new one.",
                    code="bad_code",
                )
            conn.execute(
                update(s.enrolment_codes)
                .where(s.enrolment_codes.c.code_hash == row.code_hash)
                .values(used_at=now, device_id=device_id)
            )
            has_clinic = (
                conn.execute(select(ClinicSettings.__table__.c.id).limit(1)).first() is not None  # type: ignore[attr-defined]
            )
            before = conn.execute(select(s.devices).where(s.devices.c.id == device_id)).first()
            if before is not None:
                conn.execute(
                    update(s.devices)
                    .where(s.devices.c.id == device_id)
                    .values(token_hash=hash_secret(token), revoked_at=None)
                )
                dev = Device(
                    before.id, before.number, before.name, before.series_prefix,
                    int(before.last_seq),
                )  # fmt: skip
                return dev, token, has_clinic, 0
            number = (
                int(
                    conn.execute(select(func.coalesce(func.max(s.devices.c.number), 0))).scalar()
                    or 0
                )
                + 1
            )
            prefix = invoice_prefix(number)
            # The desk the clinic was seeded from: its changes so far are already here.
            seeded = dict(
                conn.execute(
                    select(s.server_info.c.key, s.server_info.c.value).where(
                        s.server_info.c.key.in_(("seeded_from", "seeded_through"))
                    )
                ).all()
            )
            last_seq = (
                int(seeded.get("seeded_through", 0))
                if seeded.get("seeded_from") == device_id
                else 0
            )
            conn.execute(
                insert(s.devices).values(
                    id=device_id,
                    number=number,
                    name=(device_name or row.name)[:120],
                    token_hash=hash_secret(token),
                    series_prefix=prefix,
                    last_seq=last_seq,
                    enrolled_at=now,
                )
            )
            for kind, p in series_prefixes(prefix).items():
                conn.execute(
                    insert(s.series_registry).values(prefix=p, kind=kind, device_id=device_id)
                )
        device = Device(device_id, number, device_name, prefix, last_seq)
        return device, token, has_clinic, last_seq

    def list_codes(self) -> list[dict[str, Any]]:
        """Enrolment codes not used yet (the codes themselves are kept only as hashes): an id
        to cancel one by, its name, when it was made and when it expires."""
        c = s.enrolment_codes.c
        with self.reading() as conn:
            rows = conn.execute(
                select(c.code_hash, c.name, c.created_at)
                .where(c.used_at.is_(None))
                .order_by(c.created_at)
            ).all()
        now = self.clock.now()
        return [
            {
                "id": r.code_hash[:8],
                "name": r.name,
                "created_at": r.created_at,
                "expires_at": r.created_at + CODE_LIFETIME,
                "expired": r.created_at + CODE_LIFETIME < now,
            }
            for r in rows
        ]

    def cancel_code(self, id_or_name: str) -> int:
        """Cancel unused codes by the id ``list_codes`` shows, or by name; returns how many."""
        c = s.enrolment_codes.c
        with self.writing() as conn:
            done = conn.execute(
                s.enrolment_codes.delete()
                .where(c.used_at.is_(None))
                .where((c.name == id_or_name) | (func.substr(c.code_hash, 1, 8) == id_or_name))
            )
        return int(done.rowcount)

    def recently_authenticated(self, token: str) -> Device | None:
        """The device this token authenticated as within ``AUTH_KEPT_S`` in this process (no
        query), for long-polls only: one booking wakes every desk of a group, and each woken
        desk's next long-poll read its device at the same moment — 49 reads, each holding a
        thread and a pooled connection, that a push then queued behind. A revocation or a new
        enrolment through this process clears what is kept; one by another process (the
        ``revoke`` command) reaches a long-poll within ``AUTH_KEPT_S``, and every other
        request (push, pull, check) at once."""
        kept = self._authenticated.get(hash_secret(token))
        if kept is None or time.monotonic() - kept[0] > AUTH_KEPT_S:
            return None
        return kept[1]

    def authenticate(self, token: str) -> Device:
        device = self._authenticate(token)
        if len(self._authenticated) > 10_000:
            self._authenticated.clear()
        self._authenticated[hash_secret(token)] = (time.monotonic(), device)
        return device

    def _authenticate(self, token: str) -> Device:
        with self.reading() as conn:
            row = conn.execute(
                select(s.devices).where(s.devices.c.token_hash == hash_secret(token))
            ).first()
        if row is None or row.revoked_at is not None:
            raise ServerProblem(
                401,
                "This desk is not allowed to sync: its access was revoked or never granted. "
                "Enrol it again with a new code.",
                code="unauthorised",
            )
        return Device(
            row.id,
            row.number,
            row.name,
            row.series_prefix,
            int(row.last_seq),
            row.pull_cursor,
            row.unsent,
        )

    def note_received(self, device: Device, cursor: int, unsent: int | None = None) -> None:
        """The desk has the change log up to ``cursor`` (it asks for what follows) and says how
        many of its changes wait to be sent: kept, with the time, so ``frontdesk-server
        devices`` shows a desk that stopped receiving or whose changes do not leave it."""
        unsent = device.unsent if unsent is None else unsent
        if not self.note_due(device, cursor, unsent):
            return
        # not the writer's lock: the change log is not touched, and pushes queued behind it
        with self._writer.begin() as conn:
            conn.execute(
                update(s.devices)
                .where(s.devices.c.id == device.id)
                .values(pull_cursor=cursor, unsent=unsent, last_seen_at=self.clock.now())
            )

    def note_due(self, device: Device, cursor: int, unsent: int | None) -> bool:
        """Whether ``note_received`` writes now (no query: a long-poll asks on its loop).
        Only the position moved: written at most every NOTE_EVERY_S a desk. Every pull after
        a change moves it, and each write queued behind the writer's lock (50 desks woken by
        one booking made 50 writes; bench_group). What is waiting to be sent is noted at once."""
        unsent = device.unsent if unsent is None else unsent
        if device.pull_cursor == cursor and device.unsent == unsent:
            return False
        now = time.monotonic()
        if (
            device.unsent == unsent
            and now - self._noted.get(device.id, -NOTE_EVERY_S) < NOTE_EVERY_S
        ):
            return False
        self._noted[device.id] = now
        return True

    def revoke(self, name_or_id: str) -> int:
        self._authenticated.clear()
        with self.writing() as conn:
            result = conn.execute(
                update(s.devices)
                .where((s.devices.c.id == name_or_id) | (s.devices.c.name == name_or_id))
                .where(s.devices.c.revoked_at.is_(None))
                .values(revoked_at=self.clock.now(), token_hash=None)
            )
        return int(result.rowcount)

    def list_devices(self) -> list[dict[str, Any]]:
        with self.reading() as conn:
            rows = conn.execute(select(s.devices).order_by(s.devices.c.number)).mappings().all()
        return [dict(r) for r in rows]

    # -- reading ----------------------------------------------------------------------------
    def pull(self, cursor: int, limit: int, device_id: str = "") -> dict[str, Any]:
        """Changes after ``cursor`` (at most ``limit``), as a JSON-ready dict."""
        return dict(json.loads(self.pull_json(cursor, limit, device_id)))

    def pull_json(self, cursor: int, limit: int, device_id: str = "") -> str:
        """``pull`` already encoded: each change's stored fields JSON goes out as it is,
        without decoding and encoding it again."""
        with self.reading() as conn:
            return self._pull_page(conn, cursor, limit, device_id)[0]

    def wait_page(
        self,
        cursor: int,
        limit: int,
        device_id: str = "",
        heads: Callable[[Connection], Any] | None = None,
    ) -> tuple[str, frozenset[str]]:
        """A woken long-poll's pull page (``pull_json``) and, when it reaches the log's end
        and is small, the check after it read at the same moment (``check_answer``'s
        figures for the page's tables, the content fingerprints of the page's rows as the
        server holds them, and with ``heads`` the audit heads when the page moves audit
        entries), encoded as the long-poll answer's ``"pull": …[, "check": …]`` members; and
        the devices whose changes the page holds (with ``device_id`` "", the page any desk
        but those gets: theirs go to them as echoes). The woken desk compares the check
        itself and asks for it only when something differs (``SyncEngine``). Desks woken by
        one change share one read (``server/woken.py``)."""
        page, check, _latest, devices = self._wait_page(cursor, limit, device_id, heads)
        if check is None:
            return f'"pull": {page}', devices
        return f'"pull": {page}, "check": {json.dumps(check)}', devices

    def _wait_page(
        self,
        cursor: int,
        limit: int,
        device_id: str,
        heads: Callable[[Connection], Any] | None,
    ) -> tuple[str, dict[str, Any] | None, int, frozenset[str]]:
        with self.snapshot_reading() as conn:
            page, rows, more, latest = self._pull_page(conn, cursor, limit, device_id)
            devices = frozenset(r.device_id for r in rows)
            if more or not rows or rows[-1].seq != latest or len(rows) > INLINE_CHECK_ROWS:
                return page, None, latest, devices
            names = sorted({r.entity for r in rows})
            tables, _ = self._table_stats(conn, names)
            ids: dict[str, list[str]] = {}
            for r in rows:
                ids.setdefault(r.entity, []).append(r.row_id)
            audit = heads(conn) if heads is not None and "audit_events" in ids else None
            check = {
                "tables": tables,
                "latest": latest,
                "digests": self._digests(conn, ids),
                "audit": audit,
            }
        return page, check, latest, devices

    def _pull_page(
        self, conn: Connection, cursor: int, limit: int, device_id: str
    ) -> tuple[str, list[Any], bool, int]:
        """The pull's page as of ``conn``: the encoded answer, its change-log rows, whether
        more follow, and the log's newest position."""
        floor = int(self.info(conn, "history_floor"))
        epoch = self.info(conn, "epoch")
        if cursor < floor:
            raise ServerProblem(
                410,
                "This desk was away longer than the server keeps history; it will re-sync.",
                code="cursor_too_old",
            )
        c = s.change_log.c
        rows = conn.execute(
            select(
                c.seq,
                c.entity,
                c.row_id,
                c.op,
                c.version,
                c.exact,
                c.device_id,
                c.mutation_id,
                c.fields_json,
                c.proof_json,
            )
            .where(c.seq > cursor)
            .order_by(c.seq)
            .limit(limit + 1)
        ).all()
        latest = self._max_seq(conn)
        more = len(rows) > limit
        rows = rows[:limit]
        dumps = json.dumps
        parts = []
        for r in rows:
            # The desk's own change, stored exactly as sent: it needs only the new version.
            # Its own changes are named either way: a desk whose answers were lost learns
            # from them which of its waiting changes the server already holds.
            own = r.device_id == device_id
            echo = bool(r.exact) and own
            head = dumps(
                {
                    "seq": r.seq,
                    "entity": r.entity,
                    "row_id": r.row_id,
                    "op": r.op,
                    "version": r.version,
                    "echo": echo,
                    "mutation_id": r.mutation_id if own else None,
                    **({"proof": json.loads(r.proof_json)} if r.proof_json else {}),
                }
            )
            parts.append(f'{head[:-1]}, "fields": {"{}" if echo else r.fields_json}}}')
        new_cursor = rows[-1].seq if rows else max(cursor, 0)
        tail = dumps({"cursor": new_cursor, "more": more, "epoch": epoch, "latest": latest})
        return f'{{"changes": [{", ".join(parts)}], {tail[1:]}', list(rows), more, latest

    def snapshot_start(self) -> dict[str, Any]:
        with self.reading() as conn:
            counts = {
                name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
                for name, t in ((t.name, t) for t in s.all_data_tables())
            }
            return {
                "cursor": self._max_seq(conn),
                "epoch": self.info(conn, "epoch"),
                "tables": counts,
            }

    def snapshot_page_json(
        self, table_name: str, after: str, limit: int, *, columns: bool = False
    ) -> str:
        """Up to ``limit`` rows of a table after id ``after``, already encoded (see
        ``server/snapshot.py``; ``columns`` for the compact column-array form)."""
        tables = {t.name: t for t in s.all_data_tables()}
        table = tables.get(table_name)
        if table is None:
            raise ServerProblem(404, "No such table.", code="unknown_table")
        with self.reading() as conn:
            return snapshot.page_json(conn, table, after, limit, columns=columns)

    @contextmanager
    def snapshot_reading(self) -> Iterator[Connection]:
        """A read transaction that sees one moment throughout: PostgreSQL's default (READ
        COMMITTED) lets each statement see later commits, so figures read one after another
        could mix two moments of a busy clinic (SQLite's read transactions are one moment)."""
        with self.engine.connect() as conn:
            if self.is_postgres:
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def check_answer(
        self,
        names: list[str],
        digests: dict[str, dict[str, str]],
        limit: int,
        also: Callable[[Connection], Any] | None = None,
    ) -> tuple[dict[str, list[int]], int, dict[str, list[dict[str, Any]]], Any]:
        """A desk's check after its sync, all as of one moment: per table (row count, sum of
        versions), the change-log position they reflect, and the rows whose content differs
        from the desk's fingerprints (and whatever ``also`` reads: the audit heads). Read
        apart, another desk's push landing in between made the figures disagree with the
        position: the desk re-synced whole tables and took rows whose parents it had not yet
        pulled (seen with 50 desks at once, bench_group)."""
        with self.snapshot_reading() as conn:
            tables, latest = self._table_stats(conn, names)
            repair = self._differing_rows(conn, digests, limit) if digests else {}
            extra = also(conn) if also is not None else None  # read at the same moment
        return tables, latest, repair, extra

    def _table_stats(self, conn: Connection, names: list[str]) -> tuple[dict[str, list[int]], int]:
        """Per table (row count, sum of versions), and the change-log position they reflect:
        the figures the triggers keep (``sync_table_totals``), not a count of whole tables."""
        latest = self._max_seq(conn)
        checkpoint("server.check.counts")
        wanted = [n for n in names if n in s.data_tables()]
        out = sync_totals.kept(lambda sql: conn.execute(text(sql)).all(), wanted)
        if len(out) < len(wanted):  # a table the totals do not cover: counted
            rest = [n for n in wanted if n not in out and "version" in s.data_tables()[n].c]
            out.update(sync_totals.recount(lambda sql: conn.execute(text(sql)).all(), rest))
        return out, latest

    def check_totals(self, *, repair: bool = False) -> list[str]:
        """Count every synced table again and compare with the kept figures (a scan of the
        whole clinic; ``frontdesk-server check-totals``). ``repair`` sets them to the counts."""
        with self.writing() as conn:
            query = lambda sql: conn.execute(text(sql)).all()  # noqa: E731
            found = sync_totals.compare(query, balances.covered_tables())
            if found and repair:
                sync_totals.rebuild(lambda sql: conn.execute(text(sql)), list(found))
        return [f"{name}: kept {have}, counted {want}" for name, (have, want) in found.items()]

    def _differing_rows(
        self, conn: Connection, digests: dict[str, dict[str, str]], limit: int
    ) -> dict[str, list[dict[str, Any]]]:
        """For rows a desk fingerprinted (table → id → digest), the server's full rows whose
        content differs, so the desk can take them as the clinic holds them."""
        from frontdesk.models.codec import row_digest

        tables = s.data_tables()
        out: dict[str, list[dict[str, Any]]] = {}
        budget = limit
        for name, theirs in digests.items():
            t = tables.get(name)
            if t is None or budget <= 0:
                continue
            ids = list(theirs)
            for start in range(0, len(ids), 500):
                rows = conn.execute(
                    select(t).where(t.c.id.in_(ids[start : start + 500]))
                ).mappings()
                for row in rows:
                    if budget > 0 and row_digest(t, row) != theirs[row["id"]]:
                        out.setdefault(name, []).append(row_to_json(row, t))
                        budget -= 1
        return out

    def _digests(self, conn: Connection, ids: dict[str, list[str]]) -> dict[str, dict[str, str]]:
        """Content fingerprints (``row_digest``) of these rows as the server holds them; a row
        it does not hold is left out (as the check leaves it)."""
        from frontdesk.models.codec import row_digest

        tables = s.data_tables()
        out: dict[str, dict[str, str]] = {}
        for name, wanted in ids.items():
            t = tables.get(name)
            if t is None or "version" not in t.c:
                continue
            found = out.setdefault(name, {})
            for start in range(0, len(wanted), 500):
                rows = conn.execute(select(t).where(t.c.id.in_(wanted[start : start + 500])))
                found.update((row["id"], row_digest(t, row)) for row in rows.mappings())
        return out

    def prune_history(self, keep_after_seq: int) -> None:
        """Forget change-log entries up to ``keep_after_seq``; desks behind it re-sync."""
        from sqlalchemy import delete

        with self.writing() as conn:
            conn.execute(delete(s.change_log).where(s.change_log.c.seq <= keep_after_seq))
            self.set_info(conn, "history_floor", str(keep_after_seq))

    def now(self) -> datetime:
        return self.clock.now()
