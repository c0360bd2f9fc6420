"""Validation and conversion from many threads give exactly the single-threaded answers.

The hub's consumers validate and convert from several threads at once, so nothing shared
(compiled schemas, generated decoders, caches) may carry one call's state into another.
Each test computes every answer once in this thread, then has several threads compute
them again, interleaved and in different orders, and compares every result.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paymsg
from paymsg.errors import PaymsgError
from tests.conftest import EXAMPLES

PACS008 = EXAMPLES / "iso20022/pacs.008.001.08/cips-cny-batch.xml"
THREADS = 4


def _run_together(jobs: list[Callable[[], Any]], rounds: int) -> list[list[Any]]:
    """Each job run by ``THREADS`` threads at once, ``rounds`` times, all threads starting
    each round together (a barrier) so that their calls overlap; the results per job."""
    barrier = threading.Barrier(THREADS)
    results: list[list[Any]] = [[] for _ in jobs]
    lock = threading.Lock()

    def worker(offset: int) -> None:
        for _ in range(rounds):
            barrier.wait()
            order = jobs[offset:] + jobs[:offset]  # each thread its own order
            for index, job in enumerate(order):
                value = job()
                with lock:
                    results[(index + offset) % len(jobs)].append(value)

    threads = [threading.Thread(target=worker, args=(i % len(jobs),)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _verdict(data: bytes) -> dict[str, Any]:
    return paymsg.validate(data).model_dump()


def test_concurrent_validation_keeps_each_messages_own_verdict() -> None:
    """Issue 10 item 1: a schema-invalid and a valid pacs.008 validated at the same time.
    The compiled schema was shared and its error log read after ``validate()`` returned,
    so the invalid one came back ok, or with the other call's ``totalDigits`` finding."""
    valid = PACS008.read_bytes()
    digits = valid.replace(b">1286500.00<", b">12865000000000000000.00<", 1)
    pattern = valid.replace(b"<BICFI>ICBKCNBJ</BICFI>", b"<BICFI>icbk</BICFI>", 1)
    assert digits != valid and pattern != valid
    inputs = [valid, digits, valid, pattern]
    expected = [_verdict(data) for data in inputs]
    assert expected[0]["findings"] == []
    assert {f["rule"] for f in expected[1]["findings"] if f["layer"] == "xsd"} == {"xsd.number"}
    assert {f["rule"] for f in expected[3]["findings"] if f["layer"] == "xsd"} == {"xsd.pattern"}
    jobs: list[Callable[[], Any]] = [lambda d=data: _verdict(d) for data in inputs]
    for index, seen in enumerate(_run_together(jobs, rounds=25)):
        assert all(result == expected[index] for result in seen), f"input {index}"


# --------------------------------------------------------------------------- a mixed load

NOW = datetime(2026, 3, 16, 9, 30, tzinfo=UTC)

#: (example, how to break it or None, conversion target or None)
CASES: list[tuple[str, tuple[bytes, bytes] | None, str | None]] = [
    ("iso20022/pacs.008.001.08/cips-cny-batch.xml", None, None),
    ("iso20022/pacs.008.001.08/cips-cny-batch.xml", (b"<ChrgBr>SHAR</ChrgBr>", b""), None),
    ("iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml", None, None),
    ("iso20022/camt.053.001.08/" + "", None, None),
    ("cnaps2/hvps.111.001.01/customer-transfer-urgent.txt", None, "pacs.008.001.08"),
    (
        "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt",
        (b'Ccy="CNY">', b'Ccy="CNY">1E3'),
        None,
    ),
    ("cnaps2/beps.121.001.01/customer-credit-package.txt", None, "pacs.008.001.08"),
    ("cnaps2/beps.121.001.01/customer-credit-package.xml", None, None),
    ("cnaps2/ccms.990.001.02/npc-confirms-hvps111.txt", None, None),
    ("iso20022/pacs.002.001.10/" + "", None, None),
    ("iso20022/pacs.008.001.08/cips-cny-batch.xml", (b"<BICFI>", b"<BICFI>x"), None),
]


def _input(name: str, change: tuple[bytes, bytes] | None) -> bytes:
    path = EXAMPLES / name
    if path.is_dir():
        path = sorted(p for p in path.iterdir() if p.suffix == ".xml")[0]
    data = path.read_bytes()
    if change is not None:
        assert change[0] in data, (name, change)
        data = data.replace(change[0], change[1], 1)
    return data


def _work(data: bytes, target: str | None) -> tuple[Any, ...]:
    """Everything a consumer does with one input: validate, parse, write JSON and XML,
    convert; an error is part of the answer (its class and text)."""
    verdict = paymsg.validate(data).model_dump()
    try:
        message = paymsg.parse(data)
    except PaymsgError as exc:
        return verdict, type(exc).__name__, str(exc)
    out: tuple[Any, ...] = (verdict, paymsg.to_json(message), paymsg.serialize(message))
    if target is not None:
        counter = itertools.count(1)
        conv = paymsg.convert(
            message, to=target, now=NOW, id_generator=lambda: f"ID{next(counter):08d}"
        )
        out += (paymsg.serialize(conv.message), [e.model_dump() for e in conv.loss])
        back = paymsg.convert(
            conv.message,
            to=message.type,
            now=NOW,
            id_generator=lambda: f"BK{next(counter):08d}",
            sender="102100099996",
        )
        out += (paymsg.serialize(back.message),)
    return out


def test_many_threads_validating_and_converting_give_the_single_threaded_results() -> None:
    inputs = [(_input(name, change), target) for name, change, target in CASES]
    expected = [_work(data, target) for data, target in inputs]
    # the mix has valid and invalid messages, and some the parser refuses
    assert any(result[0]["findings"] == [] for result in expected)
    assert any(not result[0]["ok"] for result in expected)
    assert any(isinstance(result[1], str) and result[1] == "BindingError" for result in expected)
    jobs: list[Callable[[], Any]] = [
        lambda d=data, t=target: _work(d, t) for data, target in inputs
    ]
    for index, seen in enumerate(_run_together(jobs, rounds=4)):
        assert seen and all(result == expected[index] for result in seen), CASES[index]


def test_a_pool_of_threads_streaming_and_validating_agrees_with_one_thread() -> None:
    """``iter_transactions(validate=True)`` (chunked schema checks) interleaved with whole
    validation in a pool: the same transactions and the same report each time."""
    package = EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.txt"
    broken = _input(
        "cnaps2/beps.121.001.01/customer-credit-package.txt", (b"<NbOfTxs>3<", b"<NbOfTxs>4<")
    )

    def streamed(data: bytes | Path) -> tuple[Any, ...]:
        stream = paymsg.iter_transactions(data, validate=True)
        txs = [repr(tx) for tx in stream]
        return txs, stream.report.model_dump()

    def job(i: int) -> Any:
        return (
            streamed(package)
            if i % 3 == 0
            else _verdict(broken if i % 3 == 1 else package.read_bytes())
        )

    expected = [job(i) for i in range(3)]
    with ThreadPoolExecutor(THREADS) as pool:
        got = list(pool.map(job, range(36)))
    assert all(result == expected[i % 3] for i, result in enumerate(got))
