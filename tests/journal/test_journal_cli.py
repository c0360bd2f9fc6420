"""``paymsg journal``: info, upgrade, query, show, aggregates — tables, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paymsg.cli import app
from paymsg.journal import Journal
from tests.journal.conftest import example, hvps111

runner = CliRunner()


def run(*args: object):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    with Journal(url) as journal:
        sent = journal.record_outbound(hvps111(1, amount="100.10"), queue="OUT")
        journal.set_status(sent.id, "sent")
        journal.record_outbound(hvps111(2, amount="0.90", tx_type="A109"), queue="OUT")
        journal.record_inbound(example("beps.121.001.01/forwarded-by-npc.txt"), queue="IN")
        journal.record_inbound(example("beps.121.001.01/forwarded-by-npc.txt"), queue="IN")
    return url


def test_info(url: str) -> None:
    done = run("journal", "info", "--journal", url, "--json")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["revision"] == data["head"] and data["database"] == "sqlite"
    assert data["counts"] == {"out": {"created": 1, "sent": 1}, "in": {"received": 1}}
    assert data["oldest_unconfirmed"]["id"] == 1
    assert "raw" not in data["oldest_unconfirmed"]
    human = run("journal", "info", "--journal", url)
    assert human.exit_code == 0 and "oldest unconfirmed: entry 1" in human.stdout


def test_query_filters_and_json(url: str) -> None:
    done = run(
        "journal", "query", "--journal", url, "--direction", "out", "--tx-type", "A109", "--json"
    )
    assert done.exit_code == 0, done.output
    (entry,) = json.loads(done.stdout)
    assert (entry["mt"], entry["amount"], entry["status"]) == ("hvps.111.001.01", "0.90", "created")
    both = json.loads(
        run("journal", "query", "--journal", url, "--work-date", "20240315", "--json").stdout
    )
    assert [e["id"] for e in both] == [1, 2, 3]
    assert (
        json.loads(
            run(
                "journal", "query", "--journal", url, "--package", "2024031500217735", "--json"
            ).stdout
        )[0]["copies"]
        == 2
    )
    table = run("journal", "query", "--journal", url, "--system", "BEPS")
    assert table.exit_code == 0 and "1 entries" in table.stdout


def test_show_and_raw(url: str) -> None:
    done = run("journal", "show", "1", "--journal", url, "--json")
    data = json.loads(done.stdout)
    assert [h["to_status"] for h in data["history"]] == ["created", "sent"]
    raw = run("journal", "show", "3", "--journal", url, "--raw")
    assert raw.stdout_bytes == example("beps.121.001.01/forwarded-by-npc.txt")


def test_aggregates(url: str) -> None:
    done = run(
        "journal",
        "aggregates",
        "--journal",
        url,
        "--work-date",
        "2024-03-15",
        "--system",
        "HVPS",
        "--json",
    )
    rows = json.loads(done.stdout)
    assert [(r["tx_type"], r["status"], r["count"], r["amount"]) for r in rows] == [
        ("A100", "sent", 1, "100.10"),
        ("A109", "created", 1, "0.90"),
    ]


def test_errors_are_one_line_with_exit_codes(url: str, tmp_path: Path) -> None:
    missing = run("journal", "show", "99", "--journal", url)
    assert missing.exit_code == 3 and "no journal entry with id 99" in missing.output
    assert "Traceback" not in missing.output
    absent = tmp_path / "absent.db"
    nothing = run("journal", "info", "--journal", f"sqlite:///{absent}")
    assert nothing.exit_code == 3 and "there is no database file" in nothing.output
    assert not absent.exists()  # reading never creates a journal
    created = run("journal", "upgrade", "--journal", f"sqlite:///{absent}")
    assert created.exit_code == 0 and "schema revision" in created.stdout and absent.exists()
    bad_date = run("journal", "query", "--journal", url, "--work-date", "2024/3/1")
    assert bad_date.exit_code == 2 and "is not a date" in bad_date.output
    bad_direction = run("journal", "query", "--journal", url, "--direction", "up")
    assert bad_direction.exit_code == 2
    bad_url = run("journal", "info", "--journal", "mysql://u:secret@h/db")
    assert bad_url.exit_code == 3 and "unsupported database" in bad_url.output
    assert "secret" not in bad_url.output
