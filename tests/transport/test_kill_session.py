"""Crash tests: receiving and sending processes killed with SIGKILL at named points.

One driver process (this file run as a script) imports paymsg once and then forks one
child per run: each child opens its own channel, journal and session, arms
``PAYMSG_FAULT=point:n`` and is killed by SIGKILL by the session's fault hook the n-th
time it reaches that point - no cleanup, no ``finally``, like ``kill -9``. The next child
is the restart. A last child runs without a fault, and the test then checks the books
from outside: every message delivered to the handler exactly once (the handler writes a
row through the journal's transaction), every copy answered with a ccms.990, every
outbox entry confirmed, nothing on a dead-letter queue.

Forking from one driver instead of starting a fresh interpreter per run keeps 50+
restarts within seconds; each child is still a separate process killed for real.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
OTHER = ("313290000017", "105100000017")
BANK = "102100099996"

#: kill points of the receiving process, in the order a message meets them
RECEIVE_POINTS = (
    "received",
    "recorded",
    "answered",
    "acked",
    "in_handler",
    "handler_done",
    "delivered",
)
#: kill points of the sending process (the last two are in its consumer of 990s)
SEND_POINTS = ("recorded_out", "marked_sent", "put", "confirmation_recorded", "correlated")


# --------------------------------------------------------------------------- the driver


def _texts(count: int, prefix: str, senders: tuple[str, ...]) -> list[bytes]:
    import paymsg
    from paymsg import cnaps2

    base = paymsg.parse(
        ROOT / "examples/cnaps2/hvps.111.001.01/customer-transfer-urgent.xml",
        type="hvps.111.001.01",
    )
    texts = []
    for index in range(count):
        document = copy.deepcopy(base.document)
        document.fito_ficstmr_cdt_trf.grp_hdr.msg_id = f"20240315{index:08d}"
        sender = senders[index % len(senders)]
        message = cnaps2.wrap(
            document, type="hvps.111.001.01", sender=sender, mesg_id=f"{prefix}{index:019d}"[:20]
        )
        texts.append(paymsg.serialize(message))
    return texts


def _handler(entry: Any, conn: Any) -> None:
    """The application: one row per delivery, written in the delivery's transaction."""
    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS app_effects (mesg_id TEXT, sender TEXT)")
    conn.exec_driver_sql("INSERT INTO app_effects VALUES (?, ?)", (entry.mesg_id, entry.sender))


