"""One regression test per problem found in the code review (named after the problem)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import paymsg
from benchmarks.messages import beps121
from tests.conftest import EXAMPLES, peak_rss_kib

ROOT = Path(__file__).resolve().parent.parent
PACS008 = EXAMPLES / "iso20022/pacs.008.001.08/cips-cny-batch.xml"
HVPS_TEXT = EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt"


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    """The installed entry point (main()), as a user runs it."""
    code = "from paymsg.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, cwd=ROOT
    )


def test_bad_date_is_a_located_binding_error_not_a_value_error(tmp_path: Path) -> None:
    text = PACS008.read_bytes().replace(b"<CreDtTm>2026", b"<CreDtTm>yesterday-2026", 1)
    with pytest.raises(paymsg.BindingError) as info:
        paymsg.parse(text)
    assert info.value.line is not None and "CreDtTm" in (info.value.path or "")
    bad = tmp_path / "bad.xml"
    bad.write_bytes(text)
    done = cli("convert", bad, "--to", "json")
    assert done.returncode == 2 and "Traceback" not in done.stderr and "bad.xml" in done.stderr


def test_element_hidden_inside_a_simple_value_is_refused() -> None:
    text = PACS008.read_bytes().replace(b"<MsgId>", b"<MsgId><Hidden>x</Hidden>", 1)
    with pytest.raises(paymsg.BindingError):
        paymsg.parse(text)


def test_comment_inside_a_value_does_not_cut_it() -> None:
    text = PACS008.read_bytes()
    start = text.index(b"<MsgId>") + len(b"<MsgId>")
    end = text.index(b"</MsgId>", start)
    value = text[start:end]
    split = text[:start] + value[:4] + b"<!-- c -->" + value[4:] + text[end:]
    msg_id = paymsg.parse(split).document.fito_ficstmr_cdt_trf.grp_hdr.msg_id
    assert msg_id == value.decode()


def test_wrapper_with_two_documents_is_refused() -> None:
    document = PACS008.read_bytes().split(b"?>", 1)[1]
    with pytest.raises(paymsg.EnvelopeError, match="more than one Document"):
        paymsg.parse(b"<Envelope>" + document + document + b"</Envelope>")


def test_forged_slot_in_the_input_is_refused() -> None:
    document = PACS008.read_bytes().split(b"?>", 1)[1]
    forged = (
        b'<Envelope><slot xmlns="urn:paymsg:slot" name="Document"/>' + document + b"</Envelope>"
    )
    with pytest.raises(paymsg.EnvelopeError, match="slot"):
        paymsg.parse(forged)


def test_json_wrapper_without_a_slot_is_refused() -> None:
    data = json.loads(
        paymsg.to_json(paymsg.parse(EXAMPLES / "iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml"))
    )
    data["envelope"]["wrapper"] = '<Envelope xmlns="urn:swift:xsd:envelope"/>'
    with pytest.raises(paymsg.EnvelopeError, match="exactly one"):
        paymsg.from_json(json.dumps(data))


@pytest.mark.parametrize(
    "change",
    [
        lambda env: env.update(wrapper=42),
        lambda env: env.update(header_type=["x"]),
    ],
)
def test_json_envelope_members_are_type_checked(change) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(
        paymsg.to_json(paymsg.parse(EXAMPLES / "iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml"))
    )
    change(data["envelope"])
    with pytest.raises(paymsg.InputError):
        paymsg.from_json(json.dumps(data))


def test_cnaps_json_envelope_members_are_type_checked() -> None:
    data = json.loads(paymsg.to_json(paymsg.parse(HVPS_TEXT)))
    for key, value in (("signature", 5), ("raw", 5), ("raw", "签名")):
        broken = json.loads(json.dumps(data))
        broken["envelope"][key] = value
        with pytest.raises(paymsg.InputError):
            paymsg.from_json(json.dumps(broken))


def test_deeply_nested_json_is_an_input_error() -> None:
    deep = '{"type": "pacs.008.001.08", "document": ' + "[" * 200_000 + "]" * 200_000 + "}"
    with pytest.raises(paymsg.InputError, match="deeply"):
        paymsg.from_json(deep)


def test_bom_before_a_cnaps_header_survives_json() -> None:
    text = b"\xef\xbb\xbf" + HVPS_TEXT.read_bytes()
    message = paymsg.parse(text)
    assert paymsg.serialize(paymsg.from_json(paymsg.to_json(message))) == text


def test_leading_junk_is_skipped_quickly() -> None:
    text = b" " * 5_000_000 + HVPS_TEXT.read_bytes()
    started = time.perf_counter()
    assert paymsg.detect(text).type == "hvps.111.001.01"
    assert time.perf_counter() - started < 1.0


def test_oversized_signature_block_is_refused() -> None:
    header = HVPS_TEXT.read_bytes().split(b"\r\n", 1)
    text = header[0] + b"\r\n{S:" + b"A" * 100_000 + b"}\r\n" + header[1]
    with pytest.raises(paymsg.EnvelopeError, match="signature block"):
        paymsg.parse(text)


def test_unescaped_ampersand_is_malformed_not_unsafe() -> None:
    text = PACS008.read_bytes().replace(b"<Nm>", b"<Nm>AT&T ", 1)
    with pytest.raises(paymsg.MalformedXMLError):
        paymsg.parse(text)


def test_validate_with_a_type_whose_body_differs_is_a_finding() -> None:
    report = paymsg.validate(PACS008, type="hvps.111.001.01")
    assert [f.rule for f in report.findings] == ["safety.unknown-type"]
    assert "pacs.008.001.08" in report.findings[0].message


def test_streaming_keeps_the_cnaps_header_rules() -> None:
    text = (EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.txt").read_bytes()
    wrong = text.replace(b"{H:02102100099996", b"{H:02999999999999", 1)
    stream = paymsg.iter_transactions(wrong, validate=True)
    list(stream)
    assert "cnaps2.header.participants" in {f.rule for f in stream.report.findings}


def test_a_bad_transaction_in_a_stream_is_a_binding_error() -> None:
    data = beps121(20).replace(b"<TxId>2024031500000007</TxId>", b"<TxId>x</TxId><Bogus/>", 1)
    with pytest.raises(paymsg.BindingError):
        list(paymsg.iter_transactions(data))


def test_streaming_memory_is_flat_in_resident_memory(tmp_path: Path) -> None:
    """Peak RSS of a 500- and a 10,000-detail stream (about 0.6 MB and 12 MB of XML)."""
    code = "import sys; from paymsg import iter_transactions\nfor _ in iter_transactions(sys.argv[1]): pass"
    peaks = []
    for details in (500, 10_000):
        path = tmp_path / f"b{details}.xml"
        path.write_bytes(beps121(details))
        peaks.append(peak_rss_kib(code, str(path)))
    assert peaks[1] - peaks[0] < 8 * 1024  # KiB: the parsed tree must not be kept


def test_unwritable_output_is_one_line_exit_2() -> None:
    done = cli("convert", PACS008, "--to", "json", "-o", "/nonexistent/dir/x.json")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "No such file" in done.stderr


def test_bad_option_value_is_one_line_exit_2() -> None:
    done = cli("convert", HVPS_TEXT, "--to", "hvps.111.001.01", "--sender", "bad sender")
    assert done.returncode == 2 and "Traceback" not in done.stderr
