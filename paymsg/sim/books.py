"""The centre's books: one SQL store (SQLAlchemy Core; SQLite file or PostgreSQL).

Tables (all prefixed ``sim_``):

``sim_state``
    key/value state: business date, open BEPS round, id counter, schema version.
``sim_account``
    settlement-account balances, in units of 10⁻⁵ yuan (exact integers: the XSD amount
    type has 5 fraction digits), never floats.
``sim_message``
    every message the centre received (``direction='in'``, unique per sender and
    header MesgID: a copy only counts ``copies``) or will send / has sent
    (``direction='out'``). Outgoing rows are the **outbox**: they are written in the same
    transaction as the state change that produces them and put on the channel after the
    commit, so a crash at any point loses nothing (the outbox is flushed on restart and a
    redelivered inbound message is a duplicate, answered again but never reprocessed).
``sim_payment``
    one row per payment item the centre processed: an HVPS message or a BEPS package,
    with its business keys (sender, MT, MsgId = OrgnlGrpHdr), 业务类型, amount, the NPC
    status (PR00 received/waiting, PR03 netted, PR04 settled, PR09 rejected, PR12 queued
    for funds), netting date and round. Reconciliation answers are SQL aggregates of it.
``sim_fault``
    how many messages each scenario fault has matched and fired on (survives restarts,
    so a crash fault fires once).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from paymsg.errors import ConfigError
from paymsg.journal.driver import DriverStatement, driver_sql

__all__ = [
    "SCHEMA_VERSION",
    "Books",
    "from_units",
    "metadata",
    "to_units",
]

#: version of the ``sim_`` tables; a store written by another version is refused
SCHEMA_VERSION = "1"

#: amounts are stored as integers of this many fraction digits
_SCALE = 5
_UNIT = Decimal(10) ** -_SCALE


def to_units(amount: Decimal) -> int:
    """An exact Decimal amount as an integer of 10⁻⁵ units (refuses more decimals)."""
    units = amount.scaleb(_SCALE)
    if units != units.to_integral_value():
        raise ValueError(f"amount {amount} has more than {_SCALE} decimals")
    return int(units)


def from_units(units: int | None) -> Decimal:
    """Back to a Decimal with 2 decimals (more when the stored value needs them)."""
    value = Decimal(units or 0).scaleb(-_SCALE)
    two = value.quantize(Decimal("0.01"))
    return two if two == value else value.normalize()


metadata = MetaData()

state_table = Table(
    "sim_state",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
)

account_table = Table(
    "sim_account",
    metadata,
    Column("bank", String(14), primary_key=True),
    Column("balance", BigInteger, nullable=False),
)

message_table = Table(
    "sim_message",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("direction", String(3), nullable=False),
    Column("bank", String(14), nullable=False),  # the participant on the other side
    Column("queue", String(120), nullable=False),
    Column("sender", String(14), nullable=False),
    Column("receiver", String(14), nullable=False),
    Column("mt", String(35), nullable=False),
    Column("mesg_id", String(20), nullable=False),
    Column("msg_id", String(35)),
    # out: the header MesgID of the inbound message this answers (990/911/900/604 …)
    Column("reply_to", String(20)),
    # in: received | unreadable ; out: pending | sent | confirmed | refused
    Column("status", String(12), nullable=False),
    Column("code", String(8)),
    Column("copies", Integer, nullable=False, default=1),
    # out only: fault handling (delay, reorder hold, duplicate put)
    Column("not_before", Float),
    Column("hold", Integer, nullable=False, default=0),
    Column("put_copies", Integer, nullable=False, default=1),
    Column("work_date", String(10), nullable=False),
    Column("created_at", String(26), nullable=False),
    Column("raw", LargeBinary, nullable=False),
    UniqueConstraint("direction", "sender", "mesg_id", name="uq_sim_message_mesg"),
)
Index("ix_sim_message_outbox", message_table.c.direction, message_table.c.status)
#: a participant's ccms.990 names the confirmed message by MesgID alone (its sender is the
#: NPC or, for a forward, the originating bank), and a batch's new rows are found by it
_MESG_ID_INDEX = Index("ix_sim_message_mesg_id", message_table.c.mesg_id, message_table.c.direction)

payment_table = Table(
    "sim_payment",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("system", String(4), nullable=False),
    Column("mt", String(35), nullable=False),
    Column("msg_id", String(35), nullable=False),
    Column("sender", String(14), nullable=False),
    Column("receiver", String(14), nullable=False),
    Column("tx_type", String(6), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("nb_of_txs", Integer, nullable=False),
    Column("work_date", String(10), nullable=False),
    Column("status", String(4), nullable=False),
    # None, or why it waits: balance | window | round
    Column("waiting", String(8)),
    Column("code", String(8)),
    Column("info", String(105)),
    Column("netting_date", String(10)),
    Column("netting_round", String(2)),
    Column("in_message_id", Integer, nullable=False),
    Column("forward_message_id", Integer),
    Column("received_at", String(26), nullable=False),
    Column("settled_at", String(26)),
    # fault "lose": the row is deleted from the books once the payment is final
    Column("lost", Integer, nullable=False, default=0),
    # scenario faults to apply to its forward: duplicate, reorder, corrupt_signature
    Column("faults", String(60)),
    UniqueConstraint("sender", "mt", "msg_id", name="uq_sim_payment_key"),
)
Index("ix_sim_payment_day", payment_table.c.work_date, payment_table.c.system)
#: a batch asks which of its payments' MsgIds the books know
_MSG_ID_INDEX = Index("ix_sim_payment_msg_id", payment_table.c.msg_id)

fault_table = Table(
    "sim_fault",
    metadata,
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("matched", Integer, nullable=False),
    Column("fired", Integer, nullable=False),
)


fault_hit_table = Table(
    "sim_fault_hit",
    metadata,
    Column("idx", Integer, nullable=False),  # -1: the message was considered
    Column("sender", String(14), nullable=False),
    Column("mesg_id", String(20), nullable=False),
    UniqueConstraint("idx", "sender", "mesg_id", name="uq_sim_fault_hit"),
)


# statements built once (executed with parameters): no per-call compilation work
_INSERT_MESSAGE = insert(message_table)
_INSERT_PAYMENT = insert(payment_table)
_FIND_INBOUND = select(message_table.c.id, message_table.c.code).where(
    message_table.c.direction == "in",
    message_table.c.sender == bindparam("p_sender"),
    message_table.c.mesg_id == bindparam("p_mesg_id"),
)
_FIND_PAYMENT = select(payment_table.c.id).where(
    payment_table.c.sender == bindparam("p_sender"),
    payment_table.c.mt == bindparam("p_mt"),
    payment_table.c.msg_id == bindparam("p_msg_id"),
)
_BALANCE = select(account_table.c.balance).where(account_table.c.bank == bindparam("p_bank"))
_DEBIT = (
    update(account_table)
    .where(account_table.c.bank == bindparam("p_bank"))
    .values(balance=account_table.c.balance - bindparam("p_units"))
)
_CREDIT = (
    update(account_table)
    .where(account_table.c.bank == bindparam("p_bank"))
    .values(balance=account_table.c.balance + bindparam("p_units"))
)
_ADD_UNITS = _CREDIT  # executemany with a signed p_units per bank
_CONFIRM = (
    update(message_table)
    .where(message_table.c.direction == "out", message_table.c.mesg_id == bindparam("p_mesg_id"))
    .values(status=bindparam("p_status"), code=bindparam("p_code"))
)
#: which rows of a batch's keys the books hold: driver-level SQL (``?`` marks, see
#: :func:`paymsg.journal.driver.driver_sql`) ending in an IN list of the keys, written
#: out per batch — without SQLAlchemy's per-call work on an expanding IN list
_MESSAGE_KEYS = "SELECT id, direction, sender, mesg_id FROM sim_message WHERE mesg_id IN "
_INBOUND_BY_MESG_ID = (
    "SELECT id, sender, mesg_id, code FROM sim_message WHERE direction = 'in' AND mesg_id IN "
)
_PAYMENT_KEYS = "SELECT id, sender, mt, msg_id FROM sim_payment WHERE msg_id IN "
_ACCOUNTS = select(account_table.c.bank, account_table.c.balance)

#: every column of a sim_message / sim_payment row but the id, with the value a row
#: written without it gets (rows written together must all name the same columns)
MESSAGE_COLUMNS: dict[str, Any] = {
    c.name: None for c in message_table.columns if c.name != "id"
} | {"copies": 1, "hold": 0, "put_copies": 1}
PAYMENT_COLUMNS: dict[str, Any] = {
    c.name: None for c in payment_table.columns if c.name != "id"
} | {"lost": 0}


#: a batch's new rows: every column but the id
_ADD_MESSAGES = DriverStatement(insert(message_table), list(MESSAGE_COLUMNS))
_ADD_PAYMENTS = DriverStatement(insert(payment_table), list(PAYMENT_COLUMNS))
#: participants' ccms.990 for outbox rows (see :func:`_confirmation`)
_CONFIRM_MANY = DriverStatement(_CONFIRM)
#: outbox rows put on the channel
_MARK_SENT = DriverStatement(
    update(message_table)
    .where(message_table.c.id == bindparam("p_id"))
    .values(status=bindparam("p_status"))
)


def _select_in(conn: Connection, sql: str, keys: list[str]) -> list[Any]:
    """The rows of ``sql`` (one of the queries above, ending in ``IN``) for ``keys``."""
    text = driver_sql(conn.dialect, f"{sql}({', '.join('?' * len(keys))})")
    return list(conn.exec_driver_sql(text, tuple(keys)).all())


def _confirmation(mesg_id: str, code: str) -> dict[str, str]:
    """Parameters of :data:`_CONFIRM`: a ``…0000`` code confirms, any other refuses."""
    status = "confirmed" if code.endswith("0000") else "refused"
    return {"p_mesg_id": mesg_id, "p_status": status, "p_code": code}


def _engine_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://") :]
    return url


class Books:
    """The centre's SQL store. One instance per process; each call is one transaction."""

    def __init__(self, url: str = "sqlite:///paymsg-sim.db") -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(_engine_url(url))
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise ConfigError(f"cannot open the simulator's books {url!r}: {exc}") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        for attempt in range(5):
            try:
                self._create(url)
                break
            except SQLAlchemyError as exc:
                # another process may be creating the same tables at this moment
                if attempt == 4:
                    raise ConfigError(f"cannot open the simulator's books {url!r}: {exc}") from None
                time.sleep(0.1 * (attempt + 1))

    def _create(self, url: str) -> None:
        metadata.create_all(self.engine)
        for index in (_MESG_ID_INDEX, _MSG_ID_INDEX):  # books of an earlier paymsg lack them
            index.create(self.engine, checkfirst=True)
        with self.engine.begin() as conn:
            found = conn.execute(
                select(state_table.c.value).where(state_table.c.key == "schema_version")
            ).scalar()
            if found is None:
                conn.execute(insert(state_table).values(key="schema_version", value=SCHEMA_VERSION))
            elif found != SCHEMA_VERSION:
                raise ConfigError(
                    f"the simulator's books {url!r} have schema version {found}, "
                    f"this paymsg writes {SCHEMA_VERSION}",
                    hint="use a fresh --journal URL",
                )

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction (committed on success, rolled back on any exception)."""
        with self.engine.begin() as conn:
            yield conn

    # -- state ------------------------------------------------------------------------

    @staticmethod
    def get_state(conn: Connection, key: str) -> str | None:
        value: str | None = conn.execute(
            select(state_table.c.value).where(state_table.c.key == key)
        ).scalar()
        return value

    @staticmethod
    def set_state(conn: Connection, key: str, value: str) -> None:
        done = conn.execute(
            update(state_table).where(state_table.c.key == key).values(value=value)
        ).rowcount
        if not done:
            conn.execute(insert(state_table).values(key=key, value=value))

    def state(self, key: str) -> str | None:
        with self.begin() as conn:
            return self.get_state(conn, key)

    @classmethod
    def next_number(cls, conn: Connection, key: str = "counter") -> int:
        """The next value of a durable counter (allocated inside the caller's transaction)."""
        value = int(cls.get_state(conn, key) or "0") + 1
        cls.set_state(conn, key, str(value))
        return value

    # -- accounts ---------------------------------------------------------------------

    @staticmethod
    def open_account(conn: Connection, bank: str, balance: Decimal) -> None:
        """Create the account with its opening balance (no effect if it exists)."""
        exists = conn.execute(
            select(account_table.c.bank).where(account_table.c.bank == bank)
        ).first()
        if exists is None:
            conn.execute(insert(account_table).values(bank=bank, balance=to_units(balance)))

    @staticmethod
    def balance(conn: Connection, bank: str) -> int:
        value = conn.execute(_BALANCE, {"p_bank": bank}).scalar()
        if value is None:
            raise ConfigError(f"participant {bank} has no settlement account at this centre")
        return int(value)

    @staticmethod
    def move(conn: Connection, debtor: str, creditor: str, units: int) -> None:
        """Debit ``debtor`` and credit ``creditor`` by ``units`` (in one transaction)."""
        conn.execute(_DEBIT, {"p_bank": debtor, "p_units": units})
        conn.execute(_CREDIT, {"p_bank": creditor, "p_units": units})

    @staticmethod
    def balances_in(conn: Connection) -> dict[str, int]:
        """Every account's balance in units (inside the caller's transaction)."""
        return {bank: int(units) for bank, units in conn.execute(_ACCOUNTS).all()}

    @staticmethod
    def add_units(conn: Connection, changes: dict[str, int]) -> None:
        """Add a signed number of units to each bank's balance (one executemany)."""
        rows = [{"p_bank": bank, "p_units": units} for bank, units in changes.items() if units]
        if rows:
            conn.execute(_ADD_UNITS, rows)

    def balances(self) -> dict[str, Decimal]:
        with self.begin() as conn:
            rows = conn.execute(select(account_table.c.bank, account_table.c.balance)).all()
        return {bank: from_units(units) for bank, units in rows}

    # -- messages ---------------------------------------------------------------------

    @staticmethod
    def find_inbound(conn: Connection, sender: str, mesg_id: str) -> Any | None:
        """(id, code) of the inbound message with this sender and MesgID, or None."""
        return conn.execute(_FIND_INBOUND, {"p_sender": sender, "p_mesg_id": mesg_id}).first()

    @staticmethod
    def add_message(conn: Connection, **values: Any) -> int:
        result = conn.execute(_INSERT_MESSAGE, values)
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    @staticmethod
    def add_messages(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
        """Insert message rows in this order (one executemany; every row names every
        column of :data:`MESSAGE_COLUMNS`) and return their ids, in the same order."""
        _ADD_MESSAGES.run(conn, rows)
        found = _select_in(conn, _MESSAGE_KEYS, sorted({r["mesg_id"] for r in rows}))
        ids = {(d, s, m): int(i) for i, d, s, m in found}
        return [ids[(r["direction"], r["sender"], r["mesg_id"])] for r in rows]

    @staticmethod
    def inbound_many(conn: Connection, mesg_ids: list[str]) -> dict[tuple[str, str], Any]:
        """The inbound messages with any of these MesgIDs: (sender, MesgID) → (id, code)."""
        if not mesg_ids:
            return {}
        rows = _select_in(conn, _INBOUND_BY_MESG_ID, sorted(set(mesg_ids)))
        return {(r.sender, r.mesg_id): r for r in rows}

    @staticmethod
    def confirm_outbound_many(conn: Connection, confirmations: list[tuple[str, str]]) -> None:
        """:meth:`confirm_outbound` for several (MesgID, code) at once, in this order."""
        _CONFIRM_MANY.run(conn, [_confirmation(m, code) for m, code in confirmations])

    @staticmethod
    def count_copy(conn: Connection, message_id: int) -> None:
        conn.execute(
            update(message_table)
            .where(message_table.c.id == message_id)
            .values(copies=message_table.c.copies + 1)
        )

    def pending_outbox(self) -> list[Any]:
        """Outgoing messages not yet put, in the order they were written."""
        with self.begin() as conn:
            return list(
                conn.execute(
                    select(
                        message_table.c.id,
                        message_table.c.queue,
                        message_table.c.raw,
                        message_table.c.not_before,
                        message_table.c.hold,
                        message_table.c.put_copies,
                    )
                    .where(message_table.c.direction == "out", message_table.c.status == "pending")
                    .order_by(message_table.c.id)
                ).all()
            )

    def mark_sent(self, ids: list[int]) -> None:
        if not ids:
            return
        with self.begin() as conn:
            self.mark_sent_in(conn, ids)

    @staticmethod
    def mark_sent_in(conn: Connection, ids: list[int]) -> None:
        """Record as sent (inside the caller's transaction)."""
        _MARK_SENT.run(conn, [{"p_id": row_id, "p_status": "sent"} for row_id in ids])

    def release_holds(self, queue: str) -> None:
        """A message was put on ``queue``: messages held back for reordering may follow."""
        with self.begin() as conn:
            conn.execute(
                update(message_table)
                .where(message_table.c.queue == queue, message_table.c.hold == 1)
                .values(hold=0)
            )

    @staticmethod
    def confirm_outbound(conn: Connection, mesg_id: str, code: str) -> bool:
        """A participant's ccms.990 for a message the centre sent: confirmed or refused."""
        return bool(conn.execute(_CONFIRM, _confirmation(mesg_id, code)).rowcount)

    def messages(self, **where: Any) -> list[Any]:
        """Message rows matching equality conditions (tests, status, download answers)."""
        query = select(message_table).order_by(message_table.c.id)
        for name, value in where.items():
            query = query.where(message_table.c[name] == value)
        with self.begin() as conn:
            return list(conn.execute(query).all())

    @staticmethod
    def message_raw(conn: Connection, message_id: int) -> bytes | None:
        value: bytes | None = conn.execute(
            select(message_table.c.raw).where(message_table.c.id == message_id)
        ).scalar()
        return value

    # -- payments ---------------------------------------------------------------------

    @staticmethod
    def add_payment(conn: Connection, **values: Any) -> int:
        result = conn.execute(_INSERT_PAYMENT, values)
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    @staticmethod
    def add_payments(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
        """Insert payment rows (one executemany; every row names every column of
        :data:`PAYMENT_COLUMNS`) and return their ids, in the same order."""
        _ADD_PAYMENTS.run(conn, rows)
        found = _select_in(conn, _PAYMENT_KEYS, sorted({r["msg_id"] for r in rows}))
        ids = {(s, mt, m): int(i) for i, s, mt, m in found}
        return [ids[(r["sender"], r["mt"], r["msg_id"])] for r in rows]

    @staticmethod
    def payment_keys(conn: Connection, msg_ids: list[str]) -> set[tuple[str, str, str]]:
        """The business keys (sender, MT, MsgId) of payments with any of these MsgIds."""
        if not msg_ids:
            return set()
        rows = _select_in(conn, _PAYMENT_KEYS, sorted(set(msg_ids)))
        return {(s, mt, m) for _, s, mt, m in rows}

    @staticmethod
    def update_payment(conn: Connection, payment_id: int, **values: Any) -> None:
        conn.execute(update(payment_table).where(payment_table.c.id == payment_id).values(**values))

    @staticmethod
    def round_position(conn: Connection, bank: str) -> int:
        """``bank``'s net debit position in the open BEPS round, in units: what its packages
        waiting for the round carry out minus what the round's packages carry to it."""
        out = payment_table.c.sender == bank
        sums = conn.execute(
            select(
                func.coalesce(func.sum(case((out, payment_table.c.amount), else_=0)), 0),
                func.coalesce(func.sum(case((out, 0), else_=payment_table.c.amount)), 0),
            ).where(
                payment_table.c.waiting == "round",
                or_(out, payment_table.c.receiver == bank),
            )
        ).one()
        return int(sums[0]) - int(sums[1])

    @staticmethod
    def waiting(conn: Connection, reason: str, sender: str | None = None) -> list[Any]:
        """Payments waiting for ``reason`` (balance | window | round | limit), oldest first."""
        query = select(payment_table).where(payment_table.c.waiting == reason)
        if sender is not None:
            query = query.where(payment_table.c.sender == sender)
        return list(conn.execute(query.order_by(payment_table.c.id)).all())

    @staticmethod
    def find_payment(conn: Connection, sender: str, mt: str, msg_id: str) -> Any | None:
        """(id,) of the payment with this business key (OrgnlGrpHdr), or None."""
        return conn.execute(
            _FIND_PAYMENT, {"p_sender": sender, "p_mt": mt, "p_msg_id": msg_id}
        ).first()

    @staticmethod
    def payment_row(conn: Connection, payment_id: int) -> Any:
        return conn.execute(select(payment_table).where(payment_table.c.id == payment_id)).one()

    def payments(self, **where: Any) -> list[Any]:
        query = select(payment_table).order_by(payment_table.c.id)
        for name, value in where.items():
            query = query.where(payment_table.c[name] == value)
        with self.begin() as conn:
            return list(conn.execute(query).all())

    @staticmethod
    def payment_summary(conn: Connection, *, bank: str, work_date: date, system: str) -> list[Any]:
        """Per (MT, 业务类型, status) for one participant and day: count and sum sent, and
        count and sum received — one SQL GROUP BY."""
        sent = payment_table.c.sender == bank
        received = payment_table.c.receiver == bank
        zero = 0
        return list(
            conn.execute(
                select(
                    payment_table.c.mt,
                    payment_table.c.tx_type,
                    payment_table.c.status,
                    func.sum(case((sent, 1), else_=zero)).label("sent_count"),
                    func.sum(case((sent, payment_table.c.amount), else_=zero)).label("sent_sum"),
                    func.sum(case((received, 1), else_=zero)).label("rcvd_count"),
                    func.sum(case((received, payment_table.c.amount), else_=zero)).label(
                        "rcvd_sum"
                    ),
                )
                .where(
                    payment_table.c.work_date == work_date.isoformat(),
                    payment_table.c.system == system,
                    sent | received,
                )
                .group_by(payment_table.c.mt, payment_table.c.tx_type, payment_table.c.status)
                .order_by(payment_table.c.mt, payment_table.c.tx_type, payment_table.c.status)
            ).all()
        )

    @staticmethod
    def round_summary(conn: Connection, *, bank: str, work_date: date) -> list[Any]:
        """BEPS per (netting date, round, MT, status): counts and sums sent and received."""
        sent = payment_table.c.sender == bank
        received = payment_table.c.receiver == bank
        return list(
            conn.execute(
                select(
                    payment_table.c.netting_date,
                    payment_table.c.netting_round,
                    payment_table.c.mt,
                    payment_table.c.status,
                    func.sum(case((sent, 1), else_=0)).label("sent_count"),
                    func.sum(case((sent, payment_table.c.amount), else_=0)).label("sent_sum"),
                    func.sum(case((received, 1), else_=0)).label("rcvd_count"),
                    func.sum(case((received, payment_table.c.amount), else_=0)).label("rcvd_sum"),
                )
                .where(
                    payment_table.c.work_date == work_date.isoformat(),
                    payment_table.c.system == "BEPS",
                    payment_table.c.netting_round.is_not(None),
                    sent | received,
                )
                .group_by(
                    payment_table.c.netting_date,
                    payment_table.c.netting_round,
                    payment_table.c.mt,
                    payment_table.c.status,
                )
                .order_by(
                    payment_table.c.netting_date,
                    payment_table.c.netting_round,
                    payment_table.c.mt,
                    payment_table.c.status,
                )
            ).all()
        )

    @staticmethod
    def payment_rows(conn: Connection, *, work_date: date, system: str, bank: str) -> list[Any]:
        """Every payment of ``bank`` (sent or received) on the day, for detail answers."""
        return list(
            conn.execute(
                select(payment_table)
                .where(
                    payment_table.c.work_date == work_date.isoformat(),
                    payment_table.c.system == system,
                    (payment_table.c.sender == bank) | (payment_table.c.receiver == bank),
                )
                .order_by(payment_table.c.id)
            ).all()
        )

    # -- faults -----------------------------------------------------------------------

    @staticmethod
    def fault_match(conn: Connection, index: int) -> int:
        """Count one more message matching fault ``index``; return the match number."""
        row = conn.execute(select(fault_table.c.matched).where(fault_table.c.idx == index)).first()
        if row is None:
            conn.execute(insert(fault_table).values(idx=index, matched=1, fired=0))
            return 1
        conn.execute(
            update(fault_table).where(fault_table.c.idx == index).values(matched=row[0] + 1)
        )
        return int(row[0]) + 1

    @staticmethod
    def fault_fired(conn: Connection, index: int) -> None:
        conn.execute(
            update(fault_table)
            .where(fault_table.c.idx == index)
            .values(fired=fault_table.c.fired + 1)
        )

    @staticmethod
    def fault_hits(conn: Connection, sender: str, mesg_id: str) -> list[int] | None:
        """The faults decided for a message before (None: never considered)."""
        rows = conn.execute(
            select(fault_hit_table.c.idx).where(
                fault_hit_table.c.sender == sender, fault_hit_table.c.mesg_id == mesg_id
            )
        ).all()
        if not rows:
            return None
        return [int(r[0]) for r in rows if r[0] >= 0]

    @staticmethod
    def add_fault_hit(conn: Connection, index: int, sender: str, mesg_id: str) -> None:
        conn.execute(insert(fault_hit_table).values(idx=index, sender=sender, mesg_id=mesg_id))

    @staticmethod
    def delete_payment(conn: Connection, payment_id: int) -> None:
        conn.execute(delete(payment_table).where(payment_table.c.id == payment_id))

    def fault_counts(self) -> dict[int, tuple[int, int]]:
        with self.begin() as conn:
            rows = conn.execute(select(fault_table)).all()
        return {int(r.idx): (int(r.matched), int(r.fired)) for r in rows}

    # -- status -----------------------------------------------------------------------

    def counts(self) -> dict[str, dict[str, int]]:
        """Per participant: messages in / out, and payments by status (for the live view)."""
        result: dict[str, dict[str, int]] = {}
        with self.begin() as conn:
            for bank, direction, status, n in conn.execute(
                select(
                    message_table.c.bank,
                    message_table.c.direction,
                    message_table.c.status,
                    func.count(),
                ).group_by(message_table.c.bank, message_table.c.direction, message_table.c.status)
            ).all():
                row = result.setdefault(bank, {})
                row[f"{direction}:{status}"] = int(n)
            for bank, status, n in conn.execute(
                select(payment_table.c.sender, payment_table.c.status, func.count()).group_by(
                    payment_table.c.sender, payment_table.c.status
                )
            ).all():
                row = result.setdefault(bank, {})
                row[f"paid:{status}"] = int(n)
        return result


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
