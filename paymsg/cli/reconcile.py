"""``paymsg reconcile …``: reconciliation (对账) with the NPC and with statements.

* ``file SUMMARY.xml [DETAIL.xml…]``: offline, from saved NPC answers;
* ``breaks list|accept``: the breaks kept in the journal database;
* ``statement STATEMENT.xml``: camt.053/054 entries against the journal or a ledger CSV.

Reports: a rich table, ``--json``, ``--csv FILE`` (the breaks) and ``--html FILE`` (a
self-contained page). Exit codes: 0 reconciled; 1 breaks remain open (or a part of an
NPC answer is missing); 2 bad usage or unreadable input; 3 journal or configuration
problem.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer

from paymsg.cli.journal import JOURNAL_OPT
from paymsg.cli.output import EXIT_FINDINGS, JSON_OPT, console, emit, reported, styled, table
from paymsg.errors import InputError

app = typer.Typer(
    help="Reconciliation (对账) with the NPC and with statements; breaks tracked to resolution.",
    no_args_is_help=True,
)
breaks_app = typer.Typer(help="Breaks kept in the journal database.", no_args_is_help=True)
app.add_typer(breaks_app, name="breaks")

HTML_OPT = typer.Option(None, "--html", help="Write a self-contained HTML report here.")
CSV_OPT = typer.Option(None, "--csv", help="Write the breaks as CSV here.")
#: what a break's scope can be: the two NPC reconciliations and statement matching
BREAK_SCOPES = ("HVPS", "BEPS", "STATEMENT")
#: most statement matches a terminal table shows (the count by kind says the rest; --json
#: lists every match): a million-line statement is not a million-row table
MAX_MATCH_ROWS = 200
CONFIG_OPT = typer.Option(None, "--config", help="Reconcile settings (TOML).")
AS_OF_OPT = typer.Option(
    None, "--as-of", help="Journal cut-off (ISO date-time with zone; default: now)."
)


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="reconcile")


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"--as-of {value!r} is not an ISO date-time", field="--as-of") from None
    if moment.tzinfo is None:
        raise InputError(
            "--as-of needs a time zone (e.g. 2024-03-15T18:00:00+08:00)", field="--as-of"
        )
    return moment.astimezone(UTC)


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date YYYY-MM-DD", field=option) from None


def _can_write(*paths: Path | None) -> None:
    """Refuse at once a report file that could not be written (its directory missing or
    read-only): found after the run, its breaks were recorded and nothing was shown."""
    for path in paths:
        if path is None:
            continue
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise InputError(f"cannot write: no directory {folder}", source=str(path))
        if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise InputError("cannot write: permission denied", source=str(path))


def _write(path: Path | None, text: str) -> None:
    if path is not None:
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror}", source=str(path)) from exc


def _show_result(result: Any, as_json: bool, html: Path | None, csv_path: Path | None) -> None:
    from paymsg.reconcile.report import breaks_csv, html_page, to_data

    _write(html, html_page(result))
    _write(csv_path, breaks_csv(result.breaks))

    def human() -> None:
        console.print(
            table(
                f"{result.scope} {result.check_date} — summary cells",
                [
                    "kind",
                    "cell",
                    "status",
                    "sent NPC/ours",
                    "sent sum NPC/ours",
                    "recv NPC/ours",
                    "recv sum NPC/ours",
                    "",
                ],
                [
                    [
                        c.kind,
                        " ".join(
                            x for x in (c.mt, c.tx_type, c.netting_date, c.netting_round) if x
                        ),
                        c.status,
                        f"{c.npc_sent_count}/{c.our_sent_count}",
                        f"{c.npc_sent_amount}/{c.our_sent_amount}",
                        f"{c.npc_recv_count}/{c.our_recv_count}",
                        f"{c.npc_recv_amount}/{c.our_recv_amount}",
                        "DIFFERS" if c.differs else "ok",
                    ]
                    for c in result.cells
                ],
            )
        )
        _breaks_table(result.breaks)
        for problem in result.problems:
            console.print(styled("problem:", "bold red", str(problem)), soft_wrap=True)
        for notice in result.notices:
            console.print(f"notice: {notice.text}", soft_wrap=True)
        console.print(f"open breaks: {len(result.open_breaks)}")

    emit(to_data(result), as_json, human)
    if not result.ok:
        raise typer.Exit(EXIT_FINDINGS)


def _breaks_table(found: list[Any]) -> None:
    console.print(
        table(
            "breaks",
            [
                "id",
                "status",
                "kind",
                "date",
                "age",
                "dir",
                "MT",
                "MsgId",
                "amount",
                "detail",
                "note",
            ],
            [
                [
                    b.id,
                    b.status,
                    b.kind,
                    b.check_date,
                    f"{b.age_days} ({b.age_bucket})",
                    b.direction,
                    b.mt,
                    b.msg_id,
                    b.amount,
                    b.detail,
                    b.note,
                ]
                for b in found
            ],
        )
    )


@app.command("file")
def file_(
    messages: list[Path] = typer.Argument(
        ...,
        help="NPC answers: a summary (711/721) or a pre-reconciliation (716/726), "
        "and details (713/723).",
    ),
    journal: str = JOURNAL_OPT,
    config: Path | None = CONFIG_OPT,
    as_of: str | None = AS_OF_OPT,
    as_json: bool = JSON_OPT,
    html: Path | None = HTML_OPT,
    csv_path: Path | None = CSV_OPT,
) -> None:
    """Reconcile a day offline from saved NPC messages against the journal."""
    with reported():
        _can_write(html, csv_path)
        from paymsg.journal import Journal
        from paymsg.reconcile import load_config, read_npc, reconcile_day

        settings = load_config(config)
        day = read_npc(list(messages))
        moment = _as_of(as_of)
        with Journal(journal) as opened:
            result = reconcile_day(opened, day, config=settings, as_of=moment)
        _show_result(result, as_json, html, csv_path)


@breaks_app.command("list")
def breaks_list(
    journal: str = JOURNAL_OPT,
    status: str | None = typer.Option(
        None, "--status", help="new, persisting, resolved, accepted, or open."
    ),
    scope: str | None = typer.Option(None, "--scope", help="HVPS, BEPS or STATEMENT."),
    check_date: str | None = typer.Option(None, "--date", help="Check date YYYY-MM-DD."),
    as_json: bool = JSON_OPT,
    csv_path: Path | None = CSV_OPT,
) -> None:
    """The breaks kept in the journal database, with their ages. Exit 1 if any is open."""
    with reported():
        from paymsg.journal import Journal
        from paymsg.reconcile import BREAK_STATUSES, list_breaks
        from paymsg.reconcile.report import breaks_csv

        if status is not None and status not in (*BREAK_STATUSES, "open"):
            raise InputError(
                f"--status {status!r} is not one of {', '.join(BREAK_STATUSES)}, open",
                field="--status",
            )
        if scope is not None and scope not in BREAK_SCOPES:
            raise InputError(
                f"--scope {scope!r} is not one of {', '.join(BREAK_SCOPES)}", field="--scope"
            )
        with Journal(journal) as opened:
            found = list_breaks(
                opened, scope=scope, check_date=_date(check_date, "--date"), status=status
            )
        _write(csv_path, breaks_csv(found))
        emit([b.model_dump(mode="json") for b in found], as_json, lambda: _breaks_table(found))
        if any(b.open for b in found):
            raise typer.Exit(EXIT_FINDINGS)


@breaks_app.command("accept")
def breaks_accept(
    break_id: int = typer.Argument(..., metavar="ID"),
    note: str = typer.Option(..., "--note", help="Why the break is accepted (required)."),
    journal: str = JOURNAL_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Accept an open break with a note; accepted breaks are never reopened."""
    with reported():
        from paymsg.journal import Journal
        from paymsg.reconcile import accept_break

        with Journal(journal) as opened:
            accepted = accept_break(opened, break_id, note)
        emit(accepted.model_dump(mode="json"), as_json, lambda: _breaks_table([accepted]))


