"""``paymsg convert``: between formats (XML, JSON) and between message types (through the hub)."""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

import typer
from rich.markup import escape  # a progress line is markup: a file name is escaped
from rich.progress import Progress

from paymsg.cli.files import gather
from paymsg.cli.output import (
    EXIT_FINDINGS,
    EXIT_INPUT,
    console,
    emit,
    err_console,
    fail,
    print_json,
    report_error,
    reported,
    table,
)
from paymsg.cli.validate import STREAM_FROM as _VALIDATE_STREAM_FROM
from paymsg.codec.api import convert_file, load_file, serialize
from paymsg.codec.json.engine import to_json
from paymsg.codec.stream.writer import Format
from paymsg.convert.hub import mapping_table as hub_mapping_table
from paymsg.errors import ConversionLossError, InputError, PaymsgError
from paymsg.schema.catalog import catalog

FORMATS = ("json", "xml")
PROGRESS_FROM = 6
#: inputs larger than this convert ``--to json|xml`` as a stream (validate's threshold)
STREAM_FROM = _VALIDATE_STREAM_FROM


def _target_help() -> str:
    return "json, xml, or a message type id (e.g. pacs.008.001.08, hvps.111.001.01)"


def register(app: typer.Typer) -> None:
    @app.command()
    def convert(
        paths: list[str] = typer.Argument(
            None,
            help="Files, directories or glob patterns (with --mapping-table: SOURCE TARGET).",
            show_default=False,
        ),
        to: str | None = typer.Option(None, "--to", help=_target_help(), show_default=False),
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
        mapping_table: bool = typer.Option(
            False,
            "--mapping-table",
            help="Print the mapping table of the pair SOURCE TARGET (two type ids) instead.",
        ),
    ) -> None:
        """Convert messages: XML ⇄ JSON, or CNAPS2 ⇄ unified ISO 20022 with a loss report.

        Exit 0 converted (loss, if any, reported), 1 refused by --strict, 2 unreadable input
        or no conversion between the types. ``--mapping-table SOURCE TARGET`` prints the
        rows of one pair (source path → target path, policy, note); exit 2 for no such pair.
        """
        if mapping_table:
            _print_mapping_table(paths or [], as_json)
            return
        if not paths:
            fail(InputError("give the files to convert (or --mapping-table SOURCE TARGET)"))
        if to is None:
            fail(InputError("--to is required", hint=_target_help()))
        files = gather(paths)
        if output is not None and len(files) > 1:
            fail(InputError("-o takes one input file; use --output-dir for several"))
        if to not in FORMATS and to not in catalog():
            fail(InputError(f"unknown target {to!r}", hint=_target_help()))
        if priority is not None and priority not in ("1", "2", "3"):
            fail(InputError(f"--priority must be 1, 2 or 3, not {priority!r}"))
        options: dict[str, Any] = {"sender": sender, "receiver": receiver, "priority": priority}
        if id_seed is not None:
            from paymsg.codec.envelope.wrap import DailySequence

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
                as_text = to == "json" or json_out
                destination = _Destination(output, output_dir, base, written, as_text, as_json)
                try:
                    if to in FORMATS and _size(path) > STREAM_FROM:
                        type_name, loss = _convert_large(path, as_text, type_id, destination, bar)
                    else:
                        message = load_file(path, type_id)
                        loss = []
                        if to not in FORMATS:
                            from paymsg.convert import convert as hub_convert

                            done = hub_convert(message, to, strict=strict, **options)
                            message, loss = done.message, done.loss
                        data = to_json(message).encode() + b"\n" if as_text else serialize(message)
                        type_name = message.type
                        destination.put(path, data)
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
                entry: dict[str, Any] = {
                    "file": str(path),
                    "type": type_name,
                    "output": destination.target,
                    "loss": [e.model_dump(mode="json") for e in loss],
                }
                if destination.kept is not None:
                    entry["message"] = destination.kept.decode("utf-8")
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


