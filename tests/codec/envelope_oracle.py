"""The CNAPS2 envelope reader's results on a fixed corpus, recorded once from the code on
``main`` before the header decode got its fast path (``6fe4270``), in
``tests/codec/data/envelope_oracle.json``; ``test_envelope_oracle.py`` checks that the
reader gives exactly these results (values, error messages, offsets, fields, hints).

The corpus is every text under ``examples/`` and a deterministic set of mutated headers:
each field too short, too long, padded wrongly, with a space, a brace, a control, a
non-ASCII or a multi-byte character, bad dates, times, versions, system codes, an ISO
MesgType, other priorities and directions; the header cut at every length; other line
breaks, a BOM, leading white space, signature blocks good and bad, no body.

Regenerate (only from code whose results are known to be right):
``.venv/bin/python -m tests.codec.envelope_oracle``
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from paymsg.codec.envelope.cnaps2 import (
    FIELDS,
    HEADER_LENGTH,
    Cnaps2Header,
    read_envelope,
    split_envelope,
)

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
ORACLE = Path(__file__).resolve().parent / "data" / "envelope_oracle.json"

#: the real headers the mutations start from (reference cnaps2.md §3.3): an HVPS payment,
#: an NPC-forwarded BEPS package (padded MesgRefID, reserve "XN"), an NPC notice
BASES = (
    "{H:02313684093748  HVPS403100000004  HVPS20191219154615XMLhvps.111.001.01     "
    "00000000000003329480201912190000240845771U       X }",
    "{H:02103100000026  BEPS313684093748  BEPS20210121090735XMLbeps.121.001.01     "
    "BEPE5FB7A35B272764562021012120203150    3DXN       }",
    "{H:020000          HVPS313684093748  HVPS20191219173343XMLccms.801.001.02     "
    "HVPD5DD96B7F19269652HVPD5DD96B7F192696523D         }",
)
BODY = b'<?xml version="1.0" encoding="UTF-8"?><Document/>'
SIGNATURE = b"{S:MEUCIQDa1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVwXyZ0123456789AiBcDeFgHiJkLmNoPqRsTuVw==}"

#: replacement values by field name, besides the generic ones of _generic
_SPECIFIC: dict[str, tuple[str, ...]] = {
    "begin_flag": ("{h:", "{H;", "(H:", "{S:"),
    "version_id": ("01", "03", "2 ", " 2", "00", "0２"),
    "orig_sender": ("0000", "A" * 14, "a1B2c3", "313684093748 1", "31368409374.  "),
    "orig_receiver": ("0000", "Z" * 14, "403100000004_ "),
    "orig_sender_sid": ("SAPS", "BEPS", "CCMS", "PMTS", "MIVS", "hvps", "XXXX", "HVP ", " HVP"),
    "orig_receiver_sid": ("IBPS", "NETS", "PBCS", "Hvps", "HVPX"),
    "orig_send_date": (
        "20240229",
        "20230229",
        "20240230",
        "20241301",
        "20240001",
        "20240100",
        "00000101",
        "99991231",
        "2024031a",
        "2024 315",
        "２0240315",
    ),
    "orig_send_time": ("000000", "235959", "240000", "126000", "125960", "12 000", "1200ab", "99"),
    "struct_type": ("xml", "XMX", "JSN"),
    "mesg_type": (
        "pacs.008.001.02     ",
        "pacs.008.001.08     ",
        "head.001.001.01     ",
        "ccms.990.001.02     ",
        "beps.121.001.01     ",
        "unknown.type        ",
        "x" * 20,
        " hvps.111.001.01    ",
        "hvps.111 001.01     ",
        "hvps.111.001.01\t    ",
        "hvps.111.001.01|~   ",
    ),
    "mesg_id": ("1                   ", "!" * 20, "ABC\x7fDEF             ", "中文标识" + " " * 8),
    "mesg_ref_id": ("z" * 20, "a b" + " " * 17, "\x00" * 20),
    "mesg_priority": ("0", "1", "2", "3", "4", "a", " "),
    "mesg_direction": ("U", "D", "u", "d", "X", " "),
    "reserve": (
        "XN       ",
        "       X ",
        "ABCDEFGHI",
        "{        ",
        "        }",
        "\t        ",
        "\xe4        ",
        "        \x7f",
    ),
    "end_flag": (")", "]", " ", "}}"),
}


def _generic(value: str) -> Iterator[str]:
    """Replacements for any field's value (``value`` as in the header, padding included)."""
    yield ""
    yield value[:-1]
    yield value + "X"
    yield value + " "
    yield " " * len(value)
    yield " " + value[:-1]
    yield value[:-1] + " "
    for odd in ("\x01", "\t", "\r", "\n", "{", "}", "\x7f", "\xe4", "~", "|", "<"):
        yield value[:-1] + odd
        yield odd + value[1:]
    if len(value) > 2:
        yield value[0] + " " + value[2:]
    yield value.lower()
    yield value.upper()
    yield value[:-1] + "中"  # one character, three bytes in UTF-8


