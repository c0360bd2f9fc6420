"""The delivery benchmark keeps working (it times nothing here; see benchmarks/delivery.py)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.delivery import measure


def test_the_delivery_benchmark_delivers_every_entry(tmp_path: Path) -> None:
    row = measure(f"sqlite:///{tmp_path / 'j.db'}", 20, 8)
    assert row["delivered"] == 20 and row["statuses"] == ["delivered"]
    assert row["cpu_us_per_entry"] >= 0 and row["wall_us_per_entry"] > 0
