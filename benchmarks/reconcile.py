"""Reconciliation benchmark: ``python -m benchmarks reconcile [--entries N] [--postgres URL]``.

1. **A day against the NPC**: N journal entries (default 1,000,000) for one HVPS work
   date, bulk-loaded with ``executemany`` (not ``record_inbound`` one by one), against an
   NPC summary of 400 cells (2 MT × 100 业务类型 × 2 statuses) of which 100 differ, with the
   details of those 100 cells (every message in them; one missing here, one with another
   amount, per cell). Measured: ``reconcile_day`` (cells, messages, breaks, all in SQL),
   wall time and the peak RSS of a fresh child process, on SQLite and (``--postgres``)
   PostgreSQL. Target on this machine: ≤ 20 s and < 500 MB on SQLite.
2. **Statement matching**: N statement entries against N ledger rows (1:1 on
   EndToEndId, exact amounts, value dates within a day), in SQL temp tables, against a
   hand-written polars join on the same data (``pip install polars``: not a dependency of
   paymsg). Both are timed from the same Python rows (loading included) to the matched
   pairs. Reported: both times, peak RSS and the ratio.

Nothing here is asserted; the test suite never times anything. Loading the data is not
part of the measured time (it is reported separately).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import platform
import resource
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
DAY = date(2024, 3, 15)
BANK, OTHER = "102100099996", "105100000017"
MTS = ("hvps.111.001.01", "hvps.112.001.01")
TX_TYPES = tuple(f"A{100 + i:03d}" for i in range(100))
STATUSES = ("settled", "rejected")  # journal statuses → classes settled / failed
NPC_CODE = {"settled": "PR04", "rejected": "PR09"}


def _entry(i: int) -> dict[str, Any]:
    mt = MTS[i % 2]
    tx = TX_TYPES[(i // 2) % 100]
    status = STATUSES[(i // 200) % 2]
    out = i % 3 != 0
    msg_id = f"20240315{i:08d}"
    now = datetime(2024, 3, 15, 10, 0, tzinfo=UTC)
    return {
        "direction": "out" if out else "in",
        "queue": "BENCH",
        "sender": BANK if out else OTHER,
        "receiver": OTHER if out else BANK,
        "system": "HVPS",
        "mt": mt,
        "mesg_id": f"2024031500{i:010d}",
        "msg_id": msg_id,
        "tx_type": tx,
        "amount": Decimal(1 + i % 99_991).scaleb(-2) + 1000,
        "currency": "CNY",
        "nb_of_txs": 1,
        "work_date": DAY,
        "status": status if out else "delivered",
        "repaired": False,
        "copies": 1,
        "resent": 0,
        "deliverable": not out,
        "attempts": 0,
        "digest": hashlib.sha256(msg_id.encode()).hexdigest(),
        "created_at": now,
        "updated_at": now,
        "raw": b"",
    }


def load_journal(url: str, n: int) -> float:
    """Bulk-load n entries through the driver's own ``executemany`` on tuples already in
    their stored form (fen; UTC text and ISO dates on SQLite); returns seconds. Loading is
    set-up, not part of the measured reconciliation."""
    from paymsg.journal import Journal
    from paymsg.journal.tables import entries
    from paymsg.reconcile.bulk import insert_tuples

    start = time.perf_counter()
    with Journal(url) as journal, journal.engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"

        def stored(value: Any) -> Any:
            if isinstance(value, Decimal):
                return int(value.scaleb(2))
            if sqlite and isinstance(value, datetime):
                return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            if sqlite and isinstance(value, date):
                return value.isoformat()
            return value

        insert_tuples(
            conn,
            entries.name,
            list(_entry(0)),
            (tuple(stored(v) for v in _entry(i).values()) for i in range(n)),
        )
    if not sqlite:  # what autovacuum does to a live journal: the planner needs statistics
        with Journal(url) as journal, journal.engine.begin() as conn:
            conn.exec_driver_sql(f"ANALYZE {entries.name}")
    return time.perf_counter() - start


def npc_day(n: int) -> Any:
    """The NPC's picture: every cell of the journal; 100 of them differ, with details."""
    from paymsg.reconcile.npc import Cell, Item, NpcDay

    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    items: list[Item] = []
    differing: set[tuple[str, str, str]] = set()
    for mt in MTS:
        for tx in TX_TYPES[:50]:
            differing.add((mt, tx, "settled"))  # 2 × 50 = 100 differing cells
    changed: set[tuple[str, str, str]] = set()
    for i in range(n):
        e = _entry(i)
        cls = "settled" if e["direction"] == "in" else e["status"]
        key = (e["mt"], e["tx_type"], cls)
        cell = cells.setdefault(key, {"sn": 0, "sa": Decimal(0), "rn": 0, "ra": Decimal(0)})
        amount = e["amount"]
        if key in differing and key not in changed and e["direction"] == "out":
            amount += 1  # the NPC has another amount for the first sent one
            changed.add(key)
        side = "s" if e["direction"] == "out" else "r"
        cell[side + "n"] += 1
        cell[side + "a"] += amount
        if key in differing:
            items.append(
                Item(
                    direction=e["direction"],
                    orig_msg_id=e["msg_id"],
                    orig_mt=e["mt"],
                    orig_sender=e["sender"],
                    mt=e["mt"],
                    tx_type=e["tx_type"],
                    prc_sts=NPC_CODE.get(cls, "PR04"),
                    amount=amount,
                    count=1,
                )
            )
    for number, key in enumerate(sorted(differing)):  # one message per cell missing here
        mt, tx, _ = key
        cells[key]["rn"] += 1
        cells[key]["ra"] += Decimal("5.00")
        items.append(
            Item(
                direction="in",
                orig_msg_id=f"20240315{90_000_000 + number:08d}",
                orig_mt=mt,
                orig_sender=OTHER,
                mt=mt,
                tx_type=tx,
                prc_sts="PR04",
                amount=Decimal("5.00"),
                count=1,
            )
        )
    scopes = [
        {"direction": d, "mt": mt, "tx_type": tx, "prc_sts": "PR04"}
        for mt, tx, _ in sorted(differing)
        for d in ("out", "in")
    ]
    return NpcDay(
        system="HVPS",
        check_date=DAY,
        key_fields=("mt", "tx_type", "status"),
        cells=[
            Cell(
                kind="payment",
                mt=mt,
                tx_type=tx,
                prc_sts=NPC_CODE[cls],
                sent_count=c["sn"],
                sent_amount=c["sa"],
                recv_count=c["rn"],
                recv_amount=c["ra"],
            )
            for (mt, tx, cls), c in sorted(cells.items())
        ],
        items=items,
        scopes=scopes,
    )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _day_child(url: str, n: int, queue: Any) -> None:
    from paymsg.journal import Journal
    from paymsg.reconcile import reconcile_day

    day = npc_day(n)
    baseline = _peak_mb()
    with Journal(url) as journal:
        start = time.perf_counter()
        result = reconcile_day(journal, day)
        seconds = time.perf_counter() - start
    kinds: dict[str, int] = {}
    for b in result.breaks:
        kinds[b.kind] = kinds.get(b.kind, 0) + 1
    queue.put(
        {
            "seconds": round(seconds, 2),
            "peak_rss_mb": round(_peak_mb(), 1),
            "rss_before_mb": round(baseline, 1),
            "cells": len(result.cells),
            "differing_cells": sum(c.differs for c in result.cells),
            "detail_items": len(day.items),
            "breaks": kinds,
        }
    )


