"""The hub's business day, end to end: route → convert + wrap → transport → centre →
990s, receipts, netting → end of day → reconciliation → day report.

Where it sits: this module uses routing, transport, the simulator and reconciliation
together, so it is on the top layer, beside ``cli`` (which is its only user); nothing
below imports it.

One day (``paymsg hub run --day examples/hub/day.toml``):

1. the rule set is checked, stored and activated in the journal database (so every
   decision names its version); the participant directory is loaded there;
2. the CNAPS2 centre (:func:`paymsg.sim.runner.serve`) runs in a thread on the same
   channel, serving us and every direct participant in the directory, its clock starting
   at the day's start time; rounds and the end of day run on command;
3. every payment is decided once (``routing_decisions``, keyed by payment id, so a
   re-run after a crash decides nothing twice): BOOK transfers are booked; XBORDER
   payments are written as unified pacs.008/009 files for the gateway; HVPS payments are
   built as hvps.111/112; BEPS payments go to the batcher, whose closed packages are
   beps.121/122; payments queued for the next HVPS opening and rejected ones are counted;
4. our :class:`~paymsg.transport.session.Cnaps2Session` sends the messages pipelined and
   takes the ccms.990s, saps.604s and ccms.900s (the journal moves each entry on);
5. a round close, then the end of day: the centre pushes hvps.716 / beps.726, which our
   session journals; they are reconciled against the journal with
   :func:`paymsg.reconcile.reconcile_day`;
6. the report, counted from the journal: per channel routed / sent / settled / netted /
   rejected / queued / booked, and each reconciliation's result.

Run again on the same databases after a crash, the day resumes (see :func:`run_day`).
"""

from __future__ import annotations

import functools
import os
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from paymsg.codec.api import serialize
from paymsg.errors import ConfigError, TransportError, mask_url
from paymsg.journal import Journal
from paymsg.routing import (
    Decision,
    Exposure,
    Facts,
    Instruction,
    Router,
    load_facts,
    read_directory,
    read_instructions,
)
from paymsg.routing.batching import BepsBatcher, ClosedPackage
from paymsg.routing.build import build_cnaps2, unified
from paymsg.routing.store import RoutingStore

__all__ = ["LOCK_FILE", "DayConfig", "DayReport", "load_day", "run_day"]

#: the file in a day's work directory that one run at a time holds locked
LOCK_FILE = ".paymsg-hub.lock"

P = ParamSpec("P")
R = TypeVar("R")


class DayConfig(BaseModel):
    """``day.toml``: paths are relative to the file."""

    model_config = ConfigDict(extra="forbid")

    date: date
    start: str = "09:00"
    payments: str
    #: payments other banks send us (CSV/JSON); each peer bank routes them with the same
    #: rules and sends them from its own session, so the centre forwards them to us
    incoming: str | None = None
    rules: str
    facts: str
    journal: str | None = None
    channel: str | None = None
    books: str | None = None
    output_dir: str = "hub-out"
    #: seconds to wait for the centre's answers before the day is reported as it stands
    answer_timeout: float = Field(default=120.0, gt=0)
    #: the session's wait for a ccms.990 before it puts the same text again (the public
    #: implementations wait 55–60 s; a large pipelined day needs at least that)
    confirm_timeout: float = Field(default=60.0, gt=0)
    #: messages put before their ccms.990s are awaited (a bounded window, so a big day
    #: never waits longer than ``confirm_timeout`` for a 990 only because of its own queue)
    send_window: int = Field(default=200, ge=1)


def load_day(path: str | Path) -> DayConfig:
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the day file: {exc}", source=source) from None
    try:
        config = DayConfig.model_validate(data.get("day", data))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"{field}: {first['msg']}", source=source, field=field) from None
    base = Path(path).parent
    for name in ("payments", "incoming", "rules", "facts"):
        value = getattr(config, name)
        if value is not None and not Path(value).is_absolute():
            setattr(config, name, str(base / value))
    return config


class ChannelLine(BaseModel):
    channel: str
    routed: int = 0
    amount: Decimal = Decimal("0.00")
    messages: int = 0
    sent: int = 0
    settled: int = 0
    netted: int = 0
    rejected: int = 0
    queued: int = 0
    booked: int = 0
    files: int = 0
    unanswered: int = 0
    #: payments routed here that no count above covers (routed but never sent): must be 0
    unaccounted: int = 0


