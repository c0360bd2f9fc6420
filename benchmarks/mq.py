"""MQ benchmark: ``python -m benchmarks mq [--messages N] [--amqp URL] [--out FILE]``.

Send + ccms.990 round trip through :class:`~paymsg.transport.Cnaps2Session`, every message
journaled (outbox row, 'sent', the 990 in the inbox, 'confirmed') and put durably, against
an echo peer (``paymsg mq echo``) running in another process:

* the embedded channel (``sqlite:///…``, fsynced puts) with the journal fully synchronous
  (every commit fsynced) and with ``synchronous=normal`` (survives a process crash, may
  lose the last commits on power loss), and with neither fsyncing (the CPU ceiling);
* RabbitMQ (publisher confirms, quorum queues) when ``--amqp URL`` or
  ``$PAYMSG_TEST_AMQP_URL`` names a broker - the session and the echo peer consume with
  ``prefetch=256`` (``--prefetch``; the channel's default of 1 makes every get a broker
  round trip and leaves the consumer's group commit nothing to group) - and, on the same
  broker, two floors: bare pika publishing the same bodies with confirms one by one, as
  pika's ``BlockingConnection`` does, and pipelined (pika's ``SelectConnection``: a
  window of 200 published, then all its confirms awaited, as the session's puts are) - no
  journal, no 990, no peer.

It reports messages per second (wall time of ``send_many``, which pipelines the puts and
awaits all 990s), the p50/p99 latency from a message's put to its 990 being applied, the
ratio of the RabbitMQ session to the pika floor, the CPU time of the sending process per
message, and the machine's load average (the rates mean little on a loaded machine; the
CPU time less so). Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paymsg
from benchmarks.proc import cpu_seconds
from paymsg import cnaps2

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
BANK = "102100099996"


def texts(count: int, run: str) -> list[bytes]:
    """``count`` distinct hvps.111 texts (about 2.6 KB each) with MesgIDs unique to ``run``."""
    base = paymsg.parse(
        ROOT / "examples/cnaps2/hvps.111.001.01/customer-transfer-urgent.xml",
        type="hvps.111.001.01",
    )
    out = []
    for index in range(count):
        document = copy.deepcopy(base.document)
        document.fito_ficstmr_cdt_trf.grp_hdr.msg_id = f"20240315{index:08d}"
        message = cnaps2.wrap(document, type="hvps.111.001.01", mesg_id=f"{run}{index:012d}"[-20:])
        out.append(paymsg.serialize(message))
    return out


def _rates(count: int, seconds: float, latencies: list[float]) -> dict[str, Any]:
    """Messages, seconds, messages per second and the p50/p99 latency of a case."""
    return {
        "messages": count,
        "seconds": round(seconds, 3),
        "msg_per_s": round(count / seconds, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p99_ms": round(1000 * _percentile(latencies, 0.99), 2),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _broker_pids(amqp_url: str | None) -> list[int]:
    """The RabbitMQ node processes (``beam.smp``) of this machine, when ``amqp_url`` is on
    loopback (a remote broker's CPU cannot be seen from here)."""
    from urllib.parse import urlsplit

    if not amqp_url or urlsplit(amqp_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        return []
    port = urlsplit(amqp_url).port or 5672
    listening = set()  # socket inodes listening on the broker's port
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                listening.add(f"socket:[{fields[9]}]")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not (entry / "cmdline").read_bytes().split(b"\0")[0].endswith(b"beam.smp"):
                continue
            sockets = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
        except OSError:
            continue
        if sockets & listening:
            found.append(int(entry.name))
    return found


def _cpu_of(pids: list[int]) -> float | None:
    values = [cpu_seconds(pid) for pid in pids]
    if not pids or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def session_round_trip(
    channel_url: str,
    journal_url: str,
    count: int,
    *,
    window: int = 200,
    senders: int = 1,
    broker: list[int] | None = None,
) -> dict[str, Any]:
    """Send ``count`` messages in pipelined windows against an echo peer process."""
    from paymsg.journal import Journal
    from paymsg.transport import open_channel
    from paymsg.transport.session import Cnaps2Session

    run = uuid.uuid4().hex[:8]
    out_queue, in_queue = f"MBFE_{run}", f"BANK_{run}"
    with open_channel(channel_url) as channel:
        channel.declare(out_queue)
        channel.declare(in_queue)
    peer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "paymsg.cli",
            "mq",
            "echo",
            "--channel",
            channel_url,
            "--queue",
            out_queue,
            "--reply-queue",
            in_queue,
            "--idle-exit",
            "30",
        ],
        stdout=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if not k.startswith("PAYMSG_")},
    )
    bodies = texts(count + 50, run)
    try:
        session = Cnaps2Session(
            lambda: open_channel(channel_url),
            Journal(journal_url),
            participant=BANK,
            out_queue=out_queue,
            in_queue=in_queue,
            validate=False,
            confirm_timeout=60.0,
            poll_interval=0.05,
        )
        with session:
            session.send_many(bodies[:50])  # warm-up: the peer is up, caches are filled
            latencies: list[float] = []
            statuses: set[str] = set()
            started = time.perf_counter()
            cpu = time.process_time()
            peer_cpu = cpu_seconds(peer.pid)
            broker_cpu = _cpu_of(broker or [])
            windows = [bodies[i : i + window] for i in range(50, len(bodies), window)]

            def send(part: list[list[bytes]]) -> None:
                for texts_ in part:
                    for result in session.send_many(texts_):
                        statuses.add(result.status)
                        if result.seconds is not None:
                            latencies.append(result.seconds)

            # ``senders`` threads, each sending every senders-th window: that many windows
            # in flight at once (the session's sending API is thread-safe)
            threads = [
                threading.Thread(target=send, args=(windows[k::senders],)) for k in range(senders)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            peer_after = cpu_seconds(peer.pid)
            broker_after = _cpu_of(broker or [])
    finally:
        peer.terminate()
        peer.wait(timeout=60)
    return _rates(count, seconds, latencies) | {
        "statuses": sorted(statuses),
        "window": window,
        "senders": senders,
        # CPU of this process (sender and consumer threads, journal, channel client) per
        # message: less sensitive to the machine's load than the wall-time rate
        "cpu_ms_per_msg": round(1000 * cpu / count, 3),
        # the echo peer's and the broker's CPU over the same interval (they share the machine)
        "peer_cpu_ms_per_msg": _per_message(peer_cpu, peer_after, count),
        "broker_cpu_ms_per_msg": _per_message(broker_cpu, broker_after, count),
    }


def _per_message(before: float | None, after: float | None, count: int) -> float | None:
    if before is None or after is None:
        return None
    return round(1000 * (after - before) / count, 3)


def pika_floor(amqp_url: str, count: int) -> dict[str, Any]:
    """Bare pika: publish ``count`` persistent bodies with publisher confirms, one by one."""
    import pika

    bodies = texts(count, uuid.uuid4().hex[:8])
    queue = f"FLOOR_{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
        channel.confirm_delivery()
        properties = pika.BasicProperties(delivery_mode=2)
        latencies = []
        started = time.perf_counter()
        for body in bodies:
            t0 = time.perf_counter()
            channel.basic_publish("", queue, body, properties, mandatory=True)
            latencies.append(time.perf_counter() - t0)
        seconds = time.perf_counter() - started
        channel.queue_delete(queue)
    finally:
        connection.close()
    return _rates(count, seconds, latencies)


def pika_pipelined_floor(amqp_url: str, count: int, *, window: int = 200) -> dict[str, Any]:
    """Bare pika, pipelined: publish a window of persistent bodies with publisher confirms
    (``SelectConnection``), then wait for all its confirms; window after window."""
    import pika

    bodies = texts(count, uuid.uuid4().hex[:8])
    queue = f"FLOOR_{uuid.uuid4().hex[:8]}"
    state: dict[str, Any] = {"channel": None, "pending": 0, "declared": False}

    def on_open(connection: Any) -> None:
        connection.channel(on_open_callback=on_channel)

    def on_channel(channel: Any) -> None:
        state["channel"] = channel
        channel.queue_declare(
            queue,
            durable=True,
            arguments={"x-queue-type": "quorum"},
            callback=lambda _frame: channel.confirm_delivery(on_confirm, callback=on_select),
        )

    def on_select(_frame: Any) -> None:
        state["declared"] = True
        connection.ioloop.stop()

    def on_confirm(frame: Any) -> None:
        if isinstance(frame.method, pika.spec.Basic.Nack):
            raise RuntimeError("the broker refused a message (nack)")
        state["acked"] = max(state.get("acked", 0), frame.method.delivery_tag)
        if state["acked"] >= state["pending"]:
            connection.ioloop.stop()

    connection = pika.SelectConnection(
        pika.URLParameters(amqp_url),
        on_open_callback=on_open,
        on_close_callback=lambda *_: connection.ioloop.stop(),
    )
    connection.ioloop.start()  # until the queue is declared and confirms are on
    channel = state["channel"]
    properties = pika.BasicProperties(delivery_mode=2)
    latencies = []
    started = time.perf_counter()
    for first in range(0, count, window):
        t0 = time.perf_counter()
        part = bodies[first : first + window]
        for body in part:
            channel.basic_publish("", queue, body, properties, mandatory=True)
        state["pending"] += len(part)
        connection.ioloop.start()  # until every confirm of the window has come
        latencies.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - started
    channel.queue_delete(queue, callback=lambda _frame: connection.close())
    connection.ioloop.start()
    # the latency is a window's (publish all, all confirmed)
    return _rates(count, seconds, latencies) | {
        "window": window,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks mq", description=__doc__)
    parser.add_argument("--messages", type=int, default=2000, help="messages per case")
    parser.add_argument("--amqp", default=os.environ.get("PAYMSG_TEST_AMQP_URL"))
    parser.add_argument(
        "--prefetch", type=int, default=256, help="RabbitMQ consumer prefetch (default 256)"
    )
    parser.add_argument(
        "--senders",
        type=int,
        default=1,
        help="sending threads, each with its own window in flight (default 1)",
    )
    parser.add_argument(
        "--case",
        action="append",
        default=None,
        metavar="TEXT",
        help="run only the cases whose label contains TEXT (repeatable; e.g. 'rabbitmq, "
        "journal fsync', 'embedded', 'pika'); default: every case",
    )
    parser.add_argument("--out", type=Path, default=None, help="result file (JSON)")
    args = parser.parse_args(argv)

    def wanted(label: str) -> bool:
        return args.case is None or any(text in label for text in args.case)

    amqp = args.amqp
    if amqp:
        amqp += ("&" if "?" in amqp else "?") + f"prefetch={args.prefetch}"
    load_before = os.getloadavg()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="paymsg-mq-bench-") as tmp:
        cases = [
            ("embedded, journal fsync", f"sqlite:///{tmp}/q1.db", f"sqlite:///{tmp}/j1.db"),
            (
                "embedded, journal sync=normal",
                f"sqlite:///{tmp}/q2.db",
                f"sqlite:///{tmp}/j2.db?synchronous=normal",
            ),
            (
                "embedded, no fsync anywhere",
                f"sqlite:///{tmp}/q3.db?synchronous=normal",
                f"sqlite:///{tmp}/j3.db?synchronous=normal",
            ),
        ]
        if amqp:
            cases += [
                ("rabbitmq, journal fsync", amqp, f"sqlite:///{tmp}/j4.db"),
                (
                    "rabbitmq, journal sync=normal",
                    amqp,
                    f"sqlite:///{tmp}/j5.db?synchronous=normal",
                ),
            ]
        broker = _broker_pids(args.amqp)
        for label, channel_url, journal_url in cases:
            if not wanted(label):
                continue
            print(f"… {label}", file=sys.stderr)
            on_broker = broker if channel_url == amqp else []
            rows.append(
                {"case": label}
                | session_round_trip(
                    channel_url,
                    journal_url,
                    args.messages,
                    senders=args.senders,
                    broker=on_broker,
                )
            )
        floor = pipelined = None
        if args.amqp and wanted("floor: bare pika, one by one"):
            print("… bare pika, publisher confirms one by one", file=sys.stderr)
            floor = pika_floor(args.amqp, args.messages)
            rows.append({"case": "floor: bare pika, one by one"} | floor)
        if args.amqp and wanted("floor: bare pika, pipelined (200)"):
            print("… bare pika, publisher confirms pipelined", file=sys.stderr)
            pipelined = pika_pipelined_floor(args.amqp, args.messages)
            rows.append({"case": "floor: bare pika, pipelined (200)"} | pipelined)
    for row in rows:
        if row["case"].startswith("rabbitmq"):
            if floor is not None:
                row["ratio_to_pika"] = round(row["msg_per_s"] / floor["msg_per_s"], 3)
            if pipelined is not None:
                row["ratio_to_pika_pipelined"] = round(row["msg_per_s"] / pipelined["msg_per_s"], 3)
    header = (
        f"{'case':36} {'msg/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'/ pika':>7} {'/ pipel':>7}"
        f" {'cpu ms/msg':>10} {'peer':>6} {'broker':>6}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = f"{row['ratio_to_pika']:.2f}" if "ratio_to_pika" in row else "-"
        ratio2 = (
            f"{row['ratio_to_pika_pipelined']:.2f}" if "ratio_to_pika_pipelined" in row else "-"
        )
        cpu = _ms(row.get("cpu_ms_per_msg"))
        print(
            f"{row['case']:36} {row['msg_per_s']:9.1f} {row['p50_ms']:8.2f}"
            f" {row['p99_ms']:8.2f} {ratio:>7} {ratio2:>7} {cpu:>10}"
            f" {_ms(row.get('peer_cpu_ms_per_msg')):>6} {_ms(row.get('broker_cpu_ms_per_msg')):>6}"
        )
    print(
        "cpu ms/msg: the sending process; peer: the echo peer; broker: the RabbitMQ node "
        "(when on this machine)"
    )
    load = [round(x, 2) for x in (*load_before, *os.getloadavg())]
    print(
        f"load average before: {load[0]} {load[1]} {load[2]}; after: {load[3]} {load[4]} {load[5]}"
    )
    when = datetime.now(UTC).isoformat(timespec="seconds")
    result: dict[str, Any] = {
        "load_average_before_after": load,
        "when": when,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "paymsg": paymsg.__version__,
        "mq": rows,
    }
    out = args.out or RESULTS / f"mq-{when.replace(':', '')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"results written to {out}", file=sys.stderr)
    return 0


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
