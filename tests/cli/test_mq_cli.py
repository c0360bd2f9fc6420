"""``paymsg mq …`` from the outside: send, listen, status, replay, quarantine, config, echo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import paymsg
from paymsg.cli import app
from paymsg.journal import Journal
from paymsg.transport import open_channel
from paymsg.transport.echo import run_echo
from tests.transport.test_session import BANK, OTHER, hvps111

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def run(*args: object, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False, env=env)


@pytest.fixture
def where(tmp_path: Path) -> dict[str, str]:
    return {
        "channel": f"sqlite:///{tmp_path / 'mq.db'}",
        "journal": f"sqlite:///{tmp_path / 'journal.db'}?synchronous=normal",
    }


@pytest.fixture
def peer(where: dict[str, str]) -> Iterator[None]:
    stop = threading.Event()

    def serve() -> None:
        with open_channel(where["channel"]) as channel:
            run_echo(channel, in_queue="MBFE", out_queue="BANK", stop=stop, poll_interval=0.02)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()


def _files(tmp_path: Path, count: int, **options: Any) -> list[Path]:
    paths = []
    for i in range(count):
        path = tmp_path / f"m{i}.txt"
        path.write_bytes(hvps111(i, **options))
        paths.append(path)
    return paths


def _send_args(where: dict[str, str]) -> list[str]:
    return [
        "--channel",
        where["channel"],
        "--journal",
        where["journal"],
        "--queue",
        "MBFE",
        "--reply-queue",
        "BANK",
    ]


def test_send_confirms_every_file_and_status_counts_them(
    tmp_path: Path, where: dict[str, str], peer: None
) -> None:
    files = _files(tmp_path, 3)
    result = run("mq", "send", *files, *_send_args(where), "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["status"] for r in rows] == ["confirmed"] * 3 and all(r["ok"] for r in rows)
    status = run("mq", "status", "--journal", where["journal"], "--json")
    assert status.exit_code == 0
    data = json.loads(status.stdout)
    assert data["out"] == {"confirmed": 3} and data["oldest_unconfirmed"] is None
    human = run("mq", "status", "--journal", where["journal"])
    assert "confirmed" in human.stdout and "outbox" in human.stdout


def test_send_exits_1_when_no_990_comes(tmp_path: Path, where: dict[str, str]) -> None:
    files = _files(tmp_path, 1)
    result = run(
        "mq", "send", *files, *_send_args(where), "--timeout", "0.05", "--resend", "1", "--json"
    )
    assert result.exit_code == 1
    (row,) = json.loads(result.stdout)
    assert row["status"] == "timed_out" and row["puts"] == 2
    status = json.loads(run("mq", "status", "--journal", where["journal"], "--json").stdout)
    assert status["out"] == {"timed_out": 1}
    assert status["oldest_unconfirmed"]["mesg_id"] == row["mesg_id"]


def test_replay_and_relay_send_again(tmp_path: Path, where: dict[str, str]) -> None:
    files = _files(tmp_path, 1)
    assert (
        run(
            "mq", "send", *files, *_send_args(where), "--timeout", "0.05", "--resend", "0"
        ).exit_code
        == 1
    )
    stop = threading.Event()

    def serve() -> None:
        with open_channel(where["channel"]) as channel:
            run_echo(channel, in_queue="MBFE", out_queue="BANK", stop=stop, poll_interval=0.02)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        replay = run(
            "mq",
            "replay",
            "T0000000000000000000",
            "--participant",
            BANK,
            *_send_args(where),
            "--json",
        )
        assert replay.exit_code == 0, replay.output
        assert json.loads(replay.stdout)[0]["status"] == "confirmed"
        again = run(
            "mq", "replay", "T0000000000000000000", "--participant", BANK, *_send_args(where)
        )
        assert again.exit_code == 3 and "already" in again.output
        relay = run("mq", "relay", *_send_args(where), "--json")
        assert relay.exit_code == 0 and json.loads(relay.stdout) == []
    finally:
        stop.set()
        thread.join()


def test_send_refuses_an_invalid_message_with_exit_1(tmp_path: Path, where: dict[str, str]) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(
        hvps111(1).replace(b"<Ccy>CNY</Ccy>", b"<Ccy>XXX</Ccy>").replace(b'Ccy="CNY"', b'Ccy="USD"')
    )
    good = tmp_path / "good.txt"
    good.write_bytes(hvps111(2))
    result = run("mq", "send", good, bad, *_send_args(where))
    assert result.exit_code == 1
    assert "not sent" in result.output and "validation error" in result.output
    assert "bad.txt" in result.output  # which of the files (nothing of the batch is sent)


def test_listen_answers_delivers_to_the_handler_and_quarantines_poison(
    tmp_path: Path, where: dict[str, str]
) -> None:
    handler = tmp_path / "app.py"
    out = tmp_path / "delivered.txt"
    handler.write_text(
        "def on_message(entry, conn):\n"
        f"    with open({str(out)!r}, 'a') as f:\n"
        "        f.write(entry.mesg_id + '\\n')\n"
    )
    with open_channel(where["channel"]) as channel:
        channel.declare("BANK")
        for i in range(2):
            channel.put("BANK", hvps111(i, sender=OTHER, prefix="L"))
        channel.put("BANK", hvps111(5, sender=OTHER, prefix="L").replace(b"</Document>", b"</Doc>"))
    args = [
        "--channel",
        where["channel"],
        "--journal",
        where["journal"],
        "--queue",
        "BANK",
        "--reply-queue",
        "MBFE",
    ]
    result = run(
        "mq",
        "listen",
        *args,
        "--participant",
        BANK,
        "--handler",
        f"{handler}:on_message",
        "--max-messages",
        "3",
        "--json",
    )
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["received"] == 3 and stats["answered"] == 3 and stats["delivered"] == 2
    assert out.read_text().split() == ["L0000000000000000000", "L0000000000000000001"]
    with open_channel(where["channel"]) as channel:
        assert channel.depth("MBFE") == 3  # two success 990s and one error 990

    held = run("mq", "quarantine", "list", "--journal", where["journal"], "--json")
    (record,) = json.loads(held.stdout)
    assert record["entry_id"] is not None and "L0000000000000000005" in record["head"]
    retried = run("mq", "quarantine", "retry", record["id"], *args[:6], "--json")
    assert retried.exit_code == 0, retried.output
    assert (
        json.loads(run("mq", "quarantine", "list", "--journal", where["journal"], "--json").stdout)
        == []
    )
    with open_channel(where["channel"]) as channel:
        assert channel.depth("BANK") == 1  # back on the queue, to be read again
    missing = run("mq", "quarantine", "retry", "99", *args[:6])
    assert missing.exit_code == 3 and "no quarantined message" in missing.output


def test_quarantine_release_marks_a_message_dealt_with_without_processing_it(
    tmp_path: Path,
) -> None:
    journal_url = f"sqlite:///{tmp_path / 'journal.db'}"
    with Journal(journal_url) as journal:
        held = journal.quarantine(queue="BANK", body=b"{H:not a header", reason="looked at")
    released = run("mq", "quarantine", "release", str(held), "--journal", journal_url, "--json")
    assert released.exit_code == 0, released.output
    assert json.loads(released.stdout) == {"released": held}
    listed = run("mq", "quarantine", "list", "--journal", journal_url, "--json", "--released")
    assert [r["id"] for r in json.loads(listed.stdout)] == [held]
    assert (
        json.loads(run("mq", "quarantine", "list", "--journal", journal_url, "--json").stdout) == []
    )
    again = run("mq", "quarantine", "release", str(held), "--journal", journal_url)
    assert again.exit_code == 3 and "released" in again.output


def test_config_check_reads_toml_then_environment(tmp_path: Path) -> None:
    settings = tmp_path / "mq.toml"
    settings.write_text(
        '[mq]\nchannel = "amqp://bank:secret@127.0.0.1:5672/%2F"\nparticipant = "102100099996"\n'
        'confirm_timeout = 30\n[mq.codes]\nbody_unreadable = "XX1E0002"\n'
    )
    result = run(
        "mq",
        "config",
        "check",
        "--config",
        settings,
        "--json",
        env={"PAYMSG_MQ_RESEND": "5", "PAYMSG_MQ_OUT_QUEUE": "MSGMBFE_1"},
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["channel"] == "amqp://bank:***@127.0.0.1:5672/%2F"  # password masked
    assert (data["participant"], data["confirm_timeout"], data["resend"]) == (
        "102100099996",
        30.0,
        5,
    )
    assert data["codes"]["body_unreadable"] == "XX1E0002" and data["out_queue"] == "MSGMBFE_1"


@pytest.mark.parametrize(
    ("content", "env", "message"),
    [
        ('[mq]\nchannel = "ftp://x"\n', {}, "not a channel URL"),
        ('[mq]\nparticipant = "12345"\n', {}, "12-digit bank code"),
        ("[mq\n", {}, "not valid TOML"),
        ("", {"PAYMSG_MQ_CONFIRM_TIMEOUT": "soon"}, "confirm_timeout"),
        ("", {"PAYMSG_MQ_NO_SUCH": "1"}, "unknown setting PAYMSG_MQ_NO_SUCH"),
        ('[mq]\nin_queue = "MSG-TO-BANK"\n', {}, "in_queue"),
    ],
)
def test_config_check_names_the_bad_setting(
    tmp_path: Path, content: str, env: dict[str, str], message: str
) -> None:
    settings = tmp_path / "mq.toml"
    settings.write_text(content)
    result = run("mq", "config", "check", "--config", settings, env=env)
    assert result.exit_code == 3
    assert message in result.output and "Traceback" not in result.output
    # the error names where the bad value came from: the file, or the variable
    assert ("environment" if env else "mq.toml") in result.output


def test_the_installed_command_runs_echo_and_send_as_separate_processes(
    tmp_path: Path, where: dict[str, str]
) -> None:
    """The real entry point, two processes: ``paymsg mq echo`` answers ``paymsg mq send``."""
    paymsg_bin = str(Path(sys.executable).with_name("paymsg"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYMSG_MQ_", "PAYMSG_FAULT"))}
    echo = subprocess.Popen(
        [
            paymsg_bin,
            "mq",
            "echo",
            "--channel",
            where["channel"],
            "--queue",
            "MBFE",
            "--reply-queue",
            "BANK",
            "--idle-exit",
            "20",
            "--max-messages",
            "2",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        sent = subprocess.run(
            [
                paymsg_bin,
                "mq",
                "send",
                *map(str, _files(tmp_path, 2)),
                *_send_args(where),
                "--timeout",
                "30",
                "--json",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert sent.returncode == 0, sent.stderr
        assert [r["status"] for r in json.loads(sent.stdout)] == ["confirmed", "confirmed"]
        out, _ = echo.communicate(timeout=60)
        assert echo.returncode == 0 and json.loads(out)["answered"] == 2
    finally:
        if echo.poll() is None:
            echo.kill()
            echo.wait()
    bad = subprocess.run(
        [
            paymsg_bin,
            "mq",
            "send",
            str(tmp_path / "m0.txt"),
            "--channel",
            "nope",
            "--journal",
            where["journal"],
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert bad.returncode == 3 and len(bad.stderr.strip().splitlines()) == 1
    assert "channel" in bad.stderr and "Traceback" not in bad.stderr


def test_parsed_replies_are_990s() -> None:
    # guard for the helpers above: the test texts are valid CNAPS2 messages
    assert paymsg.validate(hvps111(0)).ok


def test_listen_stops_cleanly_on_sigterm(tmp_path: Path, where: dict[str, str]) -> None:
    import signal
    import time

    paymsg_bin = str(Path(sys.executable).with_name("paymsg"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYMSG_MQ_", "PAYMSG_FAULT"))}
    with open_channel(where["channel"]) as channel:
        channel.declare("BANK")
        channel.declare("MBFE")
        channel.put("BANK", hvps111(1, sender=OTHER, prefix="Z"))
    listener = subprocess.Popen(
        [
            paymsg_bin,
            "mq",
            "listen",
            "--channel",
            where["channel"],
            "--journal",
            where["journal"],
            "--queue",
            "BANK",
            "--reply-queue",
            "MBFE",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        with open_channel(where["channel"]) as channel:
            for _ in range(600):  # until the message is answered
                if channel.depth("MBFE") == 1:
                    break
                time.sleep(0.05)
        listener.send_signal(signal.SIGTERM)
        out, err = listener.communicate(timeout=60)
    finally:
        if listener.poll() is None:
            listener.kill()
            listener.wait()
    assert listener.returncode == 0, err
    assert json.loads(out)["answered"] == 1


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        ("no_such_module_paymsg:run", "cannot import handler module"),
        ("json:no_such_function", "has no function"),
        ("missing-file.py:run", "not found"),
        ("no-colon", "MODULE:FUNCTION"),
    ],
)
def test_listen_names_a_bad_handler(where: dict[str, str], handler: str, message: str) -> None:
    args = [
        "--channel",
        where["channel"],
        "--journal",
        where["journal"],
        "--queue",
        "BANK",
        "--reply-queue",
        "MBFE",
    ]
    result = run("mq", "listen", *args, "--handler", handler, "--once")
    assert result.exit_code == 3 and message in result.output
    if handler == "no-colon":  # a setting's error says where it came from
        assert "command line: setting 'handler'" in result.output
