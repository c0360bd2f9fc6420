"""The comparison: the NPC's picture of a day against the journal, in SQL.

One run, in the journal's database:

1. The NPC's cells, detail items and detail scopes are bulk-inserted into
   reconciliation's tables (the driver's ``executemany`` on tuples), tagged with the run
   id.
2. The day's journal entries are aggregated once (``GROUP BY`` direction, MT, 业务类型,
   status, PrcSts, payment or information, netting date and round) into a small
   temporary table of groups, each with its status class, count and exact sum.
3. **Cells**: the groups are summed by the cell key and put beside the NPC's cells with
   ``UNION ALL`` + ``GROUP BY``; a cell differs when a count or a sum differs on either
   side (sent / received).
4. **Messages** (only where the NPC gave details): the NPC's items are joined with the
   journal on (direction, MsgId, MT) through the journal's ``(msg_id, mt)`` index; the
   query returns only the rows that differ (missing here, amount or status differs, more
   than one journal entry). The journal entries of the detailed groups that the NPC does
   not list (missing at the NPC) are found by joining the scopes with the groups and the
   groups with their entries through the journal's reconciliation index. A differing
   cell without details becomes one cell-level break.
5. **Breaks** are kept in ``reconcile_breaks`` (see :func:`settle_breaks`).

Nothing in a run holds the day's entries in memory or copies them: every journal row is
read by the database, in an index order, and only differing rows come back to Python.

The journal side has a fixed cut-off (``journal_as_of``: rows created up to then), and
the NPC side's is its answer's CreDtTm; both are recorded with the run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from paymsg.errors import InputError, JournalError
from paymsg.journal import Journal
from paymsg.journal.tables import entries
from paymsg.reconcile import store
from paymsg.reconcile.bulk import fen, insert_tuples
from paymsg.reconcile.config import ReconcileConfig
from paymsg.reconcile.npc import NpcDay
from paymsg.reconcile.records import Break, CellResult, Notice, RunResult
from paymsg.reconcile.tables import breaks, cells, items, runs, scopes

__all__ = [
    "accept_break",
    "journal_class",
    "list_breaks",
    "reconcile_day",
    "settle_breaks",
]

ZERO = Decimal("0.00")
OPEN = ("new", "persisting")
#: the NPC items' columns, in the order :func:`_compare_items` loads them
ITEM_COLUMNS = (
    "run_id",
    "direction",
    "orig_msg_id",
    "orig_mt",
    "orig_sender",
    "mt",
    "tx_type",
    "prc_sts",
    "cls",
    "netting_date",
    "netting_round",
    "dc",
    "amount",
    "count",
)
#: key field → column name in the journal view and in reconciliation's tables
FIELDS = {
    "mt": "mt",
    "tx_type": "tx_type",
    "status": "cls",
    "netting_date": "netting_date",
    "netting_round": "netting_round",
}


def _now() -> datetime:
    return datetime.now(UTC)


def journal_class(config: ReconcileConfig, cols: Any = entries.c) -> sa.ColumnElement[Any]:
    """SQL expression: the status class of a journal entry (NULL: left out).

    An inbound entry carrying the NPC's own PrcSts takes that code's class (an unknown
    code is its own class); otherwise the (direction, status) table decides. ``cols``:
    where ``direction``, ``status`` and ``prc_sts`` come from (the journal's entries, or
    the day's groups of them).
    """
    npc = sa.case(
        *[
            (cols.prc_sts == code, sa.literal(cls))
            for code, cls in sorted(config.npc_classes.items())
        ],
        else_=cols.prc_sts,
    )
    whens: list[tuple[Any, Any]] = [
        (
            sa.and_(cols.direction == "in", cols.prc_sts.is_not(None), cols.status != "unreadable"),
            npc,
        )
    ]
    for direction, table in sorted(config.journal_classes.items()):
        for status, cls in sorted(table.items()):
            whens.append(
                (
                    sa.and_(cols.direction == direction, cols.status == status),
                    sa.literal(cls) if cls is not None else sa.null(),
                )
            )
    return sa.case(*whens, else_=sa.null())


class NotIndexed(FunctionElement[Any]):
    """A column's value in a form SQLite cannot look up in an index (``+column``; the
    value and its comparisons are unchanged); as is on other databases.

    SQLite plans without statistics: it prefers the index that matches the most columns
    with ``=``, so ``work_date = ? AND system = ? AND direction = ? AND mt = ?`` in a join
    with the NPC's items sends each item through the whole day in the reconciliation
    index instead of the one-row lookup in the ``(msg_id, mt)`` index. PostgreSQL has
    statistics and needs no such help."""

    name = "not_indexed"
    inherit_cache = True

    def __init__(self, column: sa.ColumnElement[Any]) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(NotIndexed)
def _not_indexed(element: NotIndexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(NotIndexed, "sqlite")
def _not_indexed_sqlite(element: NotIndexed, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))


class _Day:
    """The journal side of one run: which entries count (work date, system, types, the
    cut-off) and the per-entry expressions the comparisons key on."""

    def __init__(
        self, system: str, day: date, as_of: datetime, config: ReconcileConfig, *, netting: bool
    ) -> None:
        e = entries.c
        self.where: tuple[sa.ColumnElement[bool], ...] = (
            e.work_date == day,
            e.system == system,
            e.mt.not_in(config.excluded_mts),
            e.created_at <= as_of,
        )
        #: the same, for a join that must go through another index (see NotIndexed)
        self.where_not_indexed: tuple[sa.ColumnElement[bool], ...] = (
            NotIndexed(e.work_date) == day,
            NotIndexed(e.system) == system,
            *self.where[2:],
        )
        self.kind = sa.case((e.amount.is_(None), "info"), else_="payment")
        self.netting = netting
        if netting:  # BEPS: the round a package was netted in comes from the NPC's answer
            reply = entries.alias("reply")
            self.nd: Any = sa.func.coalesce(
                sa.cast(e.netting_date, sa.String),
                sa.select(sa.cast(sa.func.max(reply.c.netting_date), sa.String))
                .where(reply.c.orig_msg_id == e.msg_id, reply.c.orig_mt == e.mt)
                .scalar_subquery(),
                "",
            )
            self.nr: Any = sa.func.coalesce(
                e.netting_round,
                sa.select(sa.func.max(reply.c.netting_round))
                .where(reply.c.orig_msg_id == e.msg_id, reply.c.orig_mt == e.mt)
                .scalar_subquery(),
                "",
            )
        else:
            self.nd = self.nr = sa.literal("")


def _groups(conn: sa.Connection, jd: _Day, config: ReconcileConfig) -> sa.Table:
    """The day's journal entries aggregated once (``GROUP BY``) by everything a comparison
    keys on — direction, MT, 业务类型, journal status, PrcSts, payment or information, and
    for BEPS the netting date and round — into a small temporary table (hundreds of rows
    for a day of a million entries), with each group's status class, count, sum and how
    many of its entries came more than once. The cells are summed from it; the message
    comparison uses it to find the entries of the detailed groups through the journal's
    reconciliation index."""
    table = sa.Table(
        "rec_journal_groups",
        sa.MetaData(),
        sa.Column("direction", sa.String),
        sa.Column("mt", sa.String),
        sa.Column("tx_type", sa.String),  # as the journal has it: NULL stays NULL
        sa.Column("status", sa.String),
        sa.Column("prc_sts", sa.String),
        sa.Column("kind", sa.String),
        sa.Column("netting_date", sa.String),
        sa.Column("netting_round", sa.String),
        sa.Column("cls", sa.String),
        sa.Column("n", sa.BigInteger),
        sa.Column("amount", entries.c.amount.type),
        sa.Column("copied", sa.BigInteger),
        prefixes=["TEMPORARY"],
    )
    table.drop(conn, checkfirst=True)
    table.create(conn)
    e = entries.c
    keys = (
        e.direction,
        e.mt,
        e.tx_type,
        e.status,
        e.prc_sts,
        jd.kind.label("kind"),
        jd.nd.label("netting_date"),
        jd.nr.label("netting_round"),
    )
    raw = (
        sa.select(
            *keys,
            sa.func.count().label("n"),
            sa.func.sum(e.amount).label("amount"),
            sa.func.sum(sa.case((e.copies > 1, 1), else_=0)).label("copied"),
        )
        .where(*jd.where)
        .group_by(*keys)
        .subquery("raw")
    )
    names = [c.name for c in table.c if c.name != "cls"]
    conn.execute(
        sa.insert(table).from_select(
            [*names, "cls"],
            sa.select(*[raw.c[n] for n in names], journal_class(config, raw.c)),
        )
    )
    return table


def _members(jd: _Day, group: Any) -> list[sa.ColumnElement[bool]]:
    """Conditions: the journal entries of the day that make up one group (a row of the
    groups table). Every column of the reconciliation index (work date, system, direction,
    MT, 业务类型, status) is compared with a value, so the database walks that index and
    reads only the group's entries; a NULL compares as ``IS NULL``."""
    e = entries.c
    on: list[sa.ColumnElement[bool]] = [
        *jd.where,
        e.direction == group.direction,
        e.mt == group.mt,
        e.tx_type.is_(None) if group.tx_type is None else e.tx_type == group.tx_type,
        e.status == group.status,
        e.prc_sts.is_(None) if group.prc_sts is None else e.prc_sts == group.prc_sts,
        jd.kind == group.kind,
    ]
    if jd.netting:
        on += [jd.nd == group.netting_date, jd.nr == group.netting_round]
    return on