def _print_mapping_table(types: list[str], as_json: bool) -> None:
    """The mapping table of one pair of the hub, from its rows, as a table or JSON."""
    if len(types) != 2:
        fail(InputError("--mapping-table takes two type ids: SOURCE TARGET"))
    source, target = types
    with reported():
        lines = hub_mapping_table(source, target)
    columns = ("source", "target", "policy", "note")
    rows = [dict(zip(columns, line, strict=True)) for line in lines]
    emit(
        {"source": source, "target": target, "rows": rows},
        as_json,
        lambda: console.print(
            table(
                f"{source} → {target}: {len(lines)} rows",
                ["source path", "target path", "policy", "note"],
                lines,
            )
        ),
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # the reader reports it


def _convert_large(
    path: Path, as_text: bool, type_id: str | None, destination: _Destination, bar: Progress
) -> tuple[str, list[Any]]:
    """A large file to paymsg JSON or XML, streamed when that gives the same bytes."""
    kind: Format = "json" if as_text else "xml"
    converted: list[str] = []

    def fill(out: IO[bytes]) -> None:
        with _byte_progress(bar, path) as progress:
            converted.append(convert_file(path, kind, out, type_id=type_id, progress=progress).type)

    destination.write(path, fill)
    return converted[0], []


@contextmanager
def _byte_progress(bar: Progress, path: Path) -> Iterator[Callable[[int], None]]:
    """A bar of the input bytes read, on stderr: on the files bar when that one shows,
    else its own (shown on a terminal only, like the files bar it is transient)."""
    own: Progress | None = None
    if bar.disable:
        own = Progress(console=err_console, transient=True, disable=not err_console.is_terminal)
        own.start()
    shown = own or bar
    total = _size(path)
    task = shown.add_task(f"streaming {escape(path.name)}", total=total)
    last = 0

    def update(done: int) -> None:
        nonlocal last
        if done - last >= 1 << 20 or done >= total:
            last = done
            shown.update(task, completed=done)

    try:
        yield update
    finally:
        shown.remove_task(task)
        if own is not None:
            own.stop()


class _Destination:
    """Where one input's output goes: a file in ``--output-dir``, the ``-o`` file, or
    stdout. A file is written beside its final place under a temporary name and renamed
    once complete, so an error never leaves a half-written output behind."""

    def __init__(
        self,
        output: Path | None,
        output_dir: Path | None,
        base: Path,
        written: set[Path],
        as_text: bool,
        as_json: bool,
    ) -> None:
        self.output = output
        self.output_dir = output_dir
        self.base = base
        self.written = written
        self.as_text = as_text
        self.as_json = as_json
        self.target: str | None = None  # the file written
        self.kept: bytes | None = None  # the output, for --json without a file

    def put(self, path: Path, data: bytes) -> None:
        """Deliver output that is already complete."""
        if self.output_dir is None and self.output is None:
            if self.as_json:
                self.kept = data
            else:
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
            return

        def fill(out: IO[bytes]) -> None:
            out.write(data)

        self.write(path, fill)

    def write(self, path: Path, fill: Callable[[IO[bytes]], None]) -> None:
        """Deliver the output ``fill`` writes (to stdout only once it is complete)."""
        if self.output_dir is not None:
            folder = self.output_dir / path.resolve().parent.relative_to(self.base)
            created = _make_dirs(folder)
            try:
                with _Partial(folder / path.name) as partial:
                    fill(partial.file)
                    suffix = ".json" if self.as_text else self._xml_suffix(partial.file)
                    place = _output_path(self.output_dir, self.base, path, suffix, self.written)
                    partial.commit(place)
            except BaseException:
                for made in reversed(created):
                    _remove_empty(made)
                raise
            self.target = str(place)
        elif self.output is not None:
            if self.output.exists() and not self.output.is_file():  # a device or a pipe
                with tempfile.TemporaryFile() as spool, self.output.open("wb") as file:
                    fill(spool)
                    spool.seek(0)
                    shutil.copyfileobj(spool, file)
            else:  # through a symbolic link, the file it points to is replaced
                real = self.output.resolve() if self.output.is_symlink() else self.output
                with _Partial(real) as partial:
                    fill(partial.file)
                    partial.commit(real)
            self.target = str(self.output)
        else:
            with tempfile.TemporaryFile() as spool:
                fill(spool)
                spool.seek(0)
                if self.as_json:
                    self.kept = spool.read()
                else:
                    shutil.copyfileobj(spool, sys.stdout.buffer)
                    sys.stdout.flush()

    @staticmethod
    def _xml_suffix(file: IO[bytes]) -> str:
        file.seek(0)
        head = file.read(4096)
        while head and not head.lstrip():
            more = file.read(4096)
            if not more:
                break
            head = head.lstrip() + more
        return ".txt" if _is_cnaps(head) else ".xml"


class _Partial:
    """An output file being written: a temporary file beside ``place``, renamed over it by
    :meth:`commit`, removed if anything goes wrong before."""

    def __init__(self, place: Path) -> None:
        self.place = place
        self.path: Path | None = None
        self.file: IO[bytes]

    def __enter__(self) -> _Partial:
        folder = self.place.parent
        for _ in range(100):
            candidate = folder / f".{self.place.name}.{secrets.token_hex(4)}.part"
            try:
                fd = os.open(candidate, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            except OSError as exc:  # name the output, not the temporary file
                raise OSError(exc.errno, exc.strerror, str(self.place)) from None
            self.path = candidate
            self.file = os.fdopen(fd, "w+b")
            with suppress(OSError):  # an existing output keeps its permissions
                os.chmod(candidate, stat.S_IMODE(self.place.stat().st_mode))
            return self
        raise OSError(f"cannot create a temporary file beside {self.place}")

    def commit(self, place: Path) -> None:
        assert self.path is not None
        self.file.close()
        os.replace(self.path, place)
        self.path = None

    def __exit__(self, *exc: object) -> None:
        self.file.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def _make_dirs(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return those created, outermost first."""
    missing: list[Path] = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    folder.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def _remove_empty(folder: Path) -> None:
    with suppress(OSError):  # not empty, or already gone
        folder.rmdir()


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
