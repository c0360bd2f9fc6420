"""``paymsg route`` from the outside: decisions, --explain, --json, rule-set versions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EX = Path(__file__).parents[2] / "examples" / "routing"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paymsg.cli", *args], capture_output=True, text=True, cwd=cwd
    )


def test_route_json_explain_and_rule_versions(tmp_path: Path) -> None:
    facts = str(EX / "facts.toml")
    base = ["--facts", facts, "--at", "2026-12-07T18:00"]
    out = run(
        "route",
        str(EX / "payments.csv"),
        "--rules",
        str(EX / "rules.toml"),
        *base,
        "--json",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    decisions = {d["payment_id"]: d for d in json.loads(out.stdout)}
    assert decisions["P0002"]["channel"] == "HVPS" and decisions["P0002"]["status"] == "queued"
    assert decisions["P0002"]["execute_at"] == "2026-12-07T20:30:00"
    assert decisions["P0002"]["amount"] == "62000.00"
    assert decisions["P0003"]["channel"] == "BEPS"
    assert decisions["P0006"]["status"] == "rejected"
    explained = run(
        "route",
        str(EX / "payments.csv"),
        "--rules",
        str(EX / "rules.toml"),
        *base,
        "--explain",
        cwd=tmp_path,
    )
    assert "BEPS refused: 62,000.00 > single-item limit 50,000.00" in explained.stdout

    db = f"sqlite:///{tmp_path / 'j.db'}"
    assert (
        run(
            "route", "rules", "activate", str(EX / "rules.toml"), "--journal", db, cwd=tmp_path
        ).returncode
        == 0
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[rules]]\nname = "a"\npriority = 1\nthen = { channels = ["HVPS"] }\n'
        '[[rules]]\nname = "b"\npriority = 1\nthen = { channels = ["BEPS"] }\n'
    )
    refused = run("route", "rules", "activate", str(bad), "--journal", db, cwd=tmp_path)
    assert refused.returncode == 1 and "'a' and 'b'" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert run("route", "rules", "check", str(bad), cwd=tmp_path).returncode == 1
    listed = json.loads(
        run("route", "rules", "list", "--journal", db, "--json", cwd=tmp_path).stdout
    )
    assert [(r["version"], r["active"]) for r in listed] == [(1, True), (2, False)]
    assert (
        run(
            "route",
            "directory",
            "load",
            str(EX / "participants.csv"),
            "--journal",
            db,
            cwd=tmp_path,
        ).returncode
        == 0
    )
    from_db = run("route", str(EX / "payments.csv"), "--journal", db, *base, "--json", cwd=tmp_path)
    assert json.loads(from_db.stdout)[0]["ruleset_version"] == 1

    missing = run(
        "route", "missing.csv", "--rules", str(EX / "rules.toml"), "--facts", facts, cwd=tmp_path
    )
    assert (
        missing.returncode == 2
        and "missing.csv" in missing.stderr
        and "Traceback" not in missing.stderr
    )


def test_a_directory_file_that_is_short_empty_or_not_utf8_is_refused_and_the_old_one_kept(
    tmp_path: Path,
) -> None:
    """Loading replaces the directory: a row missing its last cells (it used to be loaded
    with the defaults), an empty file (it used to leave routing with no banks) or a file
    not in UTF-8 is refused with where, and the loaded directory stays."""
    db = f"sqlite:///{tmp_path / 'j.db'}"
    good = EX / "participants.csv"
    assert (
        run("route", "directory", "load", str(good), "--journal", db, cwd=tmp_path).returncode == 0
    )
    lines = good.read_text(encoding="utf-8").splitlines()
    cases = {
        "short.csv": ("\n".join([lines[0], lines[1].rsplit(",", 1)[0], *lines[2:]]), "utf-8"),
        "empty.csv": ("", "utf-8"),
        "header.csv": (lines[0], "utf-8"),
        "gbk.csv": ("\n".join(lines), "gbk"),
    }
    says = {
        "short.csv": "short.csv:2: fewer cells than the header has",
        "empty.csv": "no participants",
        "header.csv": "no participants",
        "gbk.csv": "gbk.csv, offset",
    }
    for name, (text, encoding) in cases.items():
        (tmp_path / name).write_bytes((text + "\n").encode(encoding))
        out = run("route", "directory", "load", name, "--journal", db, cwd=tmp_path)
        assert out.returncode == 2 and says[name] in out.stderr, (name, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1
    import sqlalchemy as sa

    from paymsg.routing.store import RoutingStore

    assert len(RoutingStore(sa.create_engine(db)).directory()) == len(lines) - 1
