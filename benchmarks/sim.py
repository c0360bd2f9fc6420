"""Simulator benchmark: ``python -m benchmarks.sim [--n N] [--out FILE]``.

HVPS messages per second end to end on the embedded SQLite channel, three ways:

1. **centre alone**: N hvps.111 waiting on bank A's IN queue; one centre process handles
   them all: 990, checks (safety, XSD, cnaps2 rules), settlement in its books, forward to
   B, saps.604 to A — until every message is acknowledged and every reply put.
2. **end to end**: bank A's ``Cnaps2Session`` (journal on SQLite) sends N hvps.111 with
   ``send_many`` to a centre running in another process; done when every 990 is in,
   every saps.604 has moved A's journal entry to ``settled`` and B's queue holds N forwards.
3. **floor**: the same session sends N messages to the transport module's echo peer
   (``paymsg mq echo``: get, 990, ack) in another process — the bare send + 990 round trip.

The ratio reported is (2) / (3): what the whole centre costs compared with a peer that
only confirms. With each figure goes the CPU time per payment of the centre process
(user + system, read from ``/proc`` for the centre running in its own process) and, end
to end, of the participant's process (its session threads and this script's polling).
Nothing here is asserted; the test suite never times anything.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.proc import cpu_seconds
from paymsg.journal import Journal
from paymsg.sim.books import Books
from paymsg.sim.centre import Centre
from paymsg.sim.clock import SimClock
from paymsg.sim.runner import send_command, serve
from paymsg.sim.scenario import ClockConfig, Scenario, parse_participant
from paymsg.transport import open_channel
from paymsg.transport.echo import run_echo
from paymsg.transport.session import Cnaps2Session

A, B = "102100099996", "105100000017"
MORNING = datetime(2026, 12, 7, 9, 0, 0)
RESULTS = Path(__file__).resolve().parent / "results"
#: channel URL options of every run (``--sync normal`` → ``?synchronous=normal``)
QUERY = ""


def payments(n: int) -> list[bytes]:
    """N distinct, valid hvps.111 from A to B."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.sim.conftest import hvps

    return [hvps(A, B, f"{1 + i % 997}.00", n=10_000_000 + i) for i in range(n)]


def _per_payment_ms(seconds: float | None, n: int) -> float | None:
    return None if seconds is None else round(seconds / n * 1000, 3)


def _scenario() -> Scenario:
    return Scenario(clock=ClockConfig(start=MORNING))


def centre_alone(tmp: Path, texts: list[bytes]) -> dict[str, Any]:
    url = f"sqlite:///{tmp / 'alone-mq.db'}{QUERY}"
    with open_channel(url) as channel:
        channel.declare(f"MSGMBFE_1.{A}")
        for start in range(0, len(texts), 500):
            channel.put_many(f"MSGMBFE_1.{A}", texts[start : start + 500])
    channel = open_channel(url)
    books = Books(f"sqlite:///{tmp / 'alone-books.db'}")
    centre = Centre(
        channel,
        [parse_participant(A), parse_participant(B)],
        books=books,
        scenario=_scenario(),
        clock=SimClock(MORNING),
    )
    started = time.perf_counter()
    cpu = time.process_time()
    while channel.depth(f"MSGMBFE_1.{A}") or centre.pending:
        for _ in range(100):
            if centre.step() == 0:
                break
    centre.flush()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    forwards = channel.depth(f"MSGTOBANK.{B}")
    replies = channel.depth(f"MSGTOBANK.{A}")
    channel.close()
    books.close()
    assert forwards == len(texts) and replies == 2 * len(texts), (forwards, replies)
    return {
        "messages": len(texts),
        "seconds": seconds,
        "per_second": len(texts) / seconds,
        "centre_cpu_ms_per_payment": _per_payment_ms(cpu, len(texts)),
    }


def _serve_centre(url: str, books_url: str) -> None:
    serve(
        url,
        [parse_participant(A), parse_participant(B)],
        books_url=books_url,
        scenario=_scenario(),
        clock=SimClock(MORNING),
    )


def _serve_echo(url: str, stop_file: str) -> None:
    stop = threading.Event()

    def watch() -> None:
        while not Path(stop_file).exists():
            time.sleep(0.05)
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    with open_channel(url) as channel:
        run_echo(
            channel,
            in_queue=f"MSGMBFE_1.{A}",
            out_queue=f"MSGTOBANK.{A}",
            stop=stop,
            poll_interval=0.05,
        )


