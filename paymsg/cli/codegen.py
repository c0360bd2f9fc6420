"""``paymsg codegen``: typed models from a user's own XSD files, with :mod:`paymsg.codegen`."""

from __future__ import annotations

from pathlib import Path

import typer

from paymsg.cli.output import console, emit, reported


def register(app: typer.Typer) -> None:
    @app.command()
    def codegen(
        schemas: list[Path] = typer.Argument(..., help="XSD files, one module each."),
        package: str = typer.Option(..., "--package", help="Python package name of the output."),
        output: Path = typer.Option(
            ..., "--output", "-o", help="Directory to write the package to."
        ),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Generate dataclass models from XSD files (same conventions as paymsg's own models).

        Needs the codegen extra: pip install "paymsg\\[codegen]".
        """
        from paymsg.codegen import generate

        with reported():
            written = generate(schemas, package, output)
        emit(
            {"package": package, "files": [str(p) for p in written]},
            as_json,
            lambda: console.print(f"wrote {len(written)} files for package {package} to {output}"),
        )