class Received(BaseModel):
    """Payments the centre forwarded to us (from the peers' sessions)."""

    channel: str
    sent_by_peers: int = 0
    messages: int = 0
    items: int = 0
    amount: Decimal = Decimal("0.00")


class DayReport(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    business_date: date
    participant: str
    ruleset_version: int
    payments: int
    channels: list[ChannelLine]
    received: list[Received] = []
    rejected_by_routing: int
    reconciliation: list[dict[str, Any]]
    #: what keeps the day from being complete: payments without a message in the journal
    #: or without an answer, payments of other banks that did not arrive, messages our
    #: session set aside in the quarantine (not yet released)
    shortfalls: list[str] = []
    journal: str
    channel_url: str
    seconds: float


def _hhmm(value: str) -> dtime:
    try:
        return dtime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"start {value!r} is not HH:MM", field="start") from None


@contextmanager
def _only_run(work: Path) -> Iterator[None]:
    """Hold the exclusive lock of the work directory ``work`` (see :func:`run_day`)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock (documented)
        yield
        return
    work.mkdir(parents=True, exist_ok=True)
    path = work / LOCK_FILE
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ConfigError(
                f"another paymsg hub run is working in {work} ({holder})",
                source=str(path),
                hint="wait for it to end, or give another --work-dir",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _one_run_per_work_dir(run: Callable[P, R]) -> Callable[P, R]:
    """``run`` holding the lock of its ``output_dir`` (see :func:`run_day`)."""

    @functools.wraps(run)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        with _only_run(Path(str(kwargs["output_dir"]))):
            return run(*args, **kwargs)

    return locked


@_one_run_per_work_dir
def run_day(
    config: DayConfig,
    *,
    journal_url: str,
    channel_url: str,
    books_url: str,
    output_dir: Path,
    progress: Any = None,
) -> DayReport:
    """Run one business day (see the module doc) and return its report.

    Run again on the same journal, channel and books after a crash, it resumes: payments
    keep their first decision, nothing is sent twice (a message already in a journal's
    outbox is only resent, with its own MesgID, when no ccms.990 came for it), and the
    report is counted from the journal, so it covers both runs.

    One run at a time per ``output_dir``: a second run started while one is going is
    refused at once (a lock on ``output_dir/.paymsg-hub.lock``, released by the system
    when the running process ends, even by kill -9). Two runs of one day at once would
    race to store the rules and to send and move the same payments.
    """
    from paymsg.reconcile import read_npc_texts, reconcile_day
    from paymsg.sim.runner import send_command, serve
    from paymsg.sim.scenario import BepsConfig, ClockConfig, Scenario, parse_participant
    from paymsg.sim.scenario import DayConfig as SimDay
    from paymsg.transport.session import Cnaps2Session

    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    facts_config = load_facts(config.facts)
    directory = read_directory(facts_config.directory) if facts_config.directory else []
    facts = Facts(facts_config, directory, business_date=config.date)
    ours = facts.participant
    now = datetime.combine(config.date, _hhmm(config.start))

    journal = Journal(journal_url)
    store = RoutingStore(journal.engine)
    rules_text = Path(config.rules).read_text(encoding="utf-8")
    payments = read_instructions(config.payments)
    kept = store.decided([ins.id for ins in payments])  # an earlier run's decisions stand
    version = store.find(rules_text)
    earlier = {d.ruleset_version for d in kept.values()} - {version}
    if earlier:
        raise ConfigError(
            f"{len(kept)} payments of this day were decided under rule set "
            f"{', '.join(f'v{v}' for v in sorted(earlier, key=str))}, and "
            "the rules file is not that version now: a day resumes with the rules it started "
            "with",
            source=config.rules,
        )
    version = version or store.store(rules_text, config.rules)
    compiled = store.activate(version)
    store.load_directory(directory)
    router = Router(compiled, facts)
    say(f"rule set {compiled.ruleset.name!r} v{version} active; {len(directory)} participants")

    beps = facts_config.beps
    batcher = BepsBatcher(
        store,
        participant=ours,
        max_items=beps.package_max_items,
        max_amount=beps.package_max_amount,
        max_age=timedelta(seconds=beps.package_max_age_seconds),
        cutoffs=tuple(dtime.fromisoformat(c) for c in beps.cutoffs),
    )
    lines = {c: ChannelLine(channel=c) for c in ("HVPS", "BEPS", "BOOK", "XBORDER")}
    rejected = 0
    journaled = _outbox_keys(journal, ours, config.date)  # (MT, MsgId) of an earlier run
    texts: list[bytes] = []
    #: payment id → (channel, MT, MsgId) of the message that carries it to the centre
    carriers: dict[str, tuple[str, str, str]] = {}
    bepsed: list[str] = []
    exposure = Exposure()
    xdir = output_dir / "xborder"

    chunk = 1000  # payments decided, recorded and batched per transaction
    for start in range(0, len(payments), chunk):
        part = payments[start : start + chunk]
        made = []
        for ins in part:
            decision = kept.get(ins.id)
            if decision is None:
                decision = router.decide(ins, now, exposure=exposure)
            else:
                exposure.count(decision)
            made.append(decision)
        seqs = store.record_decisions(made, now)
        to_beps: list[tuple[Instruction, Decision]] = []
        for ins, d in zip(part, made, strict=True):
            if d.channel is None:
                rejected += 1
                continue
            line = lines[d.channel]
            line.routed += 1
            line.amount += d.amount
            if d.status == "queued":
                line.queued += 1
            elif d.channel == "BOOK":
                line.booked += 1
            elif d.channel == "XBORDER":
                xdir.mkdir(parents=True, exist_ok=True)
                msg = unified([ins], msg_id=ins.id, created=now, instructing=ours, instructed=None)
                (xdir / f"{_safe(ins.id)}.xml").write_bytes(serialize(msg))
                line.files += 1
            elif d.channel == "HVPS":
                assert d.message_type is not None and d.receiver is not None
                msg_id = f"{config.date:%Y%m%d}{seqs[ins.id] % 10**8:08d}"
                carriers[ins.id] = ("HVPS", d.message_type, msg_id)
                if (d.message_type, msg_id) in journaled:
                    continue  # in the outbox already: resume() sends it if unanswered
                built = build_cnaps2(
                    [ins], d.message_type, msg_id=msg_id,
                    created=now, sender=ours, receiver=d.receiver,
                )  # fmt: skip
                texts.append(serialize(built.message))
            else:
                to_beps.append((ins, d))
                bepsed.append(ins.id)
        if to_beps:
            batcher.add_many(to_beps, now)  # an item batched by an earlier run stays put
    batcher.close_all(now, "day file routed")
    for pid, (mt, msg_id) in batcher.carriers(bepsed).items():
        carriers[pid] = ("BEPS", mt, msg_id)
    # every closed package of the day not yet handed over, this run's and a crash's
    packages: list[ClosedPackage] = []
    for package in batcher.unsent(closed_on=config.date):
        if (package.message_type, package.msg_id) in journaled:
            batcher.mark_sent(package.id)  # journaled before the crash: resume() has it
        else:
            packages.append(package)
    say(f"{len(payments)} payments routed; {len(texts) + len(packages)} messages to send")

    peers = _peer_messages(config, facts_config, directory, compiled, now, ours)
    received = {c: Received(channel=c) for c in ("HVPS", "BEPS")}
    for peer_texts in peers.values():
        for message in peer_texts:
            received[message.channel].sent_by_peers += message.count

    # -- the centre, and our session --------------------------------------------------
    banks = sorted({ours, *peers, *(p.direct for p in directory if p.status == "active")})
    scenario = Scenario(
        clock=ClockConfig(start=now, speed=1.0, business_date=config.date),
        beps=BepsConfig(round_seconds=0),
        day=SimDay(automatic=False),
    )
    stop = threading.Event()
    serving = threading.Event()  # set when the centre first waits for work
    centre_error: list[BaseException] = []

    def centre() -> None:
        try:
            serve(
                channel_url,
                [parse_participant(b) for b in banks],
                books_url=books_url,
                scenario=scenario,
                until=stop.is_set,
                on_idle=lambda _centre: serving.set(),
            )
        except BaseException as exc:  # reported by the day, not lost in a thread
            centre_error.append(exc)

    thread = threading.Thread(target=centre, name="paymsg-centre", daemon=True)
    thread.start()
    # nothing is sent before the centre serves: a centre that cannot start is reported
    # now, not after every message has waited for its ccms.990
    _wait_until(serving.is_set, config.answer_timeout, centre_error)
    if centre_error or not serving.is_set():
        stop.set()
        journal.close()
        cause = (
            centre_error[0] if centre_error else f"not serving after {config.answer_timeout:g} s"
        )
        first = (str(cause).splitlines() or [type(cause).__name__])[0]
        raise TransportError(f"the centre did not start: {first}")
    session = Cnaps2Session(
        channel_url,
        journal,
        participant=ours,
        out_queue=f"MSGMBFE_1.{ours}",
        in_queue=f"MSGTOBANK.{ours}",
        confirm_timeout=config.confirm_timeout,
        resend=3,
        poll_interval=0.02,
    )
    recon: list[dict[str, Any]] = []
    peer_sessions: list[Any] = []
    try:
        session.start(lambda _entry, _conn: None)  # the report reads the journal
        peer_sessions = _send_for_peers(
            config.date, peers, channel_url, output_dir, say, config.confirm_timeout
        )
        resumed = session.resume(work_date=config.date)  # an earlier run's, unanswered
        if resumed:
            say(f"{len(resumed)} messages of an earlier run sent again")
        outgoing = texts + [p.text for p in packages]
        window = config.send_window
        for start in range(0, len(outgoing), window):  # at most a window in flight
            session.send_many(outgoing[start : start + window])
        for package in packages:
            batcher.mark_sent(package.id)
        say(f"{len(outgoing)} sent; waiting for settlement")
        send_command(channel_url, "round-close")
        wanted = {(mt, msg_id) for _channel, mt, msg_id in carriers.values()}
        ours_out = _our_messages(journal, ours, config.date, wanted)
        _wait_final(journal, [e.id for e in ours_out.values()], config.answer_timeout, centre_error)
        expected = sum(len(messages) for messages in peers.values())
        _wait_until(
            lambda: len(_forwarded(journal, ours, config.date)) >= expected,
            config.answer_timeout,
            centre_error,
        )
        if not _pre_reconciliation(journal, config.date):
            send_command(channel_url, "end-of-day")  # not ended by an earlier run
        _wait_until(
            lambda: _pre_reconciliation(journal, config.date),
            config.answer_timeout,
            centre_error,
        )
        time.sleep(0.5)  # the later parts of a partitioned answer follow the first
        # each payment by the message that carries it: one not in the journal is
        # unaccounted for, whatever the other counts say
        ours_out = _our_messages(journal, ours, config.date, wanted)
        counted: set[tuple[str, str]] = set()
        for channel, mt, msg_id in carriers.values():
            line = lines[channel]
            entry = ours_out.get((mt, msg_id))
            if entry is None:
                line.unaccounted += 1
                continue
            if (mt, msg_id) not in counted:
                counted.add((mt, msg_id))
                line.messages += 1
                line.sent += entry.status in _CONFIRMED
            if entry.status == "settled":
                line.settled += 1
            elif entry.status == "receipt":
                line.netted += 1
            elif entry.status in ("rejected", "refused"):
                line.rejected += 1
            else:
                line.unanswered += 1
        for entry in _forwarded(journal, ours, config.date):
            got = received[_FORWARDED[entry.mt or ""]]
            got.messages += 1
            got.items += int(entry.nb_of_txs or 1)
            got.amount += entry.amount or Decimal(0)
        as_of = datetime.now(UTC)
        for mt, system in _PRE_RECONCILIATION:
            found = journal.query(direction="in", mt=mt, work_date=config.date)
            parts = [(e.raw, f"journal entry {e.id}") for e in found]
            if not parts:
                recon.append(
                    {
                        "system": system,
                        "ok": False,
                        "problems": ["no pre-reconciliation message came"],
                    }
                )
                continue
            result = reconcile_day(journal, read_npc_texts(parts), as_of=as_of)
            problems = list(result.problems)
            if result.check_date != config.date:
                problems.append(f"the centre's {mt} is for {result.check_date}, not this day")
            recon.append(
                {
                    "system": system,
                    "check_date": result.check_date.isoformat(),
                    "ok": result.ok and not problems,
                    "cells": len(result.cells),
                    "cells_differing": sum(1 for c in result.cells if c.differs),
                    "breaks": len(result.open_breaks),
                    "problems": problems,
                    "notices": [n.text for n in result.notices],
                }
            )
        # what our session set aside (unreadable texts, handlers that kept failing,
        # copies of a MesgID with another text): kept, but no one has looked at it yet
        held = len(journal.quarantined())
    finally:
        for peer_session in peer_sessions:
            peer_session.close()
        session.close()
        stop.set()
        thread.join(timeout=30)
        journal.close()
    if centre_error:
        raise TransportError(f"the centre stopped: {centre_error[0]}")
    shortfalls = (
        [
            f"NOT ACCOUNTED FOR on {c.channel}: {c.unaccounted} payments routed there have no "
            "message in the journal"
            for c in lines.values()
            if c.unaccounted
        ]
        + [
            f"no answer on {c.channel}: {c.unanswered} payments sent have no final answer "
            f"from the centre after {config.answer_timeout:g} s"
            for c in lines.values()
            if c.unanswered
        ]
        + [
            f"received on {got.channel}: {got.items} of {got.sent_by_peers} payments sent by "
            "other banks"
            for got in received.values()
            if got.items != got.sent_by_peers
        ]
        + (
            [
                f"quarantined: {held} messages set aside in the journal wait for a person "
                f"(paymsg mq quarantine list --journal {journal.url})"
            ]
            if held
            else []
        )
    )
    return DayReport(
        business_date=config.date,
        participant=ours,
        ruleset_version=version,
        payments=len(payments),
        channels=list(lines.values()),
        received=list(received.values()),
        rejected_by_routing=rejected,
        reconciliation=recon,
        shortfalls=shortfalls,
        journal=journal.url,  # its password, if any, masked
        channel_url=mask_url(channel_url),
        seconds=round(time.perf_counter() - started, 2),
    )


#: the payment messages of the day, by the system that carries them
_FORWARDED = {
    "hvps.111.001.01": "HVPS",
    "hvps.112.001.01": "HVPS",
    "beps.121.001.01": "BEPS",
    "beps.122.001.01": "BEPS",
}
#: an outbound message the centre took (its ccms.990 came, or an answer proving it)
_CONFIRMED = frozenset({"confirmed", "receipt", "settled", "rejected"})


def _outbox_keys(journal: Journal, sender: str, day: date) -> set[tuple[str | None, str | None]]:
    """(MT, MsgId) of every message of ``day`` that ``sender``'s journal sent or is sending."""
    return {(e.mt, e.msg_id) for e in journal.query(direction="out", sender=sender, work_date=day)}


