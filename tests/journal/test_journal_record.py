"""Recording messages in and out: what is read from them, idempotence, duplicates."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from paymsg.errors import JournalError
from paymsg.journal import Journal
from tests.journal.conftest import example, hvps111, with_header

HVPS111 = "hvps.111.001.01/customer-transfer-urgent.txt"
BEPS121_NPC = "beps.121.001.01/forwarded-by-npc.txt"


def test_outbound_hvps111_fields(journal: Journal) -> None:
    entry = journal.record_outbound(example(HVPS111), queue="MSGMBFE_1")
    assert entry.direction == "out"
    assert entry.status == "created"
    assert entry.queue == "MSGMBFE_1"
    assert (entry.sender, entry.receiver, entry.system) == ("102100099996", "105100000017", "HVPS")
    assert entry.mt == "hvps.111.001.01"
    assert entry.mesg_id == entry.mesg_ref_id == "20240315000000000022"
    assert entry.msg_id == "2024031500001037"
    assert (entry.tx_type, entry.category) == ("A100", "02102")
    assert entry.amount == Decimal("1280000.00") and isinstance(entry.amount, Decimal)
    assert str(entry.amount) == "1280000.00"
    assert (entry.currency, entry.nb_of_txs) == ("CNY", 1)
    assert entry.work_date == date(2024, 3, 15)
    assert entry.package_id is None
    assert entry.raw == example(HVPS111)
    assert entry.read_error is None
    assert entry.created_at.tzinfo is not None
    assert [(h.from_status, h.to_status) for h in journal.history(entry.id)] == [(None, "created")]


def test_outbound_is_idempotent(journal: Journal) -> None:
    first = journal.record_outbound(example(HVPS111), queue="MSGMBFE_1")
    again = journal.record_outbound(example(HVPS111), queue="MSGMBFE_1")
    assert again.id == first.id
    assert len(journal.query(direction="out")) == 1


def test_outbound_same_mesgid_other_content_is_refused(journal: Journal) -> None:
    journal.record_outbound(example(HVPS111), queue="MSGMBFE_1")
    other = with_header(
        example("hvps.111.001.01/personal-remittance-high.txt"),
        mesg_id="20240315000000000022",
        sender="102100099996",
    )
    with pytest.raises(JournalError, match=r"already in the outbox .* different content"):
        journal.record_outbound(other, queue="MSGMBFE_1")


def test_inbound_package_fields(journal: Journal) -> None:
    entry, is_new = journal.record_inbound(example(BEPS121_NPC), queue="MSGTOBANK")
    assert is_new
    assert entry.status == "received" and entry.deliverable
    assert entry.system == "BEPS" and entry.mt == "beps.121.001.01"
    assert entry.package_id == entry.msg_id == "2024031500217735"
    assert entry.amount == Decimal("24799.99") and entry.nb_of_txs == 3
    assert entry.netting_date == date(2024, 3, 15) and entry.netting_round == "03"
    assert (entry.prc_sts, entry.prc_cd) == ("PR03", "NEZI0000")
    assert entry.copies == 1


def test_inbound_duplicate_counts_copies(journal: Journal) -> None:
    first, new1 = journal.record_inbound(example(BEPS121_NPC), queue="IN")
    second, new2 = journal.record_inbound(example(BEPS121_NPC), queue="IN")
    assert (new1, new2) == (True, False)
    assert second.id == first.id and second.copies == 2
    # the same MesgID from another sender is another message
    other = with_header(example(BEPS121_NPC), mesg_id="20240315000000000005", sender="313100000013")
    third, new3 = journal.record_inbound(other, queue="IN")
    assert new3 and third.id != first.id


def test_replies_carry_correlation(journal: Journal) -> None:
    reject, _ = journal.record_inbound(
        example("ccms.900.001.02/reject-hvps111-not-logged-in.txt"), queue="IN"
    )
    assert (reject.orig_msg_id, reject.orig_mt, reject.orig_sender) == (
        "2024031500000963",
        "hvps.111.001.01",
        "313290000017",
    )
    assert (reject.prc_sts, reject.prc_cd) == ("PR09", "CC1E0012")
    assert reject.rjct_inf and "未登录" in reject.rjct_inf
    confirm, _ = journal.record_inbound(
        example("ccms.990.001.02/npc-confirms-hvps111.txt"), queue="IN"
    )
    assert confirm.orig_mesg_id == "00000000000004821635" and confirm.prc_cd == "PM1I0000"
    assert not confirm.deliverable  # communication level: not for the application
    discard, _ = journal.record_inbound(
        example("ccms.911.001.02/duplicate-hvps111.txt"), queue="IN"
    )
    assert (discard.orig_mesg_id, discard.orig_mt, discard.prc_cd) == (
        "00000000000004821635",
        "hvps.111.001.01",
        "CC1E0301",
    )
    netted, _ = journal.record_inbound(
        example("ccms.900.001.02/beps-package-netted.txt"), queue="IN"
    )
    assert netted.netting_round == "02" and netted.netting_date is not None


def test_hvps112_category_from_f25_line(journal: Journal) -> None:
    entry = journal.record_outbound(
        example("hvps.112.001.01/interbank-funds-transfer.txt"), queue="Q"
    )
    assert (entry.tx_type, entry.category) == ("A200", "02105")
    assert entry.amount == Decimal("50000000.00")


def test_find_and_find_original(journal: Journal) -> None:
    sent = journal.record_outbound(example(HVPS111), queue="Q")
    assert (
        journal.find(direction="out", sender="102100099996", mesg_id="20240315000000000022") == sent
    )
    assert (
        journal.find(direction="in", sender="102100099996", mesg_id="20240315000000000022") is None
    )
    assert journal.find_original(msg_id="2024031500001037", mt="hvps.111.001.01") == sent
    assert (
        journal.find_original(
            msg_id="2024031500001037", mt="hvps.111.001.01", sender="102100099996"
        )
        == sent
    )
    # OrgnlInstgPty naming someone else (an indirect participant): the only candidate
    assert (
        journal.find_original(
            msg_id="2024031500001037", mt="hvps.111.001.01", sender="102100024015"
        )
        == sent
    )
    # another bank's message with the same MsgId: now it takes the right sender
    other = journal.record_outbound(
        with_header(example(HVPS111), mesg_id="20240315000000000999", sender="313290000017"),
        queue="Q",
    )
    find = journal.find_original
    assert find(msg_id="2024031500001037", mt="hvps.111.001.01", sender="313290000017") == other
    assert find(msg_id="2024031500001037", mt="hvps.111.001.01", sender="102100099996") == sent
    assert find(msg_id="2024031500001037", mt="hvps.111.001.01", sender="102100024015") is None
    assert find(msg_id="2024031500001037", mt="hvps.111.001.01") == other  # the newest
    assert journal.find_original(msg_id="2024031500001037", mt="hvps.112.001.01") is None


def test_find_originals_gives_what_find_original_gives_for_each_key(journal: Journal) -> None:
    """One query for many keys, with find_original's rules per key: the sender's entry,
    the only candidate when another party is named, None when ambiguous or unknown, the
    newest without a sender, the same entry for a key asked twice, in the order asked."""
    sent = journal.record_outbound(example(HVPS111), queue="Q")
    other = journal.record_outbound(
        with_header(example(HVPS111), mesg_id="20240315000000000999", sender="313290000017"),
        queue="Q",
    )
    alone = journal.record_outbound(
        example("hvps.112.001.01/interbank-funds-transfer.txt"), queue="Q"
    )
    assert alone.msg_id is not None and alone.mt == "hvps.112.001.01"
    keys: list[tuple[str, str, str | None]] = [
        ("2024031500001037", "hvps.111.001.01", "313290000017"),
        ("2024031500001037", "hvps.111.001.01", "102100099996"),
        ("2024031500001037", "hvps.111.001.01", "102100024015"),  # ambiguous
        ("2024031500001037", "hvps.111.001.01", None),  # the newest
        (alone.msg_id, alone.mt, "102100024015"),  # the only candidate
        ("2024031500001037", "hvps.112.001.01", None),  # another type
        ("2099123100000001", "hvps.111.001.01", "102100099996"),  # unknown
        ("2024031500001037", "hvps.111.001.01", "102100099996"),  # asked twice
    ]
    expected = [other, sent, None, other, alone, None, None, sent]
    assert journal.find_originals(keys) == expected
    assert [journal.find_original(msg_id=m, mt=t, sender=who) for m, t, who in keys] == expected
    assert journal.find_originals(keys, direction="in") == [None] * len(keys)
    assert journal.find_originals([]) == []


def test_find_originals_over_many_keys_gives_entries_exactly_as_a_read_does(
    journal: Journal,
) -> None:
    """Keys beyond one query's worth (500 distinct MsgIds) and between its padded sizes:
    each key finds its own entry, exactly as :meth:`get` reads it (values and types)."""
    texts = [hvps111(n, amount=f"{n}.5") for n in range(1, 531)]
    sent = journal.record_outbound_many(texts, queue="Q")
    for count in (1, 9, 17, 530):
        keys = [(e.msg_id or "", e.mt or "", e.sender) for e in reversed(sent[:count])]
        found = journal.find_originals(keys)
        assert [e.id if e else None for e in found] == [e.id for e in reversed(sent[:count])]
    for entry in journal.find_originals([(e.msg_id or "", e.mt or "", None) for e in sent[::97]]):
        assert entry is not None
        read = journal.get(entry.id)
        assert entry.model_dump_json() == read.model_dump_json()
        assert all(type(v) is type(getattr(read, k)) for k, v in entry)


def test_find_originals_searches_sqlite_by_msg_id_not_every_outbound_entry(
    tmp_path: Path,
) -> None:
    """Correlating a batch of replies looks its MsgIds up in the MsgId index: the query
    SQLite runs must not walk the (direction, status, id) index, i.e. every outbound entry
    of the journal, once per batch."""
    journal = Journal(f"sqlite:///{tmp_path / 'plan.db'}")
    sent = journal.record_outbound_many([hvps111(n) for n in range(1, 4)], queue="Q")
    statements: list[str] = []
    # every connection the journal opens from now on reports the SQL it runs
    sa.event.listen(
        journal.engine, "connect", lambda dbapi, _: dbapi.set_trace_callback(statements.append)
    )
    journal.engine.dispose()
    found = journal.find_originals([(e.msg_id or "", e.mt or "", None) for e in sent])
    (query,) = [sql for sql in statements if "msg_id IN" in sql]
    with sqlite3.connect(tmp_path / "plan.db") as connection:
        plan = str(connection.execute(f"EXPLAIN QUERY PLAN {query}").fetchall())
    journal.close()
    assert [e.id if e else None for e in found] == [e.id for e in sent]
    assert "ix_journal_entries_msg" in plan and "ix_journal_entries_status" not in plan


@pytest.mark.parametrize(
    "text",
    [b"not a message at all", b"{H:02 broken header", b"\xff\xfe\x00garbage"],
)
def test_unreadable_inbound_is_kept_raw(journal: Journal, text: bytes) -> None:
    entry, is_new = journal.record_inbound(text, queue="IN")
    assert is_new and entry.status == "unreadable" and entry.raw == text
    assert entry.read_error and entry.status_detail == entry.read_error
    assert not entry.deliverable
    again, is_new_again = journal.record_inbound(text, queue="IN")
    assert not is_new_again and again.id == entry.id and again.copies == 2
    assert journal.pending_deliveries() == []


def test_unreadable_body_keeps_header_ids(journal: Journal) -> None:
    text = example(HVPS111)[:300]  # header fine, XML cut off
    entry, _ = journal.record_inbound(text, queue="IN")
    assert entry.status == "unreadable"
    assert entry.read_error is not None and "line" in entry.read_error
    assert (entry.sender, entry.mesg_id) == ("102100099996", "20240315000000000022")
    _, is_new = journal.record_inbound(text, queue="IN")
    assert not is_new


def test_get_unknown_id(journal: Journal) -> None:
    with pytest.raises(JournalError, match="no journal entry with id 4242"):
        journal.get(4242)