def _flow(
    system: str,
    check_date: str,
    journal: str | None,
    channel: str | None,
    participant: str | None,
    out_queue: str | None,
    in_queue: str | None,
    mq_config: Path | None,
    config: Path | None,
    timeout: float,
    as_json: bool,
    html: Path | None,
    csv_path: Path | None,
) -> None:
    with reported():
        _can_write(html, csv_path)
        from paymsg.journal import Journal
        from paymsg.reconcile import load_config
        from paymsg.reconcile.flow import run_flow
        from paymsg.transport.config import load_settings
        from paymsg.transport.session import Cnaps2Session

        day = _date(check_date, "--date")
        assert day is not None
        overrides = {
            "channel": channel,
            "journal": journal,
            "participant": participant,
            "out_queue": out_queue,
            "in_queue": in_queue,
        }
        settings = load_settings(
            mq_config, overrides={k: v for k, v in overrides.items() if v is not None}
        )
        if not settings.participant:
            raise InputError(
                "--participant is required (our 12-digit bank code)", field="--participant"
            )
        settings_data = load_config(config)
        opened = Journal(settings.journal)
        session = Cnaps2Session.from_settings(settings, opened)
        try:
            session.start()
            flow = run_flow(
                session,
                opened,
                system=system,
                check_date=day,
                participant=settings.participant,
                config=settings_data,
                timeout=timeout,
            )
        finally:
            session.close()
            opened.close()
        _show_result(flow.result, as_json, html, csv_path)