def _by_id(conn: sa.Connection, queries: Iterable[sa.Select[Any]]) -> list[Any]:
    """The rows of ``queries`` (each selecting the journal's ``id``), once each, by id."""
    rows = {r.id: r for q in queries for r in conn.execute(q)}
    return [rows[k] for k in sorted(rows)]


def _key_fields(day: NpcDay, kind: str) -> tuple[str, ...]:
    if kind == "info" and day.system == "BEPS" and "status" in day.key_fields:
        return ("mt",)
    return day.key_fields


def _norm(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def reconcile_day(
    journal: Journal,
    day: NpcDay,
    *,
    config: ReconcileConfig | None = None,
    as_of: datetime | None = None,
    record: bool = True,
) -> RunResult:
    """Compare ``day`` (read by :func:`paymsg.reconcile.npc.read_npc`) with the journal,
    record the run and settle the day's breaks; returns the result.

    ``record=False`` is a dry run: everything runs the same way in one transaction that is
    rolled back, so nothing is kept (the flows use it to decide what to ask the NPC).
    """
    config = config or ReconcileConfig()
    as_of = as_of or _now()
    if as_of.tzinfo is None:
        raise InputError("the journal cut-off must carry a time zone", field="as_of")
    engine = journal.engine
    store.upgrade(engine)
    kind = "summary" if "status" in day.key_fields else "pre"
    netting = "netting_date" in day.key_fields
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            run_id = _insert_run(conn, day, kind, as_of)
            jd = _Day(day.system, day.check_date, as_of, config, netting=netting)
            groups = _groups(conn, jd, config)
            cell_results = _compare_cells(conn, run_id, day, groups, config)
            found = _compare_items(conn, run_id, day, jd, groups, config) if day.scopes else {}
            notices = _copies(conn, jd, groups) if config.flag_duplicate_copies else []
            for cell in cell_results:
                if cell.differs and not _covered(cell, day, config):
                    found.update(_cell_break(cell, day))
            all_breaks = settle_breaks(
                conn, day.system, day.check_date, run_id, found, as_of=as_of, config=config
            )
            result = RunResult(
                run_id=run_id,
                scope=day.system,
                check_date=day.check_date,
                kind=kind,
                npc_as_of=day.as_of,
                journal_as_of=as_of,
                sources=day.sources,
                cells=cell_results,
                breaks=all_breaks,
                problems=day.problems,
                notices=notices,
            )
            conn.execute(
                sa.update(runs).where(runs.c.id == run_id).values(report=result.model_dump_json())
            )
            groups.drop(conn)
            if record:
                transaction.commit()
            else:
                transaction.rollback()
    except sa.exc.SQLAlchemyError as exc:
        raise JournalError(
            f"reconciliation failed in the database: {exc.__class__.__name__}: {exc}"
        ) from exc
    return result


def _insert_run(conn: sa.Connection, day: NpcDay, kind: str, as_of: datetime) -> int:
    npc_as_of = day.as_of
    if npc_as_of is not None and npc_as_of.tzinfo is None:
        from paymsg.reference.cnaps2 import BEIJING

        npc_as_of = npc_as_of.replace(tzinfo=BEIJING)
    run_id = conn.execute(
        sa.insert(runs)
        .values(
            scope=day.system,
            check_date=day.check_date,
            kind=kind,
            sources=json.dumps(day.sources, ensure_ascii=False),
            npc_as_of=npc_as_of,
            journal_as_of=as_of,
            created_at=_now(),
        )
        .returning(runs.c.id)
    ).scalar_one()
    return int(run_id)


def _compare_cells(
    conn: sa.Connection, run_id: int, day: NpcDay, groups: sa.Table, config: ReconcileConfig
) -> list[CellResult]:
    rows = []
    for c in day.cells:
        keys = _key_fields(day, c.kind)
        rows.append(
            {
                "run_id": run_id,
                "kind": c.kind,
                "mt": c.mt if "mt" in keys else "",
                "tx_type": c.tx_type if "tx_type" in keys else "",
                "cls": config.npc_class(c.prc_sts) if "status" in keys else "",
                "netting_date": _norm(c.netting_date) if "netting_date" in keys else "",
                "netting_round": c.netting_round if "netting_round" in keys else "",
                "prc_sts": c.prc_sts,
                "sent_count": c.sent_count,
                "sent_amount": c.sent_amount,
                "recv_count": c.recv_count,
                "recv_amount": c.recv_amount,
            }
        )
    if rows:
        conn.execute(sa.insert(cells), rows)
    results: list[CellResult] = []
    g = groups.c
    # the journal's side, summed from the day's groups (tx_type as the NPC keys it: '' for
    # none)
    jv = sa.select(
        g.direction,
        g.mt,
        sa.func.coalesce(g.tx_type, "").label("tx_type"),
        g.cls,
        g.netting_date,
        g.netting_round,
        g.kind,
        g.n,
        g.amount,
    ).subquery("jv")
    for kind in ("payment", "info"):
        keys = _key_fields(day, kind)
        if not keys:
            continue
        cols = list(FIELDS.values())

        def pick(source: Any, name: str, keys: tuple[str, ...] = keys) -> Any:
            field = next((k for k, v in FIELDS.items() if v == name), name)
            return source.c[name] if field in keys else sa.literal("")

        out = jv.c.direction == "out"
        ours = (
            sa.select(
                *[pick(jv, n).label(n) for n in cols],
                sa.func.sum(sa.case((out, jv.c.n), else_=0)).label("our_sn"),
                sa.func.sum(sa.case((out, jv.c.amount), else_=None)).label("our_sa"),
                sa.func.sum(sa.case((out, 0), else_=jv.c.n)).label("our_rn"),
                sa.func.sum(sa.case((out, None), else_=jv.c.amount)).label("our_ra"),
                sa.literal(0).label("npc_sn"),
                sa.literal(None, entries.c.amount.type).label("npc_sa"),
                sa.literal(0).label("npc_rn"),
                sa.literal(None, entries.c.amount.type).label("npc_ra"),
            )
            .where(jv.c.kind == kind, jv.c.cls.is_not(None))
            .group_by(*[pick(jv, n) for n in cols if FIELDS_INV[n] in keys])
        )
        theirs = sa.select(
            *[cells.c[n] for n in cols],
            sa.literal(0),
            sa.literal(None, entries.c.amount.type),
            sa.literal(0),
            sa.literal(None, entries.c.amount.type),
            cells.c.sent_count,
            cells.c.sent_amount,
            cells.c.recv_count,
            cells.c.recv_amount,
        ).where(cells.c.run_id == run_id, cells.c.kind == kind)
        both = sa.union_all(ours, theirs).subquery("both")
        query = (
            sa.select(
                *[both.c[n] for n in cols],
                *[
                    sa.func.coalesce(sa.func.sum(both.c[n]), 0).label(n)
                    for n in ("our_sn", "our_rn", "npc_sn", "npc_rn")
                ],
                *[
                    sa.func.coalesce(sa.func.sum(both.c[n]), 0).label(n)
                    for n in ("our_sa", "our_ra", "npc_sa", "npc_ra")
                ],
            )
            .group_by(*[both.c[n] for n in cols])
            .order_by(*[both.c[n] for n in cols])
        )
        for r in conn.execute(query):
            amounts = {n: _dec(getattr(r, n)) for n in ("our_sa", "our_ra", "npc_sa", "npc_ra")}
            differs = r.our_sn != r.npc_sn or r.our_rn != r.npc_rn
            if kind == "payment":
                differs = (
                    differs
                    or amounts["our_sa"] != amounts["npc_sa"]
                    or amounts["our_ra"] != amounts["npc_ra"]
                )
            results.append(
                CellResult(
                    kind=kind,
                    mt=r.mt,
                    tx_type=r.tx_type,
                    status=r.cls,
                    netting_date=r.netting_date,
                    netting_round=r.netting_round,
                    npc_sent_count=int(r.npc_sn),
                    npc_sent_amount=amounts["npc_sa"],
                    our_sent_count=int(r.our_sn),
                    our_sent_amount=amounts["our_sa"],
                    npc_recv_count=int(r.npc_rn),
                    npc_recv_amount=amounts["npc_ra"],
                    our_recv_count=int(r.our_rn),
                    our_recv_amount=amounts["our_ra"],
                    differs=differs,
                )
            )
    return results


FIELDS_INV = {v: k for k, v in FIELDS.items()}


def _dec(value: Any) -> Decimal:
    """A summed amount column: the ExactAmount type gives Decimal; a bare 0 is zero."""
    if value is None or value == 0:
        return ZERO
    if isinstance(value, Decimal):
        return value
    raise TypeError(f"unexpected amount {value!r}")  # pragma: no cover


def _covered(cell: CellResult, day: NpcDay, config: ReconcileConfig) -> bool:
    """Whether the NPC's details cover this cell (then its messages were compared)."""
    for scope in day.scopes:
        if "mt" in scope and scope["mt"] != cell.mt and "mt" in day.key_fields:
            continue
        if "tx_type" in scope and scope["tx_type"] != cell.tx_type and "tx_type" in day.key_fields:
            continue
        if "prc_sts" in scope and config.npc_class(scope["prc_sts"]) != cell.status:
            continue
        if "netting_date" in scope and _norm(scope["netting_date"]) != cell.netting_date:
            continue
        if "netting_round" in scope and scope["netting_round"] != cell.netting_round:
            continue
        return cell.kind == "payment"
    return False


def _cell_break(cell: CellResult, day: NpcDay) -> dict[str, dict[str, Any]]:
    key = "cell|" + "|".join(
        [cell.kind, cell.mt, cell.tx_type, cell.status, cell.netting_date, cell.netting_round]
    )
    ours = cell.our_sent_count + cell.our_recv_count
    theirs = cell.npc_sent_count + cell.npc_recv_count
    if ours < theirs:
        kind = "missing_here"
    elif ours > theirs:
        kind = "missing_at_npc"
    else:
        kind = "amount_differs"
    label = " ".join(
        x for x in (cell.mt, cell.tx_type, cell.status, cell.netting_date, cell.netting_round) if x
    )
    return {
        key: {
            "kind": kind,
            "direction": None,
            "mt": cell.mt or None,
            "tx_type": cell.tx_type or None,
            "msg_id": None,
            "npc_value": f"sent {cell.npc_sent_count}/{cell.npc_sent_amount} "
            f"received {cell.npc_recv_count}/{cell.npc_recv_amount}",
            "our_value": f"sent {cell.our_sent_count}/{cell.our_sent_amount} "
            f"received {cell.our_recv_count}/{cell.our_recv_amount}",
            "amount": None,
            "entry_id": None,
            "detail": f"{cell.kind} cell {label} differs and the NPC gave no details for it",
        }
    }


def _compare_items(
    conn: sa.Connection,
    run_id: int,
    day: NpcDay,
    jd: _Day,
    groups: sa.Table,
    config: ReconcileConfig,
) -> dict[str, dict[str, Any]]:
    npc_class = config.npc_class
    insert_tuples(
        conn,
        items.name,
        ITEM_COLUMNS,
        (
            (
                run_id,
                x.direction,
                x.orig_msg_id,
                x.orig_mt,
                x.orig_sender,
                x.mt,
                x.tx_type,
                x.prc_sts,
                npc_class(x.prc_sts),
                _norm(x.netting_date),
                x.netting_round,
                x.dc,
                fen(x.amount, what=f"{x.orig_mt} {x.orig_msg_id}", source=x.source or None),
                x.count,
            )
            for x in day.items
        ),
    )
    if conn.dialect.name == "postgresql":
        # statistics for the rows just loaded (autovacuum cannot see an open transaction):
        # without them the planner takes the items for a few rows and checks "not listed"
        # by scanning them once per journal entry
        conn.exec_driver_sql(f"ANALYZE {items.name}")
        # and for the journal itself: a journal bulk-loaded and never analysed sends the
        # day's GROUP BY and the "not listed" probe into scans (minutes instead of seconds
        # for 100,000 entries); ANALYZE samples a bounded number of rows and does not block
        # writers, so every run can afford it
        conn.exec_driver_sql(f"ANALYZE {entries.name}")
    scope_rows = [
        {
            "run_id": run_id,
            "direction": s["direction"],
            "mt": s.get("mt") if "mt" in day.key_fields else None,
            "tx_type": s.get("tx_type") if "tx_type" in day.key_fields else None,
            "cls": config.npc_class(s["prc_sts"]) if "prc_sts" in s else None,
            "netting_date": _norm(s["netting_date"]) if "netting_date" in s else None,
            "netting_round": s.get("netting_round"),
        }
        for s in day.scopes
    ]
    conn.execute(sa.insert(scopes), scope_rows)
    found: dict[str, dict[str, Any]] = {}
    i = items.c
    # each NPC item with the day's journal entries of the same (direction, MsgId, MT):
    # one lookup in the journal's (msg_id, mt) index per item; only the items that differ
    # come back
    e = entries.c
    joined = sa.and_(
        e.msg_id == i.orig_msg_id,
        e.mt == i.orig_mt,
        e.direction == i.direction,
        *jd.where_not_indexed,
    )
    cls = journal_class(config)
    n = sa.func.count(e.id)
    amin, amax = sa.func.min(e.amount), sa.func.max(e.amount)
    cmin, cmax = sa.func.min(cls), sa.func.max(cls)
    query = (
        sa.select(
            *items.c,
            n.label("n"),
            sa.func.min(e.id).label("entry_id"),
            amin.label("amin"),
            amax.label("amax"),
            cmin.label("cmin"),
            cmax.label("cmax"),
            sa.func.min(e.status).label("status"),
        )
        .select_from(items.outerjoin(entries, joined))
        .where(i.run_id == run_id)
        # the order of the items' (run_id, direction, MsgId, MT) index: no sort
        .group_by(i.direction, i.orig_msg_id, i.orig_mt, i.id)
        .having(
            sa.or_(
                n == 0,
                n > 1,
                sa.and_(i.amount.is_not(None), sa.or_(amin != i.amount, amax != i.amount)),
                cmin.is_(None),
                cmin != i.cls,
                cmax != i.cls,
            )
        )
        .order_by(i.id)
    )
    for r in conn.execute(query):
        base = {
            "direction": r.direction,
            "mt": r.orig_mt,
            "tx_type": r.tx_type or None,
            "msg_id": r.orig_msg_id,
            "amount": r.amount,
            "entry_id": r.entry_id,
        }
        who = f"{'sent' if r.direction == 'out' else 'received'} {r.orig_mt} {r.orig_msg_id}"
        key = f"msg|{r.direction}|{r.orig_mt}|{r.orig_msg_id}"
        if r.n == 0:
            found[key] = base | {
                "kind": "missing_here",
                "npc_value": f"{r.amount} {r.prc_sts}",
                "our_value": None,
                "detail": f"the NPC lists {who} ({r.amount}, {r.prc_sts}); "
                "the journal has no such message",
            }
        elif r.n > 1:
            found[key] = base | {
                "kind": "duplicate",
                "npc_value": f"{r.amount} {r.prc_sts}",
                "our_value": f"{r.n} entries",
                "detail": f"the journal has {r.n} entries for {who}; the NPC lists it once",
            }
        elif r.amount is not None and r.amin != r.amount:
            found[key] = base | {
                "kind": "amount_differs",
                "npc_value": str(r.amount),
                "our_value": str(r.amin),
                "detail": f"{who}: the NPC has {r.amount}, the journal {r.amin}",
            }
        else:
            found[key] = base | {
                "kind": "status_differs",
                "npc_value": f"{r.prc_sts} ({r.cls})",
                "our_value": f"{r.status} ({r.cmin or 'not at the NPC'})",
                "detail": f"{who}: the NPC says {r.prc_sts} ({r.cls}), the journal "
                f"{r.status} ({r.cmin or 'never reached the NPC'})",
            }
    # the NPC lists one message more than once
    twice = (
        sa.select(
            i.direction,
            i.orig_msg_id,
            i.orig_mt,
            sa.func.count().label("n"),
            sa.func.min(i.amount).label("amount"),
        )
        .where(i.run_id == run_id)
        .group_by(i.direction, i.orig_msg_id, i.orig_mt)
        .having(sa.func.count() > 1)
    )
    for r in conn.execute(twice):
        key = f"msg|{r.direction}|{r.orig_mt}|{r.orig_msg_id}"
        found[key] = {
            "kind": "duplicate",
            "direction": r.direction,
            "mt": r.orig_mt,
            "tx_type": None,
            "msg_id": r.orig_msg_id,
            "amount": r.amount,
            "entry_id": None,
            "npc_value": f"{r.n} times",
            "our_value": None,
            "detail": f"the NPC lists {r.orig_mt} {r.orig_msg_id} {r.n} times",
        }
    # journal entries in the detailed groups that the NPC does not list: the scopes are
    # joined with the day's groups by equality on the fields they carry (one query per set
    # of fields), then each group's entries are read through the reconciliation index
    sc = scopes.c
    g = groups.c
    listed = sa.exists().where(
        i.run_id == run_id,
        i.direction == e.direction,
        i.orig_msg_id == e.msg_id,
        i.orig_mt == e.mt,
    )
    group_fields = {
        "mt": g.mt,
        "tx_type": sa.func.coalesce(g.tx_type, ""),
        "cls": g.cls,
        "netting_date": g.netting_date,
        "netting_round": g.netting_round,
    }
    shapes = {tuple(f for f in group_fields if row[f] is not None) for row in scope_rows}
    rows_missing: list[Any] = []
    for shape in sorted(shapes):
        on = [sc.run_id == run_id, sc.direction == g.direction]
        on += [sc[f] == group_fields[f] for f in shape]
        on += [sc[f].is_(None) for f in group_fields if f not in shape]
        in_scope = conn.execute(
            sa.select(*groups.c)
            .distinct()
            .select_from(scopes.join(groups, sa.and_(*on)))
            .where(g.cls.is_not(None))
        ).all()
        rows_missing += _by_id(
            conn,
            (
                sa.select(
                    e.id,
                    e.direction,
                    e.mt,
                    sa.func.coalesce(e.tx_type, "").label("tx_type"),
                    e.msg_id,
                    e.amount,
                    e.status,
                ).where(*_members(jd, group), ~listed)
                for group in in_scope
            ),
        )
    per_key: dict[str, list[Any]] = defaultdict(list)
    for r in rows_missing:
        per_key[f"msg|{r.direction}|{r.mt}|{r.msg_id}"].append(r)
    for key, rows in per_key.items():
        r = rows[0]
        who = f"{'sent' if r.direction == 'out' else 'received'} {r.mt} {r.msg_id}"
        base = {
            "direction": r.direction,
            "mt": r.mt,
            "tx_type": r.tx_type or None,
            "msg_id": r.msg_id,
            "amount": r.amount,
            "entry_id": r.id,
            "npc_value": None,
        }
        if len(rows) > 1:
            found[key] = base | {
                "kind": "duplicate",
                "our_value": f"{len(rows)} entries",
                "detail": f"the journal has {len(rows)} entries for {who} (entries "
                f"{', '.join(str(x.id) for x in rows)}); the NPC lists none",
            }
        else:
            found[key] = base | {
                "kind": "missing_at_npc",
                "our_value": f"{r.amount} {r.status}",
                "detail": f"the journal has {who} ({r.amount}, {r.status}, entry {r.id}); "
                "the NPC does not list it",
            }
    return found


def _copies(conn: sa.Connection, jd: _Day, groups: sa.Table) -> list[Notice]:
    """Inbound messages the NPC sent more than once (the journal booked them once), as
    notices: the session answered every copy and the journal kept the first, so the copy
    itself is no difference between the NPC and us (a copy whose content differs from the
    first is not detected here: the journal keys copies by sender and MesgID). Read only
    in the groups that have such entries."""
    g, e = groups.c, entries.c
    copied = conn.execute(
        sa.select(*groups.c).where(g.direction == "in", g.copied > 0, g.cls.is_not(None))
    ).all()
    rows = _by_id(
        conn,
        (
            sa.select(
                e.id, e.mt, e.tx_type, e.sender, e.msg_id, e.mesg_id, e.amount, e.copies
            ).where(*_members(jd, group), e.copies > 1)
            for group in copied
        ),
    )
    return [
        Notice(
            kind="copies",
            direction="in",
            mt=r.mt,
            tx_type=r.tx_type,
            sender=r.sender,
            msg_id=r.msg_id,
            mesg_id=r.mesg_id,
            amount=r.amount,
            entry_id=r.id,
            copies=r.copies,
        )
        for r in rows
    ]


def settle_breaks(
    conn: sa.Connection,
    scope: str,
    check_date: date,
    run_id: int,
    found: dict[str, dict[str, Any]],
    *,
    as_of: datetime,
    config: ReconcileConfig,
) -> list[Break]:
    """Bring the day's breaks up to this run; returns every break of the day.

    * an open break (new / persisting) seen again → ``persisting`` (values refreshed);
    * an open break not seen → ``resolved``;
    * a break seen for the first time → ``new``;
    * settled breaks (``resolved``, ``accepted``) are never changed. A key that was
      accepted is not opened again; a key that was resolved and differs again opens a
      new break (a new id), so the history of the first one stays as it was.
    """
    b = breaks.c
    now = _now()
    existing = conn.execute(
        sa.select(b.id, b.key, b.status).where(b.scope == scope, b.check_date == check_date)
    ).all()
    open_by_key = {r.key: r.id for r in existing if r.status in OPEN}
    accepted = {r.key for r in existing if r.status == "accepted"}
    for key, break_id in open_by_key.items():
        if key in found:
            conn.execute(
                sa.update(breaks)
                .where(b.id == break_id)
                .values(status="persisting", last_run=run_id, last_seen=now, **found[key])
            )
        else:
            conn.execute(
                sa.update(breaks)
                .where(b.id == break_id)
                .values(status="resolved", last_run=run_id, settled_at=now)
            )
    new_rows = [
        {
            "scope": scope,
            "check_date": check_date,
            "key": key,
            "status": "new",
            "first_run": run_id,
            "last_run": run_id,
            "first_seen": now,
            "last_seen": now,
            **values,
        }
        for key, values in sorted(found.items())
        if key not in open_by_key and key not in accepted
    ]
    if new_rows:
        conn.execute(sa.insert(breaks), new_rows)
    return _select_breaks(conn, config, as_of.date(), scope=scope, check_date=check_date)


def _select_breaks(
    conn: sa.Connection,
    config: ReconcileConfig,
    today: date,
    *,
    scope: str | None = None,
    check_date: date | None = None,
    status: str | None = None,
    break_id: int | None = None,
) -> list[Break]:
    b = breaks.c
    query = sa.select(breaks).order_by(b.check_date, b.id)
    if scope is not None:
        query = query.where(b.scope == scope)
    if check_date is not None:
        query = query.where(b.check_date == check_date)
    if status == "open":
        query = query.where(b.status.in_(OPEN))
    elif status is not None:
        query = query.where(b.status == status)
    if break_id is not None:
        query = query.where(b.id == break_id)
    out = []
    for r in conn.execute(query):
        age = max(0, (today - r.check_date).days)
        out.append(
            Break(
                id=r.id,
                scope=r.scope,
                check_date=r.check_date,
                key=r.key,
                kind=r.kind,
                status=r.status,
                note=r.note,
                direction=r.direction,
                mt=r.mt,
                tx_type=r.tx_type,
                msg_id=r.msg_id,
                npc_value=r.npc_value,
                our_value=r.our_value,
                amount=r.amount,
                entry_id=r.entry_id,
                detail=r.detail,
                first_seen=r.first_seen,
                last_seen=r.last_seen,
                settled_at=r.settled_at,
                age_days=age,
                age_bucket=config.age_bucket(age),
            )
        )
    return out


def list_breaks(
    journal: Journal,
    *,
    scope: str | None = None,
    check_date: date | None = None,
    status: str | None = None,
    today: date | None = None,
    config: ReconcileConfig | None = None,
) -> list[Break]:
    """The breaks kept in the journal database (``status``: a status, or ``open``)."""
    store.upgrade(journal.engine)
    with journal.engine.connect() as conn:
        return _select_breaks(
            conn,
            config or ReconcileConfig(),
            today or _now().date(),
            scope=scope,
            check_date=check_date,
            status=status,
        )


def accept_break(
    journal: Journal, break_id: int, note: str, *, config: ReconcileConfig | None = None
) -> Break:
    """Accept an open break with a note saying why; accepted is final."""
    if not note.strip():
        raise InputError("accepting a break needs a note saying why", field="note")
    store.upgrade(journal.engine)
    with journal.engine.begin() as conn:
        row = conn.execute(sa.select(breaks.c.status).where(breaks.c.id == break_id)).first()
        if row is None:
            raise InputError(f"there is no break {break_id}", field="id")
        if row.status not in OPEN:
            raise InputError(
                f"break {break_id} is {row.status}; only an open break can be accepted", field="id"
            )
        conn.execute(
            sa.update(breaks)
            .where(breaks.c.id == break_id, breaks.c.status.in_(OPEN))
            .values(status="accepted", note=note, settled_at=_now())
        )
        (result,) = _select_breaks(
            conn, config or ReconcileConfig(), _now().date(), break_id=break_id
        )
    return result