def _our_messages(
    journal: Journal, ours: str, day: date, wanted: set[tuple[str, str]]
) -> dict[tuple[str | None, str | None], Any]:
    """The journal's entries of our payment messages ``wanted`` (MT, MsgId) of the day."""
    return {
        (e.mt, e.msg_id): e
        for mt in _FORWARDED
        for e in journal.query(direction="out", sender=ours, work_date=day, mt=mt)
        if (e.mt, e.msg_id) in wanted
    }


def _forwarded(journal: Journal, ours: str, day: date) -> list[Any]:
    """Payment messages of the day other banks sent us, as the centre forwarded them."""
    # one query per payment type, so that polling this never reads the day's 990s and 604s
    return [
        e
        for mt in _FORWARDED
        for e in journal.query(direction="in", receiver=ours, work_date=day, mt=mt)
    ]


#: the centre's pre-reconciliation messages pushed at the end of the day, by system
_PRE_RECONCILIATION = (("hvps.716.001.01", "HVPS"), ("beps.726.001.01", "BEPS"))


def _pre_reconciliation(journal: Journal, day: date) -> bool:
    """Whether both pre-reconciliation messages of ``day`` are in the journal."""
    return all(
        journal.query(direction="in", mt=mt, work_date=day, limit=1)
        for mt, _ in _PRE_RECONCILIATION
    )


