"""The centre reads each inbound message once: ``paymsg.parse(raw, inspect=…)`` hands the
tree to :func:`validate_unwrapped` before binding it. The message and the report must be
exactly those of ``paymsg.parse(raw)`` and ``paymsg.validate(raw)`` — for every CNAPS2
example, and for variants with findings of each layer, comments inside values and an
unreadable body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import paymsg
from paymsg.codec.detect import Unwrapped
from paymsg.errors import PaymsgError
from paymsg.validation.engine import validate_unwrapped

from .conftest import EXAMPLES

HVPS111 = (EXAMPLES / "hvps.111.001.01" / "customer-transfer-urgent.txt").read_bytes()


def _variants() -> dict[str, bytes]:
    texts = {
        str(p.relative_to(EXAMPLES)): p.read_bytes()
        for p in sorted(EXAMPLES.glob("*/*.txt"))
        if p.read_bytes().startswith(b"{H:")
    }
    texts["hvps111 rule findings"] = HVPS111.replace(b"<NbOfTxs>1<", b"<NbOfTxs>2<", 1)
    texts["hvps111 xsd findings"] = HVPS111.replace(b">CLRG<", b">NOPE-TOO-LONG<", 1)
    texts["hvps111 comment in a value"] = HVPS111.replace(
        b"<NbOfTxs>1<", b"<NbOfTxs><!-- c -->1<?pi x?><", 1
    )
    texts["hvps111 unreadable body"] = HVPS111.replace(b"</Document>", b"</Documen>", 1)
    return texts


VARIANTS = _variants()


def _rows(report: paymsg.Report) -> list[Any]:
    return [report.type, report.profile, report.source] + [f.model_dump() for f in report.findings]


@pytest.mark.parametrize("name", sorted(VARIANTS))
@pytest.mark.parametrize("profile", [None, "default"])
def test_one_read_gives_the_message_and_report_of_two(name: str, profile: str | None) -> None:
    raw = VARIANTS[name]
    reports: list[paymsg.Report] = []

    def check(text: bytes, opened: Unwrapped) -> None:
        reports.append(validate_unwrapped(text, opened, profile_name=profile))

    try:
        expected = paymsg.parse(raw)
    except PaymsgError as exc:
        with pytest.raises(PaymsgError) as raised:
            paymsg.parse(raw, inspect=check)
        assert str(raised.value) == str(exc)
        return
    message = paymsg.parse(raw, inspect=check)
    assert message == expected
    assert paymsg.serialize(message) == paymsg.serialize(expected)
    assert len(reports) == 1
    assert _rows(reports[0]) == _rows(paymsg.validate(raw, profile_name=profile))


def test_the_variants_have_findings_of_each_layer() -> None:
    layers = {
        f.layer
        for name in ("hvps111 rule findings", "hvps111 xsd findings")
        for f in paymsg.validate(VARIANTS[name]).findings
    }
    assert {"rule", "xsd"} <= layers
    assert not paymsg.validate(VARIANTS["hvps111 comment in a value"]).findings
    assert len(VARIANTS) > 30


def test_text_the_whole_reader_does_not_take_is_validated_by_it(tmp_path: Path) -> None:
    """Above the streaming threshold the report is the streamed one."""
    reports: list[paymsg.Report] = []
    config = paymsg.ValidationConfig(stream_from_bytes=10)

    def check(text: bytes, opened: Unwrapped) -> None:
        reports.append(validate_unwrapped(text, opened, config=config))

    paymsg.parse(HVPS111, inspect=check)
    assert _rows(reports[0]) == _rows(paymsg.validate(HVPS111, config=config))
