"""The ``paymsg`` command line: one typer app, one module per command group."""

from __future__ import annotations

import typer

from paymsg.cli import codegen, convert, messages, schemas, validate

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
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """paymsg — payment message toolkit."""


messages.register(app)
app.add_typer(schemas.app, name="schemas")
codegen.register(app)
convert.register(app)
validate.register(app)


def main() -> None:
    app()
