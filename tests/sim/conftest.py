"""Shared helpers for the simulator tests: payments between two banks, and a centre on the
embedded SQLite channel that the test steps by hand (deterministic)."""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import paymsg
from paymsg import cnaps2
from paymsg.codec.envelope.wrap import SM2Signer, SM2Verifier, load_signing_profiles
from paymsg.codec.json.engine import from_data, to_data
from paymsg.sim.books import Books
from paymsg.sim.centre import Centre
from paymsg.sim.clock import SimClock
from paymsg.sim.scenario import Scenario, parse_participant
from paymsg.transport import Channel, open_channel

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cnaps2"
A = "102100099996"
B = "105100000017"
C = "313290000017"
MORNING = datetime(2026, 12, 7, 9, 0, 0)
PRE_RECONCILIATION = frozenset({"hvps.716.001.01", "beps.726.001.01"})

_numbers = itertools.count(1)


def _template(name: str) -> paymsg.Message:
    return paymsg.parse(EXAMPLES / name)


_HVPS111 = _template("hvps.111.001.01/customer-transfer-urgent.txt")
_HVPS112 = _template("hvps.112.001.01/interbank-funds-transfer.txt")
_BEPS121 = _template("beps.121.001.01/customer-credit-package.txt")


def _wrap(document: Any, mt: str, n: int, sender: str, receiver: str) -> bytes:
    message = cnaps2.wrap(
        document,
        type=mt,
        sender=sender,
        receiver=receiver,
        mesg_id=f"{sender[-6:]}{n:014d}",
        now=datetime(2024, 3, 15, 10, 30, 0),
    )
    return paymsg.serialize(message)


def hvps(
    sender: str = A,
    receiver: str = B,
    amount: str = "1000.00",
    *,
    mt: str = "hvps.111.001.01",
    n: int | None = None,
) -> bytes:
    """A valid hvps.111 (or .112) from ``sender`` to ``receiver``, with fresh ids."""
    n = next(_numbers) if n is None else n
    template = _HVPS111 if mt == "hvps.111.001.01" else _HVPS112
    data = to_data(template.document)
    root = data[next(iter(data))]
    msg_id = f"20240315{n:08d}"
    root["GrpHdr"]["MsgId"] = msg_id
    tx = root["CdtTrfTxInf"][0]
    tx["PmtId"] = {"EndToEndId": msg_id, "TxId": msg_id}
    tx["IntrBkSttlmAmt"] = {"@Ccy": "CNY", "#text": amount}
    tx["InstgAgt"]["FinInstnId"]["ClrSysMmbId"]["MmbId"] = sender
    tx["InstdAgt"]["FinInstnId"]["ClrSysMmbId"]["MmbId"] = receiver
    document = from_data(type(template.document), data)
    return _wrap(document, mt, n, sender, receiver)


def beps(
    sender: str = A,
    receiver: str = B,
    amounts: tuple[str, ...] = ("100.00",),
    *,
    n: int | None = None,
) -> bytes:
    """A valid beps.121 package of ``amounts`` from ``sender`` to ``receiver``."""
    n = next(_numbers) if n is None else n
    data = to_data(_BEPS121.document)
    root = data["CstmrCdtTrf"]
    details = root["CstmrCdtTrfInf"]
    template = details[0]
    new = []
    for i, amount in enumerate(amounts):
        item = {
            **template,
            "TxId": f"20240315{n:04d}{i:04d}",
            "Amt": {"@Ccy": "CNY", "#text": amount},
        }
        new.append(item)
    root["CstmrCdtTrfInf"] = new
    group = root["PKGGrpHdr"]
    group["MsgId"] = f"20240315{n:08d}"
    group["InstgPty"] = {"InstgDrctPty": sender}
    group["InstdPty"] = {"InstdDrctPty": receiver}
    group["NbOfTxs"] = str(len(amounts))
    group["CtrlSum"] = {"@Ccy": "CNY", "#text": str(sum(Decimal(a) for a in amounts))}
    document = from_data(type(_BEPS121.document), data)
    return _wrap(document, "beps.121.001.01", n, sender, receiver)


TEST_KEYS = tomllib.loads((EXAMPLES / "keys/test-sm2-key.toml").read_text(encoding="utf-8"))
SIGNING_PROFILES = EXAMPLES / "signing-example.toml"


def signed(text: bytes) -> tuple[bytes, SM2Verifier, dict[str, Any]]:
    """``text`` signed with the examples' test key (same MesgID), a verifier for A with
    the matching public key, and the example signing profiles."""
    profiles = load_signing_profiles(SIGNING_PROFILES)
    message = paymsg.parse(text)
    result = cnaps2.wrap(
        message,
        mesg_id=header_of(text).mesg_id,
        signer=SM2Signer(TEST_KEYS["private_key"]),
        profile=profiles[message.type],
    )
    return paymsg.serialize(result), SM2Verifier({A: TEST_KEYS["public_key"]}), profiles


