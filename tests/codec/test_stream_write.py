"""Streaming conversion writes the bytes of the in-memory conversion, without the message.

The oracle is the in-memory path as the CLI runs it: ``paymsg.parse`` then
``to_json(...).encode() + b"\\n"`` or ``serialize``. Every streamable example, generated
large packages and statements, and hypothesis-varied documents (values, comments,
envelopes) must give identical bytes; inputs the stream cannot reproduce, and broken
inputs, must end up with the in-memory output or the in-memory error.
"""

from __future__ import annotations

import copy
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import paymsg
from benchmarks.messages import beps121, camt053
from paymsg.codec.api import convert_file
from paymsg.codec.envelope import cnaps2
from paymsg.codec.stream import writer as sw
from paymsg.codec.stream.writer import STREAMABLE, NotStreamable, stream_convert
from paymsg.codec.xml.binding import document_xml
from paymsg.codec.xml.safe import Limits
from paymsg.errors import BindingError, MalformedXMLError, PaymsgError, UnsafeXMLError
from paymsg.schema.catalog import catalog
from tests.conftest import EXAMPLES, ROOT, example_files, ids

FORMATS = ("json", "xml")
BEPS121_TEXT = EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.txt"
SWIFT_ENVELOPE = EXAMPLES / "iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml"
WITH_ANY = EXAMPLES / "iso20022/pacs.008.001.08/eur-t2-supplementary-data.xml"


def in_memory(path: Path, fmt: str) -> bytes:
    """What ``paymsg convert PATH --to json|xml`` writes today."""
    message = paymsg.parse(path)
    return paymsg.to_json(message).encode() + b"\n" if fmt == "json" else paymsg.serialize(message)


def in_memory_error(path: Path, fmt: str) -> PaymsgError:
    with pytest.raises(PaymsgError) as caught:
        in_memory(path, fmt)
    return caught.value


def streamed(path: Path, fmt: str) -> bytes:
    out = io.BytesIO()
    done = stream_convert(path, fmt, out)  # type: ignore[arg-type]
    assert done.streamed and done.parts > 0
    return out.getvalue()


def assert_streams_as_in_memory(path: Path, data: bytes) -> None:
    """``data``, written to ``path``, streams to the in-memory bytes in both formats."""
    path.write_bytes(data)
    for fmt in FORMATS:
        assert streamed(path, fmt) == in_memory(path, fmt)


def converted(path: Path, fmt: str, **options: object) -> tuple[bytes, sw.Converted]:
    out = io.BytesIO()
    done = convert_file(path, fmt, out, **options)  # type: ignore[arg-type]
    return out.getvalue(), done


def _streamable(path: Path) -> bool:
    try:
        return paymsg.detect(path).type in STREAMABLE
    except PaymsgError:
        return False


EXAMPLE_FILES = [
    p for p in example_files("*/*/*.xml") + example_files("cnaps2/*/*.txt") if _streamable(p)
]
#: content under xs:any is written by xsdata's serializer for the whole document: in memory
XML_WHOLE = {
    "iso20022/pacs.008.001.08/eur-t2-supplementary-data.xml",
    "iso20022/pacs.009.001.08/chaps-gbp-businessmessage.xml",
}


def test_the_examples_cover_every_kind_of_input() -> None:
    names = ids(EXAMPLE_FILES)
    assert sum(n.endswith(".signed.txt") for n in names) >= 3  # CNAPS2 text with {S:}
    assert sum(n.endswith(".txt") and "signed" not in n for n in names) >= 5  # {H:} only
    assert sum(n.startswith("cnaps2/") and n.endswith(".xml") for n in names) >= 5  # bodies
    wrapped = [p for p in EXAMPLE_FILES if paymsg.detect(p).wrapper]
    assert len(wrapped) >= 4  # SWIFT Envelope, BusinessMessage, FedNow, prefixed parts
    assert {paymsg.detect(p).type for p in EXAMPLE_FILES} == STREAMABLE
    assert set(names) >= XML_WHOLE


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=ids(EXAMPLE_FILES))
def test_examples_stream_to_the_in_memory_bytes(path: Path, fmt: str) -> None:
    want = in_memory(path, fmt)
    if fmt == "xml" and str(path.relative_to(EXAMPLES)) in XML_WHOLE:
        with pytest.raises(NotStreamable, match="xsdata's serializer"):
            stream_convert(path, "xml", io.BytesIO())
        data, done = converted(path, fmt)
        assert not done.streamed and data == want
        return
    assert streamed(path, fmt) == want


