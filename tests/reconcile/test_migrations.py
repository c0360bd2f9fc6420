"""Reconciliation's own migrations: r0002 accepts the open breaks that copies used to be."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from paymsg.reconcile import store
from paymsg.reconcile.migrations.versions.r0002_copies_are_notices import NOTE
from paymsg.reconcile.tables import breaks


def _break(key: str, status: str) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "scope": "HVPS", "check_date": date(2026, 12, 7), "key": key, "kind": "duplicate",
        "status": status, "detail": "received twice", "first_run": 1, "last_run": 1,
        "first_seen": now, "last_seen": now,
    }  # fmt: skip


def test_r0002_accepts_open_copies_breaks_and_leaves_the_rest(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'j.db'}")
    try:
        assert store.RECONCILE.upgrade(engine, "r0001") == "r0001"
        with engine.begin() as conn:  # breaks written by a paymsg at r0001
            conn.execute(
                breaks.insert(),
                [
                    _break("copies|in|hvps.111.001.01|A", "new"),
                    _break("copies|in|hvps.111.001.01|B", "persisting"),
                    _break("copies|in|hvps.111.001.01|C", "resolved"),
                    _break("msg|out|hvps.111.001.01|D", "new"),
                ],
            )
        assert store.upgrade(engine) == store.head() == "r0002"
        with engine.connect() as conn:
            rows = {
                r.key[-1]: (r.status, r.note, r.settled_at is not None)
                for r in conn.execute(sa.select(breaks))
            }
        assert rows == {
            "A": ("accepted", NOTE, True),
            "B": ("accepted", NOTE, True),
            "C": ("resolved", None, False),  # settled before: its history stays
            "D": ("new", None, False),  # not a copy
        }
    finally:
        engine.dispose()
