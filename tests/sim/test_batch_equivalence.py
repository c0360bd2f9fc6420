"""The centre answers the same whether it takes messages one at a time or in batches.

A batch is one books transaction whose new rows are written together (and whose
duplicate and repeat checks are answered from one query per batch): one stream of
payments, copies, repeats, refusals, unreadable text, short balances, queued payments
that later settle, participant 990s, a reconciliation request, a BEPS round close and
the end of day goes through a centre with ``batch=1`` and one with ``batch=50``. Every
message put for each participant must be byte for byte the same, and so must the books —
and both must equal what the centre answered before batches were written that way
(SHA-256 of every text, recorded from that version of the centre).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import paymsg
from paymsg import cnaps2
from paymsg.sim.scenario import ParticipantConfig, Scenario
from paymsg.transport.session import build_confirmation

from .conftest import (
    EXAMPLES,
    A,
    B,
    C,
    beps,
    digests,
    final_snapshot,
    header_of,
    hvps,
    still_centre,
)
from .test_recon import request

#: when the test's own inputs say they were sent
SENT = datetime(2026, 12, 7, 8, 59, 0)


def _rewrapped(text: bytes, mesg_id: str | None = None) -> bytes:
    """``text`` with a fixed send time (and another header MesgID when given: with the
    same GrpHdr MsgId, a repeat of the payment)."""
    header = header_of(text)
    message = cnaps2.wrap(
        paymsg.parse(text),
        sender=header.orig_sender,
        receiver=header.orig_receiver,
        sender_system=header.orig_sender_sid,
        receiver_system=header.orig_receiver_sid,
        direction=header.mesg_direction,
        mesg_id=mesg_id or header.mesg_id,
        now=SENT,
    )
    return paymsg.serialize(message)


def _unreadable_body(text: bytes) -> bytes:
    _, offset = cnaps2.split_envelope(text)
    return text[:offset] + b"<Document><not-closed>"


def _run(tmp: Path, batch: int) -> dict[str, Any]:
    tmp.mkdir(parents=True, exist_ok=True)
    scenario = Scenario(participants={A: ParticipantConfig(balance="3000.00")})
    channel, books, centre = still_centre(tmp, scenario, batch=batch)
    out: dict[str, list[bytes]] = {A: [], B: []}

    def run(texts: list[bytes], bank: str = A) -> None:
        for text in texts:
            channel.put(f"MSGMBFE_1.{bank}", text)
        for _ in range(200):
            if centre.step() == 0 and not centre.pending:
                break
        centre.flush()
        for who in (A, B):
            while (delivery := channel.get(f"MSGTOBANK.{who}")) is not None:
                out[who].append(delivery.body)
                channel.ack(delivery)

    first = hvps(A, B, "1000.00", n=101)
    run(
        [
            first,
            hvps(A, B, "2500.50", mt="hvps.112.001.01", n=102),  # short of funds: queued
            first,  # a copy: the 990 again
            beps(A, B, ("100.00", "200.00"), n=103),
            hvps(A, C, "10.00", n=104),  # C is not served by this centre
            _rewrapped(first, "09999600000099999999"),  # the same payment again
            _unreadable_body(hvps(A, B, "20.00", n=105)),
            hvps(B, A, "30.00", n=106),  # on A's queue but from B
            request(
                "hvps.710.001.01",
                "AcctChckngReq",
                "AcctChckngReqInf",
                {"ChckngDt": "2026-12-07"},
                n=107,
            ),
            (EXAMPLES / "ccms.991.001.01" / "bank-probes-npc.txt").read_bytes(),
        ]
    )
    # a batch answers text whose header cannot be read before the rest: on its own here
    run([b"not a CNAPS2 header at all"])
    # A confirms everything it got; B pays A, which lets A's queued payment settle
    run(
        [
            _rewrapped(build_confirmation(header_of(text), "PM1I0000", participant=A))
            for text in out[A]
            if header_of(text).mesg_type != "ccms.990.001.02"
        ]
    )
    run([hvps(B, A, "5000.00", n=201), hvps(B, A, "1.00", n=202)], bank=B)
    centre.close_round()
    centre.end_of_day()
    run([])
    return final_snapshot(out, books, channel)


#: what the centre answered before its batches were written together (one SQL statement
#: per row, one put per message): recorded with ``python -m tests.sim.test_batch_equivalence``
BEFORE: dict[str, Any] = {
    A: [
        "908cde906c5b8cc2",
        "11ff0e7f5884dd9d",
        "3350b13b480f534c",
        "dd3533b499bae4a3",
        "5e83168893e8cc32",
        "3ccb13a18dd8fd30",
        "9cc18fb2850caa32",
        "20c261ead82378e1",
        "75fdab39b4e70404",
        "08fe6718235ecd17",
        "a2653f67c609aedb",
        "94d547af9c1309a5",
        "ce988e91b35b5d7e",
        "18f8430d3ef2284b",
        "ab8070dafa76df8b",
        "35219b49c6244d72",
        "9fd4c22d11f24657",
        "9eb0a70438328ca6",
        "5ad9eb2c31e57eea",
        "b8cede80984d0935",
        "db6052edc83b109e",
        "16a53a59d73a87ad",
        "661340c30d339a78",
        "eae450ee8cfafec7",
    ],
    B: [
        "9b2a62e7f5a858c0",
        "d349a87349753b60",
        "9efa9ebac2d9a477",
        "3d787ad0e8662814",
        "63ba5c60b9a7ac3e",
        "cb2e8c6060187804",
        "fd528401dfdec4ec",
        "ba11b38705b13540",
        "408f85081130eab2",
    ],
    "books": "47135dd012ae157a",
}


def test_batches_answer_exactly_as_single_messages(tmp_path: Path) -> None:
    one = _run(tmp_path / "one", batch=1)
    many = _run(tmp_path / "many", batch=50)
    assert [header_of(t).mesg_type for t in many["out"][A]] == [
        header_of(t).mesg_type for t in one["out"][A]
    ]
    assert many["out"] == one["out"]
    assert many["messages"] == one["messages"]
    assert many["payments"] == one["payments"]
    assert many["balances"] == one["balances"]
    # every kind of answer is in the stream (the test covers what it says)
    kinds = {header_of(t).mesg_type for t in many["out"][A]}
    assert {
        "ccms.990.001.02",
        "saps.604.001.01",
        "ccms.900.001.02",
        "ccms.911.001.02",
        "hvps.711.001.01",
        "ccms.992.001.01",
        "hvps.716.001.01",
    } <= kinds, kinds
    assert {header_of(t).mesg_type for t in many["out"][B]} >= {
        "hvps.111.001.01",
        "hvps.112.001.01",
        "beps.121.001.01",
    }
    assert digests(many) == BEFORE


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as name:
        print(json.dumps(digests(_run(Path(name), batch=50)), indent=1))
