"""What only the embedded channel does: leases, visibility timeout, file handling, threads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from paymsg.errors import ConfigError, InputError, TransportError
from paymsg.transport import SqliteChannel, open_channel


def _url(tmp_path: Path, query: str = "") -> str:
    return f"sqlite:///{tmp_path / 'q.db'}{query}"


def test_an_expired_lease_is_delivered_again_to_another_consumer(tmp_path: Path) -> None:
    url = _url(tmp_path, "?visibility=0.2")
    with open_channel(url) as slow, open_channel(url) as other:
        slow.declare("IN")
        slow.put("IN", b"slow")
        first = slow.get("IN")
        assert first is not None and first.delivery_count == 1
        assert other.get("IN") is None  # hidden while the lease runs
        again = other.get("IN", timeout=5)
        assert again is not None
        assert (again.body, again.delivery_count) == (b"slow", 2)
        with pytest.raises(TransportError, match="no longer holds"):
            slow.ack(first)  # the lease moved on: the slow consumer cannot remove it
        other.ack(again)
        assert other.depth("IN") == 0


def test_the_lease_of_a_live_consumer_is_kept(tmp_path: Path) -> None:
    url = _url(tmp_path)  # visibility 30 s
    with open_channel(url) as holder, open_channel(url) as other:
        holder.declare("IN")
        holder.put("IN", b"held")
        assert holder.get("IN") is not None
        assert other.get("IN", timeout=0.3) is None


def test_a_channel_can_be_shared_by_threads(tmp_path: Path) -> None:
    n = 400
    with open_channel(_url(tmp_path)) as ch:
        ch.declare("IN")
        got: list[bytes] = []
        lock = threading.Lock()
        produced = threading.Event()

        def consume() -> None:
            while True:
                d = ch.get("IN", timeout=0.2)
                if d is None:
                    if produced.is_set():
                        return
                    continue
                ch.ack(d)
                with lock:
                    got.append(d.body)

        def produce(start: int) -> None:
            for i in range(start, n, 2):
                ch.put("IN", f"m{i}".encode())

        producers = [threading.Thread(target=produce, args=(s,)) for s in (0, 1)]
        consumers = [threading.Thread(target=consume) for _ in range(3)]
        for t in producers + consumers:
            t.start()
        for t in producers:
            t.join(timeout=60)
        produced.set()
        for t in consumers:
            t.join(timeout=60)
    assert sorted(got) == sorted(f"m{i}".encode() for i in range(n))


@pytest.mark.parametrize("mode", ["put", "full", "normal"])
def test_every_synchronous_mode_keeps_the_contract(tmp_path: Path, mode: str) -> None:
    with open_channel(_url(tmp_path, f"?synchronous={mode}")) as ch:
        ch.declare("IN")
        ch.put("IN", b"x", {"k": "v"})
        d = ch.get("IN")
        assert d is not None and d.body == b"x" and d.properties == {"k": "v"}
        ch.ack(d)
    with open_channel(_url(tmp_path)) as ch:
        assert ch.depth("IN") == 0


def test_undeclared_queues_are_refused(tmp_path: Path) -> None:
    with open_channel(_url(tmp_path)) as ch:
        with pytest.raises(TransportError, match="not declared"):
            ch.put("NOPE", b"x")
        with pytest.raises(TransportError, match="not declared"):
            ch.get("NOPE")


def test_a_dead_letter_message_cannot_be_dead_lettered_again(tmp_path: Path) -> None:
    with open_channel(_url(tmp_path)) as ch:
        ch.declare("IN")
        ch.put("IN", b"bad")
        d = ch.get("IN")
        assert d is not None
        ch.reject(d, requeue=False)
        dead = ch.get("IN.dlq")
        assert dead is not None and dead.delivery_count == 1
        with pytest.raises(InputError, match="dead-letter"):
            ch.reject(dead, requeue=False)
        ch.reject(dead, requeue=True)  # stays in the dead-letter queue
        assert ch.depth("IN.dlq") == 1


def test_dead_letter_queues_have_no_delivery_limit(tmp_path: Path) -> None:
    with open_channel(_url(tmp_path, "?delivery_limit=1")) as ch:
        ch.declare("IN")
        ch.put("IN", b"once")
        d = ch.get("IN")
        assert d is not None
        ch.reject(d, requeue=True)
        assert ch.get("IN") is None
        for expected in (1, 2, 3):  # requeued in the dlq again and again: never dropped
            dead = ch.get("IN.dlq")
            assert dead is not None and dead.delivery_count == expected
            ch.reject(dead, requeue=True)


def test_a_closed_channel_refuses_work(tmp_path: Path) -> None:
    ch = open_channel(_url(tmp_path))
    ch.declare("IN")
    ch.close()
    ch.close()  # idempotent
    with pytest.raises(TransportError, match="closed"):
        ch.put("IN", b"x")


def test_file_problems_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        open_channel(f"sqlite:///{tmp_path / 'missing' / 'q.db'}")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database file at all" * 100)
    with pytest.raises(ConfigError, match="queue file"):
        open_channel(f"sqlite:///{garbage}")
    with open_channel(_url(tmp_path)):
        pass
    db = sqlite3.connect(tmp_path / "q.db")
    db.execute("UPDATE paymsg_mq_meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="schema version 99"):
        open_channel(_url(tmp_path))


def test_options_are_checked(tmp_path: Path) -> None:
    for query, word in [
        ("?delivery_limit=0", "delivery_limit"),
        ("?synchronous=sometimes", "synchronous"),
        ("?poll=-1", "poll"),
    ]:
        with pytest.raises(ConfigError, match=word):
            open_channel(_url(tmp_path, query))
    ch = open_channel(_url(tmp_path, "?visibility=5"), visibility=7, delivery_limit=2)
    assert isinstance(ch, SqliteChannel)
    assert (ch.visibility, ch.delivery_limit) == (7.0, 2)  # keywords win over the URL
    ch.close()


def test_a_relative_path_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_channel("sqlite:///rel-queues.db") as ch:
        ch.declare("IN")
    assert (tmp_path / "rel-queues.db").exists()


def test_a_channel_dropped_without_close_gives_its_messages_back(tmp_path: Path) -> None:
    import gc

    url = _url(tmp_path)  # visibility 30 s: only the release makes it available now
    with open_channel(url) as ch:
        ch.declare("IN")
        ch.put("IN", b"orphan")
    dropped = open_channel(url)
    assert dropped.get("IN") is not None
    del dropped
    gc.collect()
    with open_channel(url) as ch:
        again = ch.get("IN")
        assert again is not None and (again.body, again.delivery_count) == (b"orphan", 2)


def test_a_new_queue_file_opened_by_many_threads_at_once_opens_for_all(tmp_path: Path) -> None:
    """Switching a new file to WAL can be refused at once ("database is locked") while
    another connection creates it; every opener must still get the channel (the hub's
    centre thread and its sessions open the same new file together)."""
    errors: list[BaseException] = []
    for attempt in range(20):
        url = f"sqlite:///{tmp_path / f'mq{attempt}.db'}"
        barrier = threading.Barrier(6)

        def open_it(url: str = url, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                with open_channel(url) as channel:
                    channel.declare("Q")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
