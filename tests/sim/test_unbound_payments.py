"""An HVPS payment that passes the checks is not bound: the centre answers as before.

The centre reads an hvps.111/112 whose report has no error and no schema finding, and
whose facts are plain values, from its parsed tree alone (:func:`paymsg.sim.centre.tree_facts`): its forward
is the body as received, so nothing needs the bound model. Everything else — a payment
failing the schema (which the binder may refuse: an unreadable body) or the rules, unsafe
text, values the binder would fold (whitespace), other types — is bound as before.

Two checks: the facts read from the tree are those of the bound message for every HVPS
example and for variants; and a stream of payments of each kind through a centre gives
exactly the answers and the books the centre gave when it bound every message (SHA-256
digests recorded from that version with ``python -m tests.sim.test_unbound_payments``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import paymsg
from paymsg.codec.detect import unwrap
from paymsg.sim.centre import payment_facts, tree_facts
from paymsg.sim.scenario import Scenario
from paymsg.validation import validate
from paymsg.validation.engine import validate_unwrapped

from .conftest import EXAMPLES, A, B, digests, final_snapshot, header_of, hvps, still_centre

HVPS_EXAMPLES = sorted(
    p
    for mt in ("hvps.111.001.01", "hvps.112.001.01")
    for p in (EXAMPLES / mt).glob("*.txt")
    if not p.name.endswith(".signed.txt")
)


def _variant(text: bytes, old: bytes, new: bytes) -> bytes:
    assert old in text, old
    return text.replace(old, new, 1)


def _inputs() -> dict[str, bytes]:
    """Payments from A to B of every kind the read path tells apart (in this order)."""
    ok = hvps(A, B, "1000.00", n=301)
    amount = b">1001.00</IntrBkSttlmAmt>"
    return {
        "valid hvps.111": ok,
        "valid hvps.112": hvps(A, B, "20.50", mt="hvps.112.001.01", n=302),
        "valid, odd amount": hvps(A, B, "7.1", n=303),
        "xsd: MsgId too long": _variant(
            hvps(A, B, n=304), b"<MsgId>2024031500000304<", b"<MsgId>" + b"1" * 36 + b"<"
        ),
        "xsd: unknown code (binder refuses)": _variant(
            hvps(A, B, n=305), b">CLRG<", b">NOPE-TOO-LONG<"
        ),
        "rules: NbOfTxs 2": _variant(hvps(A, B, n=306), b"<NbOfTxs>1<", b"<NbOfTxs>2<"),
        "unsafe: DOCTYPE": _variant(
            hvps(A, B, n=307),
            b'<?xml version="1.0" encoding="UTF-8"?>',
            b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE Document [<!ENTITY x "y">]>',
        ),
        "whitespace around the amount": _variant(
            hvps(A, B, "1001.00", n=308), amount, b"> 1001.00 </IntrBkSttlmAmt>"
        ),
        "comment inside the amount": _variant(
            hvps(A, B, "1002.00", n=309),
            b">1002.00</IntrBkSttlmAmt>",
            b">10<!-- c -->02.00</IntrBkSttlmAmt>",
        ),
        "unreadable body": _variant(hvps(A, B, n=310), b"</Document>", b"</Documen>"),
        "short of funds": hvps(A, B, "1000000000001.00", n=311),
        "signed (its {S:} block is forwarded)": (
            EXAMPLES / "hvps.111.001.01" / "customer-transfer-urgent.signed.txt"
        ).read_bytes(),
        "unknown receiver": hvps(A, "313290000017", "5.00", n=312),
        "repeat under another MesgID": _variant(
            ok, header_of(ok).mesg_id.encode(), b"09999600000000000313"
        ),
        "copy": ok,
    }


INPUTS = _inputs()


def test_the_inputs_are_what_their_names_say() -> None:
    def layers(text: bytes) -> set[str]:
        return {f.layer for f in validate(text).findings if f.severity == "error"}

    assert "xsd" in layers(INPUTS["xsd: MsgId too long"])
    assert "xsd" in layers(INPUTS["xsd: unknown code (binder refuses)"])
    assert layers(INPUTS["rules: NbOfTxs 2"]) == {"rule"}
    assert layers(INPUTS["unsafe: DOCTYPE"]) == {"safety"}
    assert not layers(INPUTS["whitespace around the amount"])
    assert not layers(INPUTS["comment inside the amount"])
    paymsg.parse(INPUTS["xsd: MsgId too long"])  # bound, then refused by the checks
    with pytest.raises(paymsg.PaymsgError):
        paymsg.parse(INPUTS["xsd: unknown code (binder refuses)"])


def _tree_facts(text: bytes) -> Any:
    opened = unwrap(text)
    validate_unwrapped(text, opened)  # as the centre does first (merging comments away)
    return tree_facts(opened.document)


@pytest.mark.parametrize("path", HVPS_EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_tree_facts_are_the_bound_facts(path: Path) -> None:
    text = path.read_bytes()
    bound = payment_facts(paymsg.parse(text))
    facts = _tree_facts(text)
    assert facts == bound
    assert str(facts.amount) == str(bound.amount)


@pytest.mark.parametrize(
    "name", ["valid hvps.111", "valid hvps.112", "valid, odd amount", "comment inside the amount"]
)
def test_tree_facts_of_the_variants(name: str) -> None:
    facts = _tree_facts(INPUTS[name])
    bound = payment_facts(paymsg.parse(INPUTS[name]))
    assert facts == bound
    assert str(facts.amount) == str(bound.amount)


def test_values_the_binder_folds_are_left_to_it() -> None:
    assert _tree_facts(INPUTS["whitespace around the amount"]) is None


def _run(tmp: Path) -> dict[str, Any]:
    channel, books, centre = still_centre(tmp, Scenario())
    for text in INPUTS.values():
        channel.put(f"MSGMBFE_1.{A}", text)
    for _ in range(50):
        if centre.step() == 0 and not centre.pending:
            break
    centre.flush()
    out: dict[str, list[bytes]] = {A: [], B: []}
    for bank in (A, B):
        while (delivery := channel.get(f"MSGTOBANK.{bank}")) is not None:
            out[bank].append(delivery.body)
            channel.ack(delivery)
    return final_snapshot(out, books, channel)


#: what the centre answered when it bound every inbound message (paymsg b31ab24),
#: recorded with ``python -m tests.sim.test_unbound_payments``
RECORDED = Path(__file__).with_name("unbound_digests.json")


def test_the_centre_answers_as_when_it_bound_every_payment(tmp_path: Path) -> None:
    snapshot = _run(tmp_path)
    kinds = [header_of(t).mesg_type for t in snapshot["out"][A]]
    assert kinds.count("ccms.900.001.02") == 4  # xsd, rules, unknown receiver, repeat
    assert "saps.604.001.01" in kinds and "ccms.911.001.02" not in kinds
    assert digests(snapshot) == json.loads(RECORDED.read_text(encoding="utf-8"))


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as name:
        print(json.dumps(digests(_run(Path(name))), indent=1))