def _session(url: str, journal: str) -> Cnaps2Session:
    return Cnaps2Session(
        url,
        Journal(journal),
        participant=A,
        out_queue=f"MSGMBFE_1.{A}",
        in_queue=f"MSGTOBANK.{A}",
        validate=False,
        confirm_timeout=120.0,
        poll_interval=0.01,
    )


def end_to_end(tmp: Path, texts: list[bytes]) -> dict[str, Any]:
    url = f"sqlite:///{tmp / 'e2e-mq.db'}{QUERY}"
    peer = multiprocessing.Process(
        target=_serve_centre, args=(url, f"sqlite:///{tmp / 'e2e-books.db'}")
    )
    peer.start()
    session = _session(url, f"sqlite:///{tmp / 'e2e-journal.db'}")
    session.start(lambda entry, conn: None)
    try:
        time.sleep(1.0)  # the centre process is up
        assert peer.pid is not None
        centre_cpu = cpu_seconds(peer.pid)
        own_cpu = time.process_time()
        started = time.perf_counter()
        results = session.send_many(texts)
        confirmed = time.perf_counter() - started
        assert all(r.ok for r in results), {r.status for r in results}
        check = open_channel(url)
        while True:  # one GROUP BY on the journal, one count on the channel
            settled = session.journal.status_counts()["out"].get("settled", 0)
            if settled == len(texts) and check.depth(f"MSGTOBANK.{B}") == len(texts):
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        own_cpu = time.process_time() - own_cpu
        after = cpu_seconds(peer.pid)
        centre_cpu = None if centre_cpu is None or after is None else after - centre_cpu
        check.close()
    finally:
        session.close()
        send_command(url, "stop")
        peer.join(timeout=60)
    return {
        "messages": len(texts),
        "seconds": seconds,
        "per_second": len(texts) / seconds,
        "all_990s_seconds": confirmed,
        "centre_cpu_ms_per_payment": _per_payment_ms(centre_cpu, len(texts)),
        "participant_cpu_ms_per_payment": _per_payment_ms(own_cpu, len(texts)),
    }


def floor(tmp: Path, texts: list[bytes]) -> dict[str, Any]:
    url = f"sqlite:///{tmp / 'echo-mq.db'}{QUERY}"
    stop_file = tmp / "echo.stop"
    peer = multiprocessing.Process(target=_serve_echo, args=(url, str(stop_file)))
    peer.start()
    session = _session(url, f"sqlite:///{tmp / 'echo-journal.db'}")
    session.start()
    try:
        time.sleep(1.0)
        started = time.perf_counter()
        results = session.send_many(texts)
        seconds = time.perf_counter() - started
        assert all(r.ok for r in results), {r.status for r in results}
    finally:
        session.close()
        stop_file.touch()
        peer.join(timeout=60)
    return {"messages": len(texts), "seconds": seconds, "per_second": len(texts) / seconds}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="messages per run")
    parser.add_argument("--out", type=Path, default=RESULTS / "sim.json")
    parser.add_argument(
        "--sync",
        choices=("put", "normal", "full"),
        default="put",
        help="the SQLite channel's synchronous mode (see paymsg.transport.sqlite)",
    )
    args = parser.parse_args(argv)
    global QUERY
    QUERY = f"?synchronous={args.sync}"
    texts = payments(args.n)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        alone = centre_alone(tmp, texts)
        e2e = end_to_end(tmp, texts)
        echo = floor(tmp, texts)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "cpus": multiprocessing.cpu_count(),
        "channel_synchronous": args.sync,
        "centre_alone": alone,
        "end_to_end": e2e,
        "send_990_floor": echo,
        "ratio_end_to_end_to_floor": e2e["per_second"] / echo["per_second"],
    }
    print(f"HVPS hvps.111, {args.n} messages, embedded SQLite channel (synchronous={args.sync})")
    print(
        f"  centre alone (990+checks+settle+forward+604): {alone['per_second']:8.0f} msg/s"
        f"   centre CPU {alone['centre_cpu_ms_per_payment']} ms/payment"
    )
    print(
        f"  end to end, session → centre → 604 settled + forward: {e2e['per_second']:8.0f} msg/s"
        f"   centre CPU {e2e['centre_cpu_ms_per_payment']} ms/payment,"
        f" participant CPU {e2e['participant_cpu_ms_per_payment']} ms/payment"
    )
    print(f"  floor, session → echo peer (send + 990):       {echo['per_second']:8.0f} msg/s")
    print(f"  ratio end to end / floor: {result['ratio_end_to_end_to_floor']:.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
