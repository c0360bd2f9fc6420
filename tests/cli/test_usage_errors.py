"""The installed command (``paymsg.cli:main``) from the outside: a usage error is bad input
like any other — one line on stderr, exit 2 — not click's framed usage message; a group
given no command prints its help once; a reader that goes away ends the output quietly."""

from __future__ import annotations

import subprocess
import sys

import pytest


def paymsg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paymsg.cli", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("journal", "query", "--work-date", "2026-13-01"), "'2026-13-01' is not a date"),
        (("journal", "query", "--bogus"), "No such option: --bogus"),
        (("journal", "show", "abc"), "Invalid value for 'entry_id'"),
        (("inspect",), "Missing argument 'file'"),
        (("nosuch",), "No such command 'nosuch'"),
        (("validate", "x.xml", "--fail-on", "critical"), "'--fail-on': 'critical' is not one of"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(args: tuple[str, ...], says: str) -> None:
    out = paymsg(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ") and says in lines[0] and "--help" in lines[0]


def test_a_group_without_a_command_prints_its_help_once() -> None:
    out = paymsg("mq")
    assert out.returncode == 2 and out.stderr == ""
    assert out.stdout.count("Usage: paymsg mq") == 1 and "send" in out.stdout


def test_a_reader_that_goes_away_ends_the_output_without_an_error() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "paymsg.cli", "schemas", "list", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head -0`: every write meets a closed pipe
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 1 and err == b""


def test_an_exit_code_of_a_command_is_kept() -> None:
    assert paymsg("--version").returncode == 0
    assert paymsg("validate", "/nonexistent/file.xml").returncode == 2


def test_a_filter_with_a_value_no_entry_can_have_is_refused(tmp_path: object) -> None:
    """A misspelt status or scope matched nothing and read as "there are none"."""
    journal = f"sqlite:///{tmp_path}/j.db"
    assert paymsg("journal", "upgrade", "--journal", journal).returncode == 0
    out = paymsg("journal", "query", "--journal", journal, "--status", "setled")
    assert out.returncode == 2 and "'setled' is not a journal status" in out.stderr
    assert paymsg("journal", "query", "--journal", journal, "--status", "settled").returncode == 0
    out = paymsg("reconcile", "breaks", "list", "--journal", journal, "--scope", "HPVS")
    assert out.returncode == 2 and "--scope 'HPVS' is not one of HVPS, BEPS" in out.stderr


def test_sim_status_of_books_that_do_not_exist_is_an_error_and_makes_none(
    tmp_path: object,
) -> None:
    """It made an empty database and printed "business date None", exit 0."""
    from pathlib import Path

    books = Path(str(tmp_path)) / "paymsg-sim.db"
    out = paymsg("sim", "status", "--journal", f"sqlite:///{books}")
    assert out.returncode == 2 and "no centre's books here" in out.stderr
    assert not books.exists()