def header_of(text: bytes) -> Any:
    envelope, _ = cnaps2.split_envelope(text)
    return envelope.header


@dataclass
class Got:
    """One message the centre put for a participant, parsed."""

    text: bytes
    message: paymsg.Message
    header: Any
    data: dict[str, Any]

    @property
    def mt(self) -> str:
        return str(self.header.mesg_type)

    def body(self) -> dict[str, Any]:
        return self.data[next(iter(self.data))]


@dataclass
class World:
    """A centre for banks A and B (and C) on a fresh embedded channel and fresh books."""

    tmp: Path
    scenario: Scenario = field(default_factory=Scenario)
    banks: tuple[str, ...] = (A, B)
    channel: Channel = field(init=False)
    books: Books = field(init=False)
    clock: SimClock = field(init=False)
    centre: Centre = field(init=False)

    def __post_init__(self) -> None:
        self.channel_url = f"sqlite:///{self.tmp / 'mq.db'}"
        self.books_url = f"sqlite:///{self.tmp / 'books.db'}"
        self.clock = SimClock(self.scenario.clock.start or MORNING, 1.0)
        self.start()

    def start(self) -> None:
        self.channel = open_channel(self.channel_url)
        self.books = Books(self.books_url)
        self.centre = Centre(
            self.channel,
            [parse_participant(b, self.scenario) for b in self.banks],
            books=self.books,
            scenario=self.scenario,
            clock=self.clock,
        )

    def restart(self) -> None:
        """Drop the centre (closing its channel and books) and start a new one."""
        self.channel.close()
        self.books.close()
        self.start()

    def send(self, text: bytes, bank: str = A) -> None:
        self.channel.put(f"MSGMBFE_1.{bank}", text)

    def run(self, steps: int = 20) -> None:
        for _ in range(steps):
            if self.centre.step() == 0:
                self.centre.flush()
                if not self.centre.pending:
                    break

    def received(self, bank: str = A, *, pre_reconciliation: bool = False) -> list[Got]:
        """Everything on ``bank``'s OUT queue, acknowledged, in order (without the
        end-of-day hvps.716 / beps.726 unless asked)."""
        out = []
        while (delivery := self.channel.get(f"MSGTOBANK.{bank}")) is not None:
            message = paymsg.parse(delivery.body)
            assert isinstance(message.envelope, cnaps2.Cnaps2Envelope)
            self.channel.ack(delivery)
            if not pre_reconciliation and message.type in PRE_RECONCILIATION:
                continue
            out.append(
                Got(delivery.body, message, message.envelope.header, to_data(message.document))
            )
        return out

    def close(self) -> None:
        self.channel.close()
        self.books.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def make_world(tmp_path: Path, scenario: Scenario, banks: tuple[str, ...] = (A, B)) -> World:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return World(tmp_path, scenario, banks)


def final_snapshot(out: dict[str, list[bytes]], books: Books, channel: Channel) -> dict[str, Any]:
    """What a centre put per participant (``out``) and its books, for comparing runs; the
    run is over: its books and channel are closed."""
    snapshot = {
        "out": out,
        "messages": [tuple(r) for r in books.messages()],
        "payments": [tuple(r) for r in books.payments()],
        "balances": books.balances(),
    }
    channel.close()
    books.close()
    return snapshot


def digests(snapshot: dict[str, Any]) -> dict[str, Any]:
    """SHA-256 (16 hex digits) of every text put for A and B, and of the books, from a
    :func:`books_snapshot`: what a test records from one version and compares with."""

    def sha(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()[:16]

    books = json.dumps(
        [snapshot["messages"], snapshot["payments"], snapshot["balances"]],
        default=lambda v: sha(v) if isinstance(v, bytes) else str(v),
    )
    return {
        A: [sha(t) for t in snapshot["out"][A]],
        B: [sha(t) for t in snapshot["out"][B]],
        "books": sha(books.encode()),
    }


def still_centre(
    tmp: Path, scenario: Scenario, *, batch: int = 50
) -> tuple[Channel, Books, Centre]:
    """A centre for A and B on fresh channel and books in ``tmp`` whose clock does not
    move while the test runs (every timestamp is MORNING): its answers are the same bytes
    from run to run."""
    channel = open_channel(f"sqlite:///{tmp / 'mq.db'}")
    books = Books(f"sqlite:///{tmp / 'books.db'}")
    centre = Centre(
        channel,
        [parse_participant(b, scenario) for b in (A, B)],
        books=books,
        scenario=scenario,
        clock=SimClock(MORNING, 1e-9),
        batch=batch,
    )
    return channel, books, centre
