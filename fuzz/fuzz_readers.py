"""Fuzz the three readers: CNAPS2 text, XML and JSON (issue 10).

    python fuzz/fuzz_readers.py cnaps2|xml|json [--seconds N] [--engine atheris|hypothesis]

Each input goes through what a hub does with a counterparty's bytes: ``validate`` (must
never raise), then the reader (``paymsg.parse`` for CNAPS2 text and XML,
``paymsg.from_json`` for JSON), which may only raise a ``PaymsgError``. Whatever the
reader accepts must serialize, read back equal, and survive ``to_json`` → ``from_json``
unchanged. Anything else is a finding: the input is written to ``fuzz/crashes/`` and the
run stops with the traceback.

With atheris installed (``pip install atheris``) the run is coverage-guided (libFuzzer),
seeded with the examples of that format; without it, hypothesis mutates the examples
(splices, byte flips, truncations, inserted hostile text) for the time given. Not part of
the test suite (pytest collects ``tests/`` only); see ``fuzz/README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRASHES = Path(__file__).resolve().parent / "crashes"
TARGETS = ("cnaps2", "xml", "json")


def seeds(target: str) -> list[bytes]:
    """The examples of one format (JSON ones converted from the XML examples)."""
    examples = ROOT / "examples"
    if target == "cnaps2":
        return [p.read_bytes() for p in sorted(examples.glob("cnaps2/*/*.txt"))]
    xml = [p.read_bytes() for p in sorted(examples.glob("*/*/*.xml"))]
    if target == "xml":
        return xml
    import paymsg

    return [paymsg.to_json(paymsg.parse(p)).encode() for p in sorted(examples.glob("*/*/*.xml"))]


def check(target: str) -> Callable[[bytes], None]:
    """The property one input must keep (raises AssertionError or the crash otherwise)."""
    import logging

    import paymsg
    from paymsg.errors import PaymsgError

    dropped: list[str] = []

    class Dropped(logging.Handler):
        """xsdata logs, and leaves out, a child it cannot place: data silently lost."""

        def emit(self, record: logging.LogRecord) -> None:
            dropped.append(record.getMessage())

    logging.getLogger("xsdata").addHandler(Dropped(logging.WARNING))

    def one(data: bytes) -> None:
        dropped.clear()
        paymsg.validate(data)  # never raises
        try:
            message = paymsg.from_json(data) if target == "json" else paymsg.parse(data)
        except PaymsgError:
            return
        assert not dropped, f"accepted, but xsdata left out: {dropped}"
        text = paymsg.serialize(message)
        assert paymsg.parse(text, type=message.type) == message, "serialize → parse changed it"
        assert paymsg.from_json(paymsg.to_json(message)) == message, "JSON round trip changed it"

    return one


def _record(target: str, data: bytes) -> Path:
    CRASHES.mkdir(exist_ok=True)
    path = CRASHES / f"{target}-{hashlib.sha256(data).hexdigest()[:16]}"
    path.write_bytes(data)
    return path


def run_atheris(target: str, seconds: int, extra: list[str]) -> None:
    import atheris

    with atheris.instrument_imports():
        one = check(target)
    corpus = Path(__file__).resolve().parent / "corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    for data in seeds(target):
        (corpus / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)

    def test_one_input(data: bytes) -> None:
        try:
            one(data)
        except BaseException:
            print(f"input saved to {_record(target, data)}", file=sys.stderr)
            raise

    argv = [sys.argv[0], f"-max_total_time={seconds}", "-rss_limit_mb=4096", *extra, str(corpus)]
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


HOSTILE = [
    b"\xef\xbc\x91\xef\xbc\x92", b"NaN", b"sNaN", b"1E5", b"1_000", b"", b" ", b"\xd9\xa1",
    b"<", b"&amp;", b"]]>", b"\x00", b"\xff\xfe", b"{H:", b"{S:", b"}", b'"', b"\\u0000",
    b'"type"', b'"#text"', b"{}", b"[]", b"null", b"<Document/>", b"<!DOCTYPE x>",
]  # fmt: skip


def run_hypothesis(target: str, seconds: int) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    one = check(target)
    corpus = seeds(target)
    edit = st.tuples(
        st.sampled_from(["flip", "cut", "insert", "splice", "delete", "truncate"]),
        st.integers(0, 1 << 30),
        st.integers(0, 1 << 30),
        st.one_of(st.sampled_from(HOSTILE), st.binary(max_size=16)),
    )
    deadline = time.monotonic() + seconds
    count = 0

    @settings(
        max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(st.sampled_from(corpus), st.sampled_from(corpus), st.lists(edit, max_size=6))
    def fuzz(base: bytes, other: bytes, edits: list[tuple[str, int, int, bytes]]) -> None:
        nonlocal count
        if time.monotonic() > deadline:
            return
        data = bytearray(base)
        for kind, a, b, piece in edits:
            at = a % (len(data) + 1)
            if kind == "flip" and data:
                data[at % len(data)] ^= 1 << (b % 8)
            elif kind == "cut":
                del data[at : at + b % 64]
            elif kind == "insert":
                data[at:at] = piece
            elif kind == "splice":
                start = b % (len(other) + 1)
                data[at:at] = other[start : start + 200]
            elif kind == "delete":
                end = data.find(b"<", at + 1)
                del data[at : end if end > at else at]
            elif kind == "truncate":
                del data[at:]
        count += 1
        try:
            one(bytes(data))
        except BaseException:
            print(f"input saved to {_record(target, bytes(data))}", file=sys.stderr)
            raise

    try:
        while time.monotonic() < deadline:  # rounds of 200 inputs, each drawn afresh
            fuzz()
    finally:
        print(f"{target}: {count} inputs in {seconds} s", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("--seconds", type=int, default=60, help="how long to run (default 60)")
    parser.add_argument("--engine", choices=("atheris", "hypothesis"), default=None)
    args, extra = parser.parse_known_args(argv)
    sys.path.insert(0, str(ROOT))
    engine = args.engine
    if engine is None:
        try:
            import atheris  # noqa: F401
        except ImportError:
            engine = "hypothesis"
        else:
            engine = "atheris"
    if engine == "atheris":
        run_atheris(args.target, args.seconds, extra)
    else:
        run_hypothesis(args.target, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
