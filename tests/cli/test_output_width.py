"""The CLI's tables are not folded when there is no terminal to fit (a pipe, a file, a log)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
from paymsg.cli.output import console, table
columns = [f"column number {i}" for i in range(12)]
console.print(table("day", columns, [["96,304,578.21"] * 12]))
"""


def test_a_wide_table_printed_to_a_pipe_keeps_every_amount_whole() -> None:
    """rich fitted tables to 80 columns without a terminal, printing an amount as
    ``96,`` / ``304`` / ``,57`` … on separate lines of the hub's day report."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    )
    assert done.stdout.count("96,304,578.21") == 12
    assert "column number 11" in done.stdout
