"""Channel fixtures: every available channel, fresh queues per test, broker control.

* ``sqlite`` always runs (a queue file in the test's temporary directory).
* ``rabbitmq`` runs when ``PAYMSG_TEST_AMQP_URL`` is set (``.ci/with-servers`` starts a
  throwaway broker on loopback and exports it, with ``PAYMSG_TEST_RABBITMQ_RESTART``, a
  command that restarts that broker). Without it the RabbitMQ cases are skipped locally
  and **fail** when ``CI`` is set: in CI nothing may be skipped.
* ``ibmmq`` runs when ``PAYMSG_IBMMQ_URL`` (an ``ibmmq://`` URL) and ``PAYMSG_IBMMQ_QUEUES``
  (comma-separated local queues an administrator defined for the tests, each with
  ``BOQNAME('<queue>.dlq')`` and ``BOTHRESH(5)`` and that backout queue defined too) are set;
  otherwise - also in CI - it is skipped with the reason: IBM's MQ client library is not
  available on this project's machines.

Other test modules use :func:`amqp_url` and :func:`rabbitmq_restart` too.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from paymsg.transport import Channel, open_channel

ROOT = Path(__file__).resolve().parents[2]
AMQP_ENV = "PAYMSG_TEST_AMQP_URL"
RESTART_ENV = "PAYMSG_TEST_RABBITMQ_RESTART"
IBMMQ_URL_ENV = "PAYMSG_IBMMQ_URL"
IBMMQ_QUEUES_ENV = "PAYMSG_IBMMQ_QUEUES"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: server tests must run in CI (use .ci/with-servers)")
    pytest.skip(f"{reason} (run the tests under .ci/with-servers)")


def amqp_url() -> str:
    """The test broker's URL; skips locally (fails in CI) when there is none."""
    url = os.environ.get(AMQP_ENV)
    if not url:
        _unavailable(f"{AMQP_ENV} is not set")
    assert url
    return url


def rabbitmq_restart() -> Callable[[], None]:
    """A function that restarts the test broker and waits until it serves again."""
    amqp_url()
    command = os.environ.get(RESTART_ENV)
    if not command:
        _unavailable(f"{RESTART_ENV} is not set")
    assert command

    def restart() -> None:
        done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, f"broker restart failed: {done.stderr[-2000:]}"

    return restart


@dataclass
class Backend:
    """One channel implementation under test, able to open channels and name fresh queues."""

    name: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)
    restart: Callable[[], None] | None = None
    fixed_queues: list[str] = field(default_factory=list)
    _opened: list[Channel] = field(default_factory=list)

    def open(self, **options: Any) -> Channel:
        channel = open_channel(self.url, **{**self.options, **options})
        self._opened.append(channel)
        return channel

    def queue(self, index: int = 0) -> str:
        """A queue name no other test uses (IBM MQ: a predefined queue, emptied first)."""
        if self.fixed_queues:
            if index >= len(self.fixed_queues):
                pytest.skip(f"{IBMMQ_QUEUES_ENV} names fewer than {index + 1} queues")
            name = self.fixed_queues[index]
            with self.open() as channel:
                for queue in (name, f"{name}.dlq"):
                    while (delivery := channel.get(queue)) is not None:
                        channel.ack(delivery)
            return name
        return f"t.{uuid.uuid4().hex[:12]}.{index}"

    def child_url(self, **options: Any) -> str:
        """The URL a subprocess opens (options folded into the query where supported)."""
        merged = {**self.options, **options}
        if not merged:
            return self.url
        query = "&".join(f"{k}={v}" for k, v in merged.items())
        return f"{self.url}{'&' if '?' in self.url else '?'}{query}"

    def close_all(self) -> None:
        for channel in self._opened:
            with contextlib.suppress(Exception):
                channel.close()


def _backend(name: str, tmp_path: Path) -> Backend:
    if name == "sqlite":
        return Backend(name, f"sqlite:///{tmp_path / 'queues.db'}")
    if name == "rabbitmq":
        url = amqp_url()
        restart = (
            rabbitmq_restart() if os.environ.get(RESTART_ENV) or os.environ.get("CI") else None
        )
        return Backend(name, url, restart=restart)
    url = os.environ.get(IBMMQ_URL_ENV)
    queues = [q for q in os.environ.get(IBMMQ_QUEUES_ENV, "").split(",") if q]
    if not url or not queues:
        pytest.skip(
            f"IBM MQ: set {IBMMQ_URL_ENV} and {IBMMQ_QUEUES_ENV} to run against a queue manager "
            "(IBM's MQ client library is not available here, so this channel is untested)"
        )
    assert url
    return Backend(name, url, fixed_queues=queues)


@pytest.fixture(params=["sqlite", "rabbitmq", "ibmmq"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each available channel implementation in turn."""
    chosen = _backend(request.param, tmp_path)
    yield chosen
    chosen.close_all()


def run_child(code: str, *args: str) -> subprocess.Popen[str]:
    """Start ``code`` in a fresh interpreter (stdout piped, line-buffered text)."""
    return subprocess.Popen(
        [sys.executable, "-u", "-c", code, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