def _header_variants() -> Iterator[tuple[str, bytes]]:
    """Headers with one field changed, as UTF-8 bytes."""
    for number, base in enumerate(BASES):
        for spec in FIELDS:
            value = base[spec.offset : spec.end]
            replacements = dict.fromkeys([*_generic(value), *_SPECIFIC.get(spec.name, ())])
            for index, new in enumerate(replacements):
                text = base[: spec.offset] + new + base[spec.end :]
                yield f"base{number}/{spec.name}/{index}", text.encode("utf-8")
            if spec.name in ("orig_sender", "orig_receiver", "mesg_type", "mesg_id", "mesg_ref_id"):
                for width in range(1, spec.length + 1):  # every value length, left-justified
                    filled = ("9" * width).ljust(spec.length)
                    if spec.name == "mesg_type":
                        filled = ("hvps.111.001.01" + "0" * 5)[:width].ljust(spec.length)
                    text = base[: spec.offset] + filled + base[spec.end :]
                    yield f"base{number}/{spec.name}/width{width}", text.encode("ascii")
                for width in range(1, spec.length):  # right-justified
                    text = base[: spec.offset] + ("7" * width).rjust(spec.length) + base[spec.end :]
                    yield f"base{number}/{spec.name}/right{width}", text.encode("ascii")


def _framings(name: str, header: bytes) -> Iterator[tuple[str, bytes]]:
    """A header in a text: what follows it (line breaks, a signature, the body) and what
    comes before it (a BOM, white space)."""
    yield f"{name}|crlf", header + b"\r\n" + BODY
    yield f"{name}|lf", header + b"\n" + BODY
    yield f"{name}|none", header + BODY
    yield f"{name}|crcrlf", header + b"\r\r\n" + BODY
    yield f"{name}|space", header + b" \r\n" + BODY
    yield f"{name}|tab-lf", header + b"\t\n" + BODY
    yield f"{name}|bom", b"\xef\xbb\xbf" + header + b"\r\n" + BODY
    yield f"{name}|lead", b" \r\n\t" + header + b"\r\n" + BODY
    yield f"{name}|body-bom", header + b"\r\n\xef\xbb\xbf" + BODY
    yield f"{name}|signed", header + b"\r\n" + SIGNATURE + b"\r\n" + BODY
    yield f"{name}|signed-lf", header + b"\n" + SIGNATURE + b"\n" + BODY
    yield (
        f"{name}|wrapped",
        header + b"\r\n" + SIGNATURE[:40] + b"\r\n" + SIGNATURE[40:] + b"\r\n" + BODY,
    )
    yield f"{name}|sig-bad", header + b"\r\n{S:MEUC*IQ==}\r\n" + BODY
    yield f"{name}|sig-padding", header + b"\r\n{S:MEUCIQ=}\r\n" + BODY
    yield f"{name}|sig-empty", header + b"\r\n{S:}\r\n" + BODY
    yield f"{name}|sig-open", header + b"\r\n{S:MEUCIQ==\r\n" + BODY
    yield f"{name}|sig-unclosed", header + b"\r\n{S:MEUCIQ=="
    yield f"{name}|sig-long", header + b"\r\n{S:" + b"A" * 5000 + b"}\r\n" + BODY
    yield f"{name}|sig-only", header + b"\r\n" + SIGNATURE + b"\r\n"
    yield f"{name}|no-body", header + b"\r\n"
    yield f"{name}|bare", header
    yield f"{name}|junk", header + b"\r\nnot xml"
    yield f"{name}|brace", header + b"}\r\n" + BODY
    yield f"{name}|sig-junk", header + b"\r\n" + SIGNATURE + b"junk"


