"""Input files for CLI commands: expanding paths, reading any message format."""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path

from paymsg.codec.api import _is_json, parse, read_input
from paymsg.codec.json import from_json
from paymsg.codec.message import Message
from paymsg.errors import PaymsgError

MESSAGE_SUFFIXES = {".xml", ".txt", ".json", ".dat", ".msg"}


def expand(paths: list[str]) -> Iterator[Path]:
    """Files, directories (recursively: message files by suffix) and glob patterns."""
    for text in paths:
        path = Path(text)
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix in MESSAGE_SUFFIXES
            )
        elif path.exists() or not any(ch in text for ch in "*?["):
            yield path
        else:
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                yield path  # reported as unreadable by the caller
            yield from (Path(m) for m in matches)


def load(path: Path, type_id: str | None = None) -> Message:
    """A message from a file: XML, CNAPS2 text, or paymsg JSON."""
    raw, _ = read_input(path)
    if _is_json(raw):
        try:
            return from_json(raw)
        except PaymsgError as exc:
            raise exc.with_source(str(path)) from None
    return parse(path, type=type_id)
