"""The README's main job: ``paymsg hub run --day examples/hub/day.toml`` — on the embedded
defaults, and on RabbitMQ + PostgreSQL (``.ci/with-servers``)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest

import paymsg
from paymsg.journal import Journal
from paymsg.transport.faults import FAULT_ENV

ROOT = Path(__file__).resolve().parents[2]
DAY = ROOT / "examples" / "hub" / "day.toml"
BANKS = ("102100099996", "105100000017", "103100000026", "313100000013")


def _server(env: str) -> str:
    url = os.environ.get(env)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{env} is not set: server tests must run in CI")
        pytest.skip(f"{env} is not set (run the tests under .ci/with-servers)")
    return url


def _hub(  # type: ignore[type-arg]
    tmp: Path, *extra: str, fault: str | None = None, rc: int = 0, day: Path = DAY
) -> dict:
    """Run the day; with ``fault``, the run must die of SIGKILL at that session point;
    else it must exit with ``rc``."""
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    if fault is not None:
        env[FAULT_ENV] = fault
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "paymsg.cli",
            "hub",
            "run",
            "--day",
            str(day),
            "--work-dir",
            str(tmp),
            "--json",
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=tmp,
        env=env,
        timeout=300,
    )
    if fault is not None:
        assert out.returncode == -signal.SIGKILL, (fault, out.returncode, out.stderr[-2000:])
        return {}
    assert out.returncode == rc, out.stderr[-2000:]
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _check(report: dict, journal_url: str, tmp: Path) -> None:  # type: ignore[type-arg]
    lines = {c["channel"]: c for c in report["channels"]}
    routed = sum(c["routed"] for c in lines.values()) + report["rejected_by_routing"]
    assert routed == report["payments"] == 200
    hvps, beps, book, xb = lines["HVPS"], lines["BEPS"], lines["BOOK"], lines["XBORDER"]
    assert hvps["routed"] > 0 and beps["routed"] > 0 and book["routed"] > 0 and xb["routed"] > 0
    # every HVPS message went out and settled; every BEPS item was netted in a package
    assert hvps["sent"] == hvps["messages"] == hvps["settled"] == hvps["routed"] - hvps["queued"]
    assert beps["netted"] == beps["routed"] and beps["sent"] == beps["messages"] >= 1
    assert book["booked"] == book["routed"]
    assert all(c["unaccounted"] == 0 for c in lines.values()) and report["shortfalls"] == []
    assert report["rejected_by_routing"] > 0  # the suspended counterparty
    # what the other banks sent us came through the centre, every payment of it
    got = {r["channel"]: r for r in report["received"]}
    assert got["HVPS"]["items"] == got["HVPS"]["sent_by_peers"] > 0
    assert got["BEPS"]["items"] == got["BEPS"]["sent_by_peers"] > 0
    assert {r["system"]: r["ok"] for r in report["reconciliation"]} == {"HVPS": True, "BEPS": True}
    files = sorted((tmp / "xborder").glob("*.xml"))
    assert len(files) == xb["files"] == xb["routed"]
    assert paymsg.parse(files[0]).type == "pacs.008.001.08"
    # the journal holds what the report counts
    with Journal(journal_url, create=False) as journal:
        sent = journal.query(direction="out", mt="hvps.111.001.01")
        assert len(sent) == hvps["messages"] and {e.status for e in sent} == {"settled"}
        assert sum((e.amount or Decimal(0) for e in sent), Decimal(0)) <= Decimal(hvps["amount"])
        packages = journal.query(direction="out", mt="beps.121.001.01")
        assert sum(e.nb_of_txs or 0 for e in packages) == beps["routed"]
        assert journal.query(direction="in", mt="hvps.716.001.01")
        forwarded = journal.query(direction="in", mt="hvps.111.001.01")
        assert len(forwarded) == got["HVPS"]["messages"]
        assert all(e.receiver == "102100099996" and e.status == "delivered" for e in forwarded)
        # each payment message once in the outbox: nothing was sent twice
        keys = [(e.mt, e.msg_id) for e in journal.query(direction="out", sender=BANKS[0])]
        assert len(keys) == len(set(keys)) == hvps["messages"] + beps["messages"]


def test_day_on_the_embedded_defaults(tmp_path: Path) -> None:
    report = _hub(tmp_path)
    _check(report, f"sqlite:///{tmp_path / 'journal.db'}", tmp_path)


#: where the day is killed (the session's fault points, ``paymsg.transport.faults``): a
#: peer bank's first outbox row, before anything of ours is sent; our first outbox rows;
#: in the middle of our puts; a message marked sent but not put; while the saps.604s are
#: delivered; while replies are correlated; near the end, as the pre-reconciliation comes;
#: after the centre ended the day but before our journal has its hvps.716 (the 126th of
#: the 127 messages we receive: the re-run must not end the day twice)
KILLS = (
    "recorded_out:1",
    "recorded_out:9",
    "put:30",
    "marked_sent:45",
    "delivered:20",
    "correlated:40",
    "delivered:64",
    "received:126",
)


@pytest.mark.parametrize("fault", KILLS)
def test_day_killed_anywhere_and_run_again_accounts_for_every_payment(
    tmp_path: Path, fault: str
) -> None:
    """kill -9 in the middle of the day, then the same command again: every payment is
    routed once, sent once, settled or netted, received and reconciled — as if nothing
    had happened. A third run changes nothing."""
    _hub(tmp_path, fault=fault)
    report = _hub(tmp_path)
    _check(report, f"sqlite:///{tmp_path / 'journal.db'}", tmp_path)
    if fault == KILLS[0]:
        again = _hub(tmp_path)
        assert again["channels"] == report["channels"]
        assert again["received"] == report["received"]
        assert again["ruleset_version"] == report["ruleset_version"]


def test_a_payment_whose_message_is_lost_is_not_accounted_for(tmp_path: Path) -> None:
    """A BEPS package that vanished from the journal after it was sent: the next run does
    not send it again (the batcher has it as sent), and says so instead of agreeing."""
    _hub(tmp_path)
    with sqlite3.connect(tmp_path / "journal.db") as db:
        lost = [
            r[0]
            for r in db.execute(
                "SELECT id FROM journal_entries WHERE mt LIKE 'beps.121%' AND direction = 'out'"
            )
        ]
        db.executemany(
            "DELETE FROM journal_status_history WHERE entry_id = ?", [(i,) for i in lost]
        )
        db.executemany("DELETE FROM journal_entries WHERE id = ?", [(i,) for i in lost])
    report = _hub(tmp_path, rc=1)
    beps = next(c for c in report["channels"] if c["channel"] == "BEPS")
    assert beps["unaccounted"] == beps["routed"] > 0 and beps["messages"] == 0
    assert report["shortfalls"] == [
        f"NOT ACCOUNTED FOR on BEPS: {beps['routed']} payments routed there have no message "
        "in the journal"
    ]


def test_messages_set_aside_in_the_quarantine_keep_the_day_open(tmp_path: Path) -> None:
    """A message our session set aside (here: a copy of a forwarded payment's MesgID with
    another text) is named in the report, which exits 1 until someone releases it."""
    _hub(tmp_path)
    journal_url = f"sqlite:///{tmp_path / 'journal.db'}"
    with Journal(journal_url, create=False) as journal:
        forward = journal.query(direction="in", mt="hvps.111.001.01")[0]
        journal.quarantine(
            queue=forward.queue or "IN",
            body=forward.raw.replace(b"<MsgId>", b"<MsgId>X", 1),
            reason="conflicting copy (test)",
        )
    report = _hub(tmp_path, rc=1)
    assert report["shortfalls"] == [
        "quarantined: 1 messages set aside in the journal wait for a person "
        f"(paymsg mq quarantine list --journal {journal_url})"
    ]
    with Journal(journal_url, create=False) as journal:
        (held,) = journal.quarantined()
        journal.release(held.id)
    assert _hub(tmp_path)["shortfalls"] == []


def test_a_day_resumes_only_with_the_rules_it_started_with(tmp_path: Path) -> None:
    """Payments decided under one rule set are not mixed with another's decisions."""
    day = tmp_path / "day.toml"
    rules = tmp_path / "rules.toml"
    rules.write_text((ROOT / "examples/routing/rules.toml").read_text(encoding="utf-8"))
    text = DAY.read_text(encoding="utf-8").replace('"../routing/rules.toml"', f'"{rules}"')
    for name in ("payments", "incoming"):
        text = text.replace(f'"{name}.csv"', f'"{DAY.parent / (name + ".csv")}"')
    text = text.replace('"../routing/facts.toml"', f'"{ROOT / "examples/routing/facts.toml"}"')
    day.write_text(text, encoding="utf-8")
    _hub(tmp_path, day=day, fault=KILLS[2])
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# changed after the crash\n")
    out = subprocess.run(
        [sys.executable, "-m", "paymsg.cli", "hub", "run", "--day", str(day), "--work-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert out.returncode == 3, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert "decided under rule set v1, and the rules file is not that version now" in out.stderr


@pytest.fixture
def pg_urls() -> Iterator[tuple[str, str]]:
    import psycopg

    base = _server("PAYMSG_TEST_POSTGRES_URL")
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    schemas = [f"hub_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    with psycopg.connect(plain, autocommit=True) as conn:
        for s in schemas:
            conn.execute(f'CREATE SCHEMA "{s}"')
    sep = "&" if "?" in base else "?"
    yield tuple(f"{base}{sep}options={quote(f'-csearch_path={s}')}" for s in schemas)  # type: ignore[misc]
    with psycopg.connect(plain, autocommit=True) as conn:
        for s in schemas:
            conn.execute(f'DROP SCHEMA "{s}" CASCADE')


@pytest.fixture
def amqp() -> Iterator[str]:
    import pika

    url = _server("PAYMSG_TEST_AMQP_URL")

    def clean() -> None:
        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        for bank in BANKS:
            for queue in (f"MSGMBFE_1.{bank}", f"MSGTOBANK.{bank}"):
                channel.queue_delete(queue)
        channel.queue_delete("PAYMSG.SIM.CONTROL")
        connection.close()

    clean()
    yield url
    clean()


def test_day_on_rabbitmq_and_postgresql(
    tmp_path: Path, pg_urls: tuple[str, str], amqp: str
) -> None:
    journal_url, books_url = pg_urls
    report = _hub(tmp_path, "--channel", amqp, "--journal", journal_url, "--books", books_url)
    assert report["journal"] == journal_url
    # the broker's password is not printed (the URL names one: guest:guest)
    assert ":***@" in report["channel_url"] and amqp.split("@")[0] not in json.dumps(report)
    _check(report, journal_url, tmp_path)
    assert not (tmp_path / "journal.db").exists()


@pytest.mark.parametrize("fault", ["put:30", "delivered:20"])
def test_day_on_rabbitmq_and_postgresql_killed_and_run_again(
    tmp_path: Path, pg_urls: tuple[str, str], amqp: str, fault: str
) -> None:
    """The same on the real servers: what the broker delivered but the killed process did
    not acknowledge comes again, and the journal on PostgreSQL keeps it once."""
    journal_url, books_url = pg_urls
    servers = ("--channel", amqp, "--journal", journal_url, "--books", books_url)
    _hub(tmp_path, *servers, fault=fault)
    _check(_hub(tmp_path, *servers), journal_url, tmp_path)


def test_a_centre_that_cannot_start_is_reported_before_anything_waits(tmp_path: Path) -> None:
    """Books that cannot be opened: one line naming the cause, exit 3, in seconds (it used
    to surface only after every message had waited for its ccms.990)."""
    out = subprocess.run(
        [sys.executable, "-m", "paymsg.cli", "hub", "run", "--day", str(DAY),
         "--work-dir", str(tmp_path), "--books", f"sqlite:///{tmp_path / 'no' / 'books.db'}"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert out.returncode == 3, out.stderr
    error = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "the centre did not start" in error[0] and "books" in error[0]
    assert out.stderr.strip().splitlines()[-1] == error[0]


def test_bad_day_file_is_one_line_exit_3(tmp_path: Path) -> None:
    bad = tmp_path / "day.toml"
    bad.write_text(
        '[day]\ndate = "2026-13-01"\npayments = "p.csv"\nrules = "r.toml"\nfacts = "f.toml"\n'
    )
    out = subprocess.run(
        [sys.executable, "-m", "paymsg.cli", "hub", "run", "--day", str(bad), "--work-dir", str(tmp_path / "w")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert (
        out.returncode == 3 and "date" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    )


def test_a_second_run_in_the_same_work_directory_is_refused_while_one_runs(
    tmp_path: Path,
) -> None:
    """Two runs of one day at once raced: both stored the rules, sent and moved the same
    payments and ended with errors. While a run holds the work directory, another is
    refused at once and touches nothing (the lock goes with its holder, even on kill -9:
    the kill tests run again in the same directory)."""
    import fcntl

    from paymsg.hub.day import LOCK_FILE

    with (tmp_path / LOCK_FILE).open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("pid 4242\n")
        held.flush()
        out = subprocess.run(
            [sys.executable, "-m", "paymsg.cli", "hub", "run", "--day", str(DAY), "--work-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert out.returncode == 3 and len(out.stderr.strip().splitlines()) == 1
    assert "another paymsg hub run is working in" in out.stderr and "pid 4242" in out.stderr
    assert not (tmp_path / "journal.db").exists()


def test_readme_first_command_runs_this_day() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    assert "pip install ." in first and "paymsg hub run --day examples/hub/day.toml" in first
    assert DAY.exists()