@dataclass(frozen=True, slots=True)
class _PeerMessage:
    """One message a peer bank sends us: its system, type, GrpHdr MsgId, text, payments."""

    channel: str
    mt: str
    msg_id: str
    text: bytes
    count: int


def _peer_messages(
    config: DayConfig,
    facts_config: Any,
    directory: list[Any],
    compiled: Any,
    now: datetime,
    ours: str,
) -> dict[str, list[_PeerMessage]]:
    """The incoming file, routed by each sending bank with the same rules: per peer
    direct participant, its messages to us."""
    if not config.incoming:
        return {}
    by_code = {p.bank_code: p for p in directory}
    grouped: dict[str, list[Instruction]] = {}
    for ins in read_instructions(config.incoming):
        row = by_code.get(ins.debtor_bank)
        if row is None or row.direct == ours:
            raise ConfigError(
                f"incoming payment {ins.id}: debtor bank {ins.debtor_bank} is not another "
                "participant in the directory",
                source=config.incoming,
            )
        grouped.setdefault(row.direct, []).append(ins)
    out: dict[str, list[_PeerMessage]] = {}
    # MsgIds are unique per sender in CNAPS2; they are also kept apart across peers here,
    # because reconciliation matches the NPC's lists by MsgId (see docs/routing.md)
    for p_index, (peer, items_) in enumerate(sorted(grouped.items())):
        base = 80000000 + p_index * 100000
        peer_facts = Facts(
            facts_config.model_copy(update={"participant": peer, "own_banks": ()}), directory
        )
        router = Router(compiled, peer_facts)
        messages: list[_PeerMessage] = []
        packages: dict[tuple[str, str], list[Instruction]] = {}
        for n, ins in enumerate(items_, start=1):
            d = router.decide(ins, now)
            if d.status != "now" or d.receiver != ours or d.message_type is None:
                continue  # not a payment the centre would forward to us today
            if d.channel == "HVPS":
                msg_id = f"{config.date:%Y%m%d}{base + 50000 + n:08d}"
                built = build_cnaps2(
                    [ins], d.message_type, msg_id=msg_id,
                    created=now, sender=peer, receiver=ours,
                )  # fmt: skip
                text = serialize(built.message)
                messages.append(_PeerMessage("HVPS", d.message_type, msg_id, text, 1))
            elif d.channel == "BEPS":
                packages.setdefault((d.message_type, ins.business_type), []).append(ins)
        for k, ((mt, _btype), pkg) in enumerate(sorted(packages.items()), start=1):
            msg_id = f"{config.date:%Y%m%d}{base + k:08d}"
            built = build_cnaps2(
                pkg, mt, msg_id=msg_id, created=now, sender=peer, receiver=ours,
            )  # fmt: skip
            messages.append(_PeerMessage("BEPS", mt, msg_id, serialize(built.message), len(pkg)))
        out[peer] = messages
    return out


