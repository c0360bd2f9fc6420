"""``paymsg convert``: between formats (XML, JSON) and between message types (through the hub)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress

from paymsg.catalog import catalog
from paymsg.cli.files import gather, load
from paymsg.cli.output import (
    EXIT_FINDINGS,
    EXIT_INPUT,
    console,
    err_console,
    fail,
    print_json,
    report_error,
    table,
)
from paymsg.codec.api import serialize
from paymsg.codec.json import to_json
from paymsg.errors import ConversionLossError, InputError, PaymsgError

FORMATS = ("json", "xml")
PROGRESS_FROM = 6


def _target_help() -> str:
    return "json, xml, or a message type id (e.g. pacs.008.001.08, hvps.111.001.01)"


def register(app: typer.Typer) -> None:
    @app.command()
    def convert(
        paths: list[str] = typer.Argument(..., help="Files, directories or glob patterns."),
        to: str = typer.Option(..., "--to", help=_target_help()),
        output: Path | None = typer.Option(None, "-o", "--output", help="Output file (one input)."),
        output_dir: Path | None = typer.Option(None, "--output-dir", help="One file per input."),
        strict: bool = typer.Option(False, "--strict", help="Refuse conversions that lose data."),
        json_out: bool = typer.Option(
            False, "--json-output", help="Write the converted message as paymsg JSON."
        ),
        sender: str | None = typer.Option(None, "--sender", help="CNAPS2 header OrigSender."),
        receiver: str | None = typer.Option(None, "--receiver", help="CNAPS2 header OrigReceiver."),
        priority: str | None = typer.Option(None, "--priority", help="CNAPS2 priority 1|2|3."),
        id_seed: int | None = typer.Option(
            None, "--id-seed", help="Start of the CNAPS2 MesgID sequence (yyyyMMdd + 12 digits)."
        ),
        type_id: str | None = typer.Option(None, "--type", help="Force the input type."),
        as_json: bool = typer.Option(False, "--json", help="Loss report as JSON on stdout."),
    ) -> None:
        """Convert messages: XML ⇄ JSON, or CNAPS2 ⇄ unified ISO 20022 with a loss report.

        Exit 0 converted (loss, if any, reported), 1 refused by --strict, 2 unreadable input
        or no conversion between the types.
        """
        files = gather(paths)
        if output is not None and len(files) > 1:
            fail(InputError("-o takes one input file; use --output-dir for several"))
        if to not in FORMATS and to not in catalog():
            fail(InputError(f"unknown target {to!r}", hint=_target_help()))
        if priority is not None and priority not in ("1", "2", "3"):
            fail(InputError(f"--priority must be 1, 2 or 3, not {priority!r}"))
        options: dict[str, Any] = {"sender": sender, "receiver": receiver, "priority": priority}
        if id_seed is not None:
            from paymsg.cnaps2 import DailySequence

            options["id_generator"] = DailySequence(id_seed)
        results: list[dict[str, Any]] = []
        unreadable = refused = 0
        base = _common_parent(files)
        written: set[Path] = set()
        with Progress(
            console=err_console, transient=True, disable=len(files) < PROGRESS_FROM
        ) as bar:
            task = bar.add_task("converting", total=len(files))
            for path in files:
                bar.advance(task)
                try:
                    message = load(path, type_id)
                    loss: list[Any] = []
                    if to not in FORMATS:
                        from paymsg.convert import convert as hub_convert

                        done = hub_convert(message, to, strict=strict, **options)
                        message, loss = done.message, done.loss
                    as_text = to == "json" or json_out
                    data = to_json(message).encode() + b"\n" if as_text else serialize(message)
                except ConversionLossError as exc:
                    refused += 1
                    report_error(exc.with_source(str(path)))
                    results.append({"file": str(path), "error": str(exc)})
                    continue
                except PaymsgError as exc:
                    unreadable += 1
                    report_error(exc.with_source(str(path)))
                    results.append({"file": str(path), "error": str(exc)})
                    continue
                target: str | None = None
                if output_dir is not None:
                    suffix = ".json" if as_text else (".txt" if _is_cnaps(data) else ".xml")
                    place = _output_path(output_dir, base, path, suffix, written)
                    place.parent.mkdir(parents=True, exist_ok=True)
                    place.write_bytes(data)
                    target = str(place)
                elif output is not None:
                    target = str(output)
                    output.write_bytes(data)
                elif not as_json:
                    sys.stdout.buffer.write(data)
                    sys.stdout.flush()
                entry: dict[str, Any] = {
                    "file": str(path),
                    "type": message.type,
                    "output": target,
                    "loss": [e.model_dump(mode="json") for e in loss],
                }
                if target is None and as_json:
                    entry["message"] = data.decode("utf-8")
                results.append(entry)
                if loss and not as_json:
                    rows = [(e.source_path, e.action, e.target_path or "", e.reason) for e in loss]
                    err_console.print(
                        table(
                            f"{path}: {len(loss)} field(s) not carried unchanged",
                            ["source path", "what", "target", "why"],
                            rows,
                        )
                    )
        if as_json:
            print_json(results)
        elif output_dir is not None or output is not None:
            console.print(f"converted {len(files) - unreadable - refused} of {len(files)} file(s)")
        if unreadable:
            raise typer.Exit(EXIT_INPUT)
        if refused:
            raise typer.Exit(EXIT_FINDINGS)


def _common_parent(files: list[Path]) -> Path:
    parents = [str(p.resolve().parent) for p in files] or ["."]
    return Path(os.path.commonpath(parents))


def _output_path(output_dir: Path, base: Path, path: Path, suffix: str, written: set[Path]) -> Path:
    """Where one input's output goes: the input's folder layout below ``output_dir`` is kept,
    and two inputs of the same stem (``a.xml``, ``a.txt``) never overwrite each other."""
    folder = output_dir / path.resolve().parent.relative_to(base)
    place = folder / (path.stem + suffix)
    if place in written:
        place = folder / (path.name + suffix)
    written.add(place)
    return place


def _is_cnaps(data: bytes) -> bool:
    return data.lstrip()[:3] == b"{H:"
