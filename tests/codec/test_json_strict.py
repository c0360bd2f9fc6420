"""JSON input is as strict as XML and CNAPS2 text input (issue 10, items 4 and 7).

Whatever the CNAPS2 text reader refuses, ``from_json`` refuses too, and JSON's own ways of
hiding data (a member given twice, a member nobody reads) are refused with their place.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import paymsg

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HVPS = EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt"
SIGNED = EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.signed.txt"
BAH = EXAMPLES / "iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml"


def _data(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(paymsg.to_json(paymsg.parse(path)))
    return data


def _refused(data: dict[str, Any]) -> paymsg.PaymsgError:
    with pytest.raises(paymsg.PaymsgError) as info:
        paymsg.from_json(json.dumps(data))
    return info.value


def test_json_signature_of_one_megabyte_is_refused_like_the_text_reader_refuses_it() -> None:
    text = SIGNED.read_bytes()
    head, rest = text.split(b"{S:", 1)
    huge = b"A" * (1 << 20)
    with pytest.raises(paymsg.EnvelopeError, match="signature"):
        paymsg.parse(head + b"{S:" + huge + rest[rest.index(b"}") :])
    data = _data(SIGNED)
    data["envelope"]["signature"] = huge.decode()
    error = _refused(data)
    assert isinstance(error, paymsg.EnvelopeError)
    assert error.path == "/envelope/signature" and "4,096" in str(error)


def test_json_header_mesg_type_differing_from_type_is_refused() -> None:
    data = _data(HVPS)
    data["envelope"]["header"]["mesg_type"] = "hvps.112.001.01"
    error = _refused(data)
    assert isinstance(error, paymsg.EnvelopeError)
    assert error.path == "/envelope/header/mesg_type" and error.field == "MesgType"
    assert "hvps.112.001.01" in str(error) and "hvps.111.001.01" in str(error)


def test_json_cnaps2_envelope_around_an_iso_type_is_refused() -> None:
    data = _data(HVPS)
    data["type"] = data["envelope"]["header"]["mesg_type"] = "pacs.008.001.02"
    error = _refused(data)
    # the header's own MesgType rule refuses it first (issue 10 item 8)
    assert error.path == "/envelope/header/mesg_type"
    assert "must name a CNAPS2 type" in str(error)


@pytest.mark.parametrize("kind", ["weird", None, 5, "CNAPS2"])
def test_json_envelope_kind_weird_is_refused(kind: object) -> None:
    data = _data(HVPS)
    data["envelope"]["kind"] = kind
    error = _refused(data)
    assert isinstance(error, paymsg.InputError) and error.path == "/envelope/kind"


def test_json_envelope_without_kind_is_refused() -> None:
    data = _data(BAH)
    del data["envelope"]["kind"]
    assert _refused(data).path == "/envelope/kind"


@pytest.mark.parametrize(
    ("source", "change", "path"),
    [
        (HVPS, lambda d: d.update(comment="x"), "/comment"),
        (HVPS, lambda d: d.update(Type="hvps.111.001.01"), "/Type"),
        (HVPS, lambda d: d["envelope"].update(signatures="QUJD"), "/envelope/signatures"),
        (BAH, lambda d: d["envelope"].update(header="x"), "/envelope/header"),
        (HVPS, lambda d: d["envelope"].update(AppHdr={}), "/envelope/AppHdr"),
    ],
)
def test_json_unknown_top_level_and_envelope_keys_are_refused(
    source: Path, change: Callable[[dict[str, Any]], None], path: str
) -> None:
    data = _data(source)
    change(data)
    error = _refused(data)
    assert isinstance(error, paymsg.InputError)
    assert error.path == path and "unknown member" in str(error)


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ('"type":', '"type": "pacs.008.001.08", "type":', "/type"),
        ('"MsgId":', '"MsgId": "FORGED", "MsgId":', "/document/FIToFICstmrCdtTrf/GrpHdr/MsgId"),
        (
            '"@Ccy":',
            '"@Ccy": "USD", "@Ccy":',
            "/document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt/@Ccy",
        ),
        ('"mesg_id":', '"mesg_id": "X", "mesg_id":', "/envelope/header/mesg_id"),
    ],
)
def test_json_duplicate_keys_are_refused_not_last_one_wins(old: str, new: str, path: str) -> None:
    text = paymsg.to_json(paymsg.parse(HVPS))
    assert old in text
    with pytest.raises(paymsg.InputError) as info:
        paymsg.from_json(text.replace(old, new, 1))
    assert info.value.path == path and "duplicate member" in str(info.value)


def test_json_duplicate_keys_are_refused_by_detect_too() -> None:
    text = paymsg.to_json(paymsg.parse(HVPS)).replace('"type":', '"type": "x", "type":', 1)
    with pytest.raises(paymsg.InputError, match="duplicate member"):
        paymsg.detect(text.encode())


def test_json_raw_that_is_not_an_envelope_is_refused() -> None:
    data = _data(HVPS)
    data["envelope"]["raw"] = "{H:02 not a header}\r\n"
    error = _refused(data)
    assert isinstance(error, paymsg.EnvelopeError) and error.path == "/envelope/raw"


def test_json_raw_of_another_header_is_refused() -> None:
    data = _data(HVPS)
    other = paymsg.parse(HVPS)
    assert isinstance(other.envelope, paymsg.cnaps2.Cnaps2Envelope)
    changed = other.envelope.header.replace(mesg_id="OTHER0001")
    data["envelope"]["raw"] = (changed.encode() + "\n").encode().decode("latin-1")
    error = _refused(data)
    assert error.path == "/envelope/raw" and "not the text" in str(error)


def test_json_of_a_changed_header_still_reads_back() -> None:
    # a header changed after parsing leaves the received text stale: to_json drops it
    message = paymsg.parse(HVPS.read_bytes().replace(b"\r\n", b"\n"))
    assert isinstance(message.envelope, paymsg.cnaps2.Cnaps2Envelope)
    message.envelope.header = message.envelope.header.replace(mesg_id="OTHER0001")
    back = paymsg.from_json(paymsg.to_json(message))
    assert back == message


def test_json_bad_cnaps2_header_is_one_located_line_not_a_pydantic_dump() -> None:
    data = _data(HVPS)
    data["envelope"]["header"]["orig_sender"] = "!!"
    data["envelope"]["header"]["mesg_id"] = ""
    error = _refused(data)
    text = str(error)
    assert "\n" not in text and "pydantic" not in text and "http" not in text
    assert error.path == "/envelope/header/orig_sender" and error.field == "OrigSender"
    assert "(and 1 more problem)" in text


def test_cli_bad_cnaps2_header_inside_json_prints_one_stderr_line(tmp_path: Path) -> None:
    data = _data(HVPS)
    data["envelope"]["header"]["orig_send_date"] = "20241399"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "paymsg.cli", "convert", str(path), "--to", "xml"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "OrigSendDate" in lines[0] and "/envelope/header/orig_send_date" in lines[0]


def test_two_app_hdr_elements_are_refused_when_the_first_is_empty() -> None:
    document = BAH.read_bytes().split(b"?>", 1)[1]
    start, end = document.index(b"<AppHdr"), document.index(b"</AppHdr>") + len(b"</AppHdr>")
    header = document[start:end]
    empty = b'<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02"/>'
    for first, second in ((empty, header), (header, header), (header, empty)):
        doubled = document[:start] + first + second + document[end:]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # lxml's FutureWarning on an element's truth value
            with pytest.raises(paymsg.EnvelopeError, match="more than one AppHdr") as info:
                paymsg.parse(doubled)
        assert info.value.line is not None


@pytest.mark.parametrize(
    "value", ["１２３.００", "١٢٣.٠٠", "1E5", "NaN", "sNaN", "Infinity", "1_000.00", ""]
)
def test_json_amount_outside_the_decimal_lexical_space_is_refused_as_in_xml(value: str) -> None:
    """from_json read amounts through xsdata's converter, which takes full-width digits,
    exponents and NaN that the XML reader refuses (issue 10 items 2 and 4)."""
    message = paymsg.parse(EXAMPLES / "iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml")
    text = paymsg.to_json(message)
    assert '"25000.00"' in text
    with pytest.raises(paymsg.BindingError, match="IntrBkSttlmAmt") as refused:
        paymsg.from_json(text.replace('"25000.00"', json.dumps(value), 1))
    assert "xs:decimal" in str(refused.value)


@pytest.mark.parametrize("value", [" SHAR ", "shar", ""])
def test_json_code_is_matched_exactly_as_in_xml(value: str) -> None:
    message = paymsg.parse(EXAMPLES / "iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml")
    text = paymsg.to_json(message)
    assert '"ChrgBr": "SHAR"' in text
    with pytest.raises(paymsg.BindingError, match="ChrgBr"):
        paymsg.from_json(text.replace('"ChrgBr": "SHAR"', f'"ChrgBr": {json.dumps(value)}', 1))
