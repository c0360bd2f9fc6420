"""The embedded default channel: durable queues in one SQLite file (standard library only).

URL: ``sqlite:///PATH[?option=value&…]`` - ``sqlite:///relative.db`` is relative to the
current directory, ``sqlite:////abs/path.db`` is absolute (the same convention as the
journal's SQLAlchemy URLs). Options, in the URL query or as keyword arguments to
:func:`~paymsg.transport.open_channel` (keywords win):

``visibility`` (seconds, default 30)
    how long a message taken by ``get`` stays hidden from other consumers when it is
    neither acknowledged nor rejected and its consumer looks alive. A consumer whose
    process is gone (pid and process start time checked) loses its leases at once; a
    closed channel gives its leases back at once.
``delivery_limit`` (default 5)
    deliveries of one message; a message delivered that many times and given back again
    (requeued, lease expired, consumer died) is moved to ``<queue>.dlq`` instead of being
    delivered once more - the semantic of RabbitMQ's quorum-queue ``x-delivery-limit``
    (which the RabbitMQ channel sets to ``delivery_limit - 1`` returns). Dead-letter
    queues themselves have no limit.
``synchronous`` (``put`` | ``full`` | ``normal``, default ``put``)
    what is fsynced (SQLite WAL mode). Every mode survives the crash (``kill -9``) of any
    process at any point: a put, ack or reject that has returned stays done.
    ``put``: each put's commit is fsynced before ``put`` returns, so an operating-system
    crash or power loss never loses a message; leases, acks and rejects are fsynced with
    the next put, so a power loss may deliver an acknowledged message again (at least
    once - the journal's duplicate detection absorbs it) but never loses one.
    ``full``: every commit is fsynced (an ack also survives power loss), about three
    fsyncs per message. ``normal``: nothing is fsynced; a power loss may lose the last
    puts. An fsync costs about 0.3-1 ms on the test machine's ext4 disk.
``poll`` (seconds, default 0.02)
    the longest pause between checks while ``get(timeout)`` waits for a message put by
    another process (puts from the same process wake waiters at once). Checks start at
    1 ms and back off to this value; each is one ``PRAGMA data_version`` read, so an idle
    waiter costs well under 1% of a core.
``busy_timeout`` (seconds, default 30)
    how long an operation waits for another process's write lock before failing.

Thread safety: a :class:`SqliteChannel` may be shared by threads - every operation holds
the channel's lock and ``get`` releases it while it waits - but operations on one
channel are serialised, so give each worker thread its own channel for parallelism.
Processes share a queue file safely (WAL, ``BEGIN IMMEDIATE`` for every take) when they
run on one machine and in one PID namespace (lease owners are recognised by pid and
process start time; a consumer in another container would look dead and lose its leases
early - at least once still holds, its late ack fails). Never put the file on a network
file system: SQLite's WAL needs shared memory.

Fastest correct use (for benchmarks and busy consumers): open one channel per thread and
keep it open; call ``declare`` once at start; ``get(queue, timeout=…)`` with a timeout
(never a ``get(…, 0)`` loop with sleeps); ack as soon as the message's effects are
committed. Figures for one process, one thread, 3 KB bodies on the test machine are in
the project's closing note (``synchronous=put``, the default, is the fastest mode that
never loses a put message on power loss).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

from paymsg.errors import ConfigError, InputError, TransportError
from paymsg.transport.channel import (
    DEFAULT_DELIVERY_LIMIT,
    DLQ_SUFFIX,
    Delivery,
    check_message,
    check_queue_name,
    dlq_name,
)

__all__ = ["SqliteChannel"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS paymsg_mq_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS paymsg_mq_queues (
    name TEXT PRIMARY KEY,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS paymsg_mq_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    body BLOB NOT NULL,
    properties TEXT NOT NULL,
    delivery_count INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    owner_pid INTEGER,
    owner_start TEXT,
    lease_until REAL,
    put_at REAL NOT NULL,
    dead_from TEXT,
    dead_reason TEXT
);
CREATE INDEX IF NOT EXISTS paymsg_mq_messages_take
    ON paymsg_mq_messages (queue, owner, id);
"""

