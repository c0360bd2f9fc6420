"""``paymsg route …``: route payments, and manage rule-set versions and the directory.

``paymsg route FILE`` is short for ``paymsg route decide FILE``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from paymsg.cli.output import EXIT_FINDINGS, console, emit, reported, table
from paymsg.errors import ConfigError, InputError


class _DefaultDecide(TyperGroup):
    """A group whose unknown first word is a FILE for ``decide``."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["decide", *args]
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=_DefaultDecide,
    help="Route payments to HVPS, BEPS, book transfer or cross-border, from rules as data.",
    no_args_is_help=True,
)
rules_app = typer.Typer(
    help="Rule-set versions: check, store and activate, list.", no_args_is_help=True
)
directory_app = typer.Typer(
    help="The participant directory in the journal database.", no_args_is_help=True
)
app.add_typer(rules_app, name="rules")
app.add_typer(directory_app, name="directory")


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="route")


def _journal_engine(url: str) -> Any:
    from paymsg.journal import Journal

    return Journal(url).engine


@app.command("decide")
def decide_cmd(
    file: Path = typer.Argument(..., help="Payments: JSON, CSV, pain.001, pacs.008 or pacs.009."),
    rules: Path | None = typer.Option(
        None, "--rules", help="Rule set TOML/YAML (default: the active one in --journal)."
    ),
    facts: Path = typer.Option(
        ..., "--facts", help="Facts TOML (e.g. examples/routing/facts.toml)."
    ),
    journal: str | None = typer.Option(
        None, "--journal", help="Journal URL holding the active rule set and directory."
    ),
    at: str | None = typer.Option(
        None, "--at", help="Decide as of this Beijing time (YYYY-MM-DDTHH:MM); default now."
    ),
    explain: bool = typer.Option(
        False, "--explain", help="Say why: rules considered, refusals, facts."
    ),
    as_json: bool = typer.Option(False, "--json", help="Write the decisions as JSON."),
) -> None:
    """Decide each payment's channel, message type and execution time."""
    from paymsg.reference.cnaps2 import beijing_now
    from paymsg.routing import (
        Exposure,
        Facts,
        Router,
        compile_rules,
        load_facts,
        load_rules,
        npc_business_date,
        read_instructions,
    )
    from paymsg.routing.store import RoutingStore

    with reported():
        try:
            now = datetime.fromisoformat(at) if at else beijing_now().replace(tzinfo=None)
        except ValueError:
            raise InputError(f"--at {at!r} is not YYYY-MM-DDTHH:MM") from None
        config = load_facts(facts)
        store = RoutingStore(_journal_engine(journal)) if journal else None
        if rules is not None:
            compiled = compile_rules(load_rules(rules))
        elif store is not None:
            active = store.active()
            if active is None:
                raise ConfigError("no active rule set in the journal (paymsg route rules activate)")
            compiled = active
        else:
            raise InputError("give --rules FILE or --journal URL with an active rule set")
        directory = store.directory() if store is not None else None
        business_date = None
        if journal and config.business_date is None:
            from paymsg.journal import Journal

            found = npc_business_date(Journal(journal))  # the newest inbound ccms.801
            business_date = found[0] if found else None
        router = Router(compiled, Facts(config, directory or None, business_date=business_date))
        exposure = Exposure()
        decisions = [
            router.decide(p, now, explain=explain, exposure=exposure)
            for p in read_instructions(file)
        ]

    def human() -> None:
        if explain:
            for d in decisions:
                console.print(d.explain())
            return
        rows = [
            [d.payment_id, f"{d.amount:,} {d.currency}", d.channel or "-",
             d.message_type or "-", d.status,
             f"{d.execute_at:%Y-%m-%d %H:%M}" if d.execute_at else "-", d.rule or "-", d.reason]
            for d in decisions
        ]  # fmt: skip
        console.print(table(
            f"{len(decisions)} payments",
            ["id", "amount", "channel", "message", "when", "at", "rule", "note"],
            rows,
        ))  # fmt: skip

    emit(
        [d.model_dump(mode="json", exclude_defaults=not explain) for d in decisions], as_json, human
    )


@rules_app.command("check")
def rules_check(
    file: Path = typer.Argument(..., help="Rule set TOML/YAML."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Refuse conflicting rules, unreachable rules and payments no rule covers (exit 1)."""
    from paymsg.routing import check, load_rules

    with reported():
        result = check(load_rules(file))
    emit(
        {"ok": result.ok, "problems": result.problems()},
        as_json,
        lambda: console.print("\n".join(result.problems()) if not result.ok else f"{file}: ok"),
    )
    if not result.ok:
        raise typer.Exit(EXIT_FINDINGS)


@rules_app.command("activate")
def rules_activate(
    file: Path | None = typer.Argument(None, help="Rule set to store and activate."),
    version: int | None = typer.Option(
        None, "--version", help="Activate a stored version instead."
    ),
    journal: str = typer.Option("sqlite:///paymsg-journal.db", "--journal", help="Journal URL."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Store FILE as a new version and activate it (after the checks), or activate --version."""
    from paymsg.routing.store import RoutingStore

    with reported():
        if (file is None) == (version is None):
            raise InputError("give a rule set FILE or --version N")
        store = RoutingStore(_journal_engine(journal))
        if file is not None:
            fmt = "yaml" if file.suffix.lower() in (".yaml", ".yml") else "toml"
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read: {exc}", source=str(file)) from None
            version = store.store(text, str(file), fmt=fmt)
        assert version is not None
        compiled = store.activate(version)
    emit(
        {
            "version": version,
            "name": compiled.ruleset.name,
            "rules": len(compiled.rules),
            "digest": compiled.digest,
        },
        as_json,
        lambda: console.print(
            f"rule set {compiled.ruleset.name!r} v{version} active ({len(compiled.rules)} rules)"
        ),
    )


@rules_app.command("list")
def rules_list(
    journal: str = typer.Option("sqlite:///paymsg-journal.db", "--journal", help="Journal URL."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Every stored rule-set version; the active one is marked."""
    from paymsg.routing.store import RoutingStore

    with reported():
        rows = RoutingStore(_journal_engine(journal)).versions()
    emit(
        rows,
        as_json,
        lambda: console.print(
            table(
                "rule sets",
                ["version", "name", "active", "stored", "activated", "digest", "problems"],
                [
                    [
                        r["version"],
                        r["name"],
                        "*" if r["active"] else "",
                        r["stored_at"],
                        r["activated_at"] or "-",
                        r["digest"],
                        r["problems"],
                    ]
                    for r in rows
                ],
            )
        ),
    )


@directory_app.command("load")
def directory_load(
    file: Path = typer.Argument(..., help="CSV: bank_code,direct,name,city,status,channels"),
    journal: str = typer.Option("sqlite:///paymsg-journal.db", "--journal", help="Journal URL."),
) -> None:
    """Replace the participant directory with FILE (one transaction)."""
    from paymsg.routing import read_directory
    from paymsg.routing.store import RoutingStore

    with reported():
        rows = read_directory(file)
        count = RoutingStore(_journal_engine(journal)).load_directory(rows)
    console.print(f"{count} participants loaded")
