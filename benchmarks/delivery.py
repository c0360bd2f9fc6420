"""Receiving-side journal benchmark: ``python -m benchmarks.delivery [--n N] [--batch B]
[--journal URL] [--originals M]``.

1. The cost of :meth:`paymsg.journal.Journal.deliver_many` per entry: N inbound hvps.111
recorded in a fresh journal (SQLite in a temporary directory unless ``--journal`` names
another database, e.g. a PostgreSQL schema of its own), then delivered to a handler that
does nothing, B entries per call (the session's ``delivery_batch`` is 256). Prints the
wall and CPU time (this process: user + system) per entry of the delivery alone, and
checks that every entry ended ``delivered``.
2. With ``--originals M``: the cost of correlating a batch of 100 business replies
   (:meth:`~paymsg.journal.Journal.find_originals`, 100 keys) in a journal holding M
   outbound hvps.111 — it must not grow with M.

Nothing here is asserted by the test suite as a time; on a shared machine the CPU time is
the figure to read.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.mq import texts
from paymsg.journal import Journal


def measure(url: str, n: int, batch: int) -> dict[str, Any]:
    """Record ``n`` inbound texts in the journal at ``url``, deliver them ``batch`` per
    call to a no-op handler; the time per entry of the delivery."""
    journal = Journal(url)
    try:
        bodies = texts(n, "deliv")
        ids: list[int] = []
        for start in range(0, n, 500):
            recorded = journal.record_inbound_many(bodies[start : start + 500], queue="IN")
            ids.extend(entry.id for entry, _ in recorded)
        wall, cpu = time.perf_counter(), time.process_time()
        delivered = 0
        for start in range(0, n, batch):
            outcomes = journal.deliver_many(ids[start : start + batch], lambda e, c: None)
            delivered += sum(outcome is True for outcome in outcomes)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        statuses = {e.status for e in journal.query(direction="in")}
    finally:
        journal.close()
    return {
        "entries": n,
        "batch": batch,
        "delivered": delivered,
        "statuses": sorted(statuses),
        "wall_us_per_entry": round(wall / n * 1e6, 1),
        "cpu_us_per_entry": round(cpu / n * 1e6, 1),
    }


def correlation(url: str, n: int, calls: int = 20) -> dict[str, Any]:
    """Record ``n`` outbound texts in the journal at ``url``; the CPU time of finding the
    originals of the newest 100 (one :meth:`find_originals` call), and whether each was
    found."""
    journal = Journal(url)
    try:
        bodies = texts(n, "origs")
        sent = []
        for start in range(0, n, 500):
            sent.extend(journal.record_outbound_many(bodies[start : start + 500], queue="OUT"))
        keys = [(e.msg_id or "", e.mt or "", e.sender) for e in sent[-100:]]
        cpu = time.process_time()
        for _ in range(calls):
            found = journal.find_originals(keys)
        cpu = time.process_time() - cpu
    finally:
        journal.close()
    return {
        "outbound": n,
        "keys": len(keys),
        "found": sum(entry is not None for entry in found),
        "cpu_ms_per_call": round(cpu / calls * 1000, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.delivery")
    parser.add_argument("--n", type=int, default=2000, help="entries (default 2000)")
    parser.add_argument("--batch", type=int, default=256, help="entries per call (256)")
    parser.add_argument("--journal", help="journal URL (default: SQLite in a temp dir)")
    parser.add_argument("--originals", type=int, help="also: correlation among M outbound")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.journal or f"sqlite:///{Path(tmp) / 'journal.db'}"
        row = measure(url, args.n, args.batch)
        found = None
        if args.originals:
            other = args.journal or f"sqlite:///{Path(tmp) / 'originals.db'}?synchronous=normal"
            found = correlation(other, args.originals)
    print(
        f"deliver_many, {row['entries']} entries, {row['batch']} per call, no-op handler: "
        f"{row['wall_us_per_entry']} µs wall, {row['cpu_us_per_entry']} µs CPU per entry "
        f"({row['delivered']} delivered, statuses {row['statuses']})"
    )
    if found is not None:
        print(
            f"find_originals, {found['keys']} keys among {found['outbound']} outbound entries: "
            f"{found['cpu_ms_per_call']} ms CPU per call ({found['found']} found)"
        )


if __name__ == "__main__":
    main()
