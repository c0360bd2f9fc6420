"""The delivery benchmark keeps working (it times nothing here; see benchmarks/delivery.py)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.delivery import correlation, measure


def test_the_delivery_benchmark_delivers_every_entry(tmp_path: Path) -> None:
    row = measure(f"sqlite:///{tmp_path / 'j.db'}", 20, 8)
    assert row["delivered"] == 20 and row["statuses"] == ["delivered"]
    assert row["cpu_us_per_entry"] >= 0 and row["wall_us_per_entry"] > 0


def test_the_correlation_benchmark_finds_every_original(tmp_path: Path) -> None:
    row = correlation(f"sqlite:///{tmp_path / 'o.db'}", 120, calls=2)
    assert row["found"] == row["keys"] == 100 and row["cpu_ms_per_call"] >= 0
