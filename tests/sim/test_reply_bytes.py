"""The centre's ccms.990 and saps.604 are byte for byte what the model builder wrote.

Every reply the centre sends most (a 990 for each message, a 604 for each HVPS payment)
is built by :mod:`paymsg.sim.build`. This test builds them for a grid of inputs — the
header of every CNAPS2 example text and of the simulator tests' payments, every code the
scenarios answer with, settled and queued receipts, balances from negative to the
largest the schema takes, clocks naive and aware, ids small and large, and values that
need escaping or break the schema — and compares each text (or the error raised) with
what the builder answered when it still bound every reply into the generated models and
serialized it: SHA-256 digests recorded with ``python -m tests.sim.test_reply_bytes``
from that version (``reply_digests.json``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from paymsg.codec.envelope.cnaps2 import Cnaps2Header, split_envelope
from paymsg.errors import PaymsgError
from paymsg.sim import build
from paymsg.sim.scenario import Codes

from .conftest import EXAMPLES, A, B, beps, hvps

RECORDED = Path(__file__).with_name("reply_digests.json")

NOWS = (
    datetime(2026, 12, 7, 9, 0, 0),
    datetime(2026, 12, 7, 23, 59, 59, 999_999),  # microseconds are dropped
    datetime(2026, 12, 7, 17, 30, 5, tzinfo=UTC),  # converted to Beijing time
    datetime(2027, 1, 1, 0, 0, 0, tzinfo=timezone(timedelta(hours=8))),
)
NUMBERS = (1, 999, 10**8 + 7, 16**15 + 12345)
#: every code a scenario answers with by default, and codes the schema or XML must treat
#: specially
CODES = (
    *sorted({v for v in Codes().model_dump().values() if isinstance(v, str)}),
    "X",
    "A&B",
    "<C>",
    "TOOLONGCODE",
    "",
)


def _headers() -> Iterator[Cnaps2Header]:
    texts = [p.read_bytes() for p in sorted(EXAMPLES.rglob("*.txt"))]
    texts += [
        hvps(A, B, "1.00", n=1),
        hvps(B, A, "2.50", mt="hvps.112.001.01", n=2),
        beps(A, B, ("100.00", "200.00"), n=3),
    ]
    for text in texts:
        try:
            envelope, _ = split_envelope(text)
        except PaymsgError:
            continue
        yield envelope.header
    base = envelope.header
    for changes in (
        {"mesg_id": "A&B<1>", "mesg_ref_id": "A&B<1>"},  # escaped in the body
        {"mesg_ref_id": "X" * 20},
        {"orig_send_date": "20261207"},
    ):
        with contextlib.suppress(PaymsgError):
            yield base.replace(**changes)


def _outcome(make: Callable[..., build.Built], *args: Any, **kwargs: Any) -> str:
    try:
        built = make(*args, **kwargs)
    except Exception as exc:  # the builder's refusal is part of what is recorded
        return f"error {type(exc).__name__}"
    facts = f"{built.mt}|{built.mesg_id}|{built.msg_id}|{built.sender}|{built.receiver}|"
    return hashlib.sha256(facts.encode() + built.text).hexdigest()[:20]


def _group(outcomes: list[str]) -> str:
    return hashlib.sha256("".join(outcomes).encode()).hexdigest()[:20]


def replies_990() -> list[str]:
    """One digest per header: the 990s for it with every code, clock and receiver."""
    groups = []
    for h in _headers():
        out: list[str] = []
        for code in CODES:
            for i, now in enumerate(NOWS):
                number = NUMBERS[(len(out) + i) % len(NUMBERS)]
                for receiver in (h.orig_sender, B):
                    system = h.orig_sender_sid
                    ids = build.Ids.make(system, number, now.date())
                    out.append(
                        _outcome(build.comconf_990, h, code, ids=ids, now=now, receiver=receiver)
                    )
        groups.append(_group(out))
    return groups


def replies_604() -> list[str]:
    """One digest per OrgnlMsgId and sender: its receipts for every MT, status and code."""
    groups = []
    out: list[str] = []
    msg_ids = ["2024031510000000", "20261207" + "9" * 27, "x", "A&B", "a" * 36, "", " lead"]
    balances = (
        Decimal("0"),
        Decimal("12.00"),
        Decimal("-5000.5"),
        Decimal("99999999999999999999.99"),
        Decimal("123456789012345678901.00"),  # more digits than SummaryAmountText takes
        Decimal("0.00001"),
    )
    statuses = ("PR04", "PR12")
    for n, msg_id in enumerate(msg_ids):
        for sender in (A, B, "0000"):
            for mt in ("hvps.111.001.01", "hvps.112.001.01"):
                for status in statuses:
                    for code in CODES:
                        now = NOWS[(n + len(out)) % len(NOWS)]
                        received = NOWS[len(out) % len(NOWS)]
                        balance = balances[len(out) % len(balances)]
                        number = NUMBERS[len(out) % len(NUMBERS)]
                        if status == "PR04":
                            processing = build.npc_processing(
                                status,
                                code,
                                received=received,
                                sent=now,
                                settlement_date=date(2026, 12, 7 + n),
                            )
                        else:
                            processing = build.npc_processing(status, code, received=received)
                        out.append(
                            _outcome(
                                build.settlement_receipt_604,
                                orgnl_msg_id=msg_id,
                                orgnl_sender=sender,
                                orgnl_mt=mt,
                                processing=processing,
                                balance=balance,
                                ids=build.Ids.make("SAPS", number, now.date()),
                                now=now,
                                receiver=sender,
                            )
                        )
            groups.append(_group(out[-2 * len(statuses) * len(CODES) :]))
    return groups


def _current() -> dict[str, list[str]]:
    return {"ccms.990": replies_990(), "saps.604": replies_604()}


def test_replies_are_the_recorded_bytes() -> None:
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    current = _current()
    for kind in ("ccms.990", "saps.604"):
        assert len(current[kind]) == len(recorded[kind]), kind
        wrong = [
            i for i, (a, b) in enumerate(zip(current[kind], recorded[kind], strict=True)) if a != b
        ]
        assert not wrong, f"{kind}: {len(wrong)} replies differ, first at {wrong[:5]}"


if __name__ == "__main__":  # record (only from a builder known to be right)
    if "--record" not in sys.argv:
        sys.exit("python -m tests.sim.test_reply_bytes --record")
    RECORDED.write_text(json.dumps(_current(), indent=1) + "\n", encoding="utf-8")
