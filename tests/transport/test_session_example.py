"""The MQ example script runs from the repository on the embedded default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from paymsg.journal import Journal

ROOT = Path(__file__).resolve().parents[2]


def test_the_send_and_listen_example_runs(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples/mq/send_and_listen.py"), "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("ok")
    assert done.stdout.count(": confirmed (PM1I0000)") == 3
    journal = Journal(f"sqlite:///{tmp_path / 'journal.db'}")
    counts = journal.status_counts()
    assert counts["out"] == {"confirmed": 2, "settled": 1}
    assert counts["in"]["delivered"] == 2
    with journal.engine.connect() as conn:
        booked = conn.exec_driver_sql("SELECT mt FROM booked ORDER BY mt").scalars().all()
    assert booked == ["beps.121.001.01", "saps.604.001.01"]
