"""``paymsg sim …``: the local CNAPS2 centre (MBFE + NPC) and the commands that steer it."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import typer
from rich.live import Live

from paymsg.cli.output import console, emit, print_json, reported, table
from paymsg.errors import InputError

app = typer.Typer(
    help="A local CNAPS2 centre (MBFE + NPC) that answers like the real one.",
    no_args_is_help=True,
)

DEFAULT_BOOKS = "sqlite:///paymsg-sim.db"
DEFAULT_CHANNEL = "sqlite:///paymsg-mq.db"


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="sim")


def _status_table(status: dict[str, Any]) -> Any:
    rows = [
        [
            p["bank"],
            p["balance"],
            p["received"],
            p["sent"],
            p["pending"],
            p["settled"],
            p["netted"],
            p["queued"],
            p["rejected"],
        ]
        for p in status["participants"]
    ]
    title = (
        f"CNAPS2 centre · {status['time']} · business date {status['business_date']} · "
        f"BEPS round {status['beps_round']:02d}"
    )
    return table(
        title,
        ["bank", "balance", "in", "out", "pending", "settled", "netted", "queued", "rejected"],
        rows,
    )


@app.command("run")
def run_cmd(
    channel: str = typer.Option(DEFAULT_CHANNEL, "--channel", help="Channel URL."),
    participant: list[str] = typer.Option(
        ...,
        "--participant",
        "-p",
        help="BANKCODE[:IN_QUEUE:OUT_QUEUE] (default queues MSGMBFE_1.<bank> / MSGTOBANK.<bank>).",
    ),
    scenario: Path | None = typer.Option(None, "--scenario", help="Scenario TOML file."),
    journal: str = typer.Option(
        DEFAULT_BOOKS,
        "--journal",
        help="The centre's books (SQL URL: sqlite:///… or postgresql://…).",
    ),
    control_queue: str | None = typer.Option(
        None, "--control-queue", help="Queue for round-close / date-switch / stop commands."
    ),
    events: Path | None = typer.Option(None, "--events", help="Append JSON events to this file."),
    duration: float | None = typer.Option(
        None, "--duration", help="Stop after this many real seconds."
    ),
    live: bool | None = typer.Option(
        None, "--live/--no-live", help="Refreshing status table (default: when a terminal)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the final status as JSON."),
    batch: int = typer.Option(
        50, "--batch", min=1, help="Messages of one queue handled per books transaction."
    ),
) -> None:
    """Serve participants until `paymsg sim stop`, --duration, or Ctrl-C."""
    from paymsg.sim.centre import CONTROL_QUEUE
    from paymsg.sim.clock import SimClock
    from paymsg.sim.events import EventSink
    from paymsg.sim.runner import serve
    from paymsg.sim.scenario import load_scenario, parse_participant

    with reported():
        chosen = load_scenario(scenario)
        participants = [parse_participant(spec, chosen) for spec in participant]
        sink = EventSink(events)
        clock = SimClock(chosen.clock.start_at(), chosen.clock.speed)
        stop = threading.Event()
        deadline = time.monotonic() + duration if duration is not None else None

        def until() -> bool:
            return stop.is_set() or (deadline is not None and time.monotonic() >= deadline)

        def on_signal(_signum: int, _frame: Any) -> None:
            stop.set()

        previous = signal.signal(signal.SIGTERM, on_signal)
        show = console.is_terminal if live is None else live
        last = [0.0]
        view: Live | None = None

        def refresh(centre: Any) -> None:
            if view is not None and time.monotonic() - last[0] >= 0.5:
                last[0] = time.monotonic()
                view.update(_status_table(centre.status()))

        try:
            if show and not as_json:
                with Live(console=console, auto_refresh=False) as view:
                    status = serve(
                        channel,
                        participants,
                        books_url=journal,
                        scenario=chosen,
                        clock=clock,
                        events=sink,
                        control_queue=control_queue or CONTROL_QUEUE,
                        until=until,
                        on_idle=refresh,
                        batch=batch,
                    )
                    view.update(_status_table(status), refresh=True)
            else:
                status = serve(
                    channel,
                    participants,
                    books_url=journal,
                    scenario=chosen,
                    clock=clock,
                    events=sink,
                    control_queue=control_queue or CONTROL_QUEUE,
                    until=until,
                    batch=batch,
                )
        except KeyboardInterrupt:
            return
        finally:
            signal.signal(signal.SIGTERM, previous)
            sink.close()
        emit(status, as_json, lambda: console.print(_status_table(status)))


def _command(name: str, channel: str, control_queue: str | None, **arguments: Any) -> None:
    from paymsg.sim.centre import CONTROL_QUEUE
    from paymsg.sim.runner import send_command

    with reported():
        send_command(channel, name, control_queue=control_queue or CONTROL_QUEUE, **arguments)
    console.print(f"sent {name} to the centre on {control_queue or CONTROL_QUEUE}")


CHANNEL_OPT = typer.Option(DEFAULT_CHANNEL, "--channel", help="Channel URL of the running centre.")
CONTROL_OPT = typer.Option(None, "--control-queue", help="The centre's control queue.")


@app.command("round-close")
def round_close_cmd(channel: str = CHANNEL_OPT, control_queue: str | None = CONTROL_OPT) -> None:
    """Close the open BEPS netting round now."""
    _command("round-close", channel, control_queue)


@app.command("end-of-day")
def end_of_day_cmd(channel: str = CHANNEL_OPT, control_queue: str | None = CONTROL_OPT) -> None:
    """End the business day: close the round, refuse queued HVPS, push hvps.716 / beps.726."""
    _command("end-of-day", channel, control_queue)


@app.command("date-switch")
def date_switch_cmd(channel: str = CHANNEL_OPT, control_queue: str | None = CONTROL_OPT) -> None:
    """Move to the next business date (ccms.801 to every participant)."""
    _command("date-switch", channel, control_queue)


@app.command("advance")
def advance_cmd(
    seconds: float = typer.Argument(..., help="Simulated seconds to move the clock forward."),
    channel: str = CHANNEL_OPT,
    control_queue: str | None = CONTROL_OPT,
) -> None:
    """Move the centre's simulated clock forward."""
    if seconds < 0:
        with reported():
            raise InputError("the simulated clock never goes backwards", field="seconds")
    _command("advance", channel, control_queue, seconds=seconds)


