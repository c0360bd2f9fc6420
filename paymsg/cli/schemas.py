"""``paymsg schemas …``: what message types paymsg knows."""

from __future__ import annotations

import typer

from paymsg.cli.output import console, emit, table
from paymsg.schema.catalog import catalog

app = typer.Typer(help="Catalogued message types and their schemas.", no_args_is_help=True)


@app.command("list")
def list_schemas(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List every catalogued message type."""
    rows = [t.model_dump(mode="json") for t in catalog()]

    def human() -> None:
        console.print(
            table(
                f"{len(rows)} message types",
                ["id", "system", "signed", "name / 名称"],
                [
                    (
                        t["id"],
                        t["system"] or t["standard"],
                        {True: "yes", False: "no"}.get(t["signed"], ""),
                        f"{t['name_en']}\n{t['name_zh']}",
                    )
                    for t in rows
                ],
            )
        )

    emit(rows, as_json, human)