FLOW_OPTS: dict[str, Any] = {
    "check_date": typer.Option(..., "--date", help="Check date YYYY-MM-DD."),
    "journal": typer.Option(None, "--journal", envvar="PAYMSG_JOURNAL", help="Journal URL."),
    "channel": typer.Option(
        None, "--channel", help="Channel URL (sqlite:///…, amqp://…, ibmmq://…)."
    ),
    "participant": typer.Option(None, "--participant", help="Our bank code."),
    "out_queue": typer.Option(None, "--queue", help="Queue towards CNAPS (default MSGMBFE_1)."),
    "in_queue": typer.Option(None, "--reply-queue", help="Our queue (default MSGTOBANK_1)."),
    "mq_config": typer.Option(
        None, "--mq-config", help="MQ settings file (as paymsg mq --config)."
    ),
    "timeout": typer.Option(60.0, "--timeout", help="Seconds to wait for each NPC answer."),
}


def _flow_command(system: str, summary: str) -> Callable[..., None]:
    """The ``hvps`` and ``beps`` commands: one signature, one flow, their system apart."""

    def command(
        check_date: str = FLOW_OPTS["check_date"],
        journal: str | None = FLOW_OPTS["journal"],
        channel: str | None = FLOW_OPTS["channel"],
        participant: str | None = FLOW_OPTS["participant"],
        out_queue: str | None = FLOW_OPTS["out_queue"],
        in_queue: str | None = FLOW_OPTS["in_queue"],
        mq_config: Path | None = FLOW_OPTS["mq_config"],
        config: Path | None = CONFIG_OPT,
        timeout: float = FLOW_OPTS["timeout"],
        as_json: bool = JSON_OPT,
        html: Path | None = HTML_OPT,
        csv_path: Path | None = CSV_OPT,
    ) -> None:
        _flow(
            system,
            check_date,
            journal,
            channel,
            participant,
            out_queue,
            in_queue,
            mq_config,
            config,
            timeout,
            as_json,
            html,
            csv_path,
        )

    command.__doc__ = summary
    return command


app.command("hvps")(
    _flow_command(
        "HVPS",
        "HVPS reconciliation over MQ: 710→711, 712→713 for differing cells, 714→715 and repair.",
    )
)
app.command("beps")(
    _flow_command(
        "BEPS",
        "BEPS reconciliation over MQ: 720→721, 722→723 per netting round, 724→725 and repair.",
    )
)


@app.command("statement")
def statement_cmd(
    statement: Path = typer.Argument(..., help="A camt.053 or camt.054 file."),
    journal: str | None = typer.Option(
        None,
        "--journal",
        envvar="PAYMSG_JOURNAL",
        help="Journal URL (match against it; breaks are kept there).",
    ),
    ledger: Path | None = typer.Option(
        None, "--ledger", help="A ledger extract CSV to match against instead."
    ),
    rules: Path | None = typer.Option(
        None, "--rules", help="Matching rules (TOML: [[rules]] keys = [...])."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show the matches without recording anything (exit 0)."
    ),
    as_json: bool = JSON_OPT,
    html: Path | None = HTML_OPT,
    csv_path: Path | None = CSV_OPT,
) -> None:
    """Match statement entries 1:1, 1:N and N:1 against the journal or a ledger (in SQL)."""
    with reported():
        _can_write(html, csv_path)
        from paymsg.journal import Journal
        from paymsg.reconcile.report import breaks_csv, html_page, to_data
        from paymsg.reconcile.statement import load_config, reconcile_statement

        config = load_config(rules)
        opened = Journal(journal) if journal is not None else None
        try:
            result, run = reconcile_statement(
                statement, journal=opened, ledger_path=ledger, config=config, dry_run=dry_run
            )
        finally:
            if opened is not None:
                opened.close()
        _write(html, html_page(run))
        _write(csv_path, breaks_csv(run.breaks))
        data = to_data(run) | {
            "recorded": run.run_id != 0,
            "matches": result.model_dump(mode="json")["matches"],
            "statement_rows": result.statement_rows,
            "ledger_rows": result.ledger_rows,
        }

        def human() -> None:
            shown = result.matches[:MAX_MATCH_ROWS]
            console.print(
                table(
                    f"matches ({len(result.matches)} of {result.statement_rows} statement rows)",
                    ["kind", "rule", "statement", "ledger", "amount"],
                    [
                        [m.kind, m.rule, " ".join(m.statement), " ".join(m.ledger), m.amount]
                        for m in shown
                    ],
                )
            )
            if len(result.matches) > len(shown):
                kinds = Counter(m.kind for m in result.matches)
                console.print(
                    f"… and {len(result.matches) - len(shown):,} more matches ("
                    + ", ".join(f"{kinds[k]:,} {k}" for k in sorted(kinds))
                    + " in all; --json lists every one)"
                )
            _breaks_table(run.breaks)
            console.print(
                f"open breaks: {len(run.open_breaks)}"
                + (" (dry run: nothing recorded)" if dry_run else "")
            )

        emit(data, as_json, human)
        if run.open_breaks and not dry_run:
            raise typer.Exit(EXIT_FINDINGS)
