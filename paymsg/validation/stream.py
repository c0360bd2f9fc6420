"""Validation of a large message as a stream (``paymsg.validate`` above a size threshold).

The message is read incrementally by :func:`paymsg.codec.stream.reader.iter_transactions` with
``validate=True`` and ``bind=False``: transactions are validated in chunks against the
schema and the rule packs, on the parsed tree exactly as whole-message validation reads it,
and never bound to objects, so memory stays flat whatever the number of transactions. The
report has the findings of whole-message validation (same rule ids, paths and lines), except
that statement balances (``iso.stmt.*``) are not checked, which an ``info`` finding says.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from paymsg.codec.api import is_json
from paymsg.codec.stream import reader as codec_stream
from paymsg.codec.xml.safe import Limits
from paymsg.errors import PaymsgError
from paymsg.validation.config import ValidationConfig
from paymsg.validation.findings import Report

#: called while streaming with (bytes read so far, total bytes)
Progress = Callable[[int, int], None]

#: how often (in transactions) ``progress`` is called
PROGRESS_EVERY = 256


def input_size(data: bytes | str | os.PathLike[str]) -> int | None:
    """The size in bytes of message input given as bytes, text or a path (None when a
    path cannot be read: whole-message validation reports that)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return len(data)
    if isinstance(data, str) and data.lstrip("\ufeff \t\r\n")[:1] in ("<", "{"):
        return len(data.encode("utf-8"))
    try:
        return Path(data).stat().st_size
    except OSError:
        return None


def validate_streamed(
    data: bytes | str | os.PathLike[str],
    *,
    profile_name: str,
    config: ValidationConfig,
    limits: Limits,
    type: str | None = None,
    progress: Progress | None = None,
) -> Report | None:
    """The report of validating ``data`` as a stream, or ``None`` when it does not stream
    (a type without a streaming layout, a Document that starts after the first 64 KiB,
    paymsg JSON, or input that cannot even be opened): the caller validates it whole.

    An error met while streaming (malformed XML, a depth limit, a second Document) is the
    report's one ``safety`` finding, as when validating the whole message.
    """
    from paymsg.validation.engine import safety_finding

    total = input_size(data) or 0
    source: bytes | str | Path
    if isinstance(data, bytes | bytearray | memoryview):
        source = bytes(data)
    elif isinstance(data, str) and data.lstrip("\ufeff \t\r\n")[:1] in ("<", "{"):
        source = data.encode("utf-8")
    else:
        source = Path(data)
    name = str(source) if isinstance(source, Path) else None
    if _is_json_start(source):
        return None
    try:
        stream = codec_stream.iter_transactions(
            source,
            type,
            validate=True,
            profile=profile_name,
            config=config,
            bind=False,
            limits=limits,
        )
    except PaymsgError:
        return None  # not streamable (or not readable): whole validation says why
    try:
        for count, _ in enumerate(stream, 1):
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(stream.bytes_read, total)
    except PaymsgError as exc:
        # whole-message validation stops at the first safety problem, with only that
        return Report(source=name, profile=profile_name, findings=[safety_finding(exc)])
    if progress is not None:
        progress(total, total)
    report: Report = stream.report
    report.source = name
    return report


def _is_json_start(source: bytes | Path) -> bool:
    if isinstance(source, Path):
        try:
            with source.open("rb") as file:
                head = file.read(4096)
        except OSError:
            return False
    else:
        head = source[:4096]
    return is_json(head)


__all__ = ["PROGRESS_EVERY", "Progress", "input_size", "validate_streamed"]
