"""The CNAPS2 session on the embedded channel: 990 correlation, receiving, poison, order.

Each test runs a real SQLite channel and journal in ``tmp_path``; the far end is the echo
peer (``paymsg.transport.echo``) in a thread, or the test itself putting texts.
"""

from __future__ import annotations

import copy
import threading
import time
import tomllib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import paymsg
from paymsg import cnaps2
from paymsg.codec.envelope.cnaps2 import split_envelope
from paymsg.errors import EnvelopeError, JournalError, ValidationFailedError
from paymsg.journal import Journal, JournalEntry, StatusUpdate
from paymsg.transport import open_channel
from paymsg.transport.echo import run_echo
from paymsg.transport.session import (
    Cnaps2Session,
    ReplyCodes,
    SendResult,
    build_confirmation,
    read_header,
    salvage_header,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "cnaps2"
BANK = "102100099996"
OTHER = "313290000017"
HVPS111 = paymsg.parse(
    EXAMPLES / "hvps.111.001.01/customer-transfer-urgent.xml", type="hvps.111.001.01"
)


def hvps111(index: int, *, sender: str | None = None, prefix: str = "T") -> bytes:
    """A distinct hvps.111 text: MesgID ``prefix`` + index, GrpHdr MsgId by index."""
    document = copy.deepcopy(HVPS111.document)
    document.fito_ficstmr_cdt_trf.grp_hdr.msg_id = f"20240315{index:08d}"
    message = cnaps2.wrap(
        document,
        type="hvps.111.001.01",
        sender=sender,
        mesg_id=f"{prefix}{index:019d}"[:20],
        now=None,
    )
    return paymsg.serialize(message)


def confirmations(channel: Any, queue: str) -> list[Any]:
    """Every ccms.990 waiting on ``queue``, parsed (and acknowledged)."""
    found = []
    while (delivery := channel.get(queue, 0.0)) is not None:
        found.append(paymsg.parse(delivery.body))
        channel.ack(delivery)
    return found


@pytest.fixture
def urls(tmp_path: Path) -> tuple[str, str]:
    return (
        f"sqlite:///{tmp_path / 'mq.db'}?delivery_limit=50",
        f"sqlite:///{tmp_path / 'journal.db'}?synchronous=normal",
    )


@pytest.fixture
def echo(urls: tuple[str, str]) -> Iterator[dict[str, Any]]:
    """An echo peer reading OUT and answering on IN; ``settings['code']`` is its answer."""
    settings: dict[str, Any] = {"code": None}
    stop = threading.Event()

    def run() -> None:
        codes = ReplyCodes() if settings["code"] is None else ReplyCodes(success=settings["code"])
        with open_channel(urls[0]) as channel:
            settings["stats"] = run_echo(
                channel,
                in_queue="OUT",
                out_queue="IN",
                codes=codes,
                stop=stop,
                poll_interval=0.02,
            )

    settings["start"] = lambda: threading.Thread(target=run, daemon=True).start()
    yield settings
    stop.set()


def session(urls: tuple[str, str], **options: Any) -> Cnaps2Session:
    options.setdefault("confirm_timeout", 10.0)
    return Cnaps2Session(
        lambda: open_channel(urls[0]),
        Journal(urls[1]),
        participant=BANK,
        out_queue="OUT",
        in_queue="IN",
        poll_interval=0.02,
        **options,
    )


# --------------------------------------------------------------------------- sending


def test_send_is_journaled_put_and_confirmed_by_the_990(
    urls: tuple[str, str], echo: dict[str, Any]
) -> None:
    echo["start"]()
    with session(urls) as s:
        result = s.send(hvps111(1))
        assert result.status == "confirmed" and result.code == "PM1I0000" and result.puts == 1
        entry = s.journal.get(result.entry_id)
        assert entry.direction == "out" and entry.status == "confirmed"
        assert entry.mesg_id == "T0000000000000000001" and entry.mt == "hvps.111.001.01"
        steps = [h.to_status for h in s.journal.history(entry.id)]
        assert steps == ["created", "sent", "confirmed"]
        # the 990 is in the inbox, linked from the status change, and not for the application
        related = s.journal.history(entry.id)[-1].related_id
        assert related is not None
        reply = s.journal.get(related)
        assert reply.mt == "ccms.990.001.02" and reply.orig_mesg_id == entry.mesg_id
        assert not reply.deliverable
        # the result is built without validating again, yet is what validating gives
        validated = SendResult.model_validate(dict(result))
        assert validated == result and validated.model_fields_set == result.model_fields_set
        for name, value in result:
            assert type(value) is type(getattr(validated, name))
        assert isinstance(result.seconds, float) and result.ok


def test_send_many_pipelines_and_every_entry_ends_confirmed(
    urls: tuple[str, str], echo: dict[str, Any]
) -> None:
    echo["start"]()
    with session(urls) as s:
        results = s.send_many([hvps111(i) for i in range(40)])
        assert [r.status for r in results] == ["confirmed"] * 40
        assert [r.mesg_id for r in results] == [f"T{i:019d}" for i in range(40)]
        assert s.journal.status_counts()["out"] == {"confirmed": 40}


def test_sending_the_same_text_again_is_not_a_second_message(
    urls: tuple[str, str], echo: dict[str, Any]
) -> None:
    echo["start"]()
    with session(urls) as s:
        first = s.send(hvps111(7))
        again = s.send(hvps111(7))
        assert again.entry_id == first.entry_id and again.status == "confirmed"
        assert again.puts == 0  # already answered: nothing put
        assert s.journal.status_counts()["out"] == {"confirmed": 1}


class _AnsweringChannel:
    """A channel whose put has the 990 on the reply queue *before* put returns: the
    fastest possible peer. A session that subscribed after putting would lose it."""

    def __init__(self, url: str) -> None:
        self.inner = open_channel(url)
        self.url = self.inner.url

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def put(self, queue: str, body: bytes, properties: Any = None) -> None:
        self.inner.put(queue, body, properties)
        if queue == "OUT":
            header = split_envelope(body)[0].header
            self.inner.put(
                "IN", build_confirmation(header, "PM1I0000", participant="0000", header_ids="new")
            )

    def put_many(self, queue: str, bodies: Any, properties: Any = None) -> None:
        self.inner.put_many(queue, bodies, properties)
        if queue == "OUT":
            self.inner.put_many(
                "IN",
                [
                    build_confirmation(
                        split_envelope(body)[0].header,
                        "PM1I0000",
                        participant="0000",
                        header_ids="new",
                    )
                    for body in bodies
                ],
            )


def test_a_990_that_arrives_before_put_returns_is_not_lost(urls: tuple[str, str]) -> None:
    s = Cnaps2Session(
        lambda: _AnsweringChannel(urls[0]),
        Journal(urls[1]),
        participant=BANK,
        out_queue="OUT",
        in_queue="IN",
        confirm_timeout=10.0,
        resend=0,
        poll_interval=0.01,
    )
    with s:
        results = s.send_many([hvps111(i) for i in range(20)])
    assert {r.status for r in results} == {"confirmed"}
    assert {r.puts for r in results} == {1}


def test_an_error_code_in_the_990_refuses_the_message_with_that_code(
    urls: tuple[str, str], echo: dict[str, Any]
) -> None:
    echo["code"] = "CC1E0012"
    echo["start"]()
    with session(urls) as s:
        result = s.send(hvps111(2))
        assert result.status == "refused" and result.code == "CC1E0012" and not result.ok
        assert s.journal.get(result.entry_id).status_code == "CC1E0012"


def test_success_codes_are_configurable(urls: tuple[str, str], echo: dict[str, Any]) -> None:
    echo["code"] = "0000"  # the IBPS-style success seen in one public log
    echo["start"]()
    codes = ReplyCodes(accepted=frozenset({"PM1I0000", "0000"}))
    with session(urls, codes=codes) as s:
        assert s.send(hvps111(3)).status == "confirmed"


def test_no_990_resends_the_same_mesgid_with_backoff_then_times_out(urls: tuple[str, str]) -> None:
    with session(urls, confirm_timeout=0.1, resend=2, resend_backoff=1.5) as s:
        result = s.send(hvps111(4))
        assert result.status == "timed_out" and result.puts == 3
        entry = s.journal.get(result.entry_id)
        assert entry.status == "timed_out" and entry.resent == 2
        # three copies on the queue, all the same text (same MesgID)
        with open_channel(urls[0]) as channel:
            bodies = []
            while (d := channel.get("OUT", 0.0)) is not None:
                bodies.append(d.body)
                channel.ack(d)
        assert len(bodies) == 3 and len(set(bodies)) == 1


def test_a_990_taken_by_another_process_on_the_same_journal_confirms_without_a_resend(
    urls: tuple[str, str],
) -> None:
    """Two sending processes on one journal and one reply queue: either one's consumer
    may take the other's ccms.990 and record it. When the wait runs out the sender finds
    its entry answered in the journal: the result is that answer, nothing is put again
    (the resend tried to move the confirmed entry back to 'sent' and the send failed with
    a JournalError)."""
    with session(urls, confirm_timeout=0.3, resend=2) as s:
        other = Journal(urls[1])  # another process's session, as its consumer would

        def confirm_elsewhere() -> None:
            while not (found := other.query(direction="out", status="sent")):
                time.sleep(0.01)
            other.set_status(found[0].id, "confirmed", code="PM1I0000")

        helper = threading.Thread(target=confirm_elsewhere)
        helper.start()
        result = s.send(hvps111(11))
        helper.join()
        assert result.status == "confirmed" and result.code == "PM1I0000" and result.puts == 1
        with open_channel(urls[0]) as channel:
            assert channel.depth("OUT") == 1  # the one put, no resend


def test_a_late_990_after_timing_out_still_confirms(
    urls: tuple[str, str], echo: dict[str, Any]
) -> None:
    with session(urls, confirm_timeout=0.05, resend=0) as s:
        result = s.send(hvps111(5))
        assert result.status == "timed_out"
        echo["start"]()  # the peer comes up and answers the copy waiting on the queue
        deadline = threading.Event()
        for _ in range(200):
            if s.journal.get(result.entry_id).status == "confirmed":
                break
            deadline.wait(0.05)
        assert s.journal.get(result.entry_id).status == "confirmed"


def test_resume_resends_every_unconfirmed_entry(
    urls: tuple[str, str], echo: dict[str, Any]
) -> None:
    journal = Journal(urls[1])
    for i in range(5):
        journal.record_outbound(hvps111(i), queue="OUT")  # a crash before anything was put
    sent = journal.record_outbound(hvps111(9), queue="OUT")
    journal.set_status(sent.id, "sent")  # a crash after 'sent'
    echo["start"]()
    with session(urls) as s:
        results = s.resume()
        assert len(results) == 6 and {r.status for r in results} == {"confirmed"}
        assert s.resume() == []


def test_resume_of_a_work_date_leaves_the_unanswered_entries_of_other_dates(
    urls: tuple[str, str], echo: dict[str, Any]
) -> None:
    """A day's resume sends again only that day's unanswered outbox entries: an entry of
    another work date in the same journal stays as it is (not put, not confirmed)."""
    journal = Journal(urls[1])
    today = journal.record_outbound(hvps111(1), queue="OUT")  # MsgId 20240315…
    document = copy.deepcopy(HVPS111.document)
    document.fito_ficstmr_cdt_trf.grp_hdr.msg_id = "2024031400000002"
    yesterday_text = paymsg.serialize(
        cnaps2.wrap(document, type="hvps.111.001.01", mesg_id="Y" + "2".zfill(19), now=None)
    )
    yesterday = journal.record_outbound(yesterday_text, queue="OUT")
    journal.set_status(yesterday.id, "sent")
    assert (today.work_date, yesterday.work_date) == (date(2024, 3, 15), date(2024, 3, 14))
    echo["start"]()
    with session(urls) as s:
        results = s.resume(work_date="2024-03-15")
        assert [(r.entry_id, r.status) for r in results] == [(today.id, "confirmed")]
        assert s.journal.get(yesterday.id).status == "sent"
        assert s.journal.get(yesterday.id).resent == 0
        assert s.resume(work_date=date(2024, 3, 15)) == []
        # without a date every unanswered entry is sent again, as before
        assert [r.entry_id for r in s.resume()] == [yesterday.id]
        assert s.journal.get(yesterday.id).status == "confirmed"


def test_replay_sends_a_timed_out_message_again(
    urls: tuple[str, str], echo: dict[str, Any]
) -> None:
    with session(urls, confirm_timeout=0.05, resend=0) as s:
        first = s.send(hvps111(6))
        assert first.status == "timed_out"
        with open_channel(urls[0]) as channel:  # the copy put while nobody answered is gone
            copy_ = channel.get("OUT", 0.0)
            assert copy_ is not None
            channel.ack(copy_)
    echo["start"]()
    with session(urls) as s:
        again = s.replay("T0000000000000000006")
        assert again.entry_id == first.entry_id and again.status == "confirmed" and again.puts == 1
        with pytest.raises(JournalError, match="already"):
            s.replay("T0000000000000000006")
        with pytest.raises(JournalError, match="no outbound message"):
            s.replay("NOSUCHID")


def test_validation_refuses_before_anything_is_journaled(urls: tuple[str, str]) -> None:
    bad = (
        hvps111(8).replace(b"<Ccy>CNY</Ccy>", b"<Ccy>XXX</Ccy>").replace(b'Ccy="CNY"', b'Ccy="USD"')
    )
    with session(urls) as s:
        with pytest.raises(ValidationFailedError) as caught:
            s.send(bad)
        assert caught.value.report is not None and not caught.value.report.ok
        assert s.journal.status_counts()["out"] == {}
        with pytest.raises(EnvelopeError, match="no header"):
            s.send(b"<Document/>")
        # in a batch the error names the item (or the name given for it); nothing is sent
        with pytest.raises(ValidationFailedError) as caught:
            s.send_many([hvps111(9), bad])
        assert caught.value.source == "item #1"
        with pytest.raises(ValidationFailedError, match=r"^b\.txt:") as caught:
            s.send_many([hvps111(9), bad], names=["a.txt", "b.txt"])
        assert s.journal.status_counts()["out"] == {}


def test_a_document_is_wrapped_and_sent(urls: tuple[str, str], echo: dict[str, Any]) -> None:
    echo["start"]()
    with session(urls) as s:
        result = s.send(copy.deepcopy(HVPS111.document))
        assert result.status == "confirmed" and result.mt == "hvps.111.001.01"
        assert result.sender == BANK


# --------------------------------------------------------------------------- receiving


def effects_handler(seen: list[JournalEntry]) -> Any:
    def handler(entry: JournalEntry, conn: sa.Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS app_effects (mesg_id TEXT, sender TEXT)")
        conn.exec_driver_sql("INSERT INTO app_effects VALUES (?, ?)", (entry.mesg_id, entry.sender))
        seen.append(entry)

    return handler


def test_receive_answers_records_and_delivers_once(urls: tuple[str, str]) -> None:
    texts = [hvps111(i, sender=OTHER, prefix="R") for i in range(5)]
    with open_channel(urls[0]) as channel:
        channel.declare("IN")
        for text in texts:
            channel.put("IN", text)
        seen: list[JournalEntry] = []
        with session(urls) as s:
            stats = s.listen(effects_handler(seen), max_messages=5)
        assert stats.received == 5 and stats.answered == 5 and stats.delivered == 5
        assert [e.mesg_id for e in seen] == [f"R{i:019d}" for i in range(5)]
        replies = confirmations(channel, "OUT")
    assert [r.type for r in replies] == ["ccms.990.001.02"] * 5
    info = [r.document.com_conf.conf_inf for r in replies]
    assert [i.msg_id for i in info] == [f"R{i:019d}" for i in range(5)]
    assert {(i.orig_sndr, i.mt, i.msg_prc_cd) for i in info} == {
        (OTHER, "hvps.111.001.01", "PM1I0000")
    }
    header = replies[0].envelope.header
    # our 990: from us, back to the sender, header ids echo the confirmed message (§6.6)
    assert (header.orig_sender, header.orig_receiver, header.mesg_id) == (
        BANK,
        OTHER,
        "R0000000000000000000",
    )
    assert header.mesg_direction == "U" and replies[0].envelope.signature is None


def test_a_thousand_copies_of_one_mesgid_are_delivered_once_and_each_answered(
    urls: tuple[str, str],
) -> None:
    text = hvps111(1, sender=OTHER, prefix="D")
    with open_channel(urls[0]) as channel:
        channel.declare("IN")
        for _ in range(1000):
            channel.put("IN", text)
        seen: list[JournalEntry] = []
        with session(urls) as s:
            stats = s.listen(effects_handler(seen), max_messages=1000)
            entry = s.journal.find(direction="in", sender=OTHER, mesg_id="D0000000000000000001")
            with s.journal.engine.connect() as conn:
                effects = conn.exec_driver_sql("SELECT count(*) FROM app_effects").scalar()
        assert len(seen) == 1 and effects == 1
        assert stats.duplicates == 999 and stats.answered == 1000
        assert entry is not None and entry.copies == 1000 and entry.status == "delivered"
        replies = confirmations(channel, "OUT")
        assert len(replies) == 1000
        assert {r.document.com_conf.conf_inf.msg_id for r in replies} == {"D0000000000000000001"}


def test_a_copy_with_another_text_is_answered_kept_in_quarantine_and_not_delivered(
    urls: tuple[str, str],
) -> None:
    """Same sender and MesgID, other bytes: not the same message. The journal keeps the
    first; the other text is answered like any copy, set aside with the reason and never
    delivered; a byte-identical copy is only counted."""
    first = hvps111(7, sender=OTHER, prefix="C")
    other = first.replace(b"<MsgId>", b"<MsgId>X", 1)
    assert other != first
    with open_channel(urls[0]) as channel:
        channel.declare("IN")
        for text in (first, first, other):
            channel.put("IN", text)
        seen: list[JournalEntry] = []
        with session(urls) as s:
            stats = s.listen(effects_handler(seen), max_messages=3)
            entry = s.journal.find(direction="in", sender=OTHER, mesg_id="C0000000000000000007")
            kept = s.journal.quarantined()
        assert len(seen) == 1 and entry is not None and entry.raw == first
        assert entry.copies == 3 and entry.status == "delivered"
        assert stats.duplicates == 2 and stats.conflicting_copies == 1 and stats.answered == 3
        assert [q.body for q in kept] == [other]
        assert "conflicting copy" in kept[0].reason and str(entry.id) in kept[0].reason
        assert len(confirmations(channel, "OUT")) == 3


def test_a_990_is_never_answered_and_an_unknown_one_is_kept(urls: tuple[str, str]) -> None:
    header = split_envelope(hvps111(3))[0].header
    stray = build_confirmation(header, "PM1I0000", participant="0000", header_ids="new")
    with open_channel(urls[0]) as channel:
        channel.declare("IN")
        channel.put("IN", stray)
        with session(urls) as s:
            stats = s.listen(effects_handler([]), max_messages=1)
            assert stats.confirmations == 1 and stats.unmatched_confirmations == 1
            assert stats.answered == 0
            assert s.journal.status_counts()["in"] == {"received": 1}
        assert channel.depth("OUT") == 0


def test_unreadable_text_is_answered_with_an_error_code_and_quarantined(
    urls: tuple[str, str],
) -> None:
    good = hvps111(1, sender=OTHER, prefix="U")
    broken_body = good.replace(b"</Document>", b"</Documnt>")
    header_only = split_envelope(good)[0].raw + b"not xml at all"
    no_header = b"this is not a CNAPS2 message"
    with open_channel(urls[0]) as channel:
        channel.declare("IN")
        for text in (broken_body, no_header):
            channel.put("IN", text)
        channel.put("IN", header_only.replace(b"U0000000000000000001", b"U0000000000000000002"))
        channel.put("IN", hvps111(3, sender=OTHER, prefix="U"))  # the queue is not blocked
        seen: list[JournalEntry] = []
        with session(urls) as s:
            stats = s.listen(effects_handler(seen), max_messages=4)
            held = s.journal.quarantined()
        assert [e.mesg_id for e in seen] == ["U0000000000000000003"]
        assert stats.unreadable == 3 and len(held) == 3
        assert {h.body for h in held} >= {broken_body, no_header}
        assert all(h.reason for h in held)
        replies = confirmations(channel, "OUT")
    codes = sorted(r.document.com_conf.conf_inf.msg_prc_cd for r in replies)
    # the text without a header cannot be addressed: no 990 for it
    assert codes == ["PM1E0002", "PM1E0002", "PM1I0000"]


def test_a_failing_handler_is_retried_then_quarantined_and_retry_delivers_it(
    urls: tuple[str, str],
) -> None:
    calls: list[str | None] = []
    broken = {"on": True}

    def handler(entry: JournalEntry, conn: sa.Connection) -> None:
        calls.append(entry.mesg_id)
        if broken["on"] and entry.mesg_id == "H0000000000000000001":
            raise RuntimeError("ledger is down")

    with open_channel(urls[0]) as channel:
        channel.declare("IN")
        for i in range(3):
            channel.put("IN", hvps111(i, sender=OTHER, prefix="H"))
    with session(urls, handler_attempts=3, handler_retry_delay=0.0) as s:
        stats = s.listen(handler, max_messages=3)
        assert calls.count("H0000000000000000001") == 3
        assert stats.quarantined == 1 and stats.delivered == 2
        (held,) = s.journal.quarantined()
        assert "ledger is down" in held.reason and "3 time" in held.reason
        assert s.journal.get(held.entry_id or 0).status == "quarantined"
    broken["on"] = False
    with session(urls) as s:
        s.retry(held.id)
        stats = s.listen(handler, idle_exit=0.3)
        assert stats.delivered == 1
        assert s.journal.get(held.entry_id or 0).status == "delivered"


def test_a_handler_failing_mid_batch_keeps_the_order_and_the_others_writes(
    urls: tuple[str, str],
) -> None:
    """Ten pending messages go to the handler in one batch; the fourth fails once: the three
    before it commit, it is retried before the ones after it, nothing runs twice."""
    with open_channel(urls[0]) as channel:
        channel.declare("IN")
        channel.put_many("IN", [hvps111(i, sender=OTHER, prefix="M") for i in range(10)])
    with session(urls) as s:
        s.listen(max_messages=10)  # recorded, answered, acked; no handler: all pending
    journal = Journal(urls[1])
    with journal.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE app_rows (mesg_id TEXT)")
    calls: list[str | None] = []
    failed: list[str | None] = []

    def handler(entry: JournalEntry, conn: sa.Connection) -> None:
        calls.append(entry.mesg_id)
        conn.exec_driver_sql("INSERT INTO app_rows VALUES (?)", (entry.mesg_id,))
        if entry.mesg_id == "M0000000000000000003" and not failed:
            failed.append(entry.mesg_id)
            raise RuntimeError("ledger busy")

    with session(urls, handler_retry_delay=0.0) as s:
        stats = s.listen(handler, idle_exit=0.3)
    names = [f"M{i:019d}" for i in range(10)]
    assert calls == [*names[:4], *names[3:]]
    assert stats.delivered == 10 and stats.handler_failures == 1 and stats.quarantined == 0
    with journal.engine.connect() as conn:
        rows = [r[0] for r in conn.exec_driver_sql("SELECT mesg_id FROM app_rows ORDER BY rowid")]
    assert rows == names  # the failed attempt's row rolled back, none repeated
    retried = journal.find(direction="in", sender=OTHER, mesg_id=names[3])
    assert retried is not None and retried.attempts == 2


def test_workers_keep_each_senders_order(urls: tuple[str, str]) -> None:
    senders = ["313290000017", "105100000017", "403100000004"]
    order: list[tuple[str | None, str | None]] = []
    lock = threading.Lock()

    def handler(entry: JournalEntry, conn: sa.Connection) -> None:
        with lock:
            order.append((entry.sender, entry.mesg_id))

    with open_channel(urls[0]) as channel:
        channel.declare("IN")
        for i in range(30):
            channel.put("IN", hvps111(i, sender=senders[i % 3], prefix="W"))
    with session(urls, workers=3) as s:
        stats = s.listen(handler, max_messages=30)
    assert stats.delivered == 30 and len(order) == 30
    for sender in senders:
        ids = [m for who, m in order if who == sender]
        assert ids == sorted(ids) and len(ids) == 10


def test_pending_deliveries_of_many_senders_go_to_workers_in_each_senders_order(
    urls: tuple[str, str],
) -> None:
    """What a start finds pending is queued a page at a time: each sender's entries to one
    worker, in order, in journal transactions of at most ``delivery_batch`` entries."""
    senders = ["313290000017", "105100000017", "403100000004"]
    journal = Journal(urls[1])
    for i in range(24):
        journal.record_inbound(hvps111(i, sender=senders[i % 3], prefix="L"), queue="IN")
    order: list[tuple[str | None, str | None]] = []
    batches: list[int] = []
    lock = threading.Lock()

    def handler(entry: JournalEntry, conn: sa.Connection) -> None:
        with lock:
            order.append((entry.sender, entry.mesg_id))

    with session(urls, workers=3) as s:
        s.delivery_batch = 4
        deliver_many = s.journal.deliver_many

        def counted(ids: Any, run: Any, **options: Any) -> Any:
            with lock:
                batches.append(len(ids))
            return deliver_many(ids, run, **options)

        s.journal.deliver_many = counted  # type: ignore[method-assign]
        stats = s.listen(handler, idle_exit=0.3)
    assert stats.delivered == 24 and len(order) == 24
    for sender in senders:
        ids = [m for who, m in order if who == sender]
        assert ids == sorted(ids) and len(ids) == 8
    assert sum(batches) == 24 and max(batches) <= 4
    assert journal.pending_deliveries() == []


def test_deliveries_pending_in_the_journal_are_made_at_start(urls: tuple[str, str]) -> None:
    journal = Journal(urls[1])
    for i in range(3):  # recorded and acknowledged by a process that died before delivering
        journal.record_inbound(hvps111(i, sender=OTHER, prefix="P"), queue="IN")
    seen: list[JournalEntry] = []
    with session(urls) as s:
        s.listen(effects_handler(seen), idle_exit=0.2)
    assert [e.mesg_id for e in seen] == [f"P{i:019d}" for i in range(3)]


def test_more_pending_deliveries_than_one_page_are_all_made_at_start_in_order(
    urls: tuple[str, str],
) -> None:
    """The start reads what is pending page by page: every page, not the first one again."""
    journal = Journal(urls[1])
    for i in range(8):
        journal.record_inbound(hvps111(i, sender=OTHER, prefix="Q"), queue="IN")
    seen: list[JournalEntry] = []
    with session(urls) as s:
        s.pending_page = 3
        s.listen(effects_handler(seen), idle_exit=0.2)
    assert [e.mesg_id for e in seen] == [f"Q{i:019d}" for i in range(8)]


# --------------------------------------------------------------------------- replies


def _reply_from_npc(example: str, original: JournalEntry) -> bytes:
    """An example NPC reply rewritten to answer ``original``."""
    text = (EXAMPLES / example).read_bytes()
    message = paymsg.parse(text)
    body = message.document
    for name in ("cmon_conf", "sttlm_rtr_rct"):
        part = getattr(body, name, None)
        if part is not None:
            part.orgnl_grp_hdr.orgnl_msg_id = original.msg_id
            part.orgnl_grp_hdr.orgnl_instg_pty = original.sender
    if hasattr(body, "dscrd_msg_ntfctn"):
        info = body.dscrd_msg_ntfctn.dscrd_inf
        info.orig_sndr, info.msg_id = original.sender, original.mesg_id
    return paymsg.serialize(cnaps2.wrap(message, sender="0000", receiver=BANK))


@pytest.mark.parametrize(
    ("example", "status"),
    [
        ("ccms.900.001.02/reject-hvps111-not-logged-in.txt", "rejected"),
        ("saps.604.001.01/settled-hvps111.txt", "settled"),
        ("ccms.911.001.02/duplicate-hvps111.txt", "rejected"),
    ],
)
def test_npc_replies_advance_the_original_outbox_entry(
    urls: tuple[str, str], echo: dict[str, Any], example: str, status: str
) -> None:
    echo["start"]()
    with session(urls) as s:
        sent = s.send(hvps111(11))
        original = s.journal.get(sent.entry_id)
        with open_channel(urls[0]) as channel:
            channel.put("IN", _reply_from_npc(example, original))
        for _ in range(200):
            if s.journal.get(original.id).status != "confirmed":
                break
            threading.Event().wait(0.02)
        after = s.journal.get(original.id)
        assert after.status == status
        assert s.journal.history(original.id)[-1].related_id is not None


# --------------------------------------------------------------------------- signatures, batches

KEY = tomllib.loads((EXAMPLES / "keys/test-sm2-key.toml").read_text(encoding="utf-8"))
PROFILES = cnaps2.load_signing_profiles(EXAMPLES / "signing-example.toml")


def test_inbound_signatures_are_verified_when_a_verifier_is_given(urls: tuple[str, str]) -> None:
    signed = (EXAMPLES / "beps.121.001.01/customer-credit-package.signed.txt").read_bytes()
    sender = split_envelope(signed)[0].header.orig_sender
    tampered = signed.replace(b'Ccy="CNY">', b'Ccy="CNY">1', 1).replace(
        split_envelope(signed)[0].header.mesg_id.encode(), b"TAMPERED000000000001"
    )
    with open_channel(urls[0]) as channel:
        channel.declare("IN")
        for text in (signed, tampered, hvps111(1, sender=OTHER, prefix="V")):
            channel.put("IN", text)
        seen: list[JournalEntry] = []
        verifier = cnaps2.SM2Verifier({sender: KEY["public_key"], OTHER: KEY["public_key"]})
        with session(urls, verifier=verifier, verify_profiles=PROFILES) as s:
            stats = s.listen(effects_handler(seen), max_messages=3)
            reasons = sorted(q.reason for q in s.journal.quarantined())
        assert [e.mt for e in seen] == ["beps.121.001.01"]
        assert stats.quarantined == 2 and len(reasons) == 2
        assert any("does not verify" in r for r in reasons)
        assert any("must be signed" in r for r in reasons)
        codes = [r.document.com_conf.conf_inf.msg_prc_cd for r in confirmations(channel, "OUT")]
    assert codes == ["PM1I0000", "PM1E0003", "PM1E0003"]


def test_a_document_is_signed_when_the_session_has_a_signer(
    urls: tuple[str, str], echo: dict[str, Any]
) -> None:
    echo["start"]()
    document = paymsg.parse(
        EXAMPLES / "beps.121.001.01/customer-credit-package.xml", type="beps.121.001.01"
    )
    signer = cnaps2.SM2Signer(KEY["private_key"])
    with session(urls, signer=signer, signing_profile=PROFILES["beps.121.001.01"]) as s:
        result = s.send(document)
        assert result.status == "confirmed"
        raw = s.journal.get(result.entry_id).raw
    verifier = cnaps2.SM2Verifier({result.sender or "": KEY["public_key"]})
    paymsg.parse(raw, verifier=verifier, signing_profile=PROFILES["beps.121.001.01"])


def test_the_same_message_twice_in_one_batch_is_sent_once(
    urls: tuple[str, str], echo: dict[str, Any]
) -> None:
    echo["start"]()
    with session(urls) as s:
        results = s.send_many([hvps111(1), hvps111(2), hvps111(1)])
        assert [r.status for r in results] == ["confirmed"] * 3
        assert results[0] == results[2] and results[0].puts == 1
        assert s.journal.status_counts()["out"] == {"confirmed": 2}


def test_a_session_sends_again_after_listening(urls: tuple[str, str], echo: dict[str, Any]) -> None:
    with open_channel(urls[0]) as channel:
        channel.declare("IN")
        channel.put("IN", hvps111(1, sender=OTHER, prefix="A"))
    seen: list[JournalEntry] = []
    with session(urls) as s:
        assert s.listen(effects_handler(seen), max_messages=1).delivered == 1
        echo["start"]()
        assert s.send(hvps111(2)).status == "confirmed"
        with open_channel(urls[0]) as channel:
            channel.put("IN", hvps111(3, sender=OTHER, prefix="A"))
        # the consumer started by send() may take it before listen() is called: either way
        # it is answered and delivered once
        assert s.listen(effects_handler(seen), idle_exit=0.5).delivered == 2
    assert [e.mesg_id for e in seen] == ["A0000000000000000001", "A0000000000000000003"]


def test_a_message_that_breaks_processing_is_set_aside_not_retried_forever(
    urls: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the 990 of the first message cannot be built (the builder is made to fail for it):
    # it is quarantined with its inbox entry and acknowledged; the next one goes through
    import paymsg.transport.session as session_module

    real = session_module.build_confirmation

    def failing(header: Any, code: str, **options: Any) -> bytes:
        if header.mesg_id == "B0000000000000000001":
            raise EnvelopeError("cannot build the CNAPS2 header: test")
        return real(header, code, **options)

    monkeypatch.setattr(session_module, "build_confirmation", failing)
    seen: list[JournalEntry] = []
    with open_channel(urls[0]) as channel:
        channel.declare("IN")
        for i in (1, 2):
            channel.put("IN", hvps111(i, sender=OTHER, prefix="B"))
        with session(urls) as s:
            stats = s.listen(effects_handler(seen), max_messages=2)
            (held,) = s.journal.quarantined()
            assert "could not be processed" in held.reason and held.entry_id is not None
            assert s.journal.get(held.entry_id).status == "quarantined"
        assert stats.quarantined == 1 and [e.mesg_id for e in seen] == ["B0000000000000000002"]
        assert channel.depth("IN") == 0


def test_waiting_990s_are_applied_together_and_a_bad_one_or_a_message_between_keeps_its_path(
    urls: tuple[str, str],
) -> None:
    """The consumer records the ccms.990s already on the queue in one journal transaction
    (group commit). Every one is applied and acknowledged; an unreadable 990 among them is
    quarantined on its own; a business message between them is answered and delivered in
    arrival order."""
    with session(urls) as s:
        entries = [s.journal.record_outbound(hvps111(i, prefix="G"), queue="OUT") for i in range(6)]
        for e in entries:
            s.journal.set_status(e.id, "sent")
        replies = [
            build_confirmation(
                split_envelope(e.raw)[0].header, "PM1I0000", participant="0000", header_ids="new"
            )
            for e in entries
        ]
        broken = replies[5].replace(b"</Document>", b"</Documnt>")
        business = hvps111(9, sender=OTHER, prefix="B")
        with open_channel(urls[0]) as channel:
            channel.declare("IN")
            channel.put_many("IN", [*replies[:3], broken, business, *replies[3:5]])
            seen: list[JournalEntry] = []
            stats = s.listen(effects_handler(seen), max_messages=7)
            assert channel.depth("IN") == 0 and channel.get("IN", 0.2) is None  # all acked
            answered = confirmations(channel, "OUT")
        statuses = [s.journal.get(e.id).status for e in entries]
        assert statuses == ["confirmed"] * 5 + ["sent"]  # the broken 990 confirms nothing
        assert stats.confirmations == 5 and stats.correlated == 5
        assert stats.unreadable == 1 and len(s.journal.quarantined()) == 1
        assert [e.mesg_id for e in seen] == ["B0000000000000000009"]
        assert [r.document.com_conf.conf_inf.msg_id for r in answered] == ["B0000000000000000009"]


def test_a_990_whose_header_does_not_decode_among_good_ones_is_quarantined_not_answered(
    urls: tuple[str, str],
) -> None:
    """The consumer routes 990s by the header's MesgType field alone: one whose header does
    not decode is recorded unreadable and quarantined (never answered: it is a 990), as it
    would be on its own, and the good ones around it confirm their messages."""
    with session(urls) as s:
        entries = s.journal.record_outbound_many(
            [hvps111(i, prefix="H") for i in range(4)], queue="OUT"
        )
        s.journal.set_status_many([StatusUpdate(entry_id=e.id, status="sent") for e in entries])
        headers = [read_header(e.raw)[0] for e in entries]
        replies = [build_confirmation(h, "PM1I0000", participant="0000") for h in headers if h]
        broken = b"{H:XX" + replies[3][5:]  # the version field: the header does not decode
        assert read_header(broken)[1] is False
        salvaged = salvage_header(broken)  # its MesgType field still says 990
        assert salvaged is not None and salvaged.mesg_type == "ccms.990.001.02"
        with open_channel(urls[0]) as channel:
            channel.declare("IN")
            channel.put_many("IN", [*replies[:2], broken, replies[2]])
            stats = s.listen(effects_handler([]), max_messages=4)
            assert channel.depth("IN") == 0 and channel.get("IN", 0.2) is None  # all acked
            assert confirmations(channel, "OUT") == []  # a 990 is never answered
        statuses = [s.journal.get(e.id).status for e in entries]
        assert statuses == ["confirmed"] * 3 + ["sent"]
        assert stats.confirmations == 3 and stats.unreadable == 1
        held = s.journal.quarantined()
        assert [h.body for h in held] == [broken]


def test_replies_to_ours_in_one_batch_are_applied_answered_acked_and_delivered_in_order(
    urls: tuple[str, str],
) -> None:
    """990s, saps.604s and a ccms.911 waiting together are recorded and applied in one
    group commit; a payment from another bank between them keeps its own path; every
    message that is not a 990 is answered once, all are acked, and the deliveries keep the
    arrival order."""
    with session(urls) as s:
        texts = [hvps111(i, prefix="R") for i in range(3)]
        entries = s.journal.record_outbound_many(texts, queue="OUT")
        s.journal.set_status_many([StatusUpdate(entry_id=e.id, status="sent") for e in entries])
        headers = [read_header(e.raw)[0] for e in entries]
        confirmed = [build_confirmation(h, "PM1I0000", participant="0000") for h in headers if h]
        settled = [_reply_from_npc("saps.604.001.01/settled-hvps111.txt", e) for e in entries]
        discard = _reply_from_npc("ccms.911.001.02/duplicate-hvps111.txt", entries[2])
        payment = hvps111(7, sender=OTHER, prefix="P")
        arriving = [confirmed[0], settled[0], payment, confirmed[1], settled[1], discard]
        with open_channel(urls[0]) as channel:
            channel.declare("IN")
            channel.put_many("IN", arriving)
            seen: list[JournalEntry] = []
            stats = s.listen(effects_handler(seen), max_messages=len(arriving))
            assert channel.depth("IN") == 0 and channel.get("IN", 0.2) is None  # all acked
            answered = confirmations(channel, "OUT")
        assert [s.journal.get(e.id).status for e in entries] == ["settled", "settled", "rejected"]
        assert sorted(r.document.com_conf.conf_inf.mt for r in answered) == sorted(
            ["saps.604.001.01", "saps.604.001.01", "hvps.111.001.01", "ccms.911.001.02"]
        )
        assert [e.mt for e in seen] == [
            "saps.604.001.01",
            "hvps.111.001.01",
            "saps.604.001.01",
            "ccms.911.001.02",
        ]
        assert (stats.received, stats.answered, stats.confirmations) == (6, 4, 2)


def _receipt(original: JournalEntry, prc_sts: str) -> bytes:
    """A saps.604 answering ``original`` with the NPC processing status ``prc_sts``."""
    message = paymsg.parse(_reply_from_npc("saps.604.001.01/settled-hvps111.txt", original))
    message.document.sttlm_rtr_rct.npcprc_inf.prc_sts = prc_sts
    return paymsg.serialize(message)


def test_replies_to_one_original_in_one_batch_move_it_as_one_at_a_time(
    urls: tuple[str, str],
) -> None:
    """Several replies to the same original in one batch (two receipts, then the
    settlement, and a receipt for another entry between them) are correlated as if each
    came on its own: the second receipt finds the entry at ``receipt`` already and writes
    nothing, the settlement moves it on; each step names the reply that caused it."""
    with session(urls) as s:
        texts = [hvps111(i, prefix="M") for i in range(2)]
        first, second = s.journal.record_outbound_many(texts, queue="OUT")
        s.journal.set_status_many(
            [StatusUpdate(entry_id=e.id, status="sent") for e in (first, second)]
        )
        arriving = [
            _receipt(first, "PR03"),
            _receipt(second, "PR03"),
            _receipt(first, "PR03"),
            _receipt(first, "PR04"),
        ]
        with open_channel(urls[0]) as channel:
            channel.declare("IN")
            channel.put_many("IN", arriving)
            stats = s.listen(max_messages=len(arriving))
            assert channel.depth("IN") == 0
        assert stats.correlated == 4 and stats.answered == 4
        replies = {e.mesg_id: e.id for e in s.journal.query(direction="in")}
        ids = [replies[read_header(text)[0].mesg_id] for text in arriving]  # type: ignore[union-attr]
        steps = [(h.from_status, h.to_status, h.related_id) for h in s.journal.history(first.id)]
        assert steps == [
            (None, "created", None),
            ("created", "sent", None),
            ("sent", "receipt", ids[0]),
            ("receipt", "settled", ids[3]),
        ]
        after = s.journal.get(first.id)
        assert (after.status, after.status_code) == ("settled", "CB1I0000")
        assert s.journal.get(second.id).status == "receipt"
