"""``paymsg journal …``: look into the message journal — schema version, queries, one
entry with its history, reconciliation aggregates.

Reading commands open the journal with ``create=False``: they never create or migrate a
database (a missing or old one is an error, exit 3); ``paymsg journal upgrade`` does.
JSON output carries every column except the raw text (``show --raw`` prints it).

Exit codes: 0 ok; 2 bad usage or option value; 3 journal or configuration problem.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import typer

from paymsg.cli.output import JSON_OPT, console, emit, reported, table

app = typer.Typer(
    help="The message journal: schema version, queries, entries and their history, aggregates.",
    no_args_is_help=True,
)

JOURNAL_OPT = typer.Option(
    "sqlite:///paymsg-journal.db",
    "--journal",
    envvar="PAYMSG_JOURNAL",
    help="Journal URL: sqlite:///PATH or postgresql://… (env PAYMSG_JOURNAL).",
)


def _work_date(value: str | None) -> str | None:
    """A work date option: YYYY-MM-DD or YYYYMMDD (a usage error, exit 2, otherwise)."""
    if value is None:
        return None
    digits = value.replace("-", "")
    try:
        datetime.strptime(digits, "%Y%m%d")
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD or YYYYMMDD)") from None
    if len(digits) != 8:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD or YYYYMMDD)")
    return value


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="journal")


def _open(url: str, *, create: bool = False) -> Any:
    from paymsg.journal import Journal

    return Journal(url, create=create)


def _entry_data(entry: Any) -> dict[str, Any]:
    data: dict[str, Any] = entry.model_dump(mode="json", exclude={"raw"})
    return data


@app.command("info")
def info(journal: str = JOURNAL_OPT, as_json: bool = JSON_OPT) -> None:
    """The journal's database, schema revision and counts by status."""
    with reported():
        from paymsg.journal import schema_head

        with _open(journal) as opened:
            counts = opened.status_counts()
            oldest = counts.pop("oldest_unconfirmed")
            data = {
                "url": opened.url,
                "database": opened.dialect,
                "revision": opened.revision,
                "head": schema_head(),
                "counts": counts,
                "oldest_unconfirmed": None if oldest is None else _entry_data(oldest),
            }

    def human() -> None:
        console.print(f"{data['url']} ({data['database']}), schema revision {data['revision']}")
        rows = [
            (direction, status, n)
            for direction in ("out", "in")
            for status, n in sorted(counts.get(direction, {}).items())
        ]
        console.print(table(None, ["direction", "status", "entries"], rows))
        if oldest is not None:
            console.print(
                f"oldest unconfirmed: entry {oldest.id} MesgID {oldest.mesg_id} "
                f"({oldest.status} since {oldest.updated_at:%Y-%m-%d %H:%M:%S} UTC)"
            )

    emit(data, as_json, human)


@app.command("upgrade")
def upgrade(journal: str = JOURNAL_OPT) -> None:
    """Create the journal, or migrate it to the newest schema revision."""
    with reported(), _open(journal, create=True) as opened:
        console.print(f"{opened.url}: schema revision {opened.revision}")


@app.command("query")
def query(
    journal: str = JOURNAL_OPT,
    work_date: str | None = typer.Option(
        None, "--work-date", callback=_work_date, help="YYYY-MM-DD or YYYYMMDD."
    ),
    mt: str | None = typer.Option(None, "--mt", help="Message type, e.g. hvps.111.001.01."),
    tx_type: str | None = typer.Option(None, "--tx-type", help="业务类型, e.g. A100."),
    status: str | None = typer.Option(None, "--status", help="e.g. sent, settled, received."),
    direction: str | None = typer.Option(None, "--direction", help="out or in."),
    package: str | None = typer.Option(None, "--package", help="BEPS package id."),
    sender: str | None = typer.Option(None, "--sender"),
    receiver: str | None = typer.Option(None, "--receiver"),
    system: str | None = typer.Option(None, "--system", help="HVPS, BEPS, CCMS, SAPS…"),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many entries."),
    after_id: int | None = typer.Option(None, "--after-id", help="Entries after this id."),
    as_json: bool = JSON_OPT,
) -> None:
    """Entries matching every filter given, in arrival order."""
    from paymsg.journal.records import INBOUND_STATUSES, OUTBOUND_STATUSES

    if direction is not None and direction not in ("out", "in"):
        raise typer.BadParameter(f"{direction!r}: use out or in", param_hint="--direction")
    known = (*OUTBOUND_STATUSES, *INBOUND_STATUSES)
    if status is not None and status not in known:
        # a misspelt status would match nothing and read as "none of them"
        raise typer.BadParameter(
            f"{status!r} is not a journal status ({', '.join(known)})", param_hint="--status"
        )
    with reported(), _open(journal) as opened:
        found = opened.query(
            work_date=work_date,
            mt=mt,
            tx_type=tx_type,
            status=status,
            direction=direction,
            package=package,
            sender=sender,
            receiver=receiver,
            system=system,
            limit=limit,
            after_id=after_id,
        )

    def human() -> None:
        columns = [
            "id",
            "dir",
            "mt",
            "MesgID",
            "MsgId",
            "业务类型",
            "amount",
            "status",
            "work date",
        ]
        rows = [
            (
                e.id,
                e.direction,
                e.mt,
                e.mesg_id,
                e.msg_id,
                e.tx_type,
                None if e.amount is None else f"{e.currency or ''} {e.amount}".strip(),
                e.status,
                e.work_date,
            )
            for e in found
        ]
        console.print(table(f"{len(found)} entries", columns, rows))

    emit([_entry_data(e) for e in found], as_json, human)


@app.command("show")
def show(
    entry_id: int = typer.Argument(..., help="Journal entry id."),
    journal: str = JOURNAL_OPT,
    raw: bool = typer.Option(False, "--raw", help="Print the message text exactly as stored."),
    as_json: bool = JSON_OPT,
) -> None:
    """One entry: every column and its status history."""
    with reported(), _open(journal) as opened:
        entry = opened.get(entry_id)
        steps = opened.history(entry_id)
    if raw:
        sys.stdout.buffer.write(entry.raw)
        sys.stdout.buffer.flush()
        return
    data = _entry_data(entry) | {"history": [s.model_dump(mode="json") for s in steps]}

    def human() -> None:
        fields = [(k, v) for k, v in data.items() if k != "history" and v is not None]
        console.print(table(f"journal entry {entry.id}", ["field", "value"], fields))
        rows = [(s.at, s.from_status, s.to_status, s.code, s.detail, s.related_id) for s in steps]
        console.print(table("history", ["at", "from", "to", "code", "detail", "related"], rows))

    emit(data, as_json, human)


@app.command("aggregates")
def aggregates(
    work_date: str = typer.Option(
        ..., "--work-date", callback=_work_date, help="YYYY-MM-DD or YYYYMMDD."
    ),
    system: str = typer.Option(..., "--system", help="HVPS, BEPS, …"),
    journal: str = JOURNAL_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Count and exact sum of amounts by direction, type, 业务类型 and status."""
    with reported(), _open(journal) as opened:
        rows = opened.aggregates(work_date=work_date, system=system)

    def human() -> None:
        columns = ["dir", "mt", "业务类型", "status", "count", "amount", "without amount"]
        console.print(
            table(
                f"{system} {work_date}",
                columns,
                [
                    (r.direction, r.mt, r.tx_type, r.status, r.count, r.amount, r.without_amount)
                    for r in rows
                ],
            )
        )

    emit([r.model_dump(mode="json") for r in rows], as_json, human)