def corpus() -> Iterator[tuple[str, bytes]]:
    """Every generated input, by a stable name."""
    base = BASES[0].encode("ascii")
    yield from _framings("base0", base)
    yield from _framings("base1", BASES[1].encode("ascii"))
    for name, header in _header_variants():
        yield f"{name}|crlf", header + b"\r\n" + BODY
    for cut in range(HEADER_LENGTH + 1):
        yield from (
            (f"cut{cut}|{how}", base[:cut] + tail)
            for how, tail in (("crlf", b"\r\n" + BODY), ("lf", b"\n" + BODY), ("end", b""))
        )
        yield f"cut{cut}|body", base[:cut] + BODY
        yield f"cut{cut}|brace-body", base[:cut] + b"}" + BODY
    for at in range(0, HEADER_LENGTH + 6, 5):  # a '}', CR or LF inside, or one past the end
        for odd in (b"}", b"\r", b"\n", b"<"):
            yield f"insert{at}{odd!r}", base[:at] + odd + base[at:] + b"\r\n" + BODY
    ibps = b"{H:01313684093748HVPS403100000004HVPS20191219154615XMLhvps.111.001.01     "
    ibps += b"00000000000003329480201912190000240845771U     }"
    yield "ibps", ibps + b"\r\n" + BODY
    yield "long", base[:-1] + b"X" * 40 + b"}\r\n" + BODY
    yield "very-long", base[:-1] + b"X" * 300 + b"}\r\n" + BODY
    yield "no-close", base[:-1] + b"X\r\n" + BODY
    yield "no-close-body", base[:-1] + BODY + b"}"
    for text in (b"", b"   ", b"\xef\xbb\xbf", b"<Document/>", b"{S:abc}", b"{H", b"{H:"):
        yield f"other{text!r}", text


def _result(call: Callable[[], Any]) -> Any:
    try:
        value = call()
    except Exception as exc:
        return {
            "error": type(exc).__name__,
            "message": str(exc),
            "offset": getattr(exc, "offset", None),
            "field": getattr(exc, "field", None),
            "hint": getattr(exc, "hint", None),
        }
    return value


def _header(header: Cnaps2Header) -> dict[str, Any]:
    """The stored values in field order, and which fields count as set (all, normally)."""
    values = header.model_dump()
    assert list(values) == [spec.name for spec in FIELDS]
    found: dict[str, Any] = {"values": list(values.values())}
    if header.model_fields_set != set(values):
        found["set"] = sorted(header.model_fields_set)
    return found


def results(data: bytes) -> dict[str, Any]:
    """What the reader makes of ``data``: split, read as an envelope, its first line
    decoded as a header (as Latin-1 text at offset 7, and as UTF-8 text when it is not
    ASCII)."""

    def split() -> dict[str, Any]:
        envelope, offset = split_envelope(data)
        return {
            **_header(envelope.header),
            "signature": envelope.signature,
            "offset": offset,
            "raw": envelope.raw == data[:offset],
        }

    def whole() -> dict[str, Any]:
        envelope = read_envelope(data)
        return {**_header(envelope.header), "signature": envelope.signature}

    line = data.split(b"\n", 1)[0]
    out = {"split": _result(split), "envelope": _result(whole)}
    out["latin1"] = _result(lambda: _header(Cnaps2Header.decode(line.decode("latin-1"), offset=7)))
    out["utf8"] = (
        None
        if line.isascii()
        else _result(lambda: _header(Cnaps2Header.decode(line.decode("utf-8", "replace"))))
    )
    return out


def example_texts() -> Iterator[tuple[str, bytes]]:
    for path in sorted(EXAMPLES.rglob("*")):
        if path.suffix in (".txt", ".xml") and path.is_file():
            yield f"examples/{path.relative_to(EXAMPLES)}", path.read_bytes()


def inputs() -> Iterator[tuple[str, bytes]]:
    yield from example_texts()
    yield from corpus()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


KINDS = ("split", "envelope", "latin1", "utf8")


def _key(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def record() -> dict[str, Any]:
    """The fixture: the distinct results once, and per input its digest and the index of
    each of its results (most results recur: the same error for many framings)."""
    distinct: dict[str, int] = {}
    by_input: dict[str, list[Any]] = {}
    for name, data in inputs():
        found = results(data)
        row: list[Any] = [digest(data)]
        for kind in KINDS:
            row.append(distinct.setdefault(_key(found[kind]), len(distinct)))
        by_input[name] = row
    return {"results": [json.loads(key) for key in distinct], "inputs": by_input}


def recorded() -> dict[str, Any]:
    """The fixture as committed."""
    return json.loads(ORACLE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


if __name__ == "__main__":
    fixture = record()
    ORACLE.parent.mkdir(exist_ok=True)
    ORACLE.write_text(
        json.dumps(fixture, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
        encoding="utf-8",
    )
    print(f"{len(fixture['inputs'])} inputs, {len(fixture['results'])} distinct results")
