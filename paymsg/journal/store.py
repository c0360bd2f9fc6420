"""The journal: one SQL store of every CNAPS2 message sent or received.

:class:`Journal` is safe to share between threads (each call takes its own pooled
connection and transaction) and between processes (the database arbitrates).

SQLite (the default, ``sqlite:///PATH``)
    WAL mode, ``busy_timeout`` (default 30 s), foreign keys on, and every write
    transaction starts with ``BEGIN IMMEDIATE`` — it takes the write lock first, so two
    writers never deadlock on a lock upgrade, and a read-check-write (dedupe, status
    transition, delivery) is atomic across threads and processes. ``synchronous=FULL``
    by default: WAL is synced at every commit, so a commit that returned survives a
    ``kill -9`` *and* a power loss / OS crash. ``?synchronous=normal`` in the URL trades
    the power-loss guarantee for speed (a committed row still survives ``kill -9``, since
    the WAL is in the OS's cache; only the last transactions may be lost on power loss).
PostgreSQL (``postgresql://…``, psycopg 3; ``pip install "paymsg[postgres]"``)
    READ COMMITTED; atomicity comes from unique constraints (``INSERT … ON CONFLICT``),
    conditional ``UPDATE`` (row locks) and ``SELECT … FOR UPDATE``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import operator
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from paymsg.errors import ConfigError, JournalError, mask_url
from paymsg.journal import migrate
from paymsg.journal.driver import (
    DriverCursor,
    bind_conversion,
    dialect_key,
    driver_sql,
    parameter_mark,
)
from paymsg.journal.extract import Extracted, extract
from paymsg.journal.records import (
    INBOUND_STATUSES,
    OUTBOUND_STATUSES,
    AggregateRow,
    JournalEntry,
    QuarantineRecord,
    StatusChange,
    StatusUpdate,
    allowed_next,
)
from paymsg.journal.tables import (
    UtcDateTime,
    entries,
    fits_amount,
    quarantine,
    status_history,
)
from paymsg.trusted import trusted_model

__all__ = ["DEFAULT_URL", "DeliveryHandler", "Journal", "normalize_url"]

DEFAULT_URL = "sqlite:///paymsg-journal.db"
#: a delivery handler: gets the entry and the connection of the delivery transaction
DeliveryHandler = Callable[[JournalEntry, sa.Connection], None]

#: outbound statuses that still wait for the communication-level answer
UNCONFIRMED = ("created", "sent", "timed_out")
_SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL", "extra": "EXTRA"}


def _now() -> datetime:
    return datetime.now(UTC)


def normalize_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` → ``postgresql+psycopg://``; others unchanged."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _as_date(value: date | str | None, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    text = value.replace("-", "")
    if len(text) == 8 and text.isdigit():
        with contextlib.suppress(ValueError):
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    raise JournalError(f"{name}: {value!r} is not a date (YYYY-MM-DD or YYYYMMDD)", field=name)


class Journal:
    """The message store (see the module docstring for the database settings).

    ``url``: ``sqlite:///PATH`` (default ``sqlite:///paymsg-journal.db``; query options
    ``synchronous=full|normal``, ``busy_timeout=SECONDS``) or ``postgresql://…``.
    ``create``: bring the schema to head (create it when the database is empty); with
    ``False`` the database must already be at head, else :class:`JournalError`.
    """

    def __init__(self, url: str = DEFAULT_URL, *, create: bool = True) -> None:
        self.url = mask_url(url)
        self._engine = self._make_engine(url)
        # SQLite has one writer at a time: threads of this process queue on a lock instead
        # of sleeping in SQLite's busy handler (other processes still meet busy_timeout)
        self._writer: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if self._engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )
        # a forked child must not use the parent's pooled connections or a lock that a
        # parent thread held at the fork: it starts with an empty pool and a free lock
        self._local = threading.local()
        reference = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _after_fork(reference))
        try:
            if create:
                self.revision = migrate.upgrade(self._engine)
            else:
                database = self._engine.url.database
                if self.dialect == "sqlite" and database and not Path(database).exists():
                    raise JournalError(
                        f"journal {self.url}: there is no database file {database}",
                        hint="create it with paymsg journal upgrade (or Journal(url))",
                    )
                with self._engine.connect() as connection:
                    found = migrate.current(connection)
                if found != migrate.head():
                    raise JournalError(
                        f"journal {self.url} is at schema revision {found or '(none)'}, this "
                        f"paymsg needs {migrate.head()}",
                        hint="migrate it with paymsg journal upgrade (or Journal(url))",
                    )
                self.revision = found
        except SQLAlchemyError as exc:
            self._engine.dispose()
            raise self._db_error("cannot open the journal", exc) from None
        except BaseException:
            self._engine.dispose()
            raise

    # ------------------------------------------------------------------ engine and transactions

    def _make_engine(self, url: str) -> sa.Engine:
        try:
            parsed = make_url(normalize_url(url))
        except ArgumentError as exc:
            raise ConfigError(f"journal URL {self.url!r} is not a database URL: {exc}") from None
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            return self._sqlite_engine(parsed)
        if backend == "postgresql":
            if parsed.drivername != "postgresql+psycopg":
                parsed = parsed.set(drivername="postgresql+psycopg")
            try:
                # a pool as large as the SQLite one: a session's worker threads each hold one
                return sa.create_engine(parsed, pool_pre_ping=True, pool_size=8, max_overflow=24)
            except (NoSuchModuleError, ImportError) as exc:
                raise ConfigError(
                    f"journal URL {self.url}: PostgreSQL needs psycopg 3 ({exc})",
                    hint='pip install "paymsg[postgres]"',
                ) from None
        raise ConfigError(
            f"journal URL {self.url!r}: unsupported database {backend!r}",
            hint="use sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB",
        )

    def _sqlite_engine(self, parsed: sa.URL) -> sa.Engine:
        database = parsed.database
        if not database or database == ":memory:" or database.startswith("file::memory"):
            raise ConfigError(
                f"journal URL {self.url!r}: an in-memory SQLite journal would not be durable",
                hint="give a file: sqlite:///PATH",
            )
        options = dict(parsed.query)
        sync_text = str(options.pop("synchronous", "full")).lower()
        if sync_text not in _SYNCHRONOUS:
            raise ConfigError(
                f"journal URL {self.url!r}: synchronous={sync_text!r}; use full or normal"
            )
        synchronous = _SYNCHRONOUS[sync_text]
        try:
            busy = float(str(options.pop("busy_timeout", 30)))
        except (TypeError, ValueError):
            raise ConfigError(f"journal URL {self.url!r}: busy_timeout is not a number") from None
        if options:
            raise ConfigError(
                f"journal URL {self.url!r}: unknown option(s) {', '.join(sorted(options))}",
                hint="SQLite journal options are synchronous and busy_timeout",
            )
        parent = Path(database).expanduser().resolve().parent
        if not parent.is_dir():
            raise ConfigError(f"journal URL {self.url!r}: directory {parent} does not exist")
        engine = sa.create_engine(
            parsed.set(query={}),
            connect_args={"timeout": busy, "check_same_thread": False},
            pool_size=8,
            max_overflow=24,
            pool_timeout=busy,
        )

        @sa.event.listens_for(engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # paymsg issues BEGIN itself
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {int(busy * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(connection: sa.Connection) -> None:
            read_only = connection.get_execution_options().get("paymsg_read_only", False)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group this thread's journal calls inside the block into one database transaction.

        They commit together when the block ends (one commit, one fsync), or none of them
        does if it raises — e.g. recording a ccms.990 and confirming the entry it answers.
        Other threads are not affected (on SQLite they wait for the block, as for any
        write). Nested blocks join the outer one. :meth:`deliver` runs its own transaction
        and is refused inside a block.
        """
        if self._current() is not None:
            yield
            return
        try:
            with self._writer, self._engine.begin() as connection:
                self._local.connection = connection
                try:
                    yield
                finally:
                    self._local.connection = None
        except DBAPIError as exc:
            raise self._db_error("journal transaction failed", exc) from None

    def _current(self) -> sa.Connection | None:
        connection: sa.Connection | None = getattr(self._local, "connection", None)
        return connection

    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """One write transaction (SQLite: holding the write lock from its start), or the
        thread's open :meth:`transaction`."""
        current = self._current()
        try:
            if current is not None:
                yield current
                return
            with self._writer, self._engine.begin() as connection:
                yield connection
        except DBAPIError as exc:
            raise self._db_error("journal write failed", exc) from None

    @contextlib.contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        current = self._current()
        try:
            if current is not None:
                yield current
                return
            with self._engine.connect() as connection:
                connection = connection.execution_options(paymsg_read_only=True)
                with connection.begin():
                    yield connection
        except DBAPIError as exc:
            raise self._db_error("journal read failed", exc) from None

    def _db_error(self, what: str, exc: SQLAlchemyError) -> JournalError:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return JournalError(f"{what} ({self.url}): {detail}")

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine (for tools and tests that read the tables directly)."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Release every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({self.url!r})"

    # ------------------------------------------------------------------ rows → records

    @staticmethod
    def _entry(row: Any) -> JournalEntry:
        """The entry of a full row of ``journal_entries`` (every column, in table order),
        as the columns' result conversions gave it: trusted, so not validated again."""
        if len(row) != len(_ENTRY_FIELDS):  # pragma: no cover - every caller reads them all
            raise JournalError(
                f"a journal entry row has {len(row)} columns, not {len(_ENTRY_FIELDS)}"
            )
        return _trusted_entry(dict(zip(_ENTRY_FIELDS, row, strict=True)))

    def _fetch(
        self, connection: sa.Connection, entry_id: int, *, lock: bool = False
    ) -> JournalEntry:
        query = _BY_ID_LOCKED if lock and connection.dialect.name == "postgresql" else _BY_ID
        row = connection.execute(query, {"entry_id": entry_id}).first()
        if row is None:
            raise JournalError(f"no journal entry with id {entry_id}", field="entry_id")
        return self._entry(row)

    def _values(
        self, ext: Extracted, *, direction: str, queue: str, status: str, now: datetime
    ) -> dict[str, Any]:
        values = ext.columns()
        amount = values.get("amount")
        if isinstance(amount, Decimal) and not fits_amount(amount):
            values["amount"] = None
            note = f"amount {amount} not stored: more than 2 decimals or beyond ±9.2e16"
            values["notes"] = f"{values['notes']}; {note}" if values["notes"] else note
        values.update(
            direction=direction,
            queue=queue,
            status=status,
            status_code=None,
            status_detail=ext.read_error if status == "unreadable" else None,
            repaired=False,
            copies=1,
            resent=0,
            deliverable=direction == "in" and ext.deliverable,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        return values

    @staticmethod
    def _history(
        connection: sa.Connection,
        entry_id: int,
        from_status: str | None,
        to_status: str,
        *,
        code: str | None = None,
        detail: str | None = None,
        related_id: int | None = None,
    ) -> None:
        _insert_history(
            connection, _now(), [(entry_id, from_status, to_status, code, detail, related_id)]
        )

    # ------------------------------------------------------------------ outbox / inbox

    def record_outbound(self, text: bytes, *, queue: str) -> JournalEntry:
        """Put ``text`` in the outbox (status ``created``) before it is sent.

        Idempotent: the same (sender, MesgID) again returns the existing entry. The same
        (sender, MesgID) with *different* text is refused (:class:`JournalError`): a
        reused communication id would make the NPC discard a payment as a duplicate.
        """
        return self.record_outbound_many([text], queue=queue)[0]

    def record_outbound_many(self, texts: Sequence[bytes], *, queue: str) -> list[JournalEntry]:
        """:meth:`record_outbound` for every text, in one transaction (all or nothing) with
        one multi-row insert and one history insert: the entries, in the order given.

        The same message twice in ``texts`` is one entry (returned twice); a reused
        (sender, MesgID) with different text refuses the whole batch.
        """
        return [entry for entry, _ in self._record_outbound(texts, queue=queue, sent=False)]

    def record_sending_many(
        self, texts: Sequence[bytes], *, queue: str
    ) -> list[tuple[JournalEntry, bool]]:
        """:meth:`record_outbound_many` for texts about to be put: the entries new in the
        outbox are inserted and moved to ``sent`` in the same transaction (their history:
        ``created``, then ``sent``), as :meth:`record_outbound_many` followed by
        :meth:`set_status_many` would leave them, with one commit instead of two.

        Returns ``(entry, is_new)`` in the order given; ``is_new`` is True for the first
        occurrence of each entry this call put in the outbox (now ``sent``). An entry that
        was in the outbox already is returned as it is (``is_new`` False): moving it on,
        counted as a resend or not, is the caller's business, as for
        :meth:`record_outbound_many`.
        """
        return self._record_outbound(texts, queue=queue, sent=True)

    def _record_outbound(
        self, texts: Sequence[bytes], *, queue: str, sent: bool
    ) -> list[tuple[JournalEntry, bool]]:
        now = _now()
        prepared = [self._prepared(text, direction="out", queue=queue, now=now) for text in texts]
        if not prepared:
            return []
        if sent:
            for _, values in prepared:
                values["status"] = "sent"
        with self._write() as connection:
            found: dict[tuple[Any, ...], JournalEntry] = {}
            fresh: dict[tuple[Any, ...], dict[str, Any]] = {}
            for _, values in prepared:
                fresh.setdefault(_key(values), values)
            inserted = self._insert(connection, list(fresh.values()), count_copies=False)
            for entry, _ in inserted:
                found[_key(entry.__dict__)] = entry
            new = set(found)
            steps: list[tuple[int, str | None, str, str | None]] = []
            for entry in found.values():
                steps.append((entry.id, None, "created", None))
                if sent:
                    steps.append((entry.id, "created", "sent", None))
            self._history_many(connection, steps)
            for key, values in fresh.items():
                if key not in found:  # in the outbox already
                    found[key] = self._find_key(connection, "out", values)
            out: list[tuple[JournalEntry, bool]] = []
            for ext, values in prepared:
                key = _key(values)
                existing = found[key]
                if existing.digest != ext.digest:  # raised inside: nothing is committed
                    raise JournalError(
                        f"MesgID {ext.mesg_id!r} of sender {ext.sender!r} is already in the "
                        f"outbox (entry {existing.id}) with different content",
                        field="MesgID",
                        hint="every message needs a new communication-level id",
                    )
                out.append((existing, key in new))
                new.discard(key)
            return out

    def _prepared(
        self,
        text: bytes,
        *,
        direction: str,
        queue: str,
        now: datetime,
        read: Extracted | None = None,
    ) -> tuple[Extracted, dict[str, Any]]:
        """The extracted columns of ``text`` (``read`` when the caller has them) and its
        row values, created at ``now`` (one time for a batch)."""
        raw = _bytes(text)
        if read is None:
            ext = extract(raw)
        elif read.digest != hashlib.sha256(raw).hexdigest():
            raise JournalError("the columns given were not read from this text", field="read")
        else:
            ext = read
        unread = "unreadable" if ext.read_error else "received"
        status = "created" if direction == "out" else unread
        values = self._values(ext, direction=direction, queue=queue, status=status, now=now)
        values["raw"] = raw
        return ext, values

    def _insert(
        self, connection: sa.Connection, rows: list[dict[str, Any]], *, count_copies: bool
    ) -> list[tuple[JournalEntry, bool]]:
        """Upsert ``rows`` (one statement per conflict target and per chunk of rows):
        ``(entry, is_new)`` for each row inserted or (``count_copies``) counted as a copy.

        A driver-level multi-row ``INSERT … ON CONFLICT … RETURNING`` of the key columns,
        with the parameters converted by the columns' own bind conversions: a new entry is
        built from the values it was inserted with (as the database gives them back); an
        entry counted as a copy is read (one query)."""
        out: list[tuple[JournalEntry, bool]] = []
        copies: list[int] = []
        dialect = connection.dialect
        plan = _upsert_plan(dialect)
        for headerless in (False, True):
            part = [values for values in rows if (values["mesg_id"] is None) == headerless]
            for start in range(0, len(part), plan.chunk):
                chunk = part[start : start + plan.chunk]
                by_key = {_key(values): values for values in chunk}
                sql = _upsert_sql(
                    dialect_key(dialect),
                    plan.mark,
                    headerless,
                    count_copies,
                    len(chunk),
                )
                returned = connection.exec_driver_sql(sql, tuple(plan.parameters(chunk))).all()
                for entry_id, n, direction, sender, mesg_id, digest in returned:
                    if n != 1:  # a copy: the entry as it is now is read below
                        copies.append(entry_id)
                        continue
                    key = (
                        (direction, sender, mesg_id)
                        if mesg_id is not None
                        else (
                            direction,
                            digest,
                        )
                    )
                    out.append((plan.entry(entry_id, by_key[key]), True))
        if copies:
            query = _BY_IDS_LOCKED if self.dialect == "postgresql" else _BY_IDS
            for row in connection.execute(query, {"entry_ids": sorted(copies)}):
                out.append((self._entry(row), False))
        return out

    def _history_many(
        self,
        connection: sa.Connection,
        changes: list[tuple[int, str | None, str, str | None]],
    ) -> None:
        """History rows ``(entry_id, from_status, to_status, detail)`` in one insert."""
        if changes:
            _insert_history(
                connection,
                _now(),
                [
                    (entry_id, before, after, None, detail, None)
                    for entry_id, before, after, detail in changes
                ],
            )

    def _find_key(
        self, connection: sa.Connection, direction: str, values: Mapping[str, Any]
    ) -> JournalEntry:
        query = sa.select(entries).where(entries.c.direction == direction)
        if values.get("mesg_id") is not None:
            query = query.where(
                entries.c.sender == values["sender"], entries.c.mesg_id == values["mesg_id"]
            )
        else:
            query = query.where(entries.c.mesg_id.is_(None), entries.c.digest == values["digest"])
        row = connection.execute(query).first()
        if row is None:  # pragma: no cover - the conflict proves the row exists
            raise JournalError("journal entry vanished during a duplicate check")
        return self._entry(row)

    def record_inbound(
        self,
        text: bytes,
        *,
        queue: str,
        deliverable: bool | None = None,
        read: Extracted | None = None,
    ) -> tuple[JournalEntry, bool]:
        """Record a received text; returns ``(entry, is_new)``.

        Duplicates — the same (sender, MesgID), or for a text without a readable header
        the same bytes — are detected atomically by a unique constraint: no new row, the
        entry's ``copies`` grows by one. A text that cannot be read is stored raw with
        status ``unreadable`` and the reason in ``read_error`` / ``status_detail``.
        ``deliverable`` overrides whether the application gets it (default: every
        readable message except ccms.990/991/992). ``read``: the columns of ``text`` as
        :func:`~paymsg.journal.extract.extract` gave them, if the caller has them.
        """
        return self.record_inbound_many(
            [text], queue=queue, deliverable=deliverable, read=None if read is None else [read]
        )[0]

    def record_inbound_many(
        self,
        texts: Sequence[bytes],
        *,
        queue: str,
        deliverable: bool | None = None,
        read: Sequence[Extracted] | None = None,
    ) -> list[tuple[JournalEntry, bool]]:
        """:meth:`record_inbound` for every text, in one transaction (all or nothing) with
        one multi-row upsert (one more for each further copy of a message within
        ``texts``): ``(entry, is_new)`` in the order given, new entries in that order.
        ``read``: the columns of each text as :func:`~paymsg.journal.extract.extract` gave
        them, when the caller read them already (checked against the text's digest)."""
        if read is not None and len(read) != len(texts):
            raise JournalError("read: one set of columns per text", field="read")
        now = _now()
        prepared = [
            self._prepared(
                text, direction="in", queue=queue, now=now, read=None if read is None else read[i]
            )
            for i, text in enumerate(texts)
        ]
        for _, values in prepared:
            if deliverable is not None and values["status"] == "received":
                values["deliverable"] = deliverable
        # a message twice in one statement would be upserted twice in it (PostgreSQL
        # refuses that): the n-th copies of the batch go in the n-th statement
        rounds: list[list[int]] = []
        seen: dict[tuple[Any, ...], int] = {}
        for index, (_, values) in enumerate(prepared):
            key = _key(values)
            n = seen.get(key, 0)
            seen[key] = n + 1
            if n == len(rounds):
                rounds.append([])
            rounds[n].append(index)
        out: list[tuple[JournalEntry, bool] | None] = [None] * len(prepared)
        with self._write() as connection:
            for members in rounds:
                rows = self._insert(
                    connection, [prepared[i][1] for i in members], count_copies=True
                )
                by_key = {_key(entry.__dict__): (entry, is_new) for entry, is_new in rows}
                new: list[tuple[int, str | None, str, str | None]] = []
                for index in members:
                    ext, values = prepared[index]
                    entry, is_new = by_key[_key(values)]
                    if is_new:
                        new.append((entry.id, None, values["status"], ext.read_error))
                    out[index] = (entry, is_new)
                new.sort()
                self._history_many(connection, new)
        return [item for item in out if item is not None]

    def set_status(
        self,
        entry_id: int,
        status: str,
        *,
        code: str | None = None,
        detail: str | None = None,
        related_id: int | None = None,
        repaired: bool | None = None,
    ) -> JournalEntry:
        """Move an entry to ``status`` and append the change to its history.

        Refuses a transition the status machine does not allow (:class:`JournalError`
        naming both states). Setting the status an entry already has is a no-op, except
        ``sent`` → ``sent`` (a resend: ``resent`` grows) and ``receipt`` → ``receipt``.
        ``delivered`` is reached only through :meth:`deliver`.
        """
        update = StatusUpdate(
            entry_id=entry_id,
            status=status,
            code=code,
            detail=detail,
            related_id=related_id,
            repaired=repaired,
        )
        return self.set_status_many([update])[0]

    def set_status_many(
        self,
        updates: Sequence[StatusUpdate],
        *,
        strict: bool = True,
        known: Sequence[JournalEntry] | None = None,
    ) -> list[JournalEntry]:
        """:meth:`set_status` for every update, in order, in one transaction: one read of
        the entries, one update statement per kind of change and one history insert.

        Returns each entry as it is after its update. ``strict`` (the default) refuses
        the whole batch when one transition is not allowed, as :meth:`set_status` does;
        with ``strict=False`` such an entry is left as it is and returned unchanged (the
        caller sees that its status is not the one asked for).

        ``known``: the entries as the caller last had them, one per update (an outbound
        entry it holds: the one a ccms.990 confirms). When every update moves its own
        entry (no entry twice) to a status allowed from the known one, the entries are
        not read: each is updated on the condition that its status, resend count and
        repaired flag are still the known ones, and the history and the entries returned
        come from what is known. If any entry is no longer as known (another process
        moved it), that attempt is undone and the batch takes the read as without
        ``known``: the result is the same either way.
        """
        for update in updates:
            if update.status not in OUTBOUND_STATUSES and update.status not in INBOUND_STATUSES:
                raise JournalError(
                    f"unknown journal status {update.status!r}",
                    field="status",
                    hint=f"one of {', '.join(OUTBOUND_STATUSES + INBOUND_STATUSES)}",
                )
            if update.status == "delivered":
                raise JournalError(
                    "status 'delivered' is set by Journal.deliver(), which runs the handler",
                    field="status",
                )
        if not updates:
            return []
        if known is not None and len(known) != len(updates):
            raise JournalError("known: one entry per update", field="known")
        with self._write() as connection:
            if known is not None:
                done = self._set_known(connection, updates, known)
                if done is not None:
                    return done
            query = _BY_IDS_LOCKED if self.dialect == "postgresql" else _BY_IDS
            ids = sorted({update.entry_id for update in updates})
            current = {
                row.id: self._entry(row) for row in connection.execute(query, {"entry_ids": ids})
            }
            now = _now()
            stamp = _stamp(connection.dialect, now)  # as updated_at binds it
            out: list[JournalEntry] = []
            writes: list[tuple[str, tuple[Any, ...]]] = []
            history: list[tuple[int, str | None, str, str | None, str | None, int | None]] = []
            for update in updates:
                entry = current.get(update.entry_id)
                if entry is None:
                    raise JournalError(
                        f"no journal entry with id {update.entry_id}", field="entry_id"
                    )
                changed, moved = self._change(
                    entry, update, now, stamp, strict=strict, writes=writes
                )
                if moved:
                    history.append(_history_row(entry, update))
                current[entry.id] = changed
                out.append(changed)
            for statement, group in _runs(writes):
                connection.exec_driver_sql(driver_sql(connection.dialect, statement), group)
            if history:
                _insert_history(connection, now, history)
            return out

    @staticmethod
    def _set_known(
        connection: sa.Connection,
        updates: Sequence[StatusUpdate],
        known: Sequence[JournalEntry],
    ) -> list[JournalEntry] | None:
        """:meth:`set_status_many` without reading the entries, from the caller's ``known``
        ones; None (nothing written) when that cannot give the result of the read.

        Only for outbound entries, each once in the batch, each moving to a status allowed
        from its known one: an outbound row changes only in its status, code, detail,
        ``updated_at``, ``resent`` and ``repaired`` (its upsert never counts copies, and
        deliveries are inbound), and the update writes the first four, so a row whose
        status, ``resent`` and ``repaired`` are the known ones is the known entry. The
        updates are conditional on exactly that, in one ``executemany`` inside a
        savepoint; if fewer rows than updates match, the savepoint is rolled back."""
        if len({update.entry_id for update in updates}) != len(updates):
            return None
        for entry, update in zip(known, updates, strict=True):
            if (
                entry.id != update.entry_id
                or entry.direction != "out"
                or update.status not in allowed_next("out", entry.status)
            ):
                return None
        now = _now()
        stamp = _stamp(connection.dialect, now)
        writes: list[tuple[Any, ...]] = []
        history: list[tuple[int, str | None, str, str | None, str | None, int | None]] = []
        out: list[JournalEntry] = []
        for entry, update in zip(known, updates, strict=True):
            resend, repaired = _counted(entry, update)
            writes.append(
                (
                    update.status,
                    update.code,
                    update.detail,
                    stamp,
                    resend,
                    repaired,
                    entry.id,
                    entry.status,
                    entry.resent,
                    entry.repaired,
                )
            )
            history.append(_history_row(entry, update))
            out.append(_moved(entry, update, now, resend, repaired))
        writes.sort(key=lambda write: write[6])  # rows locked in id order, as the read does
        savepoint = connection.begin_nested()
        matched = connection.exec_driver_sql(
            driver_sql(connection.dialect, _SET_KNOWN_STATUS), writes
        ).rowcount
        if matched != len(writes):  # some entry moved meanwhile: read them after all
            savepoint.rollback()
            return None
        savepoint.commit()
        _insert_history(connection, now, history)
        return out

    @staticmethod
    def _change(
        entry: JournalEntry,
        update: StatusUpdate,
        now: datetime,
        stamp: Any,
        *,
        strict: bool,
        writes: list[tuple[str, tuple[Any, ...]]],
    ) -> tuple[JournalEntry, bool]:
        """The entry after ``update``, and whether its status moved (a history row); the
        write it needs is appended to ``writes`` (``stamp``: ``now`` as it binds)."""
        status = update.status
        allowed = allowed_next(entry.direction, entry.status)
        if status == entry.status and status not in allowed:
            if update.repaired is not None and update.repaired != entry.repaired:
                writes.append((_SET_REPAIRED, (update.repaired, stamp, entry.id)))
                changed = entry.model_copy(update={"repaired": update.repaired, "updated_at": now})
                return changed, False
            return entry, False
        if status not in allowed:
            if not strict:
                return entry, False
            raise JournalError(
                f"journal entry {entry.id} ({entry.direction}bound) cannot go from "
                f"{entry.status!r} to {status!r}"
                + (
                    f"; from {entry.status!r} it may go to {', '.join(sorted(allowed))}"
                    if allowed
                    else f"; {entry.status!r} is final"
                ),
                field="status",
            )
        resend, repaired = _counted(entry, update)
        writes.append(
            (_SET_STATUS, (status, update.code, update.detail, stamp, resend, repaired, entry.id))
        )
        return _moved(entry, update, now, resend, repaired), True

    def get(self, entry_id: int) -> JournalEntry:
        """The entry with id ``entry_id`` (:class:`JournalError` if there is none)."""
        with self._read() as connection:
            return self._fetch(connection, entry_id)

    def find(self, *, direction: str, sender: str, mesg_id: str) -> JournalEntry | None:
        """The entry of the header ids (sender, MesgID) in ``direction``, or None."""
        with self._read() as connection:
            row = connection.execute(
                sa.select(entries).where(
                    entries.c.direction == direction,
                    entries.c.sender == sender,
                    entries.c.mesg_id == mesg_id,
                )
            ).first()
        return None if row is None else self._entry(row)

    def find_original(
        self, *, msg_id: str, mt: str, sender: str | None = None, direction: str = "out"
    ) -> JournalEntry | None:
        """The message a business reply answers: by its GrpHdr MsgId and type (the reply's
        OrgnlMsgId and OrgnlMT) and, when given, the instructing party (OrgnlInstgPty).

        Outbound by default; the newest when several match. OrgnlInstgPty is compared
        with the header sender (the direct participant); when no entry of that sender
        matches but exactly one entry has this MsgId and type, that one is returned — the
        reply may name an indirect participant (行内机构) there ([S1]: the samples show
        the direct participant). Several candidates of other senders: None (ambiguous).
        The one-key case of :meth:`find_originals`.
        """
        return self.find_originals([(msg_id, mt, sender)], direction=direction)[0]

    def find_originals(
        self, keys: Sequence[tuple[str, str, str | None]], *, direction: str = "out"
    ) -> list[JournalEntry | None]:
        """:meth:`find_original` for each ``(msg_id, mt, sender)`` key, with one query
        (per 500 distinct keys): one entry or None per key, in the order given, by
        :meth:`find_original`'s rules (of the 50 newest entries with that MsgId and type:
        the newest of ``sender``, else the newest when all have one sender, else None)."""
        if not keys:
            return []
        wanted = list(dict.fromkeys((msg_id, mt) for msg_id, mt, _ in keys))
        found: dict[tuple[str, str], list[tuple[Any, ...]]] = {key: [] for key in wanted}
        with self._read() as connection:
            plan = _delivery_plan(connection.dialect)
            cursor = DriverCursor(connection)
            try:
                for start in range(0, len(wanted), _FIND_CHUNK):
                    msg_ids = sorted({m for m, _ in wanted[start : start + _FIND_CHUNK]})
                    sql, parameters = plan.originals(msg_ids)
                    for row in cursor.all(sql, parameters):
                        candidates = found.get((row[_MSG_ID], row[_MT]))
                        if candidates is not None and row[_DIRECTION] == direction:
                            candidates.append(row)
            finally:
                cursor.close()
        out: list[JournalEntry | None] = []
        entries_of: dict[int, JournalEntry] = {}
        for msg_id, mt, sender in keys:
            candidates = found[(msg_id, mt)][:_ORIGINAL_CANDIDATES]  # newest first
            chosen: tuple[Any, ...] | None = None
            if sender is not None:
                exact = [r for r in candidates if r[_SENDER] == sender]
                if exact:
                    chosen = exact[0]
                elif len({r[_SENDER] for r in candidates}) == 1:
                    chosen = candidates[0]
            elif candidates:
                chosen = candidates[0]
            if chosen is None:
                out.append(None)
                continue
            entry = entries_of.get(chosen[_ID])
            if entry is None:
                entry = entries_of[chosen[_ID]] = plan.entry(chosen)
            out.append(entry)
        return out

    def history(self, entry_id: int) -> list[StatusChange]:
        """The status changes of an entry, oldest first."""
        with self._read() as connection:
            self._fetch(connection, entry_id)
            rows = connection.execute(
                sa.select(status_history)
                .where(status_history.c.entry_id == entry_id)
                .order_by(status_history.c.id)
            ).all()
        return [StatusChange.model_validate(dict(r._mapping)) for r in rows]

    def query(
        self,
        *,
        work_date: date | str | None = None,
        mt: str | None = None,
        tx_type: str | None = None,
        status: str | None = None,
        direction: str | None = None,
        package: str | None = None,
        sender: str | None = None,
        receiver: str | None = None,
        system: str | None = None,
        limit: int | None = None,
        after_id: int | None = None,
    ) -> list[JournalEntry]:
        """Entries matching every filter given, in id (arrival) order.

        ``after_id`` + ``limit`` page through large results.
        """
        conditions: list[sa.ColumnElement[bool]] = []
        day = _as_date(work_date, "work_date")
        for column, value in (
            (entries.c.work_date, day),
            (entries.c.mt, mt),
            (entries.c.tx_type, tx_type),
            (entries.c.status, status),
            (entries.c.direction, direction),
            (entries.c.package_id, package),
            (entries.c.sender, sender),
            (entries.c.receiver, receiver),
            (entries.c.system, system),
        ):
            if value is not None:
                conditions.append(column == value)
        if after_id is not None:
            conditions.append(entries.c.id > after_id)
        query = sa.select(entries).where(*conditions).order_by(entries.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as connection:
            return [self._entry(r) for r in connection.execute(query)]

    def status_counts(self) -> dict[str, Any]:
        """``{"out": {status: n}, "in": {status: n}, "oldest_unconfirmed": entry | None}``.

        The oldest unconfirmed is the earliest outbound entry still ``created``, ``sent``
        or ``timed_out``.
        """
        counts: dict[str, Any] = {"out": {}, "in": {}}
        with self._read() as connection:
            rows = connection.execute(
                sa.select(entries.c.direction, entries.c.status, sa.func.count())
                .group_by(entries.c.direction, entries.c.status)
                .order_by(entries.c.direction, entries.c.status)
            ).all()
            for direction, status, count in rows:
                counts.setdefault(direction, {})[status] = count
            oldest = connection.execute(
                sa.select(entries)
                .where(entries.c.direction == "out", entries.c.status.in_(UNCONFIRMED))
                .order_by(entries.c.id)
                .limit(1)
            ).first()
        counts["oldest_unconfirmed"] = None if oldest is None else self._entry(oldest)
        return counts

    # ------------------------------------------------------------------ delivery to the application

    def pending_deliveries(self, limit: int = 100, *, after_id: int = 0) -> list[JournalEntry]:
        """Inbound business messages not yet delivered, in arrival order; ``after_id``
        pages through them (the entries after that id)."""
        with self._read() as connection:
            rows = connection.execute(
                sa.select(entries)
                .where(
                    entries.c.direction == "in",
                    entries.c.status == "received",
                    entries.c.deliverable.is_(True),
                    entries.c.id > after_id,
                )
                .order_by(entries.c.id)
                .limit(limit)
            ).all()
        return [self._entry(r) for r in rows]

    def deliver(self, entry_id: int, handler: DeliveryHandler) -> bool:
        """Hand an inbound entry to ``handler`` exactly once; True if delivered by this call.

        The one-entry case of :meth:`deliver_many` (same transaction, same guarantees). If
        the handler raises, its writes are rolled back, the entry's ``attempts`` grows by
        one and ``last_error`` records the exception (committed), and the exception
        propagates to the caller (who may quarantine the entry after N attempts).
        """
        (outcome,) = self.deliver_many([entry_id], handler)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def deliver_many(
        self,
        entry_ids: Sequence[int],
        handler: DeliveryHandler,
        *,
        stop_at_failure: bool = False,
    ) -> list[bool | Exception]:
        """Hand each inbound entry of ``entry_ids`` to ``handler`` exactly once, in the
        order given, all in **one** database transaction (one commit).

        For each entry, inside its own SAVEPOINT: mark it delivered with a conditional
        ``UPDATE`` (only if still ``received`` and deliverable: concurrent callers — other
        threads, other processes — skip it, on PostgreSQL after waiting for the first's
        outcome on the row lock), call ``handler(entry, connection)``, write the status
        history. The handler may write its own rows through ``connection``; they commit
        together with the delivery mark. It must not commit, roll back or close the
        connection. If the handler raises an ``Exception``, only its savepoint is rolled
        back (its writes and its delivery mark); the entry's ``attempts`` grows by one and
        ``last_error`` records the exception, in the same transaction; the other entries
        go on (with ``stop_at_failure``, the entries after it are left untouched, so that a
        caller keeping an order can retry the failed one first).

        Returns one outcome per entry handled, in order: True (delivered by this call),
        False (not pending: delivered already, quarantined, not a deliverable inbound
        entry) or the handler's exception (not delivered). With ``stop_at_failure`` the
        list ends at the first exception. A crash before the commit leaves every entry of
        the call pending and none of the handler's writes. An unknown id raises
        :class:`JournalError` before any handler runs for it (nothing of the call
        commits). On PostgreSQL, entries are locked in the order given: concurrent callers
        should give ascending ids. On SQLite the transaction holds the database's write
        lock while the handlers run: keep handlers short and batches moderate.

        The handler must do its database work through ``connection``, not through this
        journal's methods (on SQLite another connection cannot write until it returns).
        """
        if self._current() is not None:
            raise JournalError(
                "Journal.deliver() runs its own transaction: call it outside Journal.transaction()"
            )
        with self._writer:
            return self._deliver_many(list(entry_ids), handler, stop_at_failure)

    def _deliver_many(
        self, entry_ids: list[int], handler: DeliveryHandler, stop_at_failure: bool
    ) -> list[bool | Exception]:
        outcomes: list[bool | Exception] = []
        if not entry_ids:
            return outcomes
        try:
            connection = self._engine.connect()
        except DBAPIError as exc:
            raise self._db_error("journal delivery failed", exc) from None
        try:
            transaction = connection.begin()
            plan = _delivery_plan(connection.dialect)
            cursor = DriverCursor(connection)
            # one time for the call: the marks, the failed attempts and the history rows
            now = _now()
            stamp = _stamp(connection.dialect, now)
            try:
                for entry_id in entry_ids:
                    outcome = self._deliver_in(connection, cursor, plan, entry_id, handler, stamp)
                    outcomes.append(outcome)
                    if stop_at_failure and isinstance(outcome, Exception):
                        break
            finally:
                cursor.close()
            delivered = [
                (entry_id, "received", "delivered", None, None, None)
                for entry_id, outcome in zip(entry_ids, outcomes, strict=False)
                if outcome is True
            ]
            if delivered:
                _insert_history(connection, now, delivered)
            transaction.commit()
            return outcomes
        except DBAPIError as exc:
            raise self._db_error("journal delivery failed", exc) from None
        finally:
            connection.close()  # closing an uncommitted transaction rolls it back

    def _deliver_in(
        self,
        connection: sa.Connection,
        cursor: DriverCursor,
        plan: _DeliveryPlan,
        entry_id: int,
        handler: DeliveryHandler,
        stamp: Any,
    ) -> bool | Exception:
        """One entry of :meth:`deliver_many`, in its own savepoint of ``connection``'s
        transaction (driver-level SQL; a handler's own ``connection.begin_nested()`` nests
        inside it)."""
        cursor.execute(_SAVEPOINT)
        row = cursor.first(plan.mark, (stamp, stamp, entry_id))
        if row is None:
            cursor.execute(_RELEASE)  # it changed nothing
            self._fetch(connection, entry_id)  # unknown id → JournalError
            return False
        try:
            handler(plan.entry(row), connection)
        except Exception as exc:
            # the handler's own error (its database errors included) is the outcome; only
            # its savepoint goes (with any the handler left open), and the failed attempt
            # is recorded with the others
            self._undo(connection, cursor)
            cursor.execute(plan.failed, (f"{type(exc).__name__}: {exc}", stamp, entry_id))
            return exc
        if _aborted(connection):
            # the handler caught a database error of its own and returned: on PostgreSQL
            # the transaction stays aborted until its savepoint is rolled back, so its
            # writes and its mark go, the attempt is recorded, and the others stay
            self._undo(connection, cursor)
            failure = JournalError(
                "the handler returned after a database error it caught; the transaction "
                "was aborted, so its delivery is rolled back"
            )
            cursor.execute(plan.failed, (f"{type(failure).__name__}: {failure}", stamp, entry_id))
            return failure
        # a savepoint the handler left open goes with its own, as SQL releases it
        while (nested := connection.get_nested_transaction()) is not None:
            nested.commit()
        cursor.execute(_RELEASE)  # its status history is written with the others'
        return True

    @staticmethod
    def _undo(connection: sa.Connection, cursor: DriverCursor) -> None:
        """Roll a delivery back to its savepoint: first the savepoints the handler left
        open (so that SQLAlchemy's view of the connection stays true), then its own."""
        while (nested := connection.get_nested_transaction()) is not None:
            nested.rollback()
        cursor.execute(_ROLLBACK_TO)
        cursor.execute(_RELEASE)

    # ------------------------------------------------------------------ quarantine

    def quarantine(
        self, *, queue: str, body: bytes, reason: str, entry_id: int | None = None
    ) -> int:
        """Set a poison message aside with the reason; returns the quarantine id.

        With ``entry_id``, the inbound entry moves to ``quarantined`` (it leaves the
        pending deliveries) in the same transaction.
        """
        body = _bytes(body)
        with self._write() as connection:
            if entry_id is not None:
                entry = self._fetch(connection, entry_id, lock=True)
                if entry.status != "quarantined":
                    if "quarantined" not in allowed_next(entry.direction, entry.status):
                        raise JournalError(
                            f"journal entry {entry_id} cannot go from {entry.status!r} to "
                            "'quarantined'",
                            field="entry_id",
                        )
                    connection.execute(
                        sa.update(entries)
                        .where(entries.c.id == entry_id)
                        .values(status="quarantined", status_detail=reason, updated_at=_now())
                    )
                    self._history(connection, entry_id, entry.status, "quarantined", detail=reason)
            result = connection.execute(
                sa.insert(quarantine)
                .values(queue=queue, body=body, reason=reason, entry_id=entry_id, created_at=_now())
                .returning(quarantine.c.id)
            )
            return int(result.scalar_one())

    def quarantined(self, *, released: bool = False) -> list[QuarantineRecord]:
        """Quarantined messages not yet released (or, with ``released=True``, released)."""
        condition = (
            quarantine.c.released_at.is_not(None)
            if released
            else (quarantine.c.released_at.is_(None))
        )
        with self._read() as connection:
            rows = connection.execute(
                sa.select(quarantine).where(condition).order_by(quarantine.c.id)
            ).all()
        return [QuarantineRecord.model_validate(dict(r._mapping)) for r in rows]

    def release(self, quarantine_id: int) -> QuarantineRecord:
        """Mark a quarantined message released; its entry (if any) goes back to the status
        it had before (``received``: it is delivered again, with ``attempts`` reset)."""
        with self._write() as connection:
            row = connection.execute(
                sa.select(quarantine).where(quarantine.c.id == quarantine_id)
            ).first()
            if row is None:
                raise JournalError(f"no quarantined message with id {quarantine_id}")
            if row.released_at is not None:
                raise JournalError(
                    f"quarantined message {quarantine_id} was already released at "
                    f"{row.released_at:%Y-%m-%d %H:%M:%S} UTC"
                )
            connection.execute(
                sa.update(quarantine)
                .where(quarantine.c.id == quarantine_id)
                .values(released_at=_now())
            )
            if row.entry_id is not None:
                entry = self._fetch(connection, row.entry_id, lock=True)
                if entry.status == "quarantined":
                    before = connection.execute(
                        sa.select(status_history.c.from_status)
                        .where(
                            status_history.c.entry_id == entry.id,
                            status_history.c.to_status == "quarantined",
                        )
                        .order_by(status_history.c.id.desc())
                        .limit(1)
                    ).scalar()
                    back = before if before in ("received", "unreadable") else "received"
                    connection.execute(
                        sa.update(entries)
                        .where(entries.c.id == entry.id)
                        .values(status=back, attempts=0, updated_at=_now())
                    )
                    self._history(
                        connection,
                        entry.id,
                        "quarantined",
                        back,
                        detail=f"released from quarantine {quarantine_id}",
                    )
            released = connection.execute(
                sa.select(quarantine).where(quarantine.c.id == quarantine_id)
            ).one()
        return QuarantineRecord.model_validate(dict(released._mapping))

    # ------------------------------------------------------------------ reconciliation

    def aggregates(self, *, work_date: date | str, system: str) -> list[AggregateRow]:
        """Count and exact sum of amounts by (direction, mt, tx_type, status) for one work
        date and system, computed by the database (``GROUP BY``)."""
        day = _as_date(work_date, "work_date")
        keys = (entries.c.direction, entries.c.mt, entries.c.tx_type, entries.c.status)
        query = (
            sa.select(
                *keys,
                sa.func.count().label("n"),
                sa.func.coalesce(sa.func.sum(entries.c.amount), 0).label("amount"),
                (sa.func.count() - sa.func.count(entries.c.amount)).label("without_amount"),
            )
            .where(entries.c.work_date == day, entries.c.system == system)
            .group_by(*keys)
            .order_by(*keys)
        )
        with self._read() as connection:
            rows = connection.execute(query).all()
        return [
            AggregateRow(
                direction=r.direction,
                mt=r.mt,
                tx_type=r.tx_type,
                status=r.status,
                count=r.n,
                amount=_sum_amount(r.amount),
                without_amount=r.without_amount,
            )
            for r in rows
        ]


_BY_ID = sa.select(entries).where(entries.c.id == sa.bindparam("entry_id"))
_BY_ID_LOCKED = _BY_ID.with_for_update()
#: one status transition (driver-level, see :mod:`paymsg.journal.driver`): status, code,
#: detail, updated_at, resends added, repaired, id
_SET_STATUS = (
    "UPDATE journal_entries SET status = ?, status_code = ?, status_detail = ?, "
    "updated_at = ?, resent = resent + ?, repaired = ? WHERE id = ?"
)
#: :meth:`Journal._set_known`: one status transition of an outbound entry, only if its
#: status, resent and repaired are still the known ones: status, code, detail,
#: updated_at, resends added, repaired, id, then the known status, resent and repaired
_SET_KNOWN_STATUS = (
    "UPDATE journal_entries SET status = ?, status_code = ?, status_detail = ?, "
    "updated_at = ?, resent = resent + ?, repaired = ? WHERE id = ? AND direction = 'out' "
    "AND status = ? AND resent = ? AND repaired = ?"
)
#: the repaired flag alone (a repair that leaves the status as it is): repaired,
#: updated_at, id
_SET_REPAIRED = "UPDATE journal_entries SET repaired = ?, updated_at = ? WHERE id = ?"
#: distinct keys per query of :meth:`Journal.find_originals`
_FIND_CHUNK = 500
#: the newest candidates of one MsgId and type that :meth:`Journal.find_original` weighs
_ORIGINAL_CANDIDATES = 50
_BY_IDS = sa.select(entries).where(entries.c.id.in_(sa.bindparam("entry_ids", expanding=True)))
_BY_IDS_LOCKED = _BY_IDS.with_for_update()


#: the fields of a journal entry: the columns of ``journal_entries``, in table order
_ENTRY_FIELDS = tuple(JournalEntry.model_fields)
#: positions in a full row of ``journal_entries``
_ID, _DIRECTION, _SENDER, _MT, _MSG_ID = (
    _ENTRY_FIELDS.index(n) for n in ("id", "direction", "sender", "mt", "msg_id")
)
if tuple(column.name for column in entries.c) != _ENTRY_FIELDS:  # pragma: no cover
    raise ImportError("JournalEntry's fields are not the columns of journal_entries")


#: an entry's values in field order, from a mapping of them
_ENTRY_VALUES = operator.itemgetter(*_ENTRY_FIELDS)


def _trusted_entry(values: dict[str, Any]) -> JournalEntry:
    """A :class:`JournalEntry` of values the journal's own columns gave (or the values it
    just stored, converted as those columns give them back): every field, of its type."""
    return trusted_model(JournalEntry, values)


def _counted(entry: JournalEntry, update: StatusUpdate) -> tuple[int, bool]:
    """What a transition of ``entry`` by ``update`` adds to its resends (``sent`` again:
    a resend), and its ``repaired`` flag after it."""
    resend = 1 if update.status == "sent" and entry.status != "created" else 0
    return resend, entry.repaired if update.repaired is None else update.repaired


def _history_row(
    entry: JournalEntry, update: StatusUpdate
) -> tuple[int, str | None, str, str | None, str | None, int | None]:
    """The status history row of a transition of ``entry`` by ``update``."""
    return (entry.id, entry.status, update.status, update.code, update.detail, update.related_id)


def _moved(
    entry: JournalEntry, update: StatusUpdate, now: datetime, resend: int, repaired: bool
) -> JournalEntry:
    """``entry`` after the status transition ``update`` written at ``now`` (``resend``
    added to its resends, its ``repaired`` flag as written): what a read then gives."""
    values = dict(entry.__dict__)
    values.update(
        status=update.status,
        status_code=update.code,
        status_detail=update.detail,
        updated_at=now,
        resent=entry.resent + resend,
        repaired=repaired,
    )
    return _trusted_entry(values)


#: the columns of a status history row written by :func:`_insert_history`, in order
_HISTORY_COLUMNS = ("entry_id", "at", "from_status", "to_status", "code", "detail", "related_id")


#: the bind conversion of a journal timestamp by (database, driver, parameter style)
_STAMPS: dict[tuple[str, str, str], Callable[[Any], Any] | None] = {}


def _stamp(dialect: sa.Dialect, at: datetime) -> Any:
    """``at`` as a journal timestamp column binds it on ``dialect`` (once per batch)."""
    kind = dialect_key(dialect)
    if kind not in _STAMPS:
        _STAMPS[kind] = bind_conversion(status_history.c.at.type, dialect)
    convert = _STAMPS[kind]
    return at if convert is None else convert(at)


#: the status history insert (driver-level, see :func:`~paymsg.journal.driver.driver_sql`)
_HISTORY_SQL = (
    f"INSERT INTO {status_history.name} ({', '.join(_HISTORY_COLUMNS)}) "
    f"VALUES ({', '.join(['?'] * len(_HISTORY_COLUMNS))})"
)


def _insert_history(
    connection: sa.Connection,
    at: datetime,
    rows: Sequence[tuple[int, str | None, str, str | None, str | None, int | None]],
) -> None:
    """Status history rows ``(entry_id, from_status, to_status, code, detail,
    related_id)``, all at ``at``, with one driver-level ``executemany`` (no statement
    compiled, no per-row parameter processing: the timestamp is converted once)."""
    stamp = _stamp(connection.dialect, at)
    connection.exec_driver_sql(
        driver_sql(connection.dialect, _HISTORY_SQL),
        [(entry_id, stamp, *rest) for entry_id, *rest in rows],
    )


def _key(values: Mapping[Any, Any]) -> tuple[Any, ...]:
    """The unique key of an entry's row values: (direction, sender, MesgID), or for a text
    without a readable header (direction, digest)."""
    if values["mesg_id"] is not None:
        return (values["direction"], values["sender"], values["mesg_id"])
    return (values["direction"], values["digest"])


def _runs(
    writes: list[tuple[str, tuple[Any, ...]]],
) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Consecutive writes of the same statement together (executed as one executemany)."""
    for statement, group in itertools.groupby(writes, key=lambda write: write[0]):
        yield statement, [params for _, params in group]


def _aborted(connection: sa.Connection) -> bool:
    """Whether ``connection``'s PostgreSQL transaction is aborted by a failed statement
    (SQLite has no such state: a failed statement leaves the transaction usable)."""
    if connection.dialect.name != "postgresql":
        return False
    import psycopg

    raw = connection.connection.driver_connection
    return bool(
        isinstance(raw, psycopg.Connection)
        and raw.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
    )


#: :meth:`Journal.deliver_many`'s mark (driver-level, see :mod:`paymsg.journal.driver`):
#: one pending inbound entry delivered, only if it still is pending (still ``received``
#: and deliverable: a concurrent deliverer's mark makes it skip the row); the row as it
#: is after. Parameters: delivered_at, updated_at, id
_DELIVER_MARK = (
    f"UPDATE {entries.name} SET status = 'delivered', delivered_at = ?, updated_at = ?, "
    "attempts = attempts + 1 WHERE id = ? AND direction = 'in' AND status = 'received' "
    f"AND deliverable = {{true}} RETURNING {', '.join(_ENTRY_FIELDS)}"
)
#: the savepoint of one delivery (one name: each is released before the next is taken)
_SAVEPOINT = "SAVEPOINT paymsg_delivery"
_ROLLBACK_TO = "ROLLBACK TO SAVEPOINT paymsg_delivery"
_RELEASE = "RELEASE SAVEPOINT paymsg_delivery"
#: a failed delivery attempt, counted with the handler's error: last_error, updated_at, id
_DELIVERY_FAILED = (
    f"UPDATE {entries.name} SET attempts = attempts + 1, last_error = ?, updated_at = ? "
    "WHERE id = ?"
)


#: :meth:`Journal.find_originals`: the entries with any of the MsgIds, newest first
#: (``{marks}``: one ``?`` per MsgId). Their direction and type are matched in Python: a
#: condition on the direction here made SQLite search the (direction, status, id) index,
#: i.e. every outbound entry, for each batch of replies, instead of the MsgId index
_ORIGINALS = (
    f"SELECT {', '.join(_ENTRY_FIELDS)} FROM {entries.name} "
    "WHERE msg_id IN ({marks}) ORDER BY id DESC"
)


class _DeliveryPlan:
    """The driver-level reads and writes of delivery and correlation on one database and
    driver (:meth:`Journal.deliver_many`, :meth:`Journal.find_originals`), and how a full
    row of ``journal_entries`` as the driver gives it becomes an entry (each column's own
    result conversion)."""

    def __init__(self, dialect: sa.Dialect) -> None:
        true = "1" if dialect.name == "sqlite" else "true"  # how each stores a Boolean
        self.dialect = dialect
        self.mark = driver_sql(dialect, _DELIVER_MARK.format(true=true))
        self.failed = driver_sql(dialect, _DELIVERY_FAILED)
        #: :data:`_ORIGINALS` by number of parameters (a power of two: few statements)
        self._originals: dict[int, str] = {}
        self.convert = [
            (index, convert)
            for index, column in enumerate(entries.c)
            if (convert := column.type.dialect_impl(dialect).result_processor(dialect, None))
            is not None
        ]

    def originals(self, msg_ids: list[str]) -> tuple[str, list[str]]:
        """The query of :data:`_ORIGINALS` for ``msg_ids`` (at least one) and its
        parameters: the list padded to a power of two with its last MsgId (the same
        rows), so that few statements are built and prepared."""
        size = 8
        while size < len(msg_ids):
            size *= 2
        sql = self._originals.get(size)
        if sql is None:
            text = _ORIGINALS.format(marks=", ".join(["?"] * size))
            sql = self._originals.setdefault(size, driver_sql(self.dialect, text))
        return sql, [*msg_ids, *[msg_ids[-1]] * (size - len(msg_ids))]

    def entry(self, row: Sequence[Any]) -> JournalEntry:
        """The entry of a full row (every column, in table order) as the driver gave it."""
        values = list(row)
        for index, convert in self.convert:
            value = values[index]
            if value is not None:
                values[index] = convert(value)
        return _trusted_entry(dict(zip(_ENTRY_FIELDS, values, strict=True)))


#: :func:`_delivery_plan` by (database, driver, parameter style): no per-call state
_DELIVERY_PLANS: dict[tuple[str, str, str], _DeliveryPlan] = {}


def _delivery_plan(dialect: sa.Dialect) -> _DeliveryPlan:
    found = _DELIVERY_PLANS.get(dialect_key(dialect))
    return found or _DELIVERY_PLANS.setdefault(dialect_key(dialect), _DeliveryPlan(dialect))


#: the columns an upsert writes (every column but the id and the delivery's), in order
_UPSERT_COLUMNS = tuple(
    column.name for column in entries.c if column.name not in ("id", "last_error", "delivered_at")
)
#: what an upsert returns: enough to tell a new entry from a copy and to find its values
_UPSERT_RETURNING = ("id", "copies", "direction", "sender", "mesg_id", "digest")


class _UpsertPlan:
    """How rows become an upsert's parameters on one database and driver: each column's
    own bind conversion, a timestamp or date converted once per batch."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.mark = parameter_mark(dialect)
        # SQLite allows 32766 parameters per statement, PostgreSQL 65535
        self.chunk = max(1, 32000 // len(_UPSERT_COLUMNS))
        self.convert = [bind_conversion(entries.c[name].type, dialect) for name in _UPSERT_COLUMNS]
        self._amount = _UPSERT_COLUMNS.index("amount")
        self._amount_in = bind_conversion(entries.c.amount.type, dialect)
        self._amount_out = entries.c.amount.type.dialect_impl(dialect).result_processor(
            dialect, None
        )
        self._row = operator.itemgetter(*_UPSERT_COLUMNS)
        # the columns with a conversion: (index, conversion, kind of the values many rows
        # share - timestamps, dates, flags: converted once per batch and kind -, or None)
        self._converted = [
            (index, convert, _shared_kind(entries.c[name].type))
            for index, (name, convert) in enumerate(zip(_UPSERT_COLUMNS, self.convert, strict=True))
            if convert is not None
        ]

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        """The parameters of a multi-row insert of ``rows``, flat, in column order."""
        flat: list[Any] = []
        memo: dict[tuple[str, Any], Any] = {}
        take, converted = self._row, self._converted
        for values in rows:
            row = list(take(values))
            for index, convert, kind in converted:
                value = row[index]
                if value is None:
                    continue
                if kind is None:
                    row[index] = convert(value)
                    continue
                key = (kind, value)
                if key not in memo:
                    memo[key] = convert(value)
                row[index] = memo[key]
            flat.extend(row)
        return flat

    def entry(self, entry_id: int, values: Mapping[str, Any]) -> JournalEntry:
        """The new entry ``entry_id`` inserted with ``values``, as a read gives it."""
        row = dict(values)
        amount = row["amount"]
        if amount is not None:  # as the column gives it back (2 decimals)
            stored = self._amount_in(amount) if self._amount_in is not None else amount
            row["amount"] = self._amount_out(stored) if self._amount_out is not None else stored
        row.update(id=entry_id, last_error=None, delivered_at=None)
        return _trusted_entry(dict(zip(_ENTRY_FIELDS, _ENTRY_VALUES(row), strict=True)))


def _shared_kind(type_: Any) -> str | None:
    """The kind of a column's values that many rows of a batch share (their timestamp, work
    date, flags), whose conversion depends on the value alone; None for the others."""
    for kind in (UtcDateTime, sa.Date, sa.Boolean):
        if isinstance(type_, kind):
            return kind.__name__
    return None


#: :func:`_upsert_plan` by (database, driver, parameter style): no per-call state
_UPSERT_PLANS: dict[tuple[str, str, str], _UpsertPlan] = {}


def _upsert_plan(dialect: sa.Dialect) -> _UpsertPlan:
    kind = dialect_key(dialect)
    plan = _UPSERT_PLANS.get(kind)
    if plan is None:
        plan = _UPSERT_PLANS.setdefault(kind, _UpsertPlan(dialect))
    return plan


@functools.lru_cache(maxsize=1024)
def _upsert_sql(
    kind: tuple[str, str, str], mark: str, headerless: bool, count_copies: bool, rows: int
) -> str:
    """``INSERT … VALUES (…) × rows ON CONFLICT … RETURNING`` the key columns of a journal
    entry (SQLite and PostgreSQL spell it alike), built once per variant.

    The conflict target is the (direction, sender, MesgID) unique index, or for a text
    without a readable header the (direction, digest) partial unique index. Outbound:
    ``DO NOTHING`` (the caller then reads the existing row); inbound: ``DO UPDATE`` adding
    one to ``copies`` — one atomic statement, whoever wins the race.
    """
    table = entries.name
    one = "(" + ", ".join([mark] * len(_UPSERT_COLUMNS)) + ")"
    target = (
        "(direction, digest) WHERE mesg_id IS NULL"
        if headerless
        else ("(direction, sender, mesg_id)")
    )
    action = (
        f"DO UPDATE SET copies = {table}.copies + 1, updated_at = excluded.updated_at"
        if count_copies
        else "DO NOTHING"
    )
    return (
        f"INSERT INTO {table} ({', '.join(_UPSERT_COLUMNS)}) VALUES "
        + ", ".join([one] * rows)
        + f" ON CONFLICT {target} {action} RETURNING {', '.join(_UPSERT_RETURNING)}"
    )


def _after_fork(reference: weakref.ref[Journal]) -> None:
    journal = reference()
    if journal is not None:
        journal._engine.dispose(close=False)
        journal._local = threading.local()
        if journal.dialect == "sqlite":
            journal._writer = threading.RLock()


def _sum_amount(value: Any) -> Decimal:
    # SUM keeps the column's type, so the database's integer already came back as Decimal
    if not isinstance(value, Decimal):  # pragma: no cover - guarded by ExactAmount
        raise JournalError(f"the database returned {value!r} for a sum of amounts")
    return value


def _bytes(text: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(text, str):
        return text.encode("utf-8")
    return bytes(text)
