"""The ``paymsg`` command line: one typer app, one module per command group."""

from __future__ import annotations

import errno
import os
import sys

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
        code = app(prog_name="paymsg", standalone_mode=False)
    except typer.Abort:  # Ctrl-C, or the end of input at a prompt
        report_error(PaymsgError("interrupted"))
        raise SystemExit(130) from None
    except PaymsgError as exc:
        report_error(exc)
        raise SystemExit(exc.exit_code) from None
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # the reader went away (``| head``): nothing to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(1) from None
        report_error(InputError(f"{exc.strerror or exc}", source=exc.filename))
        raise SystemExit(EXIT_INPUT) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        report_error(InputError(f"invalid option value: {first['msg']}"))
        raise SystemExit(EXIT_INPUT) from None
    except Exception as exc:
        if _usage_error(exc):
            raise SystemExit(EXIT_INPUT) from None
        # a bug: say so in one line, never a traceback
        report_error(PaymsgError(f"internal error: {type(exc).__name__}: {exc}"))
        raise SystemExit(EXIT_INTERNAL) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def _usage_error(exc: Exception) -> bool:
    """Report a usage error of the command-line parser (click's, which typer may vendor:
    recognised by its interface) as bad input in one line; False for anything else."""
    message = getattr(exc, "format_message", None)
    if not callable(message) or not isinstance(getattr(exc, "exit_code", None), int):
        return False
    from paymsg.cli.output import report_error
    from paymsg.errors import InputError

    ctx = getattr(exc, "ctx", None)
    text = str(message()).replace(": Value error, ", ": ")  # a validator's own wording
    if type(exc).__name__ == "NoArgsIsHelpError":  # a group given no command: its help
        if text.strip():  # (typer has printed it already when it formats with rich)
            typer.echo(text)
        return True
    where = f" (see {ctx.command_path} --help)" if ctx is not None else ""
    report_error(InputError(f"{text}{where}"))
    return True