@app.command("stop")
def stop_cmd(channel: str = CHANNEL_OPT, control_queue: str | None = CONTROL_OPT) -> None:
    """Stop the running centre (after the message in hand)."""
    _command("stop", channel, control_queue)


def _existing_books(url: str) -> None:
    """A status is read from books a centre has kept: a SQLite file that does not exist is
    an error, not an empty database made to print "business date None"."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return  # Books() names what is wrong with the URL
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not Path(path).exists():
        raise InputError(
            "no centre's books here",
            source=path,
            hint="start the centre with paymsg sim run, or give --journal with its books",
        )


@app.command("status")
def status_cmd(
    journal: str = typer.Option(DEFAULT_BOOKS, "--journal", help="The centre's books."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Balances, business date and payments by status, read from the centre's books."""
    from paymsg.sim.books import Books

    with reported():
        _existing_books(journal)
        books = Books(journal)
        try:
            balances = books.balances()
            counts = books.counts()
            rows: list[dict[str, Any]] = [
                {"bank": bank, "balance": str(balance), **counts.get(bank, {})}
                for bank, balance in sorted(balances.items())
            ]
            data: dict[str, Any] = {
                "business_date": books.state("business_date"),
                "beps_round": int(books.state("beps_round") or "1"),
                "participants": rows,
            }
        finally:
            books.close()

    def human() -> None:
        keys = sorted({k for p in rows for k in p} - {"bank", "balance"})
        console.print(
            table(
                f"CNAPS2 centre books · business date {data['business_date']}",
                ["bank", "balance", *keys],
                [
                    [p["bank"], p["balance"], *(p.get(k, 0) for k in keys)]
                    for p in data["participants"]
                ],
            )
        )

    if as_json:
        print_json(data)
    else:
        human()