CNAPS2_TEXT = [p for p in EXAMPLE_FILES if p.suffix == ".txt"]


@pytest.mark.parametrize("path", CNAPS2_TEXT, ids=ids(CNAPS2_TEXT))
def test_cnaps2_text_to_xml_is_relayed_unchanged(path: Path) -> None:
    assert streamed(path, "xml") == path.read_bytes()


def test_xs_any_content_streams_to_json_with_xsdata_as_in_memory() -> None:
    out = io.BytesIO()
    done = stream_convert(WITH_ANY, "json", out)
    assert done.streamed and done.engine == "xsdata"
    assert out.getvalue() == in_memory(WITH_ANY, "json")
    assert b"#any" in out.getvalue()


# --------------------------------------------------------------------------- generated


def _package_text(body: bytes) -> bytes:
    """CNAPS2 text: the envelope of a bundled beps.121 message around ``body``."""
    raw = BEPS121_TEXT.read_bytes()
    _, offset = cnaps2.split_envelope(raw)
    return raw[:offset] + body


def _in_envelope(document: bytes, comment: bool = True) -> bytes:
    """``document`` in a SWIFT Envelope after the bundled AppHdr, with wrapper content
    (a comment, a trailing element) that must survive."""
    wrapper = etree.parse(str(SWIFT_ENVELOPE)).getroot()
    old = wrapper.find("{*}Document")
    assert old is not None
    new = etree.fromstring(document)
    new.tail = old.tail
    wrapper.replace(old, new)
    if comment:
        wrapper.insert(0, etree.Comment(" routed by the gateway "))
    trailer = etree.SubElement(wrapper, "{urn:example:gateway}Trace", seq="7")
    trailer.text = "gw-1"
    return etree.tostring(wrapper, xml_declaration=True, encoding="UTF-8")


def _several_statements(entries: int) -> bytes:
    """camt.053 with three statements; the second has content after its entries."""
    root = etree.fromstring(camt053(entries))
    statement = root.find(".//{*}Stmt")
    assert statement is not None
    second = copy.deepcopy(statement)
    extra = etree.SubElement(second, statement.tag.replace("Stmt", "AddtlStmtInf"))
    extra.text = "after the entries"
    parent = statement.getparent()
    assert parent is not None
    parent.insert(parent.index(statement) + 1, second)
    parent.insert(parent.index(second) + 1, copy.deepcopy(statement))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _pacs008(transactions: int, supplementary: bool = False) -> bytes:
    """A pacs.008.001.08 batch; optionally message-level SplmtryData with xs:any content."""
    path = EXAMPLES / "iso20022/pacs.008.001.08/cips-cny-batch.xml"
    root = etree.parse(str(path)).getroot()
    message = root[0]
    template = message.find("{*}CdtTrfTxInf")
    assert template is not None
    for old in message.findall("{*}CdtTrfTxInf"):
        message.remove(old)
    for index in range(transactions):
        tx = copy.deepcopy(template)
        tx_id = tx.find("{*}PmtId/{*}TxId")
        assert tx_id is not None
        tx_id.text = f"TX{index:010d}"
        message.append(tx)
    if supplementary:
        ns = etree.QName(message).namespace
        data = etree.SubElement(message, f"{{{ns}}}SplmtryData")
        etree.SubElement(data, f"{{{ns}}}PlcAndNm").text = "/Document/FIToFICstmrCdtTrf"
        envelope = etree.SubElement(data, f"{{{ns}}}Envlp")
        note = etree.SubElement(envelope, "{urn:example:batch}Batch", ref="B-1")
        note.text = "end of day"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


