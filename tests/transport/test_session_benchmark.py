"""The MQ benchmark keeps working (it times nothing here; see benchmarks/mq.py)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.mq import session_round_trip, texts


def test_the_round_trip_benchmark_confirms_every_message(tmp_path: Path) -> None:
    row = session_round_trip(
        f"sqlite:///{tmp_path / 'q.db'}",
        f"sqlite:///{tmp_path / 'j.db'}?synchronous=normal",
        30,
        window=10,
    )
    assert row["statuses"] == ["confirmed"] and row["messages"] == 30
    assert row["msg_per_s"] > 0 and row["p99_ms"] >= row["p50_ms"] > 0


def test_benchmark_messages_are_distinct_and_valid() -> None:
    import paymsg

    bodies = texts(3, "abc")
    assert len(set(bodies)) == 3 and all(paymsg.validate(b).ok for b in bodies)
