"""Input files for CLI commands: expanding paths, reading any message format."""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path

MESSAGE_SUFFIXES = {".xml", ".txt", ".json", ".dat", ".msg"}


def looks_like_message(path: Path) -> bool:
    """Whether a file found in a directory starts like XML, CNAPS2 text or paymsg JSON."""
    try:
        with path.open("rb") as handle:
            head = handle.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return True  # let the reader report it
    return head[:1] == b"<" or head[:3] == b"{H:" or head[:2] == b'{"'


def expand(paths: list[str], skipped: list[Path] | None = None) -> Iterator[Path]:
    """Files, directories (recursively: message files by suffix) and glob patterns.

    In a directory, files that do not start like a message (a README.txt, notes) are left
    out and added to ``skipped``; files named explicitly are always read.
    """
    for text in paths:
        path = Path(text)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                if not found.is_file() or found.suffix not in MESSAGE_SUFFIXES:
                    continue
                if looks_like_message(found):
                    yield found
                elif skipped is not None:
                    skipped.append(found)
        elif path.exists() or not any(ch in text for ch in "*?["):
            yield path
        else:
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                yield path  # reported as unreadable by the caller
            yield from (Path(m) for m in matches)


def gather(paths: list[str]) -> list[Path]:
    """The input files of a command; a note on stderr for files left out, an error if none."""
    from paymsg.cli.output import err_console, fail
    from paymsg.errors import InputError

    skipped: list[Path] = []
    files = list(expand(paths, skipped))
    if skipped:
        names = ", ".join(str(p) for p in skipped[:5]) + (" …" if len(skipped) > 5 else "")
        err_console.print(f"note: {len(skipped)} file(s) that are not messages left out: {names}")
    if not files:
        fail(InputError("no message files found"))
    return files