GENERATED = {
    "beps121-1500": lambda: beps121(1_500),
    "beps121-1200-cnaps2-text": lambda: _package_text(beps121(1_200)),
    "beps121-800-in-envelope": lambda: _in_envelope(beps121(800)),
    "camt053-700": lambda: camt053(700),
    "camt053-400-in-envelope": lambda: _in_envelope(camt053(400)),
    "camt053-three-statements": lambda: _several_statements(150),
    "pacs008-600": lambda: _pacs008(600),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_large_messages(name: str, fmt: str, tmp_path: Path) -> None:
    path = tmp_path / (name + ".txt")
    path.write_bytes(GENERATED[name]())
    assert streamed(path, fmt) == in_memory(path, fmt)


def test_every_statement_and_what_follows_the_entries_survive(tmp_path: Path) -> None:
    path = tmp_path / "camt.xml"
    path.write_bytes(_several_statements(20))
    text = streamed(path, "json").decode()
    assert text.count('"Ntry": [') == 3
    assert '"AddtlStmtInf": "after the entries"' in text
    assert streamed(path, "xml").count(b"<Stmt>") == 3


def test_message_level_supplementary_data(tmp_path: Path) -> None:
    path = tmp_path / "pacs008.xml"
    path.write_bytes(_pacs008(300, supplementary=True))
    out = io.BytesIO()
    done = stream_convert(path, "json", out)
    assert done.streamed and done.engine == "xsdata" and done.parts == 302
    assert out.getvalue() == in_memory(path, "json")
    assert b"end of day" in out.getvalue()
    with pytest.raises(NotStreamable, match="SplmtryData"):
        stream_convert(path, "xml", io.BytesIO())
    data, done = converted(path, "xml")
    assert not done.streamed and data == in_memory(path, "xml")


def test_progress_reports_the_bytes_read(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(beps121(2_000))
    seen: list[int] = []
    stream_convert(path, "json", io.BytesIO(), progress=seen.append)
    assert len(seen) > 3 and seen == sorted(seen)
    assert seen[-1] == path.stat().st_size


# --------------------------------------------------------------------------- hypothesis

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from(["\t", "\n", "\r", " ", "&", "<", ">", '"', "'", "]", "\u3000"]),
    min_size=0,
    max_size=16,
)


@st.composite
def packages(draw: st.DrawFn) -> bytes:
    """A beps.121 package with varied values, comments and processing instructions,
    bare, as CNAPS2 text or inside an ISO wrapper."""
    details = draw(st.integers(min_value=1, max_value=25))
    root = etree.fromstring(beps121(details))
    message = root[0]
    for index, tx in enumerate(message.findall("{*}CstmrCdtTrfInf")):
        name = tx.find("{*}Cdtr/{*}Nm")
        assert name is not None
        name.text = draw(TEXT)
        if draw(st.booleans()):  # a comment inside the value: still one value
            cut = draw(st.integers(min_value=0, max_value=len(name.text)))
            text = name.text
            name.text = text[:cut]
            comment = etree.Comment(" split ")
            comment.tail = text[cut:]
            name.append(comment)
        if draw(st.booleans()):
            tx.addprevious(etree.Comment(f" detail {index} "))
        if draw(st.booleans()):
            tx.addprevious(etree.ProcessingInstruction("audit", f"n={index}"))
    amount = message.find("{*}CstmrCdtTrfInf/{*}Amt")
    assert amount is not None
    amount.text = str(draw(st.decimals(min_value=0, max_value=10**9, places=2)))
    if draw(st.booleans()):
        etree.indent(root, space=draw(st.sampled_from(["", " ", "\t", "    "])))
    body = etree.tostring(root, encoding="UTF-8")
    kind = draw(st.sampled_from(["bare", "cnaps2", "wrapped"]))
    if kind == "cnaps2":
        return _package_text(body)
    if kind == "wrapped":
        return _in_envelope(body, comment=draw(st.booleans()))
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=packages())
def test_varied_packages_stream_to_the_in_memory_bytes(
    data: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert_streams_as_in_memory(tmp_path_factory.mktemp("varied") / "package.txt", data)


# --------------------------------------------------------------------------- fallbacks

PACKAGE = (EXAMPLES / "cnaps2/beps.121.001.01/forwarded-by-npc.xml").read_bytes()
NPC = PACKAGE[PACKAGE.index(b"<NPCPrcInf>") : PACKAGE.index(b"</NPCPrcInf>") + 12]

NOT_STREAMED = {
    "out of schema order": PACKAGE.replace(NPC, b"").replace(
        b"</CstmrCdtTrf>", NPC + b"</CstmrCdtTrf>"
    ),
    "unknown element": PACKAGE.replace(b"<NPCPrcInf>", b"<Extra/><NPCPrcInf>"),
    "foreign element": PACKAGE.replace(b"<NPCPrcInf>", b'<x:Extra xmlns:x="urn:x"/><NPCPrcInf>'),
    "text in a container": PACKAGE.replace(b"<NPCPrcInf>", b"stray<NPCPrcInf>"),
    "two group headers": PACKAGE.replace(
        b"<NPCPrcInf>",
        PACKAGE[PACKAGE.index(b"<PKGGrpHdr>") : PACKAGE.index(b"</PKGGrpHdr>") + 12]
        + b"<NPCPrcInf>",
    ),
    "no group header": PACKAGE.replace(
        PACKAGE[PACKAGE.index(b"<PKGGrpHdr>") : PACKAGE.index(b"</PKGGrpHdr>") + 12], b""
    ),
    "bad amount": re.sub(
        rb"<Amt Ccy=\"CNY\">[0-9.]+</Amt>", b'<Amt Ccy="CNY">12x.00</Amt>', PACKAGE, count=1
    ),
    "bad date in a detail": PACKAGE.replace(
        b"<NetgDt>2024-03-15</NetgDt>", b"<NetgDt>2024-02-31</NetgDt>"
    ),
    "truncated": PACKAGE[: len(PACKAGE) * 2 // 3],
    "doctype": PACKAGE.replace(b"<Document", b'<!DOCTYPE Document [<!ENTITY e "x">]><Document', 1),
    "deeper than the limit": WITH_ANY.read_bytes().replace(
        b"<inv:Network>PEPPOL</inv:Network>",
        b"<inv:Network>PEPPOL</inv:Network>" + b"<inv:a>" * 70 + b"</inv:a>" * 70,
    ),
    "two documents in a wrapper": SWIFT_ENVELOPE.read_bytes().replace(
        b"</Envelope>",
        re.search(rb"<Document.*</Document>", SWIFT_ENVELOPE.read_bytes(), re.S).group(0)  # type: ignore[union-attr]
        + b"</Envelope>",
    ),
    "CNAPS2 NaN amount": _package_text(PACKAGE.replace(b">24799.99<", b">NaN<")),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", sorted(NOT_STREAMED))
def test_what_does_not_stream_ends_as_in_memory(case: str, fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes(NOT_STREAMED[case])
    with pytest.raises(NotStreamable):
        stream_convert(path, fmt, io.BytesIO())  # type: ignore[arg-type]
    try:
        want: bytes | PaymsgError = in_memory(path, fmt)
    except PaymsgError as exc:
        want = exc
    if isinstance(want, bytes):
        data, done = converted(path, fmt)
        assert not done.streamed and data == want
        return
    with pytest.raises(PaymsgError) as caught:
        converted(path, fmt)
    got = caught.value
    assert (type(got), str(got), got.line, got.path) == (
        type(want),
        str(want),
        want.line,
        want.path,
    )


def test_a_bad_amount_is_reported_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_bytes(NOT_STREAMED["bad amount"])
    with pytest.raises(BindingError) as caught:
        converted(path, "json")
    assert caught.value.source == str(path) and caught.value.line is not None
    assert caught.value.path and caught.value.path.endswith("/Amt")


def test_errors_in_cnaps2_text_count_lines_from_the_top(tmp_path: Path) -> None:
    path = tmp_path / "truncated.txt"
    path.write_bytes(_package_text(PACKAGE[: len(PACKAGE) // 2]))
    with pytest.raises(NotStreamable) as streaming:
        stream_convert(path, "json", io.BytesIO())
    want = in_memory_error(path, "json")
    assert isinstance(want, MalformedXMLError)
    assert streaming.value.error is not None and streaming.value.error.line == want.line


def test_over_the_in_memory_limit_the_stream_reports_its_own_errors(tmp_path: Path) -> None:
    small = Limits(max_bytes=2_000)  # the files below are larger: memory would refuse them
    good = tmp_path / "good.xml"
    good.write_bytes(PACKAGE)
    data, done = converted(good, "json", limits=small)
    assert done.streamed and data == in_memory(good, "json")
    bad = tmp_path / "bad.xml"
    bad.write_bytes(NOT_STREAMED["bad amount"])
    with pytest.raises(BindingError) as caught:
        converted(bad, "json", limits=small)
    line = NOT_STREAMED["bad amount"][: NOT_STREAMED["bad amount"].index(b"12x.00")].count(b"\n")
    assert caught.value.source == str(bad) and caught.value.line == line + 1
    assert caught.value.path == "/Document/CstmrCdtTrf/CstmrCdtTrfInf[1]/Amt"
    assert "12x.00" in str(caught.value) and "\n" not in str(caught.value)
    truncated = tmp_path / "truncated.xml"
    truncated.write_bytes(NOT_STREAMED["truncated"])
    with pytest.raises(MalformedXMLError) as syntax:
        converted(truncated, "json", limits=small)
    assert syntax.value.line is not None
    whole = tmp_path / "any.xml"  # not streamable as XML: memory refuses it, as today
    whole.write_bytes(WITH_ANY.read_bytes())
    with pytest.raises(UnsafeXMLError, match="over the limit"):
        converted(whole, "xml", limits=Limits(max_bytes=1_000))


def test_a_wrapped_document_over_the_wrapper_size_limit_is_refused_as_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serialize`` re-parses the Document of a wrapper under the size limit; streaming
    counts the Document's bytes exactly and falls back at the same size."""
    path = tmp_path / "wrapped.xml"
    path.write_bytes(_in_envelope(beps121(30)))
    message = paymsg.parse(path)
    size = len(document_xml(message.document, catalog().get(message.type)))
    monkeypatch.setattr(sw, "DEFAULT_LIMITS", Limits(max_bytes=size))
    assert streamed(path, "xml") == in_memory(path, "xml")
    monkeypatch.setattr(sw, "DEFAULT_LIMITS", Limits(max_bytes=size - 1))
    with pytest.raises(NotStreamable, match="fill_wrapper"):
        stream_convert(path, "xml", io.BytesIO(), limits=Limits())


def test_json_input_and_other_types_are_converted_whole(tmp_path: Path) -> None:
    path = tmp_path / "message.json"
    path.write_bytes(in_memory(BEPS121_TEXT, "json"))
    data, done = converted(path, "xml")
    assert not done.streamed and data == BEPS121_TEXT.read_bytes()
    other = EXAMPLES / "iso20022/camt.056.001.08/cny-cips-cust-bare.xml"
    data, done = converted(other, "json")
    assert not done.streamed and data == in_memory(other, "json")
    hvps = EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt"
    data, done = converted(hvps, "xml")
    assert not done.streamed and data == hvps.read_bytes()


def test_a_forced_type_is_honoured(tmp_path: Path) -> None:
    body = EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.xml"
    data, done = converted(body, "json", type_id="beps.121.001.01")
    assert done.streamed and data == in_memory(body, "json")
    with pytest.raises(PaymsgError) as caught:
        converted(body, "json", type_id="beps.122.001.01")
    with pytest.raises(PaymsgError) as memory:
        paymsg.parse(body, type="beps.122.001.01")
    assert type(caught.value) is type(memory.value) and str(caught.value) == str(memory.value)


# --------------------------------------------------------------------------- memory

_PROBE = """
import io, sys
from pathlib import Path

def hwm():
    # VmHWM belongs to this process image (ru_maxrss would carry the forking parent's)
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

import paymsg
from paymsg.codec.stream.writer import stream_convert
small = Path(sys.argv[3])
stream_convert(small, "json", io.BytesIO())  # imports, plans and caches: the baseline
paymsg.to_json(paymsg.parse(small))
before = hwm()
path = Path(sys.argv[2])
with open(sys.argv[4], "wb+") as out:
    if sys.argv[1] == "stream":
        stream_convert(path, "json", out)
    else:
        out.write(paymsg.to_json(paymsg.parse(path)).encode() + b"\\n")
print(hwm() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_memory_stays_flat_while_streaming(tmp_path: Path) -> None:
    big = tmp_path / "beps121-20000.xml"
    big.write_bytes(beps121(20_000))
    small = EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.xml"

    def growth(kind: str) -> int:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, kind, str(big), str(small), str(tmp_path / kind)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return int(done.stdout.strip())  # KiB

    streamed_kib, whole_kib = growth("stream"), growth("whole")
    assert (tmp_path / "stream").read_bytes() == (tmp_path / "whole").read_bytes()
    assert streamed_kib < 32 * 1024, f"streaming grew by {streamed_kib} KiB"
    assert streamed_kib * 8 < whole_kib, (streamed_kib, whole_kib)


@st.composite
def statements(draw: st.DrawFn) -> bytes:
    """camt.053 with one to three statements of varied entries, bare or wrapped."""
    root = etree.fromstring(camt053(1))
    statement = root.find(".//{*}Stmt")
    assert statement is not None
    entry = statement.find("{*}Ntry")
    assert entry is not None
    statement.remove(entry)
    parent = statement.getparent()
    assert parent is not None
    at = parent.index(statement)
    parent.remove(statement)
    for number in range(draw(st.integers(min_value=1, max_value=3))):
        copied = copy.deepcopy(statement)
        summary = copied.find("{*}TxsSummry")
        after = copied.index(summary) + 1 if summary is not None else len(copied)
        for index in range(draw(st.integers(min_value=0, max_value=6))):
            item = copy.deepcopy(entry)
            reference = item.find("{*}NtryRef")
            if reference is not None:
                reference.text = draw(TEXT) or f"E{number}-{index}"
            copied.insert(after + index, item)
        if draw(st.booleans()):
            extra = etree.SubElement(copied, statement.tag.replace("Stmt", "AddtlStmtInf"))
            extra.text = draw(TEXT)
        parent.insert(at + number, copied)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return _in_envelope(body) if draw(st.booleans()) else body


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=statements())
def test_varied_statements_stream_to_the_in_memory_bytes(
    data: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert_streams_as_in_memory(tmp_path_factory.mktemp("statements") / "camt.xml", data)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(cut=st.integers(min_value=0, max_value=len(PACKAGE)), text=st.booleans())
def test_a_cut_input_converts_or_fails_exactly_as_in_memory(
    cut: int, text: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("cut") / "package.txt"
    path.write_bytes(_package_text(PACKAGE[:cut]) if text else PACKAGE[:cut])
    for fmt in FORMATS:
        try:
            want: bytes | PaymsgError = in_memory(path, fmt)
        except PaymsgError as exc:
            want = exc
        if isinstance(want, bytes):
            assert converted(path, fmt)[0] == want
            continue
        with pytest.raises(PaymsgError) as caught:
            converted(path, fmt)
        assert (type(caught.value), str(caught.value)) == (type(want), str(want))