def _in_child(target: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return dict(result)


def _ledger(n: int, *, statement: bool) -> Any:
    from paymsg.reconcile.statement import LedgerRow

    for i in range(n):
        yield LedgerRow(
            ref=f"{'S' if statement else 'L'}{i}",
            amount=Decimal(1 + (i * 7919) % 1_000_000).scaleb(-2),
            currency="CNY",
            dc="CRDT" if i % 2 else "DBIT",
            value_date=DAY + timedelta(days=(i % 2) if statement else 0),
            end_to_end_id=f"E2E{i:09d}",
        )


def _match_child(n: int, folder: str, queue: Any) -> None:
    import sqlalchemy as sa

    from paymsg.reconcile.statement import MatchRule, StatementConfig, match_rows

    engine = sa.create_engine(f"sqlite:///{folder}/match.db")
    config = StatementConfig(rules=(MatchRule(keys=("end_to_end_id",), date_tolerance_days=1),))
    start = time.perf_counter()
    with engine.connect() as conn, conn.begin():
        result = match_rows(
            conn, _ledger(n, statement=True), _ledger(n, statement=False), config=config
        )
    seconds = time.perf_counter() - start
    queue.put(
        {
            "seconds": round(seconds, 2),
            "peak_rss_mb": round(_peak_mb(), 1),
            "matched": len(result.matches),
        }
    )


def _polars_child(n: int, queue: Any) -> None:
    import polars as pl

    def frame(statement: bool) -> Any:
        rows = list(_ledger(n, statement=statement))
        return pl.DataFrame(
            {
                "ref": [r.ref for r in rows],
                "units": [int(r.amount.scaleb(2)) for r in rows],
                "dc": [r.dc for r in rows],
                "vday": [r.value_date.toordinal() for r in rows],
                "e2e": [r.end_to_end_id for r in rows],
            }
        )

    start = time.perf_counter()  # like paymsg's: from the same Python rows
    s, led = frame(True), frame(False)
    joined = s.join(led, on=["e2e", "units", "dc"], suffix="_l").filter(
        (pl.col("vday") - pl.col("vday_l")).abs() <= 1
    )
    once_s = joined.group_by("ref").len().filter(pl.col("len") == 1).select("ref")
    once_l = joined.group_by("ref_l").len().filter(pl.col("len") == 1).select("ref_l")
    matched = joined.join(once_s, on="ref").join(once_l, on="ref_l")
    seconds = time.perf_counter() - start
    queue.put(
        {
            "seconds": round(seconds, 2),
            "peak_rss_mb": round(_peak_mb(), 1),
            "matched": matched.height,
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks reconcile")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres", help="also run the day on this PostgreSQL URL (an empty database)"
    )
    parser.add_argument("--skip-statement", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true", help="only the PostgreSQL day")
    parser.add_argument("--out", type=Path, default=RESULTS / "reconcile.json")
    args = parser.parse_args(argv)
    n = args.entries
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": platform.platform(),
        "entries": n,
    }
    with tempfile.TemporaryDirectory(prefix="paymsg-bench-") as folder:
        if not args.skip_sqlite:
            url = f"sqlite:///{folder}/journal.db?synchronous=normal"
            load = load_journal(url, n)
            report["sqlite"] = {"load_seconds": round(load, 1), **_in_child(_day_child, url, n)}
            print("day, SQLite:", json.dumps(report["sqlite"]))
        if args.postgres:
            load = load_journal(args.postgres, n)
            report["postgresql"] = {
                "load_seconds": round(load, 1),
                **_in_child(_day_child, args.postgres, n),
            }
            print("day, PostgreSQL:", json.dumps(report["postgresql"]))
        if not args.skip_statement:
            ours = _in_child(_match_child, n, folder)
            print("statement matching, paymsg (SQLite):", json.dumps(ours))
            try:
                import polars  # noqa: F401
            except ImportError:
                print("polars is not installed (pip install polars): no baseline")
                report["statement"] = {"paymsg": ours}
            else:
                base = _in_child(_polars_child, n)
                print("statement matching, polars join:", json.dumps(base))
                ratio = ours["seconds"] / base["seconds"] if base["seconds"] else None
                report["statement"] = {
                    "paymsg": ours,
                    "polars": base,
                    "ratio": round(ratio, 2) if ratio else None,
                }
                print(f"ratio paymsg / polars: {report['statement']['ratio']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
