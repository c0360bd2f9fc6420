"""``paymsg schemas …``: what message types paymsg knows, and schema packs."""

from __future__ import annotations

from pathlib import Path

import typer

from paymsg.cli.output import console, emit, reported, table
from paymsg.schema import packs
from paymsg.schema.catalog import catalog

app = typer.Typer(
    help="Catalogued message types, their schemas and schema packs.", no_args_is_help=True
)


@app.command("list")
def list_schemas(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List every catalogued message type and where it comes from."""
    with reported():
        rows = [t.model_dump(mode="json") | {"source": packs.source_of(t)} for t in catalog()]

    def human() -> None:
        console.print(
            table(
                f"{len(rows)} message types",
                ["id", "system", "signed", "name / 名称", "source"],
                [
                    (
                        t["id"],
                        t["system"] or t["standard"],
                        {True: "yes", False: "no"}.get(t["signed"], ""),
                        f"{t['name_en']}\n{t['name_zh']}",
                        t["source"],
                    )
                    for t in rows
                ],
            )
        )

    emit(rows, as_json, human)


@app.command("add")
def add(
    schemas: list[Path] = typer.Argument(
        ..., help="Message schemas (XSD), one message type each; their includes are found."
    ),
    pack: str | None = typer.Option(
        None, "--pack", help="Pack name (default: the first schema's file name)."
    ),
    type_id: str | None = typer.Option(
        None, "--id", help="Type id, for one schema whose namespace does not name it."
    ),
    replace: bool = typer.Option(False, "--replace", help="Replace a pack of the same name."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Compile XSDs into a schema pack in PAYMSG_HOME; its types then work like built-in ones."""
    with reported():
        added = packs.add_pack(schemas, pack, type_id=type_id, replace=replace)
    data = {
        "pack": added.name,
        "path": str(added.path),
        "types": [t.id for t in added.types],
    }
    emit(
        data,
        as_json,
        lambda: console.print(
            f"added pack {added.name} at {added.path}: {', '.join(data['types'])}"
        ),
    )


@app.command("remove")
def remove(
    name: str = typer.Argument(..., help="Name of a pack in PAYMSG_HOME."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Delete a schema pack from PAYMSG_HOME."""
    with reported():
        path = packs.remove_pack(name)
    emit(
        {"removed": name, "path": str(path)},
        as_json,
        lambda: console.print(f"removed pack {name} from {path}"),
    )
