"""Statement matching: camt.053 / camt.054 entries against the journal or a ledger.

Both sides are loaded into temporary tables of one database connection (the journal's
database, or a private SQLite file when only a ledger CSV is given) with ``executemany``,
and matched by SQL joins, rule by rule, on the rows still unmatched:

* **1:1** — the rule's keys are equal, the amounts are exactly equal, the same debit /
  credit side, value dates within ``date_tolerance_days``; a pair is taken only when
  neither row has another candidate under that rule (ambiguity is never guessed);
* **1:N** — one statement entry against several ledger rows sharing its keys whose
  amounts add up exactly to the entry's (a batch booking);
* **N:1** — several statement entries against one ledger row (a payment booked in parts).

A rule must hold at least one identifying key (``end_to_end_id``, ``tx_id``, ``uetr``,
``counterparty``): matching on amount alone is refused. Amounts are exact: stored as
integer counts of 10⁻⁵ (the most decimals an ISO amount has).

What is left becomes breaks: a statement entry with no counterpart (``missing_here``: the
bank booked it, our books did not), a ledger row with no counterpart (``missing_at_npc``,
here read "missing on the statement"), and a reference found on both sides with another
amount (``amount_differs``). ``dry_run=True`` shows the matches without recording them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from paymsg.codec.api import parse
from paymsg.codec.json.engine import message_to_data
from paymsg.errors import ConfigError, InputError, PaymsgError
from paymsg.journal.tables import entries as journal_entries
from paymsg.reconcile.bulk import insert_tuples
from paymsg.reconcile.records import RunResult
from paymsg.reference.iso import AMOUNT_DECIMALS, amount_decimals

__all__ = [
    "LedgerRow",
    "Match",
    "MatchRule",
    "StatementConfig",
    "StatementResult",
    "load_ledger_csv",
    "match_rows",
    "read_statement",
    "reconcile_statement",
]

KEYS = ("end_to_end_id", "tx_id", "uetr", "counterparty")
SCALE = AMOUNT_DECIMALS  # amounts in 10**-5 units: exact for every ISO amount


class MatchRule(BaseModel):
    """One matching rule: which keys must be equal (amount is always compared exactly)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    keys: tuple[Literal["end_to_end_id", "tx_id", "uetr", "counterparty"], ...]
    #: value dates may differ by this many days
    date_tolerance_days: int = Field(default=0, ge=0, le=31)

    @field_validator("keys")
    @classmethod
    def _identifying(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("a rule needs at least one identifying key; never amount alone")
        return value


class StatementConfig(BaseModel):
    """The rules, tried in order (each on what the previous ones left)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[MatchRule, ...] = (
        MatchRule(keys=("uetr",)),
        MatchRule(keys=("end_to_end_id",), date_tolerance_days=1),
        MatchRule(keys=("tx_id",), date_tolerance_days=1),
    )
    one_to_many: bool = True
    many_to_one: bool = True


@dataclass(frozen=True)
class LedgerRow:
    """One row of either side, normalised."""

    ref: str  # where it came from: entry number / CSV line / journal id
    amount: Decimal
    currency: str
    dc: str  # CRDT / DBIT
    value_date: date
    end_to_end_id: str | None = None
    tx_id: str | None = None
    uetr: str | None = None
    counterparty: str | None = None


class Match(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["1:1", "1:N", "N:1"]
    rule: int
    statement: list[str]
    ledger: list[str]
    amount: Decimal


class StatementResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    statement_rows: int
    ledger_rows: int
    matches: list[Match]
    unmatched_statement: list[str]
    unmatched_ledger: list[str]
    amount_differs: list[tuple[str, str, str]]  # (statement ref, ledger ref, key)


# ---------------------------------------------------------------- reading the two sides


def _text(node: Any, *path: str) -> str | None:
    for key in path:
        if isinstance(node, list):
            node = node[0] if node else None
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    if isinstance(node, list):
        node = node[0] if node else None
    return None if node is None or isinstance(node, dict) else str(node)


def _amount(node: Any, where: str, source: str) -> tuple[Decimal, str]:
    try:
        return Decimal(str(node["#text"])), str(node.get("@Ccy", ""))
    except (KeyError, TypeError, InvalidOperation):
        raise InputError("entry without a readable amount", source=source, path=where) from None


def _day(node: Any) -> date | None:
    text = _text(node, "Dt") or (_text(node, "DtTm") or "")[:10]
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _party(tx: Any, dc: str) -> str | None:
    side = "Dbtr" if dc == "CRDT" else "Cdtr"
    parties = (tx or {}).get("RltdPties") or {}
    return (
        _text(parties, f"{side}Acct", "Id", "IBAN")
        or _text(parties, f"{side}Acct", "Id", "Othr", "Id")
        or _text(parties, side, "Pty", "Nm")
        or _text(parties, side, "Nm")
    )


def read_statement(path: str | Path) -> tuple[list[LedgerRow], date]:
    """The entries of a camt.053 or camt.054, and the statement date. An entry with
    several transaction details gives one row per detail (they carry the references);
    the detail's amount is used when given, else the entry's (single detail)."""
    source = str(path)
    try:
        message = parse(Path(path))
    except PaymsgError as exc:
        raise exc.with_source(source) from None
    if not message.type.startswith(("camt.053", "camt.054")):
        raise InputError(f"{message.type} is not a statement (camt.053 / camt.054)", source=source)
    root = next(iter(message_to_data(message)["document"].values()))
    reports = root.get("Stmt") or root.get("Ntfctn") or []
    created = _text(root, "GrpHdr", "CreDtTm") or ""
    rows: list[LedgerRow] = []
    stmt_date = None
    for r_index, report in enumerate(reports, 1):
        stmt_date = stmt_date or _day({"DtTm": report.get("CreDtTm") or created})
        for e_index, entry in enumerate(report.get("Ntry") or [], 1):
            where = f"/Document/*/Stmt[{r_index}]/Ntry[{e_index}]"
            amount, ccy = _amount(entry.get("Amt"), f"{where}/Amt", source)
            dc = str(entry.get("CdtDbtInd") or "")
            if dc not in ("CRDT", "DBIT"):
                raise InputError(f"CdtDbtInd {dc!r} is not CRDT/DBIT", source=source, path=where)
            value = _day(entry.get("ValDt")) or _day(entry.get("BookgDt"))
            if value is None:
                raise InputError("entry without a value or booking date", source=source, path=where)
            details = [tx for d in entry.get("NtryDtls") or [] for tx in d.get("TxDtls") or []]
            if len(details) <= 1:
                tx = details[0] if details else {}
                rows.append(
                    LedgerRow(
                        ref=f"Ntry[{e_index}]"
                        if len(reports) == 1
                        else f"Stmt[{r_index}]/Ntry[{e_index}]",
                        amount=amount,
                        currency=ccy,
                        dc=dc,
                        value_date=value,
                        end_to_end_id=_text(tx, "Refs", "EndToEndId"),
                        tx_id=_text(tx, "Refs", "TxId"),
                        uetr=_text(tx, "Refs", "UETR"),
                        counterparty=_party(tx, dc),
                    )
                )
                continue
            for t_index, tx in enumerate(details, 1):
                if tx.get("Amt") is None:
                    raise InputError(
                        "a batch entry's transaction details need their own amounts",
                        source=source,
                        path=f"{where}/NtryDtls/TxDtls[{t_index}]",
                    )
                t_amount, t_ccy = _amount(
                    tx["Amt"], f"{where}/NtryDtls/TxDtls[{t_index}]/Amt", source
                )
                rows.append(
                    LedgerRow(
                        ref=f"Ntry[{e_index}]/TxDtls[{t_index}]",
                        amount=t_amount,
                        currency=t_ccy,
                        dc=str(tx.get("CdtDbtInd") or dc),
                        value_date=value,
                        end_to_end_id=_text(tx, "Refs", "EndToEndId"),
                        tx_id=_text(tx, "Refs", "TxId"),
                        uetr=_text(tx, "Refs", "UETR"),
                        counterparty=_party(tx, dc),
                    )
                )
    return rows, stmt_date or datetime.now(UTC).date()


LEDGER_COLUMNS = ("id", "amount", "currency", "dc", "value_date")


def load_ledger_csv(path: str | Path) -> list[LedgerRow]:
    """A ledger extract: a CSV (UTF-8) with a header row ``id,amount,currency,dc,value_date``
    and any of ``end_to_end_id,tx_id,uetr,counterparty``. Amounts are positive decimal text
    (never parsed through a float; at most 5 decimals, 2 for CNY); ``dc`` is CRDT or DBIT;
    dates are YYYY-MM-DD; ids are unique. Anything else is an :class:`InputError` naming the
    line and the field: nothing is dropped or guessed."""
    source = str(path)
    try:
        handle = Path(path).open(encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=source) from exc
    with handle:
        reader = csv.reader(handle)
        try:
            return _ledger_rows(reader, source)
        except UnicodeDecodeError:  # the rows are read as they come: find where, exactly
            raise _not_utf8(Path(path), source) from None


def _not_utf8(path: Path, source: str) -> InputError:
    """Where the first byte that is not UTF-8 is (line and byte offset of the file)."""
    offset = 0
    with path.open("rb") as raw:
        for number, line in enumerate(raw, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return InputError(
                    f"not UTF-8: {exc.reason}",
                    source=source,
                    line=number,
                    offset=offset + exc.start,
                )
            offset += len(line)
    return InputError("not UTF-8", source=source)


def _ledger_rows(reader: Any, source: str) -> list[LedgerRow]:
    header = [name.strip() for name in next(reader, [])]
    missing = [c for c in LEDGER_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"the ledger CSV lacks the column(s) {', '.join(missing)}", source=source, line=1
        )
    unknown = [c for c in header if c not in LEDGER_COLUMNS and c not in KEYS]
    if unknown or len(set(header)) != len(header):
        raise InputError(
            f"unknown or repeated column(s) {', '.join(unknown) or 'in the header'}; "
            f"known: {', '.join(LEDGER_COLUMNS + KEYS)}",
            source=source,
            line=1,
        )
    rows: list[LedgerRow] = []
    seen: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise InputError(
                f"row has {len(cells)} cells, the header {len(header)}", source=source, line=line
            )
        record = dict(zip(header, cells, strict=True))
        if record["id"] in seen:
            raise InputError(
                f"id {record['id']!r} is used twice (also line {seen[record['id']]})",
                source=source,
                line=line,
                field="id",
            )
        seen[record["id"]] = line
        rows.append(_ledger_row(record, source, line))
    return rows


def _ledger_row(record: dict[str, str], source: str, line: int) -> LedgerRow:
    """One ledger CSV row, checked field by field."""

    def bad(field: str, what: str) -> InputError:
        value = record[field]
        return InputError(f"{field} {value!r} {what}", source=source, line=line, field=field)

    if not record["id"]:
        raise bad("id", "is empty: every ledger row needs its id")
    try:
        amount = Decimal(record["amount"])
    except InvalidOperation:
        raise bad("amount", "is not a decimal number") from None
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or not isinstance(exponent, int) or exponent > 0:
        raise bad("amount", "is not a decimal number written with digits")
    if amount <= 0:
        raise bad("amount", "is not positive (the direction is in dc)")
    places = amount_decimals(record["currency"])
    if -exponent > places:
        raise bad("amount", f"has more than {places} decimals for {record['currency']}")
    if record["dc"] not in ("CRDT", "DBIT"):
        raise bad("dc", "is not CRDT or DBIT")
    try:
        value = date.fromisoformat(record["value_date"])
    except ValueError:
        raise bad("value_date", "is not a date (YYYY-MM-DD)") from None
    return LedgerRow(
        ref=record["id"],
        amount=amount,
        currency=record["currency"],
        dc=record["dc"],
        value_date=value,
        **{k: (record.get(k) or None) for k in KEYS},
    )


def journal_rows(conn: sa.Connection, day_from: date, day_to: date) -> sa.Select[Any]:
    """The journal as a ledger (SQL, loaded without a Python loop): a sent message is a
    debit, a received one a credit; its MsgId stands for EndToEndId and TxId (CNAPS2
    payments reuse it [INF]); the counterparty is the other bank."""
    e = journal_entries.c
    return sa.select(
        sa.cast(e.id, sa.String).label("ref"),
        e.amount,
        e.currency,
        e.direction,
        e.work_date,
        e.msg_id,
        e.sender,
        e.receiver,
    ).where(
        e.work_date.between(day_from, day_to), e.amount.is_not(None), e.system.in_(("HVPS", "BEPS"))
    )


# ---------------------------------------------------------------- matching in SQL


def _units(amount: Decimal) -> int:
    units = amount.scaleb(SCALE)
    if units != units.to_integral_value():
        raise InputError(f"amount {amount} has more than {SCALE} decimals")
    return int(units)


def _table(name: str, meta: sa.MetaData) -> sa.Table:
    return sa.Table(
        name,
        meta,
        sa.Column("n", sa.Integer, primary_key=True),
        sa.Column("ref", sa.String, nullable=False),
        sa.Column("units", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String),
        sa.Column("dc", sa.String(4), nullable=False),
        sa.Column("vday", sa.Integer, nullable=False),
        *[sa.Column(k, sa.String) for k in KEYS],
        sa.Column("grp", sa.Integer),  # match group id; NULL while unmatched
        *[sa.Index(f"ix_{name}_{k}", k) for k in KEYS],
        prefixes=["TEMPORARY"],
    )


def _insert(conn: sa.Connection, table: sa.Table, rows: Iterable[LedgerRow]) -> int:
    """Bulk-load ``rows`` through the driver (:func:`paymsg.reconcile.bulk.insert_tuples`):
    memory stays flat, no per-row SQLAlchemy parameter processing."""
    columns = ("n", "ref", "units", "currency", "dc", "vday", *KEYS)
    return insert_tuples(
        conn,
        table.name,
        columns,
        (
            (
                n,
                r.ref,
                _units(r.amount),
                r.currency,
                r.dc,
                r.value_date.toordinal(),
                r.end_to_end_id,
                r.tx_id,
                r.uetr,
                r.counterparty,
            )
            for n, r in enumerate(rows, 1)
        ),
    )


def match_rows(
    conn: sa.Connection,
    statement: Iterable[LedgerRow],
    ledger: Iterable[LedgerRow] | None,
    *,
    config: StatementConfig,
    journal_window: tuple[date, date] | None = None,
) -> StatementResult:
    """Match ``statement`` against ``ledger`` (or, with ``ledger=None``, the journal rows
    of ``journal_window``) in temporary tables of ``conn``."""
    meta = sa.MetaData()
    s, led = _table("rec_stmt", meta), _table("rec_ledger", meta)
    for t in (s, led):
        t.drop(conn, checkfirst=True)
        t.create(conn)
    statement_count = _insert(conn, s, statement)
    if ledger is not None:
        _insert(conn, led, ledger)
    else:
        assert journal_window is not None
        j = journal_rows(conn, *journal_window).subquery()
        conn.execute(
            sa.insert(led).from_select(
                [
                    "n",
                    "ref",
                    "units",
                    "currency",
                    "dc",
                    "vday",
                    "end_to_end_id",
                    "tx_id",
                    "counterparty",
                ],
                sa.select(
                    sa.cast(j.c.ref, sa.Integer),
                    j.c.ref,
                    sa.cast(sa.type_coerce(j.c.amount, sa.BigInteger), sa.BigInteger) * 1000,
                    j.c.currency,
                    sa.case((j.c.direction == "out", "DBIT"), else_="CRDT"),
                    _ordinal(conn, j.c.work_date),
                    j.c.msg_id,
                    j.c.msg_id,
                    sa.case((j.c.direction == "out", j.c.receiver), else_=j.c.sender),
                ),
            )
        )
    group = _Groups()
    for index, rule in enumerate(config.rules, 1):
        group.rule_starts(index)
        _one_to_one(conn, s, led, rule, group)
        if config.one_to_many:
            _grouped(conn, s, led, rule, group, many="ledger")
        if config.many_to_one:
            _grouped(conn, led, s, rule, group, many="statement")
    matches = _collect(conn, s, led, group)
    unmatched_s = [
        r.ref for r in conn.execute(sa.select(s.c.ref).where(s.c.grp.is_(None)).order_by(s.c.n))
    ]
    unmatched_l = [
        r.ref
        for r in conn.execute(sa.select(led.c.ref).where(led.c.grp.is_(None)).order_by(led.c.n))
    ]
    differs: list[tuple[str, str, str]] = []
    for key in ("uetr", "end_to_end_id", "tx_id"):
        q = (
            sa.select(s.c.ref.label("sref"), led.c.ref.label("lref"))
            .select_from(s.join(led, s.c[key] == led.c[key]))
            .where(
                s.c.grp.is_(None),
                led.c.grp.is_(None),
                s.c[key].is_not(None),
                s.c.units != led.c.units,
            )
            .order_by(s.c.n, led.c.n)
        )
        seen = {(a, b) for a, b, _ in differs}
        differs += [(r.sref, r.lref, key) for r in conn.execute(q) if (r.sref, r.lref) not in seen]
    result = StatementResult(
        statement_rows=statement_count,
        ledger_rows=int(conn.execute(sa.select(sa.func.count()).select_from(led)).scalar_one()),
        matches=matches,
        unmatched_statement=unmatched_s,
        unmatched_ledger=unmatched_l,
        amount_differs=differs,
    )
    for t in (s, led):
        t.drop(conn)
    return result


def _ordinal(conn: sa.Connection, column: Any) -> Any:
    """A date column as its proleptic Gregorian ordinal (date.toordinal), in SQL."""
    if conn.dialect.name == "postgresql":
        return (column - sa.literal(date(1, 1, 1))) + 1
    return sa.cast(sa.func.julianday(column) - 1721424.5, sa.Integer)


class _Groups:
    """Match group ids: 1:1 pairs get a block of ids (``base + statement row number``),
    grouped matches one id each; kinds and rules are kept per block, not per pair."""

    def __init__(self) -> None:
        self.next = 1
        self.blocks: list[tuple[int, int, str]] = []  # (first id, last id, kind)
        self.rules: list[tuple[int, int]] = []  # (first id of the rule's groups, rule)

    def block(self, size: int, kind: str) -> int:
        first = self.next
        self.next += size
        self.blocks.append((first, self.next - 1, kind))
        return first

    def new(self, kind: str) -> int:
        return self.block(1, kind)

    def rule_starts(self, rule: int) -> None:
        self.rules.append((self.next, rule))

    def kind(self, gid: int) -> str:
        for first, last, kind in reversed(self.blocks):
            if first <= gid <= last:
                return kind
        raise KeyError(gid)  # pragma: no cover

    def rule(self, gid: int) -> int:
        found = self.rules[0][1]
        for first, rule in self.rules:
            if gid >= first:
                found = rule
        return found


def _conditions(a: sa.Table, b: sa.Table, rule: MatchRule) -> list[Any]:
    conds = [a.c[k] == b.c[k] for k in rule.keys] + [a.c[k].is_not(None) for k in rule.keys]
    conds += [a.c.dc == b.c.dc, sa.func.abs(a.c.vday - b.c.vday) <= rule.date_tolerance_days]
    return conds


def _one_to_one(
    conn: sa.Connection, s: sa.Table, led: sa.Table, rule: MatchRule, group: _Groups
) -> None:
    """Candidate pairs into an indexed temporary table, then the pairs where neither row
    has another candidate, set-based (no per-pair statement)."""
    meta = sa.MetaData()
    cand = sa.Table(
        "rec_cand",
        meta,
        sa.Column("sn", sa.Integer, index=True),
        sa.Column("ln", sa.Integer, index=True),
        prefixes=["TEMPORARY"],
    )
    pairs = sa.Table(
        "rec_pairs",
        meta,
        sa.Column("sn", sa.Integer, primary_key=True),
        sa.Column("ln", sa.Integer, unique=True),
        prefixes=["TEMPORARY"],
    )
    for t in (cand, pairs):
        t.drop(conn, checkfirst=True)
        t.create(conn)
    conn.execute(
        sa.insert(cand).from_select(
            ["sn", "ln"],
            sa.select(s.c.n, led.c.n)
            .select_from(s.join(led, sa.and_(*_conditions(s, led, rule), s.c.units == led.c.units)))
            .where(s.c.grp.is_(None), led.c.grp.is_(None)),
        )
    )
    s_once = sa.select(cand.c.sn).group_by(cand.c.sn).having(sa.func.count() == 1)
    l_once = sa.select(cand.c.ln).group_by(cand.c.ln).having(sa.func.count() == 1)
    conn.execute(
        sa.insert(pairs).from_select(
            ["sn", "ln"],
            sa.select(cand.c.sn, cand.c.ln).where(cand.c.sn.in_(s_once), cand.c.ln.in_(l_once)),
        )
    )
    top = conn.execute(sa.select(sa.func.max(pairs.c.sn))).scalar()
    if top is not None:
        base = group.block(int(top), "1:1") - 1  # group id = base + statement row number
        conn.execute(sa.update(s).where(s.c.n.in_(sa.select(pairs.c.sn))).values(grp=s.c.n + base))
        conn.execute(
            sa.update(led)
            .where(led.c.n.in_(sa.select(pairs.c.ln)))
            .values(grp=sa.select(pairs.c.sn + base).where(pairs.c.ln == led.c.n).scalar_subquery())
        )
    for t in (cand, pairs):
        t.drop(conn)


def _grouped(
    conn: sa.Connection,
    one: sa.Table,
    many_t: sa.Table,
    rule: MatchRule,
    group: _Groups,
    *,
    many: str,
) -> None:
    """One row of ``one`` against several unmatched rows of ``many_t`` sharing its keys
    whose amounts add up exactly to its amount."""
    keys = [many_t.c[k] for k in rule.keys]
    sums = (
        sa.select(
            *keys,
            many_t.c.dc,
            sa.func.sum(many_t.c.units).label("total"),
            sa.func.count().label("cnt"),
            sa.func.min(many_t.c.vday).label("vmin"),
            sa.func.max(many_t.c.vday).label("vmax"),
        )
        .where(many_t.c.grp.is_(None), *[k.is_not(None) for k in keys])
        .group_by(*keys, many_t.c.dc)
        .having(sa.func.count() > 1)
        .subquery("sums")
    )
    tol = rule.date_tolerance_days
    cond = [one.c[k] == sums.c[k] for k in rule.keys] + [
        one.c.dc == sums.c.dc,
        one.c.units == sums.c.total,
        one.c.vday - sums.c.vmin <= tol,
        sums.c.vmax - one.c.vday <= tol,
    ]
    found = conn.execute(
        sa.select(one.c.n, *[sums.c[k] for k in rule.keys], sums.c.dc)
        .select_from(one.join(sums, sa.and_(*cond)))
        .where(one.c.grp.is_(None))
    ).all()
    kind = "1:N" if many == "ledger" else "N:1"
    used: set[tuple[Any, ...]] = set()
    for row in found:
        key = tuple(row[1:])
        if key in used:  # two candidates for the same group: ambiguous, leave both
            continue
        used.add(key)
        gid = group.new(kind)
        conn.execute(sa.update(one).where(one.c.n == row.n).values(grp=gid))
        conn.execute(
            sa.update(many_t)
            .where(
                many_t.c.grp.is_(None),
                many_t.c.dc == row.dc,
                *[many_t.c[k] == v for k, v in zip(rule.keys, row[1:-1], strict=True)],
            )
            .values(grp=gid)
        )


#: every field of :class:`Match` is set: the fields-set all matches share
_MATCH_FIELDS = set(Match.model_fields)


def _collect(conn: sa.Connection, s: sa.Table, led: sa.Table, group: _Groups) -> list[Match]:
    """The match groups in id order, each with its statement and ledger refs in row order,
    read as one sorted stream of both sides' matched rows: memory holds the matches and one
    group, not an index of every group (1,000,000 pairs: ~1.1 GB less at the peak)."""

    def side(table: sa.Table, order: int) -> sa.Select[Any]:
        return sa.select(
            table.c.grp.label("grp"),
            sa.literal(order).label("side"),
            table.c.n.label("n"),
            table.c.ref.label("ref"),
            table.c.units.label("units"),
        ).where(table.c.grp.is_not(None))

    rows = sa.union_all(side(s, 0), side(led, 1)).subquery()
    stream = conn.execute(
        sa.select(rows.c.grp, rows.c.side, rows.c.ref, rows.c.units)
        .order_by(rows.c.grp, rows.c.side, rows.c.n)
        .execution_options(yield_per=10_000)
    )
    out: list[Match] = []
    gid: int | None = None
    refs: tuple[list[str], list[str]] = ([], [])
    total = 0

    def close() -> None:
        amount = Decimal(total).scaleb(-SCALE)
        cents = amount.quantize(Decimal("0.01"))
        # trusted values (ids and refs from our own tables): no validation per match, and
        # one shared set of field names (a frozen model never changes it; 0.7 kB each)
        out.append(
            Match.model_construct(
                _MATCH_FIELDS,
                kind=group.kind(gid),  # type: ignore[arg-type]
                rule=group.rule(gid),  # type: ignore[arg-type]
                statement=refs[0],
                ledger=refs[1],
                amount=cents if cents == amount else amount,
            )
        )

    for grp, which, ref, units in stream:
        if grp != gid:
            if gid is not None:
                close()
            gid, refs, total = grp, ([], []), 0
        refs[which].append(ref)
        if which == 0:
            total += units
    if gid is not None:
        close()
    return out


def load_config(path: str | Path | None) -> StatementConfig:
    """Matching rules from a TOML file (``[[rules]] keys = [...]``), or the defaults."""
    if path is None:
        return StatementConfig()
    import tomllib

    from pydantic import ValidationError

    try:
        return StatementConfig.model_validate(tomllib.loads(Path(path).read_text(encoding="utf-8")))
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"bad matching rules: {exc}".splitlines()[0], source=str(path)) from exc


def reconcile_statement(
    statement_path: str | Path,
    *,
    journal: Any | None = None,
    ledger_path: str | Path | None = None,
    config: StatementConfig | None = None,
    dry_run: bool = False,
    work: Path | None = None,
) -> tuple[StatementResult, RunResult]:
    """Match a statement against a ledger CSV or the journal; returns the matching and,
    the run: recorded (breaks kept in the journal database under scope ``STATEMENT``), or
    with ``dry_run`` or without a journal a transient one (``run_id`` 0, nothing kept)."""
    from paymsg.reconcile import store
    from paymsg.reconcile.config import ReconcileConfig
    from paymsg.reconcile.engine import settle_breaks
    from paymsg.reconcile.tables import runs

    config = config or StatementConfig()
    if journal is None and ledger_path is None:
        raise InputError("give --journal URL or --ledger FILE.csv to match the statement against")
    rows, stmt_date = read_statement(statement_path)
    ledger = load_ledger_csv(ledger_path) if ledger_path is not None else None
    if journal is not None:
        engine = journal.engine
        store.upgrade(engine)
    else:
        import tempfile

        folder = work or Path(tempfile.mkdtemp(prefix="paymsg-match-"))
        engine = sa.create_engine(f"sqlite:///{folder / 'match.db'}")
    window = None
    if ledger is None:
        days = [r.value_date for r in rows] or [stmt_date]
        window = (min(days), max(days))
    now = datetime.now(UTC)
    with engine.connect() as conn, conn.begin() as transaction:
        result = match_rows(conn, rows, ledger, config=config, journal_window=window)
        if journal is None or dry_run:
            transaction.rollback()
            return result, _transient(result, rows, ledger, stmt_date, str(statement_path), now)
        run_id = conn.execute(
            sa.insert(runs)
            .values(
                scope="STATEMENT",
                check_date=stmt_date,
                kind="statement",
                sources=str(statement_path),
                journal_as_of=now,
                created_at=now,
            )
            .returning(runs.c.id)
        ).scalar_one()
        found = statement_breaks(result, rows, ledger)
        settled = settle_breaks(
            conn, "STATEMENT", stmt_date, int(run_id), found, as_of=now, config=ReconcileConfig()
        )
        recorded = RunResult(
            run_id=int(run_id),
            scope="STATEMENT",
            check_date=stmt_date,
            kind="statement",
            npc_as_of=None,
            journal_as_of=now,
            sources=[str(statement_path)],
            cells=[],
            breaks=settled,
            problems=[],
        )
    return result, recorded


def statement_breaks(
    result: StatementResult, rows: list[LedgerRow], ledger: list[LedgerRow] | None
) -> dict[str, dict[str, Any]]:
    """The breaks a matching leaves, keyed for :func:`~paymsg.reconcile.engine.settle_breaks`."""
    by_ref = {r.ref: r for r in rows}
    other = {r.ref: r for r in ledger} if ledger is not None else {}
    found: dict[str, dict[str, Any]] = {}
    paired = set()
    for sref, lref, key in result.amount_differs:
        paired.update({sref, lref})
        entry = by_ref[sref]
        found[f"amount|{sref}|{lref}"] = _break(
            "amount_differs",
            entry,
            f"statement {sref} and ledger {lref} share {key} "
            f"but the statement has {entry.amount}"
            + (f", the ledger {other[lref].amount}" if lref in other else ""),
            npc=str(entry.amount),
            ours=str(other[lref].amount) if lref in other else None,
        )
    for sref in result.unmatched_statement:
        if sref not in paired:
            entry = by_ref[sref]
            found[f"stmt|{sref}"] = _break(
                "missing_here",
                entry,
                f"statement entry {sref} ({entry.dc} {entry.amount}) "
                "has no counterpart in our books",
                npc=str(entry.amount),
                ours=None,
            )
    for lref in result.unmatched_ledger:
        if lref not in paired:
            row = other.get(lref)
            found[f"ledger|{lref}"] = _break(
                "missing_at_npc",
                row,
                f"ledger row {lref} is not on the statement",
                npc=None,
                ours=str(row.amount) if row else None,
                entry_id=None if row else int(lref),
            )
    return found


def _break(
    kind: str,
    row: LedgerRow | None,
    detail: str,
    *,
    npc: str | None,
    ours: str | None,
    entry_id: int | None = None,
) -> dict[str, Any]:
    amount = None
    if row is not None and row.amount == row.amount.quantize(Decimal("0.01")):
        amount = row.amount.quantize(Decimal("0.01"))
    return {
        "kind": kind,
        "direction": None if row is None else ("in" if row.dc == "CRDT" else "out"),
        "mt": None,
        "tx_type": None,
        "msg_id": None if row is None else (row.end_to_end_id or row.tx_id or row.uetr),
        "npc_value": npc,
        "our_value": ours,
        "amount": amount,
        "entry_id": entry_id,
        "detail": detail,
    }


def _transient(
    result: StatementResult,
    rows: list[LedgerRow],
    ledger: list[LedgerRow] | None,
    stmt_date: date,
    source: str,
    now: datetime,
) -> RunResult:
    """A run that was not recorded (dry run, or no journal): its breaks numbered from 1,
    every one ``new``, nothing kept."""
    from paymsg.reconcile.config import ReconcileConfig
    from paymsg.reconcile.records import Break

    found = statement_breaks(result, rows, ledger)
    shown = [
        Break(
            id=index,
            scope="STATEMENT",
            check_date=stmt_date,
            key=key,
            status="new",
            note=None,
            first_seen=now,
            last_seen=now,
            settled_at=None,
            age_days=max(0, (now.date() - stmt_date).days),
            age_bucket=ReconcileConfig().age_bucket(max(0, (now.date() - stmt_date).days)),
            **values,
        )
        for index, (key, values) in enumerate(sorted(found.items()), 1)
    ]
    return RunResult(
        run_id=0,
        scope="STATEMENT",
        check_date=stmt_date,
        kind="statement",
        npc_as_of=None,
        journal_as_of=now,
        sources=[source],
        cells=[],
        breaks=shown,
        problems=[],
    )
