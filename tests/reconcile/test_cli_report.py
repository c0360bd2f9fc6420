"""``paymsg reconcile`` from the command line, and the HTML report in a real headless
Chromium: the page renders and shows the same open-break count as ``--json``."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paymsg.cli import app
from paymsg.journal import Journal
from tests.reconcile.conftest import details_713, hvps111, summary_711

runner = CliRunner()
MT = "hvps.111.001.01"


def run(*args: object):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _day(tmp_path: Path) -> tuple[str, list[Path]]:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    with Journal(url) as journal:
        for n, amount in [(1, "100.00"), (2, "250.00")]:
            entry = journal.record_outbound(hvps111(n, amount=amount), queue="MSGMBFE_1")
            for status in ("sent", "confirmed", "settled"):
                journal.set_status(entry.id, status)
    listed = [
        ("2024031500000001", D("100.00")),
        ("2024031500000002", D("200.00")),
        ("2024031500000003", D("5.00")),
    ]
    summary = tmp_path / "711.xml"
    summary.write_bytes(summary_711([(MT, "A100", 3, D("305.00"), 0, D("0"), "PR04")]))
    details = tmp_path / "713.xml"
    details.write_bytes(details_713([(MT, "A100", "SR00", "PR04", listed)]))
    return url, [summary, details]


def test_file_json_csv_html_and_exit_codes(tmp_path: Path) -> None:
    url, files = _day(tmp_path)
    html, table = tmp_path / "r.html", tmp_path / "r.csv"
    result = run(
        "reconcile", "file", *files, "--journal", url, "--json", "--html", html, "--csv", table
    )
    assert result.exit_code == 1, result.output  # breaks remain
    data = json.loads(result.output)
    assert data["open_breaks"] == 2
    assert sorted(b["kind"] for b in data["breaks"]) == ["amount_differs", "missing_here"]
    assert {b["amount"] for b in data["breaks"]} == {"200.00", "5.00"}  # strings, never floats
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert sorted(r["kind"] for r in rows) == ["amount_differs", "missing_here"]
    page = html.read_text(encoding="utf-8")
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert 'id="open-breaks">2<' in page and "<svg" in page

    listed = run("reconcile", "breaks", "list", "--journal", url, "--status", "open", "--json")
    assert listed.exit_code == 1
    ids = {b["kind"]: b["id"] for b in json.loads(listed.output)}
    for kind in ids:
        accepted = run(
            "reconcile",
            "breaks",
            "accept",
            ids[kind],
            "--note",
            "agreed with the NPC",
            "--journal",
            url,
        )
        assert accepted.exit_code == 0, accepted.output
    assert run("reconcile", "breaks", "list", "--journal", url, "--status", "open").exit_code == 0
    again = run("reconcile", "file", *files, "--journal", url, "--json")
    assert again.exit_code == 0 and json.loads(again.output)["open_breaks"] == 0


def test_errors_are_one_line_with_documented_codes(tmp_path: Path) -> None:
    url, files = _day(tmp_path)
    missing = run("reconcile", "file", tmp_path / "nope.xml", "--journal", url)
    assert (
        missing.exit_code == 2
        and "nope.xml" in missing.output
        and "Traceback" not in missing.output
    )
    bad = run("reconcile", "breaks", "accept", "999", "--note", "x", "--journal", url)
    assert bad.exit_code == 2 and "no break 999" in bad.output
    wrong = run("reconcile", "breaks", "list", "--journal", url, "--status", "closed")
    assert wrong.exit_code == 2
    cut = run("reconcile", "file", *files, "--journal", url, "--as-of", "2024-03-15T18:00:00")
    assert cut.exit_code == 2 and "time zone" in cut.output
    # a report that could not be written is refused before the run: nothing is recorded
    nowhere = tmp_path / "no-such-dir" / "r.html"
    refused = run("reconcile", "file", *files, "--journal", url, "--html", nowhere)
    assert refused.exit_code == 2 and "cannot write: no directory" in refused.output
    listed = run("reconcile", "breaks", "list", "--journal", url, "--json")
    assert json.loads(listed.output) == []


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test_html_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail(
                "chromium is not installed: .ci/run installs it (apt-get install -y chromium)"
            )
        pytest.skip("chromium is not installed")
    url, files = _day(tmp_path)
    html = tmp_path / "report.html"
    result = run("reconcile", "file", *files, "--journal", url, "--json", "--html", html)
    expected = json.loads(result.output)["open_breaks"]
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--dump-dom",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "<table" in dom and "<svg" in dom  # the browser built the page
    shown = re.search(r'id="open-breaks">(\d+)<', dom)
    assert shown is not None and int(shown.group(1)) == expected == 2
    assert len(re.findall(r'<tr class="bad"><td>\d+</td>', dom)) == expected
