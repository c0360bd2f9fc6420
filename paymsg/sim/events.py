"""What the centre did, as events: JSON lines to a file, and counters for the live view.

One event per line, e.g.::

    {"ts": "2026-12-06T04:10:00.123456+00:00", "sim": "2026-12-07T09:00:01",
     "event": "settled", "bank": "102100099996", "mt": "hvps.111.001.01",
     "msg_id": "2026120700000001", "amount": "1280000.00"}

Amounts are strings (never floats). The file is appended to and flushed per event, so
``tail -f`` follows a run.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from paymsg.errors import ConfigError

__all__ = ["EventSink"]


class EventSink:
    """Collects events; writes them as JSON lines when given a path. Thread-safe."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._file: IO[str] | None = None
        if path is not None:
            try:
                self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise ConfigError(
                    f"cannot write the events file: {exc.strerror}", source=str(path)
                ) from None
        self.counts: Counter[str] = Counter()
        self.recent: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def emit(self, event: str, sim_time: datetime | None = None, **fields: Any) -> None:
        record: dict[str, Any] = {"ts": datetime.now(UTC).isoformat(), "event": event}
        if sim_time is not None:
            record["sim"] = sim_time.isoformat(timespec="seconds")
        record.update({k: v for k, v in fields.items() if v is not None})
        with self._lock:
            self.counts[event] += 1
            self.recent.append(record)
            del self.recent[:-20]
            if self._file is not None:
                self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
