"""``paymsg inspect`` on a message with a huge text node (issue 10, item 6): the table shows
the start of the value and says, explicitly, how long it is; ``--json`` keeps all of it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from paymsg.cli import app
from paymsg.cli.output import MAX_CELL, cell

EXAMPLE = Path(__file__).resolve().parents[2] / "examples/iso20022/pacs.008.001.08"
SIZE = 300_000


def _huge(tmp_path: Path) -> Path:
    source = (EXAMPLE / "cbpr-usd-with-bah.xml").read_bytes()
    name = re.findall(rb"<Nm>.*?</Nm>", source)[0]
    path = tmp_path / "huge-name.xml"
    path.write_bytes(source.replace(name, b"<Nm>" + b"x" * SIZE + b"</Nm>", 1))
    return path


def test_inspect_of_a_huge_text_node_is_truncated_with_an_explicit_marker(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["inspect", str(_huge(tmp_path))], catch_exceptions=False)
    assert result.exit_code == 0
    # the value column of every table row, its folded lines joined again
    values = [line.split("│")[-2].strip() for line in result.stdout.splitlines() if "│" in line]
    flat = "".join(values).replace(" ", "")
    marker = re.search("x" * MAX_CELL + r"…\(([\d,]+)characters;--jsonshowsall\)", flat)
    assert marker is not None
    assert int(marker.group(1).replace(",", "")) >= SIZE  # the party: the name and more
    assert "x" * (MAX_CELL + 1) not in flat  # cut, not shown whole
    assert len(result.stdout) < 20 * MAX_CELL


def test_inspect_json_of_a_huge_text_node_keeps_the_whole_value(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["inspect", "--json", str(_huge(tmp_path))], catch_exceptions=False
    )
    assert result.exit_code == 0
    parties = json.loads(result.stdout)["parties"]
    assert any(p["value"].startswith("x" * SIZE) for p in parties)


def test_short_cells_are_shown_unchanged() -> None:
    assert cell("a" * MAX_CELL) == "a" * MAX_CELL
    assert cell(None) == ""
    assert cell(12) == "12"
    assert cell("b" * (MAX_CELL + 1)).endswith(f"… ({MAX_CELL + 1:,} characters; --json shows all)")
