"""What the journal reads from texts it did not expect: bare ISO documents, cut-off and
random bytes. Reading never raises; what could not be read is said in ``read_error``."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paymsg.journal import Journal
from paymsg.journal.extract import extract
from tests.conftest import EXAMPLES
from tests.journal.conftest import example


def iso(relative: str) -> bytes:
    return (EXAMPLES / "iso20022" / relative).read_bytes()


def test_bare_iso_documents(journal: Journal) -> None:
    payment = journal.record_outbound(iso("pacs.008.001.08/cbpr-usd-with-bah.xml"), queue="OUT")
    assert (payment.mt, payment.mesg_id, payment.msg_id) == (
        "pacs.008.001.08",
        None,
        "DEUT260316P00471155",
    )
    assert (payment.sender, payment.receiver) == ("DEUTDEFF", "CHASUS33")  # BICs, no header
    assert (payment.amount, payment.currency) == (Decimal("25000.00"), "USD")
    again = journal.record_outbound(iso("pacs.008.001.08/cbpr-usd-with-bah.xml"), queue="OUT")
    assert again.id == payment.id  # no header: the same bytes are the same message
    ret, _ = journal.record_inbound(iso("pacs.004.001.09/cbpr-usd-return-ac04.xml"), queue="IN")
    assert (ret.orig_msg_id, ret.orig_mt) == ("DEUT260316P00471155", "pacs.008.001.08")
    assert (ret.amount, ret.currency) == (Decimal("24975.00"), "USD")  # RtrdIntrBkSttlmAmt
    status, _ = journal.record_inbound(iso("pacs.002.001.10/fednow-acsc.xml"), queue="IN")
    assert status.orig_msg_id == "20260603021000021FN00000000874"
    assert journal.find_original(msg_id=ret.orig_msg_id, mt=ret.orig_mt) == payment


def test_every_cut_of_a_message_is_recorded(journal: Journal) -> None:
    text = example("beps.121.001.01/forwarded-by-npc.txt")
    cuts = list(range(0, len(text), 97))
    for n, cut in enumerate(cuts):
        entry, is_new = journal.record_inbound(text[:cut] + b"#%d" % n, queue="IN")
        assert entry.status == "unreadable" and entry.read_error
        if cut < 132:  # no readable header: each different text is its own entry
            assert is_new and entry.mesg_id is None and entry.raw == text[:cut] + b"#%d" % n
        else:  # the header names the message: later cuts are copies of the first
            assert entry.mesg_id == "20240315000000000005"
            assert is_new == (cut == min(c for c in cuts if c >= 132))
    headerless = sum(1 for c in cuts if c < 132)
    assert len(journal.query(direction="in")) == headerless + 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=400),
        st.binary(max_size=200).map(
            lambda b: example("hvps.111.001.01/customer-transfer-urgent.txt")[:140] + b
        ),
        st.text(max_size=300).map(lambda t: b"{H:02" + t.encode("utf-8")),
    )
)
def test_reading_never_raises(text: bytes) -> None:
    found = extract(text)
    assert found.digest and (found.read_error is not None or found.mt is not None)
