"""``paymsg hub run --day FILE``: one business day of the hub, end to end."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from paymsg.cli.output import EXIT_FINDINGS, console, emit, err_console, reported, table
from paymsg.errors import InputError

app = typer.Typer(
    help="The hub's business day: route, send, settle, reconcile.", no_args_is_help=True
)


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="hub")


@app.command("run")
def run_cmd(
    day: Path = typer.Option(..., "--day", help="The day file (TOML), e.g. examples/hub/day.toml."),
    payments: Path | None = typer.Option(
        None, "--payments", help="Payments file instead of the day file's."
    ),
    work_dir: Path | None = typer.Option(
        None,
        "--work-dir",
        help="Where the embedded databases and output go (default: a new hub-day-<time>/).",
    ),
    channel: str | None = typer.Option(
        None, "--channel", help="Channel URL (sqlite:///…, amqp://…)."
    ),
    journal: str | None = typer.Option(
        None, "--journal", help="Journal URL (sqlite:///…, postgresql://…)."
    ),
    books: str | None = typer.Option(None, "--books", help="The simulator's books URL."),
    as_json: bool = typer.Option(False, "--json", help="Write the day report as JSON."),
) -> None:
    """Route the day's payments, send them to the CNAPS2 centre, reconcile, and report.

    Run again with the same --work-dir after a crash to resume the day. Exit 0 when every
    reconciliation agrees and every payment is accounted for and answered, 1 otherwise."""
    from paymsg.hub.day import load_day, run_day

    with reported():
        config = load_day(day)
        if payments is not None:
            config.payments = str(payments)
        if work_dir is None:
            work = Path(f"hub-day-{datetime.now():%Y%m%d-%H%M%S}")
            if work.exists():
                raise InputError(f"{work} exists; give --work-dir")
        else:
            work = work_dir
        work.mkdir(parents=True, exist_ok=True)
        if work_dir is None:
            err_console.print(
                f"work directory {work} (after a crash, run again with --work-dir {work})",
                soft_wrap=True,
            )
        journal_url = journal or config.journal or f"sqlite:///{work / 'journal.db'}"
        channel_url = channel or config.channel or f"sqlite:///{work / 'mq.db'}"
        books_url = books or config.books or f"sqlite:///{work / 'centre.db'}"
        say = (lambda m: err_console.print(m, soft_wrap=True)) if not as_json else None
        report = run_day(
            config,
            journal_url=journal_url,
            channel_url=channel_url,
            books_url=books_url,
            output_dir=work,
            progress=say,
        )

    def human() -> None:
        rows = [
            [c.channel, c.routed, f"{c.amount:,.2f}", c.messages, c.sent, c.settled, c.netted,
             c.rejected, c.queued, c.booked, c.files, c.unanswered]
            for c in report.channels
        ]  # fmt: skip
        console.print(table(
            f"Business day {report.business_date} · participant {report.participant} · "
            f"rule set v{report.ruleset_version} · {report.payments} payments · {report.seconds} s",
            ["channel", "routed", "amount", "messages", "sent", "settled", "netted", "rejected",
             "queued", "booked", "files", "no answer"],
            rows,
        ))  # fmt: skip
        console.print(f"rejected by routing: {report.rejected_by_routing}")
        for got in report.received:
            if got.sent_by_peers:
                console.print(
                    f"received on {got.channel}: {got.items} of {got.sent_by_peers} payments "
                    f"sent by other banks ({got.messages} messages, {got.amount:,.2f})"
                )
        for r in report.reconciliation:
            verdict = "agrees" if r["ok"] else "BREAKS"
            console.print(
                f"reconciliation {r['system']} {r.get('check_date', '')}: {verdict} "
                f"({r.get('cells', 0)} cells, {r.get('cells_differing', 0)} differ, "
                f"{r.get('breaks', 0)} open breaks)"
                + ("; " + "; ".join(r["problems"]) if r.get("problems") else "")
            )
            for notice in r.get("notices", []):
                console.print(f"  notice: {notice}", soft_wrap=True)
        for shortfall in report.shortfalls:
            console.print(shortfall, soft_wrap=True)
        console.print(f"journal {report.journal}")

    emit(report.model_dump(mode="json"), as_json, human)
    if report.shortfalls or not all(r["ok"] for r in report.reconciliation):
        raise typer.Exit(EXIT_FINDINGS)