def _fork(run: Any, fault: str | None) -> str:
    """Run ``run()`` in a forked child with ``fault`` armed: 'killed' or 'finished'."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into the driver's code
        code = 1
        try:
            from paymsg.transport.faults import FAULT_ENV

            if fault:
                os.environ[FAULT_ENV] = fault
            else:
                os.environ.pop(FAULT_ENV, None)
            run()
            code = 0
        except BaseException as exc:
            sys.stderr.write(f"child failed: {type(exc).__name__}: {exc}\n")
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return "killed"
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return "finished"
    raise RuntimeError(f"child {pid} ended with status {status} under fault {fault}")


def _session(args: dict[str, Any], **options: Any) -> Any:
    from paymsg.journal import Journal
    from paymsg.transport import open_channel
    from paymsg.transport.session import Cnaps2Session

    url = args["channel"]
    return Cnaps2Session(
        lambda: open_channel(url),
        Journal(args["journal"]),
        participant=BANK,
        poll_interval=0.02,
        **options,
    )


def drive_receive(args: dict[str, Any]) -> dict[str, Any]:
    from paymsg.transport import open_channel

    distinct = _texts(args["messages"], "K", OTHER)
    copies = list(distinct)
    for index in range(0, len(distinct), 5):  # duplicates, interleaved later in the stream
        copies.insert(min(len(copies), index * 2 + 7), distinct[index])
    with open_channel(args["channel"]) as channel:
        channel.declare(args["queue"])
        channel.declare(args["reply"])
        for text in copies:
            channel.put(args["queue"], text)

    def listen() -> None:
        with _session(
            args, out_queue=args["reply"], in_queue=args["queue"], handler_retry_delay=0.0
        ) as session:
            session.listen(_handler, idle_exit=args["idle"])

    outcomes: list[tuple[str, str]] = []
    for run in range(args["runs"]):
        fault = (
            f"{RECEIVE_POINTS[run % len(RECEIVE_POINTS)]}:{1 + (run // len(RECEIVE_POINTS)) % 4}"
        )
        outcomes.append((fault, _fork(listen, fault)))
    outcomes.append(("none", _fork(listen, None)))
    return {"copies": len(copies), "outcomes": outcomes}


def drive_send(args: dict[str, Any]) -> dict[str, Any]:
    from paymsg.transport import open_channel
    from paymsg.transport.echo import run_echo

    texts = _texts(args["messages"], "S", (BANK,))
    url = args["channel"]
    echo = os.fork()
    if echo == 0:  # the peer answering every message with a 990, for the whole test
        try:
            with open_channel(url) as channel:
                run_echo(
                    channel, in_queue=args["queue"], out_queue=args["reply"], poll_interval=0.02
                )
        finally:
            os._exit(0)

    batch = args["batch"]
    current = {"run": 0}

    def send() -> None:
        run = current["run"]
        mine = texts if run < 0 else texts[run * batch : (run + 1) * batch]
        with _session(
            args,
            out_queue=args["queue"],
            in_queue=args["reply"],
            validate=False,
            confirm_timeout=args["timeout"],
            resend=5,
            resend_backoff=1.0,
        ) as session:
            session.resume()  # the restart step: what a crash left unconfirmed
            results = session.send_many(mine)
            if any(r.status != "confirmed" for r in results):
                raise RuntimeError("not every message was confirmed")

    outcomes: list[tuple[str, str]] = []
    try:
        for run in range(args["runs"]):
            current["run"] = run
            fault = f"{SEND_POINTS[run % len(SEND_POINTS)]}:{1 + run % batch}"
            outcomes.append((fault, _fork(send, fault)))
        current["run"] = -1  # the last restart sends everything: nothing is added twice
        outcomes.append(("none", _fork(send, None)))
    finally:
        os.kill(echo, signal.SIGKILL)
        os.waitpid(echo, 0)
    return {"outcomes": outcomes}


def run_driver(kind: str, **args: Any) -> dict[str, Any]:
    """Run the driver in a fresh interpreter (the test process never forks)."""
    done = subprocess.run(
        [sys.executable, __file__, kind, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "PAYMSG_FAULT"},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- checks


def _drain(url: str, queue: str) -> list[bytes]:
    from paymsg.transport import open_channel

    bodies = []
    with open_channel(url) as channel:
        while (
            delivery := channel.get(queue, 0.2 if not url.startswith("sqlite") else 0.0)
        ) is not None:
            bodies.append(delivery.body)
            channel.ack(delivery)
    return bodies


def _depth(url: str, queue: str) -> int:
    from paymsg.transport import open_channel

    with open_channel(url) as channel:
        channel.declare(queue)
        return channel.depth(queue)


def _channel_urls(tmp_path: Path) -> list[tuple[str, str]]:
    return [("sqlite", f"sqlite:///{tmp_path / 'mq.db'}?delivery_limit=1000")]


@pytest.fixture(params=["sqlite", "rabbitmq"])
def channel_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mq.db'}?delivery_limit=1000"
    from tests.transport.conftest import amqp_url

    return amqp_url()


def test_receiver_killed_at_56_points_delivers_each_message_once_and_answers_every_copy(
    tmp_path: Path, channel_url: str
) -> None:
    import paymsg
    from paymsg.journal import Journal

    run_id = uuid.uuid4().hex[:8]
    queue, reply = f"IN_{run_id}", f"OUT_{run_id}"
    journal_url = f"sqlite:///{tmp_path / 'journal.db'}?synchronous=normal"
    result = run_driver(
        "receive",
        channel=channel_url,
        journal=journal_url,
        queue=queue,
        reply=reply,
        messages=90,
        runs=56,
        idle=0.3,
    )
    killed = [fault for fault, outcome in result["outcomes"] if outcome == "killed"]
    assert len(killed) >= 50, result["outcomes"]
    assert {fault.split(":")[0] for fault in killed} == set(RECEIVE_POINTS)

    journal = Journal(journal_url)
    with journal.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT mesg_id FROM app_effects").all()
    delivered = Counter(r[0] for r in rows)
    expected = {f"K{i:019d}" for i in range(90)}
    assert set(delivered) == expected, "a message was never delivered"
    assert max(delivered.values()) == 1, "a message was delivered twice"
    assert journal.status_counts()["in"] == {"delivered": 90}
    assert journal.pending_deliveries() == []

    answers = Counter(
        paymsg.parse(body).document.com_conf.conf_inf.msg_id for body in _drain(channel_url, reply)
    )
    # every copy put was answered: a copy redelivered after a kill is answered again
    put = {f"K{i:019d}": 2 if i % 5 == 0 else 1 for i in range(90)}
    assert sum(put.values()) == result["copies"]
    for mesg_id, count in put.items():
        assert answers[mesg_id] >= count, mesg_id
    assert sum(answers.values()) >= result["copies"]
    # and the inbox counted every copy it recorded (at least the ones put)
    recorded = {e.mesg_id: e.copies for e in journal.query(direction="in")}
    assert all(recorded[m] >= n for m, n in put.items())
    assert _depth(channel_url, queue) == 0 and _depth(channel_url, f"{queue}.dlq") == 0


def test_sender_killed_at_40_points_ends_with_every_outbox_entry_confirmed(
    tmp_path: Path, channel_url: str
) -> None:
    from paymsg.journal import Journal

    run_id = uuid.uuid4().hex[:8]
    queue, reply = f"MBFE_{run_id}", f"BANK_{run_id}"
    journal_url = f"sqlite:///{tmp_path / 'journal.db'}?synchronous=normal"
    result = run_driver(
        "send",
        channel=channel_url,
        journal=journal_url,
        queue=queue,
        reply=reply,
        messages=160,
        runs=40,
        batch=4,
        timeout=3.0,
    )
    killed = [fault for fault, outcome in result["outcomes"] if outcome == "killed"]
    assert len(killed) >= 30, result["outcomes"]
    assert {fault.split(":")[0] for fault in killed} == set(SEND_POINTS)
    assert result["outcomes"][-1] == ["none", "finished"]

    journal = Journal(journal_url)
    outbox = journal.query(direction="out")
    assert sorted(e.mesg_id for e in outbox) == [f"S{i:019d}" for i in range(160)]
    assert {e.status for e in outbox} == {"confirmed"}
    assert sum(e.resent for e in outbox) > 0  # some were put again after a crash
    assert _depth(channel_url, f"{queue}.dlq") == 0


if __name__ == "__main__":
    kind, raw = sys.argv[1], json.loads(sys.argv[2])
    summary = drive_receive(raw) if kind == "receive" else drive_send(raw)
    print(json.dumps(summary))
