"""The ``paymsg`` command line: one typer app, one module per command group."""

from __future__ import annotations

import typer

from paymsg.cli import (
    codegen,
    convert,
    hub,
    journal,
    messages,
    mq,
    reconcile,
    route,
    schemas,
    sim,
    validate,
)

app = typer.Typer(
    name="paymsg",
    help="Read, check and translate payment messages (ISO 20022 and CNAPS2).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from paymsg import __version__

        typer.echo(f"paymsg {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    schema_pack: str | None = typer.Option(
        None,
        "--schema-pack",
        metavar="NAME",
        help="Schema pack whose type a shared namespace means ('builtin': paymsg's own; "
        "default: $PAYMSG_SCHEMA_PACK).",
    ),
) -> None:
    """paymsg — payment message toolkit."""
    if schema_pack is not None:
        from paymsg.cli.output import reported
        from paymsg.schema.packs import use_pack

        with reported():
            ctx.with_resource(use_pack(schema_pack))


messages.register(app)
app.add_typer(schemas.app, name="schemas")
codegen.register(app)
convert.register(app)
validate.register(app)
mq.register(app)
sim.register(app)
journal.register(app)
route.register(app)
hub.register(app)
reconcile.register(app)


def main() -> None:
    """Entry point: every failure becomes one line on stderr and a documented exit code."""
    from pydantic import ValidationError

    from paymsg.cli.output import EXIT_INPUT, EXIT_INTERNAL, report_error
    from paymsg.errors import InputError, PaymsgError

    try:
        app()  # usage errors are handled (and exit 2) inside
    except PaymsgError as exc:
        report_error(exc)
        raise SystemExit(exc.exit_code) from None
    except OSError as exc:
        report_error(InputError(f"{exc.strerror or exc}", source=exc.filename))
        raise SystemExit(EXIT_INPUT) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        report_error(InputError(f"invalid option value: {first['msg']}"))
        raise SystemExit(EXIT_INPUT) from None
    except Exception as exc:  # a bug: say so in one line, never a traceback
        report_error(PaymsgError(f"internal error: {type(exc).__name__}: {exc}"))
        raise SystemExit(EXIT_INTERNAL) from None