def _send_for_peers(
    day: date,
    peers: dict[str, list[_PeerMessage]],
    channel_url: str,
    work: Path,
    say: Any,
    confirm_timeout: float,
) -> list[Any]:
    """Each peer bank's session (journal in the work directory) sends its messages: on a
    re-run, only those its journal does not have, after resending what had no 990."""
    from paymsg.transport.session import Cnaps2Session

    sessions = []
    for peer, messages in peers.items():
        journal = Journal(f"sqlite:///{work / f'peer-{peer}.db'}")
        session = Cnaps2Session(
            channel_url,
            journal,
            participant=peer,
            out_queue=f"MSGMBFE_1.{peer}",
            in_queue=f"MSGTOBANK.{peer}",
            confirm_timeout=confirm_timeout,
            resend=3,
            poll_interval=0.02,
        )
        sessions.append(session)
        session.start(lambda _entry, _conn: None)
        session.resume(work_date=day)
        journaled = _outbox_keys(journal, peer, day)
        fresh = [m.text for m in messages if (m.mt, m.msg_id) not in journaled]
        if fresh:
            session.send_many(fresh)
            say(f"peer {peer} sent {len(fresh)} messages to us")
    return sessions


def _wait_until(condition: Any, timeout: float, errors: list[BaseException]) -> None:
    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end and not errors:
        time.sleep(0.1)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


#: a business answer (or a 990 refusal) ends the wait; a timed-out entry may still settle
_FINAL = frozenset({"settled", "receipt", "rejected", "refused"})


def _wait_final(
    journal: Journal, ids: list[int], timeout: float, errors: list[BaseException]
) -> None:
    end = time.monotonic() + timeout
    pending = set(ids)
    while pending and time.monotonic() < end and not errors:
        pending = {i for i in pending if journal.get(i).status not in _FINAL}
        if pending:
            time.sleep(0.1)
