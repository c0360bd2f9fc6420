"""``paymsg mq …``: CNAPS2 messaging over MQ — send, listen, status, replay, quarantine.

Settings come from ``--config FILE`` (TOML), then ``PAYMSG_MQ_*`` environment variables,
then the options given here (see :mod:`paymsg.transport.config`).

Exit codes: 0 ok; 1 a message was refused, timed out or failed validation; 2 bad input or
usage; 3 configuration, channel (transport) or journal problem.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import typer

from paymsg.cli.files import gather
from paymsg.cli.output import EXIT_FINDINGS, JSON_OPT, console, emit, err_console, reported, table

app = typer.Typer(
    help="CNAPS2 messaging over MQ: send with ccms.990 correlation, listen, journal status.",
    no_args_is_help=True,
)
quarantine_app = typer.Typer(
    help="Poison messages set aside with their reason.", no_args_is_help=True
)
config_app = typer.Typer(
    help="MQ settings (TOML file and PAYMSG_MQ_* variables).", no_args_is_help=True
)
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(config_app, name="config")

CONFIG_OPT = typer.Option(None, "--config", help="Settings file (TOML, [mq] table).")
CHANNEL_OPT = typer.Option(
    None, "--channel", help="Channel URL: sqlite:///PATH, amqp://…, ibmmq://…."
)
JOURNAL_OPT = typer.Option(None, "--journal", help="Journal URL: sqlite:///PATH or postgresql://….")
PARTICIPANT_OPT = typer.Option(None, "--participant", help="Our bank code (12 digits).")
#: the sending commands' queues: where they put, and where the 990s come back
SEND_QUEUE_OPT = typer.Option(None, "--queue", help="Queue to put on (towards CNAPS).")
CONFIRM_QUEUE_OPT = typer.Option(None, "--reply-queue", help="Queue the 990s come back on.")


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="mq")


def _settings(config: Path | None, **overrides: Any) -> Any:
    from paymsg.transport.config import load_settings

    return load_settings(config, overrides=overrides)


def _session(settings: Any, **extra: Any) -> Any:
    from paymsg.transport.session import Cnaps2Session

    return Cnaps2Session.from_settings(settings, **extra)


def _results_out(results: list[Any], as_json: bool) -> None:
    rows = [r.model_dump() | {"ok": r.ok} for r in results]

    def human() -> None:
        console.print(
            table(
                None,
                ["entry", "MesgID", "type", "status", "code", "puts", "detail"],
                [
                    (r.entry_id, r.mesg_id, r.mt, r.status, r.code, r.puts, r.detail)
                    for r in results
                ],
            )
        )

    emit(rows, as_json, human)
    if any(not r.ok for r in results):
        raise typer.Exit(EXIT_FINDINGS)


@app.command("send")
def send_cmd(
    files: list[str] = typer.Argument(..., help="CNAPS2 texts (or CNAPS2 XML documents) to send."),
    channel: str | None = CHANNEL_OPT,
    queue: str | None = SEND_QUEUE_OPT,
    reply_queue: str | None = CONFIRM_QUEUE_OPT,
    journal: str | None = JOURNAL_OPT,
    participant: str | None = PARTICIPANT_OPT,
    timeout: float | None = typer.Option(None, "--timeout", help="Seconds to wait for each 990."),
    resend: int | None = typer.Option(None, "--resend", help="Resends before timed_out."),
    no_validate: bool = typer.Option(False, "--no-validate", help="Send without validating."),
    config: Path | None = CONFIG_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Send each file and wait for its ccms.990: exit 0 when all are confirmed, 1 when any
    is refused or timed out (the journal keeps each one's status)."""
    with reported():
        from paymsg.codec.api import read_input

        settings = _settings(
            config,
            channel=channel,
            out_queue=queue,
            in_queue=reply_queue,
            journal=journal,
            participant=participant,
            confirm_timeout=timeout,
            resend=resend,
            validate=False if no_validate else None,
        )
        items: list[Any] = []
        paths = gather(files)
        for path in paths:
            text = read_input(path)[0]
            if text.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{H:"):
                items.append(text)
            else:
                from paymsg.codec.api import load_file

                items.append(load_file(path))  # a bare CNAPS2 document: wrapped by the session
        with _session(settings) as session:
            results = session.send_many(items, names=[str(path) for path in paths])
        _results_out(results, as_json)


@app.command("relay")
def relay_cmd(
    channel: str | None = CHANNEL_OPT,
    queue: str | None = SEND_QUEUE_OPT,
    reply_queue: str | None = CONFIRM_QUEUE_OPT,
    journal: str | None = JOURNAL_OPT,
    timeout: float | None = typer.Option(None, "--timeout", help="Seconds to wait for each 990."),
    config: Path | None = CONFIG_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Send again every outbox entry still 'created' or 'sent' without a 990 (after a
    crash) and wait for the 990s."""
    with reported():
        settings = _settings(
            config,
            channel=channel,
            out_queue=queue,
            in_queue=reply_queue,
            journal=journal,
            confirm_timeout=timeout,
        )
        with _session(settings) as session:
            results = session.resume()
        _results_out(results, as_json)


@app.command("replay")
def replay_cmd(
    mesg_id: str = typer.Argument(..., help="Header MesgID of the outbound message."),
    sender: str | None = typer.Option(
        None, "--sender", help="Its OrigSender (default: --participant)."
    ),
    channel: str | None = CHANNEL_OPT,
    queue: str | None = SEND_QUEUE_OPT,
    reply_queue: str | None = CONFIRM_QUEUE_OPT,
    journal: str | None = JOURNAL_OPT,
    participant: str | None = PARTICIPANT_OPT,
    timeout: float | None = typer.Option(None, "--timeout", help="Seconds to wait for the 990."),
    config: Path | None = CONFIG_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Send a journaled outbound message again (same text, same MesgID) and wait for its 990."""
    with reported():
        settings = _settings(
            config,
            channel=channel,
            out_queue=queue,
            in_queue=reply_queue,
            journal=journal,
            participant=participant,
            confirm_timeout=timeout,
        )
        with _session(settings) as session:
            result = session.replay(mesg_id, sender=sender)
        _results_out([result], as_json)


@app.command("listen")
def listen_cmd(
    channel: str | None = CHANNEL_OPT,
    queue: str | None = typer.Option(None, "--queue", help="Queue to read (ours)."),
    reply_queue: str | None = typer.Option(None, "--reply-queue", help="Queue our 990s go to."),
    journal: str | None = JOURNAL_OPT,
    participant: str | None = PARTICIPANT_OPT,
    handler: str | None = typer.Option(
        None, "--handler", help="MODULE:FUNCTION (or file.py:FUNCTION) called once per message."
    ),
    workers: int | None = typer.Option(None, "--workers", help="Handler threads."),
    once: bool = typer.Option(False, "--once", help="Process one message, then exit."),
    max_messages: int | None = typer.Option(None, "--max-messages", help="Exit after N messages."),
    idle_exit: float | None = typer.Option(None, "--idle-exit", help="Exit after S quiet seconds."),
    config: Path | None = CONFIG_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Answer every inbound message with a ccms.990, record it, and call the handler once
    per business message (also across restarts). Runs until interrupted (or --once,
    --max-messages, --idle-exit)."""
    with reported():
        from paymsg.transport.config import load_handler

        settings = _settings(
            config,
            channel=channel,
            in_queue=queue,
            out_queue=reply_queue,
            journal=journal,
            participant=participant,
            handler=handler,
            workers=workers,
        )
        function = load_handler(settings.handler) if settings.handler else None
        limit = 1 if once else max_messages
        stop = threading.Event()
        # SIGTERM (a service manager stopping us) ends the loop like Ctrl-C: the message in
        # hand is finished, queued deliveries are made; anything else stays on the queue
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            with _session(settings) as session:
                try:
                    stats = session.listen(
                        function, max_messages=limit, idle_exit=idle_exit, stop=stop
                    )
                except KeyboardInterrupt:
                    stats = session.stats
        finally:
            signal.signal(signal.SIGTERM, previous)
        data = stats.model_dump()
        emit(
            data,
            as_json,
            lambda: console.print(table(None, ["count", "value"], list(data.items()))),
        )


@app.command("echo")
def echo_cmd(
    channel: str | None = CHANNEL_OPT,
    queue: str | None = typer.Option(
        None, "--queue", help="Queue to read (the one senders put on)."
    ),
    reply_queue: str | None = typer.Option(None, "--reply-queue", help="Queue the 990s go to."),
    participant: str = typer.Option("0000", "--participant", help="Who answers (0000 = the NPC)."),
    code: str | None = typer.Option(
        None, "--code", help="MsgPrcCd to answer with (default success)."
    ),
    max_messages: int | None = typer.Option(None, "--max-messages", help="Exit after N messages."),
    idle_exit: float | None = typer.Option(None, "--idle-exit", help="Exit after S quiet seconds."),
    config: Path | None = CONFIG_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """An echo peer standing in for the MBFE: answers every message with a ccms.990."""
    with reported():
        from paymsg.transport.channel import open_channel
        from paymsg.transport.echo import run_echo

        # the peer reads what the participant puts (out_queue) and answers on its in_queue
        settings = _settings(config, channel=channel, out_queue=queue, in_queue=reply_queue)
        codes = settings.codes.reply_codes()
        if code is not None:
            codes = codes.model_copy(update={"success": code})
        with open_channel(settings.channel) as ch:
            try:
                stats = run_echo(
                    ch,
                    in_queue=settings.out_queue,
                    out_queue=settings.in_queue,
                    participant=participant,
                    codes=codes,
                    max_messages=max_messages,
                    idle_exit=idle_exit,
                )
            except KeyboardInterrupt:
                return
        data = stats.model_dump()
        emit(
            data,
            as_json,
            lambda: console.print(table(None, ["count", "value"], list(data.items()))),
        )


@app.command("status")
def status_cmd(
    journal: str | None = JOURNAL_OPT,
    config: Path | None = CONFIG_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Outbox and inbox by status, and the oldest outbound message without a 990."""
    with reported():
        from paymsg.journal import Journal

        settings = _settings(config, journal=journal)
        counts = Journal(settings.journal, create=False).status_counts()
        oldest = counts.get("oldest_unconfirmed")
        if oldest is not None:
            counts["oldest_unconfirmed"] = oldest.model_dump(
                mode="json",
                include={"id", "mesg_id", "sender", "mt", "status", "created_at", "resent"},
            )

        def human() -> None:
            rows: list[tuple[Any, ...]] = []
            for direction in ("out", "in"):
                for status, count in (counts.get(direction) or {}).items():
                    rows.append(("outbox" if direction == "out" else "inbox", status, count))
            console.print(table(None, ["", "status", "count"], rows))
            if (counts.get("in") or {}).get("received"):
                console.print(
                    "inbox 'received' counts the ccms.990s too, which are never delivered to "
                    "the application"
                )
            if oldest is not None:
                first = counts["oldest_unconfirmed"]
                console.print(
                    f"oldest unconfirmed: entry {first['id']} MesgID {first['mesg_id']} "
                    f"({first['mt']}, {first['status']}, since {first['created_at']})"
                )

        emit(counts, as_json, human)


@quarantine_app.command("list")
def quarantine_list(
    journal: str | None = JOURNAL_OPT,
    released: bool = typer.Option(False, "--released", help="Show released ones instead."),
    config: Path | None = CONFIG_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Messages in quarantine, with their reason."""
    with reported():
        from paymsg.journal import Journal

        settings = _settings(config, journal=journal)
        records = Journal(settings.journal, create=False).quarantined(released=released)
        data = [
            r.model_dump(exclude={"body"})
            | {"size": len(r.body), "head": r.body[:130].decode("utf-8", "replace")}
            for r in records
        ]

        def human() -> None:
            console.print(
                table(
                    None,
                    ["id", "queue", "entry", "at", "reason"],
                    [(r.id, r.queue, r.entry_id, r.created_at, r.reason) for r in records],
                )
            )

        emit(data, as_json, human)


@quarantine_app.command("retry")
def quarantine_retry(
    quarantine_id: int = typer.Argument(..., help="Quarantine id (see 'quarantine list')."),
    channel: str | None = CHANNEL_OPT,
    queue: str | None = typer.Option(None, "--queue", help="Our inbound queue."),
    journal: str | None = JOURNAL_OPT,
    config: Path | None = CONFIG_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Release a quarantined message: a business message is delivered again by the next
    listen; an unreadable text is put back on the inbound queue."""
    with reported():
        settings = _settings(config, channel=channel, in_queue=queue, journal=journal)
        with _session(settings) as session:
            session.retry(quarantine_id)
        emit(
            {"released": quarantine_id}, as_json, lambda: console.print(f"released {quarantine_id}")
        )


@quarantine_app.command("release")
def quarantine_release(
    quarantine_id: int = typer.Argument(..., help="Quarantine id (see 'quarantine list')."),
    journal: str | None = JOURNAL_OPT,
    config: Path | None = CONFIG_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Mark a quarantined message as dealt with, without processing it again (e.g. a
    conflicting copy a person has looked at); it stays listed with --released."""
    with reported():
        from paymsg.journal import Journal

        settings = _settings(config, journal=journal)
        with Journal(settings.journal, create=False) as opened:
            record = opened.release(quarantine_id)
        emit(
            {"released": record.id},
            as_json,
            lambda: console.print(f"released {record.id} (not processed again)"),
        )


@config_app.command("check")
def config_check(
    config: Path | None = CONFIG_OPT,
    connect: bool = typer.Option(False, "--connect", help="Also open the channel and the journal."),
    as_json: bool = JSON_OPT,
) -> None:
    """Read the settings (file + environment) and report them, or the first problem."""
    with reported():
        from paymsg.errors import mask_url

        settings = _settings(config)
        if settings.participant is None:
            err_console.print(
                "note: no participant set; our 990s will name the receiver of each message"
            )
        if connect:
            from paymsg.journal import Journal
            from paymsg.transport.channel import open_channel

            with open_channel(settings.channel) as ch:
                ch.declare(settings.out_queue)
                ch.declare(settings.in_queue)
            Journal(settings.journal)
        data = settings.model_dump(by_alias=True)
        data["channel"] = mask_url(settings.channel)
        data["journal"] = mask_url(settings.journal)
        emit(
            data | {"ok": True},
            as_json,
            lambda: console.print(
                table("MQ settings: ok", ["setting", "value"], [(k, v) for k, v in data.items()])
            ),
        )