_OPTIONS = ("visibility", "delivery_limit", "synchronous", "poll", "busy_timeout")


def _process_start(pid: int) -> str:
    """The start time of process ``pid`` (clock ticks since boot, Linux), '' if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return ""
    # the command name (field 2) may contain spaces and parentheses: split after the last ')'
    fields = stat[stat.rfind(b")") + 2 :].split()
    return fields[19].decode() if len(fields) > 19 else ""


def _process_alive(pid: int, start: str) -> bool:
    """True if process ``pid`` exists and (where known) started at ``start``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    if start:
        now = _process_start(pid)
        if now and now != start:
            return False  # the pid was reused by a newer process
    return True


def _release(db: sqlite3.Connection, owner: str) -> None:
    """Give back every lease of ``owner`` and close ``db`` (close, finalizer, exit)."""
    try:
        db.execute(
            "UPDATE paymsg_mq_messages SET owner = NULL, owner_pid = NULL, "
            "owner_start = NULL, lease_until = NULL WHERE owner = ?",
            (owner,),
        )
    except sqlite3.Error:
        pass  # the leases expire, or are reclaimed once this process has ended
    finally:
        db.close()


class _Waker:
    """Wakes ``get`` waiters in this process when a channel of the same file commits a put."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _by_path: ClassVar[weakref.WeakValueDictionary[str, _Waker]] = weakref.WeakValueDictionary()

    def __init__(self) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.generation = 0

    @classmethod
    def for_path(cls, path: str) -> _Waker:
        with cls._lock:
            waker = cls._by_path.get(path)
            if waker is None:
                waker = cls()
                cls._by_path[path] = waker
            return waker

    def notify(self) -> None:
        with self.cond:
            self.generation += 1
            self.cond.notify_all()


def _parse_url(url: str) -> tuple[Path, dict[str, str]]:
    parts = urlsplit(url)
    if parts.scheme.lower() != "sqlite" or parts.netloc:
        raise ConfigError(
            f"not a sqlite channel URL: {url!r}",
            field="channel",
            hint="use sqlite:///relative/path.db or sqlite:////absolute/path.db",
        )
    raw = unquote(parts.path)
    path = raw[1:] if raw.startswith("/") else raw
    if not path or path == ":memory:":
        raise ConfigError(
            f"sqlite channel URL {url!r} names no file (an in-memory queue is not durable)",
            field="channel",
            hint="use sqlite:///relative/path.db or sqlite:////absolute/path.db",
        )
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return Path(path), query


def _number(url: str, name: str, value: Any, kind: type, minimum: float) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"channel option {name}={value!r} is not a {kind.__name__}", source=url, field=name
        ) from None
    if number < minimum:
        raise ConfigError(
            f"channel option {name}={value!r} must be at least {minimum}", source=url, field=name
        )
    return number


class SqliteChannel:
    """Durable queues in one SQLite file, shared by threads and processes of one machine.

    See the module docstring for the URL, options, durability and thread safety.
    """

    def __init__(self, url: str, **options: Any) -> None:
        path, query = _parse_url(url)
        unknown = sorted((set(query) | set(options)) - set(_OPTIONS))
        if unknown:
            raise ConfigError(
                f"unknown sqlite channel option {unknown[0]!r}",
                source=url,
                field=unknown[0],
                hint="known options: " + ", ".join(_OPTIONS),
            )
        settings: dict[str, Any] = {**query, **options}
        self.url = url
        self.path = path
        self.visibility: float = _number(
            url, "visibility", settings.get("visibility", 30.0), float, 0.001
        )
        self.delivery_limit: int = _number(
            url, "delivery_limit", settings.get("delivery_limit", DEFAULT_DELIVERY_LIMIT), int, 1
        )
        self.poll: float = _number(url, "poll", settings.get("poll", 0.02), float, 0.001)
        busy: float = _number(url, "busy_timeout", settings.get("busy_timeout", 30.0), float, 0)
        sync = str(settings.get("synchronous", "put")).lower()
        if sync not in ("put", "full", "normal"):
            raise ConfigError(
                f"channel option synchronous={sync!r} must be 'put', 'full' or 'normal'",
                source=url,
                field="synchronous",
            )
        self.synchronous = sync
        # the connection's level for leases, acks and rejects; puts may raise it to FULL
        base = "FULL" if sync == "full" else "NORMAL"
        self._fsync_puts = sync == "put"

        self._pid = os.getpid()
        self._start = _process_start(self._pid)
        self._owner = f"{self._pid}:{self._start}:{secrets.token_hex(8)}"
        self._lock = threading.RLock()
        self._declared: set[str] = set()
        self._alive_cache: dict[str, float] = {}  # foreign owner -> checked-alive time
        self._closed = False

        if not path.parent.is_dir():
            raise ConfigError(
                f"directory {str(path.parent)!r} of the queue file does not exist",
                source=url,
                field="channel",
            )
        # a new queue file opened by two processes or threads at once: switching it to
        # WAL can be refused at once ("database is locked") without waiting the busy
        # timeout, so the opening is tried again until that timeout has passed
        deadline = time.monotonic() + busy
        while True:
            try:
                self._open(path, busy, base)
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise ConfigError(
                        f"cannot open the queue file: {exc}", source=str(path), field="channel"
                    ) from None
                time.sleep(0.05)
        self._resolved = str(path.resolve())
        self._waker = _Waker.for_path(self._resolved)
        # a channel dropped without close() - or open at interpreter exit - gives back its leases
        self._finalizer = weakref.finalize(self, _release, self._db, self._owner)

    def _open(self, path: Path, busy: float, base: str) -> None:
        """Connect to the queue file, switch it to WAL, create or check its schema."""
        self._db = sqlite3.connect(
            str(path), timeout=busy, isolation_level=None, check_same_thread=False
        )
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={base}")
            self._db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            row = self._db.execute(
                "SELECT value FROM paymsg_mq_meta WHERE key = 'schema_version'"
            ).fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO paymsg_mq_meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif row[0] != str(SCHEMA_VERSION):
                self._db.execute("ROLLBACK")
                raise ConfigError(
                    f"queue file has schema version {row[0]}, this paymsg reads {SCHEMA_VERSION}",
                    source=str(path),
                )
            self._db.execute("COMMIT")
        except sqlite3.OperationalError:
            self._db.close()
            raise
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise ConfigError(
                f"cannot open the queue file: {exc}", source=str(path), field="channel"
            ) from None

    # ------------------------------------------------------------------ helpers
    def __repr__(self) -> str:
        return f"SqliteChannel({self.url!r})"

    def _check_open(self) -> None:
        if self._closed:
            raise TransportError("channel is closed", source=self.url)

    def _fail(self, action: str, exc: sqlite3.Error) -> TransportError:
        return TransportError(f"{action} failed: {exc}", source=str(self.path))

    def _require(self, queue: str) -> None:
        if queue in self._declared:
            return
        check_queue_name(queue)
        row = self._db.execute("SELECT 1 FROM paymsg_mq_queues WHERE name = ?", (queue,)).fetchone()
        if row is None:
            raise TransportError(
                f"queue {queue!r} is not declared", source=self.url, hint="call declare() first"
            )
        self._declared.add(queue)

    # ------------------------------------------------------------------ the contract
    def declare(self, queue: str) -> None:
        """Create ``queue`` and ``queue + '.dlq'`` if missing (idempotent)."""
        check_queue_name(queue)
        dlq = queue if queue.endswith(DLQ_SUFFIX) else dlq_name(queue)
        check_queue_name(dlq)
        with self._lock:
            self._check_open()
            try:
                now = time.time()
                self._db.executemany(
                    "INSERT OR IGNORE INTO paymsg_mq_queues (name, created_at) VALUES (?, ?)",
                    [(queue, now), (dlq, now)],
                )
            except sqlite3.Error as exc:
                raise self._fail(f"declaring queue {queue!r}", exc) from None
            self._declared.update((queue, dlq))

    def put(self, queue: str, body: bytes, properties: Mapping[str, str] | None = None) -> None:
        """Append ``body`` to ``queue``; returns after the commit."""
        props = check_message(body, properties)
        with self._lock:
            self._check_open()
            try:
                self._require(queue)
                if self._fsync_puts:
                    self._db.execute("PRAGMA synchronous=FULL")
                try:
                    self._db.execute(
                        "INSERT INTO paymsg_mq_messages (queue, body, properties, put_at) "
                        "VALUES (?, ?, ?, ?)",
                        (queue, bytes(body), json.dumps(props, ensure_ascii=False), time.time()),
                    )
                finally:
                    if self._fsync_puts:
                        self._db.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise self._fail(f"put to {queue!r}", exc) from None
        self._waker.notify()

    def put_many(
        self, queue: str, bodies: Sequence[bytes], properties: Mapping[str, str] | None = None
    ) -> None:
        """Append every body to ``queue`` in order in one transaction (one fsync); returns
        after the commit. All or nothing: on an error none of them is in the queue."""
        checked = [check_message(body, properties) for body in bodies]
        if not checked:
            return
        props = json.dumps(checked[0], ensure_ascii=False)
        rows = [bytes(body) for body in bodies]
        with self._lock:
            self._check_open()
            db = self._db
            try:
                self._require(queue)
                if self._fsync_puts:
                    db.execute("PRAGMA synchronous=FULL")
                try:
                    db.execute("BEGIN IMMEDIATE")
                    try:
                        now = time.time()
                        db.executemany(
                            "INSERT INTO paymsg_mq_messages (queue, body, properties, put_at) "
                            "VALUES (?, ?, ?, ?)",
                            [(queue, body, props, now) for body in rows],
                        )
                        db.execute("COMMIT")
                    except BaseException:
                        if db.in_transaction:
                            db.execute("ROLLBACK")
                        raise
                finally:
                    if self._fsync_puts:
                        db.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise self._fail(f"put to {queue!r}", exc) from None
        self._waker.notify()

    def get(self, queue: str, timeout: float = 0.0) -> Delivery | None:
        """Lease the oldest available message of ``queue``; wait up to ``timeout`` seconds.

        While waiting, a put through any channel of this process on the same file wakes the
        waiter at once; commits by other processes are seen through ``PRAGMA data_version``,
        checked after pauses growing from 1 ms to ``poll``. Leases that expire, and leases of
        consumers that died, are looked at every 0.25 s.
        """
        taken = self._wait_take(queue, timeout, 1)
        return taken[0] if taken else None

    def get_many(self, queue: str, limit: int, timeout: float = 0.0) -> list[Delivery]:
        """Lease up to ``limit`` of the oldest available messages of ``queue`` in one
        transaction, waiting up to ``timeout`` seconds (as :meth:`get`) for the first."""
        if limit < 1:
            raise InputError(f"get_many limit must be at least 1, not {limit}", field="limit")
        return self._wait_take(queue, timeout, limit)

    def _wait_take(self, queue: str, timeout: float, limit: int) -> list[Delivery]:
        deadline = time.monotonic() + max(0.0, timeout)
        pause = 0.001
        last_version = -1
        last_attempt = 0.0
        force = True  # take at once on entry, and after every in-process wake-up
        while True:
            with self._lock:
                self._check_open()
                try:
                    self._require(queue)
                    generation = self._waker.generation
                    # this connection's own commits do not change data_version: the waker
                    # (generation) covers them
                    version = self._db.execute("PRAGMA data_version").fetchone()[0]
                    now = time.monotonic()
                    if force or version != last_version or now - last_attempt >= 0.25:
                        force = False
                        last_version, last_attempt = version, now
                        taken = self._take(queue, limit)
                        if taken:
                            return taken
                except sqlite3.Error as exc:
                    raise self._fail(f"get from {queue!r}", exc) from None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            with self._waker.cond:
                if self._waker.generation == generation:
                    self._waker.cond.wait(min(pause, remaining))
                if self._waker.generation != generation:
                    force, pause = True, 0.001
                else:
                    pause = min(pause * 2, self.poll)

    def _take(self, queue: str, limit: int) -> list[Delivery]:
        """One attempt to lease up to ``limit`` messages (caller holds the lock)."""
        now = time.time()
        db = self._db
        # cheap read first: nothing to do unless a message is available or a lease may be stale
        available = db.execute(
            "SELECT 1 FROM paymsg_mq_messages WHERE queue = ? AND owner IS NULL LIMIT 1", (queue,)
        ).fetchone()
        foreign = db.execute(
            "SELECT DISTINCT owner, owner_pid, owner_start, lease_until < ? "
            "FROM paymsg_mq_messages WHERE queue = ? AND owner IS NOT NULL",
            (now, queue),
        ).fetchall()
        expired = any(stale for _, _, _, stale in foreign)
        dead = {
            owner
            for owner, pid, start, _ in foreign
            if owner != self._owner and not self._owner_alive(owner, pid, start)
        }
        if available is None and not dead and not expired:
            return []
        db.execute("BEGIN IMMEDIATE")
        try:
            # leases of consumers that are gone, and expired leases, become available again
            release = (
                "UPDATE paymsg_mq_messages SET owner = NULL, owner_pid = NULL, "
                "owner_start = NULL, lease_until = NULL WHERE queue = ? AND owner = ?"
            )
            if dead:
                db.executemany(release, [(queue, owner) for owner in dead])
            if expired:
                db.execute(
                    "UPDATE paymsg_mq_messages SET owner = NULL, owner_pid = NULL, "
                    "owner_start = NULL, lease_until = NULL "
                    "WHERE queue = ? AND owner IS NOT NULL AND lease_until < ?",
                    (queue, now),
                )
            taken: list[Delivery] = []
            while len(taken) < limit:
                rows = db.execute(
                    "SELECT id, body, properties, delivery_count FROM paymsg_mq_messages "
                    "WHERE queue = ? AND owner IS NULL ORDER BY id LIMIT ?",
                    (queue, limit - len(taken)),
                ).fetchall()
                if not rows:
                    break
                leased = []
                for msg_id, body, props, count in rows:
                    if count >= self.delivery_limit and not queue.endswith(DLQ_SUFFIX):
                        self._dead_letter(
                            msg_id,
                            queue,
                            f"delivered {count} times (delivery limit {self.delivery_limit})",
                        )
                        continue
                    leased.append(msg_id)
                    taken.append(
                        Delivery(
                            queue=queue,
                            body=body,
                            tag=f"{msg_id}.{count + 1}",
                            delivery_count=count + 1,
                            properties=json.loads(props),
                        )
                    )
                db.executemany(
                    "UPDATE paymsg_mq_messages SET owner = ?, owner_pid = ?, owner_start = ?, "
                    "lease_until = ?, delivery_count = delivery_count + 1 WHERE id = ?",
                    [
                        (self._owner, self._pid, self._start, now + self.visibility, msg_id)
                        for msg_id in leased
                    ],
                )
            db.execute("COMMIT")
            return taken
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _owner_alive(self, owner: str, pid: int | None, start: str | None) -> bool:
        checked = self._alive_cache.get(owner)
        now = time.monotonic()
        if checked is not None and now - checked < 0.5:
            return True
        if pid is None:
            return True
        if pid == self._pid and start == self._start:
            alive = True  # another channel of this process: it releases its leases on close
        else:
            alive = _process_alive(pid, start or "")
        if alive:
            self._alive_cache[owner] = now
        else:
            self._alive_cache.pop(owner, None)
        return alive

    def _dead_letter(self, msg_id: int, queue: str, reason: str) -> None:
        """Move message ``msg_id`` to the end of ``queue``'s dead-letter queue (caller's txn)."""
        dlq = dlq_name(queue)
        self._db.execute(
            "INSERT OR IGNORE INTO paymsg_mq_queues (name, created_at) VALUES (?, ?)",
            (dlq, time.time()),
        )
        self._db.execute(
            "INSERT INTO paymsg_mq_messages (queue, body, properties, put_at, dead_from, "
            "dead_reason) SELECT ?, body, properties, ?, ?, ? FROM paymsg_mq_messages "
            "WHERE id = ?",
            (dlq, time.time(), queue, reason, msg_id),
        )
        self._db.execute("DELETE FROM paymsg_mq_messages WHERE id = ?", (msg_id,))

    def _held(self, delivery: Delivery) -> tuple[int, int]:
        try:
            msg_id, count = (int(x) for x in delivery.tag.split("."))
        except ValueError:
            raise InputError(
                f"delivery tag {delivery.tag!r} does not come from a sqlite channel", field="tag"
            ) from None
        return msg_id, count

    def _not_held(self, delivery: Delivery, action: str) -> TransportError:
        return TransportError(
            f"cannot {action} message {delivery.tag} from {delivery.queue!r}: this consumer no "
            "longer holds it (lease expired, channel reopened, or already acknowledged)",
            source=self.url,
        )

    def ack(self, delivery: Delivery) -> None:
        """Remove the delivered message for good."""
        msg_id, count = self._held(delivery)
        with self._lock:
            self._check_open()
            try:
                cur = self._db.execute(
                    "DELETE FROM paymsg_mq_messages WHERE id = ? AND owner = ? "
                    "AND delivery_count = ?",
                    (msg_id, self._owner, count),
                )
            except sqlite3.Error as exc:
                raise self._fail(f"ack on {delivery.queue!r}", exc) from None
            if cur.rowcount != 1:
                raise self._not_held(delivery, "acknowledge")

    def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        """Remove every delivered message for good, in one transaction. Those this consumer
        no longer holds are left alone and reported (``TransportError``, the first of
        them) after the others are removed."""
        held = [(delivery, *self._held(delivery)) for delivery in deliveries]
        if not held:
            return
        lost: list[Delivery] = []
        with self._lock:
            self._check_open()
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    for delivery, msg_id, count in held:
                        cur = db.execute(
                            "DELETE FROM paymsg_mq_messages WHERE id = ? AND owner = ? "
                            "AND delivery_count = ?",
                            (msg_id, self._owner, count),
                        )
                        if cur.rowcount != 1:
                            lost.append(delivery)
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise self._fail(f"ack on {held[0][0].queue!r}", exc) from None
        if lost:
            raise self._not_held(lost[0], "acknowledge")

    def reject(self, delivery: Delivery, *, requeue: bool) -> None:
        """Give the message back at its place in the queue, or move it to the dead-letter queue."""
        msg_id, count = self._held(delivery)
        with self._lock:
            self._check_open()
            db = self._db
            try:
                if requeue:
                    cur = db.execute(
                        "UPDATE paymsg_mq_messages SET owner = NULL, owner_pid = NULL, "
                        "owner_start = NULL, lease_until = NULL "
                        "WHERE id = ? AND owner = ? AND delivery_count = ?",
                        (msg_id, self._owner, count),
                    )
                    if cur.rowcount != 1:
                        raise self._not_held(delivery, "requeue")
                else:
                    if delivery.queue.endswith(DLQ_SUFFIX):
                        raise InputError(
                            f"message {delivery.tag} is already in dead-letter queue "
                            f"{delivery.queue!r}: ack it to remove it, or requeue it",
                            field="requeue",
                        )
                    db.execute("BEGIN IMMEDIATE")
                    try:
                        held = db.execute(
                            "SELECT 1 FROM paymsg_mq_messages WHERE id = ? AND owner = ? "
                            "AND delivery_count = ?",
                            (msg_id, self._owner, count),
                        ).fetchone()
                        if held is None:
                            raise self._not_held(delivery, "reject")
                        self._dead_letter(msg_id, delivery.queue, "rejected by the consumer")
                        db.execute("COMMIT")
                    except BaseException:
                        db.execute("ROLLBACK")
                        raise
            except sqlite3.Error as exc:
                raise self._fail(f"reject on {delivery.queue!r}", exc) from None
        self._waker.notify()

    def depth(self, queue: str) -> int:
        """Messages of ``queue`` waiting to be taken (in-flight ones not counted)."""
        with self._lock:
            self._check_open()
            try:
                self._require(queue)
                (n,) = self._db.execute(
                    "SELECT count(*) FROM paymsg_mq_messages WHERE queue = ? "
                    "AND (owner IS NULL OR lease_until < ?)",
                    (queue, time.time()),
                ).fetchone()
            except sqlite3.Error as exc:
                raise self._fail(f"depth of {queue!r}", exc) from None
            return int(n)

    def close(self) -> None:
        """Give back every message this channel holds, then close the file (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._finalizer()
        self._waker.notify()

    def __enter__(self) -> SqliteChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
