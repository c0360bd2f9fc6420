"""``paymsg sim`` as a user runs it: a centre process, ``paymsg mq send`` against it, the
control commands, error exits, and a centre killed with SIGKILL mid-stream."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from paymsg.cli import app
from paymsg.sim.books import Books
from paymsg.transport import open_channel

from .conftest import A, B, beps, header_of, hvps

PAYMSG = [sys.executable, "-m", "paymsg.cli"]


def _paymsg(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PAYMSG, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def _centre(tmp: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *PAYMSG,
            "sim",
            "run",
            "--channel",
            "sqlite:///mq.db",
            "--journal",
            "sqlite:///sim.db",
            "-p",
            A,
            "-p",
            f"{B}:IN.B:OUT.B",
            "--no-live",
            "--json",
            *extra,
        ],
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(condition: Callable[[], bool], what: str, timeout: float = 40.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _scenario(tmp: Path) -> Path:
    path = tmp / "scenario.toml"
    path.write_text(
        '[clock]\nstart = "2026-12-07T09:00:00"\n\n[participants.102100099996]\nbalance = "5000.00"\n',
        encoding="utf-8",
    )
    return path


def test_run_with_mq_send_round_close_and_stop(tmp_path: Path) -> None:
    (tmp_path / "pay.txt").write_bytes(hvps(A, B, "1000.00"))
    (tmp_path / "package.txt").write_bytes(beps(A, B, ("10.00", "5.00")))
    centre = _centre(tmp_path, "--scenario", str(_scenario(tmp_path)), "--events", "events.jsonl")
    try:
        sent = _paymsg(
            "mq", "send", "pay.txt", "package.txt",
            "--channel", "sqlite:///mq.db",
            "--queue", f"MSGMBFE_1.{A}", "--reply-queue", f"MSGTOBANK.{A}",
            "--journal", "sqlite:///bank-a.db", "--participant", A,
            "--timeout", "20", "--json",
            cwd=tmp_path,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        results = json.loads(sent.stdout)
        rows = results if isinstance(results, list) else results.get("results", results)
        assert {r["status"] for r in rows} == {"confirmed"}
        closed = _paymsg("sim", "round-close", "--channel", "sqlite:///mq.db", cwd=tmp_path)
        assert closed.returncode == 0, closed.stderr
        _wait(
            lambda: '"round_closed"' in (tmp_path / "events.jsonl").read_text(encoding="utf-8"),
            "the round to close",
        )
        stopped = _paymsg("sim", "stop", "--channel", "sqlite:///mq.db", cwd=tmp_path)
        assert stopped.returncode == 0
        out, err = centre.communicate(timeout=60)
    finally:
        if centre.poll() is None:
            centre.kill()
    assert centre.returncode == 0, err
    status = json.loads(out)
    a = next(p for p in status["participants"] if p["bank"] == A)
    assert (a["settled"], a["netted"], a["balance"]) == (1, 1, "3985.00")
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert {"received", "settled", "accepted", "netted", "round_closed"} <= {
        e["event"] for e in events
    }
    # B got the forwards on its own OUT queue
    with open_channel(f"sqlite:///{tmp_path / 'mq.db'}") as channel:
        assert channel.depth("OUT.B") == 2
    shown = _paymsg("sim", "status", "--journal", "sqlite:///sim.db", "--json", cwd=tmp_path)
    assert shown.returncode == 0
    balances = {p["bank"]: p["balance"] for p in json.loads(shown.stdout)["participants"]}
    assert balances[A] == "3985.00"


def _in_process(tmp: Path, *args: str) -> Any:
    """Run a command in this process (typer's runner): no interpreter start-up."""
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        return CliRunner().invoke(app, list(args), catch_exceptions=False)
    finally:
        os.chdir(cwd)


def test_bad_input_is_one_line_and_the_documented_exit(tmp_path: Path) -> None:
    bad = _in_process(tmp_path, "sim", "run", "-p", "12345", "--duration", "1")
    assert bad.exit_code == 2
    assert bad.stderr.count("\n") == 1 and "12-digit" in bad.stderr
    (tmp_path / "bad.toml").write_text("[hvps]\nshort_balance = 'maybe'\n", encoding="utf-8")
    bad = _in_process(tmp_path, "sim", "run", "-p", A, "--scenario", "bad.toml", "--duration", "1")
    assert bad.exit_code == 3
    assert bad.stderr.count("\n") == 1 and "hvps.short_balance" in bad.stderr
    bad = _in_process(tmp_path, "sim", "round-close", "--channel", "nonsense")
    assert bad.exit_code == 3 and "channel URL" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize(("batch", "count"), [("1", 300), ("10", 800)])
def test_killed_centre_restarts_and_loses_nothing(tmp_path: Path, batch: str, count: int) -> None:
    """Killed one message per transaction, or in the middle of batches (the rows of a
    batch written together, one put per queue, one ack for the batch)."""
    texts = [hvps(A, B, f"{n}.00") for n in range(1, count + 1)]
    with open_channel(f"sqlite:///{tmp_path / 'mq.db'}") as channel:
        channel.declare(f"MSGMBFE_1.{A}")
        channel.put_many(f"MSGMBFE_1.{A}", texts)
    scenario = str(_scenario(tmp_path).with_name("big.toml"))
    Path(scenario).write_text('[clock]\nstart = "2026-12-07T09:00:00"\n', encoding="utf-8")
    centre = _centre(tmp_path, "--scenario", scenario, "--batch", batch)
    books_url = f"sqlite:///{tmp_path / 'sim.db'}"

    def settled() -> int:
        if not (tmp_path / "sim.db").exists():
            return 0
        books = Books(books_url)
        try:
            return len(books.payments(status="PR04"))
        finally:
            books.close()

    _wait(lambda: settled() >= 3, "a few payments")
    os.kill(centre.pid, signal.SIGKILL)  # mid-stream, at whatever point it is
    centre.wait(timeout=30)
    assert settled() < count
    centre = _centre(tmp_path, "--scenario", scenario)
    try:
        _wait(lambda: settled() == count, "every payment after the restart")
        _paymsg("sim", "stop", "--channel", "sqlite:///mq.db", cwd=tmp_path)
        centre.communicate(timeout=60)
    finally:
        if centre.poll() is None:
            centre.kill()
    books = Books(books_url)
    try:
        assert len(books.payments()) == count  # each settled once
        assert books.balances()[B] - books.balances()[A] == 2 * sum(range(1, count + 1))
    finally:
        books.close()
    answered: set[str] = set()
    forwards: set[str] = set()
    with open_channel(f"sqlite:///{tmp_path / 'mq.db'}") as channel:
        while (d := channel.get(f"MSGTOBANK.{A}")) is not None:
            if b"ccms.990" in d.body[:100]:
                answered.add(d.body.split(b"<MsgId>")[1].split(b"</MsgId>")[0].decode())
            channel.ack(d)
        while (d := channel.get("OUT.B")) is not None:
            forwards.add(header_of(d.body).mesg_id)
            channel.ack(d)
    assert answered == {header_of(t).mesg_id for t in texts}  # every message got its 990
    assert len(forwards) == count  # and was forwarded (copies carry the same MesgID)


def test_live_view_and_duration(tmp_path: Path) -> None:
    done = _in_process(
        tmp_path,
        "sim", "run", "-p", A, "-p", B, "--live", "--duration", "1.5",
        "--channel", "sqlite:///mq.db", "--journal", "sqlite:///sim.db",
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert "CNAPS2 centre" in done.stdout and A in done.stdout
