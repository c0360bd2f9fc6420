"""One ``detect`` and one ``unwrap`` (issue 11): every reader takes a message apart the
same way, and a parsed message keeps what was read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import paymsg
from paymsg.codec.detect import find_document, unwrap, unwrap_head
from paymsg.codec.envelope.cnaps2 import Cnaps2Envelope
from paymsg.errors import BindingError, UnknownMessageTypeError
from tests.conftest import ROOT, example_files, ids

EXAMPLES = example_files("**/*.xml") + example_files("cnaps2/**/*.txt")


@pytest.mark.parametrize("path", EXAMPLES, ids=ids(EXAMPLES))
def test_unwrap_names_every_example_as_detect_does(path: Path) -> None:
    raw = path.read_bytes()
    opened = unwrap(raw, source=str(path))
    assert opened.detection == paymsg.detect(raw)
    assert opened.type.id == paymsg.detect(path).type
    message = paymsg.parse(raw)
    assert message.received is not None
    assert message.received.raw is raw
    assert message.received.detection == opened.detection
    assert message.received.body == opened.body
    assert message.received.line_offset == opened.line_offset


def test_unwrap_takes_cnaps2_text_apart() -> None:
    path = ROOT / "examples/cnaps2/hvps.111.001.01/customer-transfer-urgent.signed.txt"
    raw = path.read_bytes()
    opened = unwrap(raw)
    assert isinstance(opened.envelope, Cnaps2Envelope)
    assert opened.envelope.raw + opened.body == raw
    assert opened.line_offset == opened.envelope.raw.count(b"\n") > 0
    assert opened.type.id == "hvps.111.001.01"
    assert opened.detection.method == "header"
    message = paymsg.parse(raw)
    assert message.received is not None and message.received.body == message.original


def test_unwrap_finds_the_parts_inside_a_wrapper(pacs008_with_bah: Path) -> None:
    opened = unwrap(pacs008_with_bah.read_bytes())
    assert opened.envelope is None
    assert opened.header is not None and opened.header_type is not None
    assert opened.header_type.id == "head.001.001.02"
    assert opened.wrapper is not None and "urn:paymsg:slot" in opened.wrapper
    assert opened.detection.wrapper == "{urn:swift:xsd:envelope}Envelope"


def test_unwrap_refuses_a_forced_type_the_body_is_not() -> None:
    path = ROOT / "examples/cnaps2/hvps.111.001.01/customer-transfer-urgent.txt"
    raw = path.read_bytes()
    with pytest.raises(BindingError) as caught:
        unwrap(raw, type_id="camt.053.001.08", source="in.txt")
    assert caught.value.source == "in.txt"
    # the line counts from the top of the text, envelope included
    assert caught.value.line == raw.count(b"\n", 0, raw.index(b"<Document")) + 1


def test_the_streamers_head_agrees_with_unwrap() -> None:
    path = ROOT / "examples/cnaps2/beps.121.001.01/customer-credit-package.txt"
    raw = path.read_bytes()
    head = unwrap_head(raw[:65536], source=None)
    whole = unwrap(raw)
    assert head.envelope == whole.envelope
    assert head.skipped == len(raw) - len(whole.body)
    assert head.line_offset == whole.line_offset
    assert head.found is not None and head.found.namespace == whole.type.namespace


def test_find_document_waits_for_a_document_beyond_an_incomplete_head() -> None:
    head = b"<Wrapper><Other>" + b"x" * 100
    assert find_document(head, None, complete=False) is None
    with pytest.raises(paymsg.MalformedXMLError):
        find_document(head, None, complete=True)


def test_unwrap_says_when_no_catalogued_part_is_there() -> None:
    with pytest.raises(UnknownMessageTypeError):
        unwrap(b"<Nothing xmlns='urn:x'><Here/></Nothing>")


def test_received_does_not_change_equality_or_repr(pacs008_with_bah: Path) -> None:
    parsed = paymsg.parse(pacs008_with_bah)
    built = paymsg.Message(parsed.type, parsed.document, parsed.envelope)
    assert built.received is None and parsed.received is not None
    assert parsed == built
    assert repr(parsed) == repr(built)


def _codec_imports() -> dict[str, set[str]]:
    """Module → the paymsg.codec modules it imports (anywhere in it), and every private
    name a codec module imports from another module."""
    codec = ROOT / "paymsg" / "codec"
    modules = {}
    for file in codec.rglob("*.py"):
        name = ".".join(file.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = file
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, file in modules.items():
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    assert not (alias.name.startswith("_") and not alias.name.startswith("__")), (
                        f"{name} imports the private {node.module}.{alias.name}"
                    )
                    full = f"{node.module}.{alias.name}"
                    target = full if full in modules else node.module
                    if target in modules and target != name:
                        graph[name].add(target)
    return graph


def test_codec_has_no_import_cycle_and_imports_no_private_name() -> None:
    graph = _codec_imports()

    def reachable(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for target in graph[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    cycles = sorted(name for name in graph if name in reachable(name))
    assert cycles == []
    assert "paymsg.codec.detect" in graph["paymsg.codec.api"]
    assert "paymsg.codec.detect" in graph["paymsg.codec.stream.reader"]
    assert "paymsg.codec.detect" in graph["paymsg.codec.stream.writer"]
