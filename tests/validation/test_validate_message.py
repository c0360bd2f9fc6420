"""``validate(Message)`` checks what the message was read from: it does not serialize the
document again (so its findings carry the input's own lines), and a message built in code
(or whose ``received`` was cleared after an edit) is serialized as before."""

from __future__ import annotations

from pathlib import Path

import pytest

import paymsg
from paymsg.validation import engine
from tests.conftest import EXAMPLES

CASES = [
    EXAMPLES / "iso20022/pacs.008.001.08/cips-cny-batch.xml",
    EXAMPLES / "iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml",
    EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt",
    EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.xml",
]


def _rows(report: paymsg.Report) -> list[tuple[object, ...]]:
    return [(f.rule, f.severity, f.path, f.line, f.value, f.message) for f in report.findings]


def _refuse(*_: object) -> bytes:
    raise AssertionError("validate(Message) serialized the document")


@pytest.mark.parametrize("path", CASES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_a_parsed_message_is_validated_from_what_was_read(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = path.read_bytes()
    # a mistake on a later line: the finding's line is the input's own
    bad = raw.replace(b"<NbOfTxs>", b"<NbOfTxs>9", 1)
    source = tmp_path / path.name
    source.write_bytes(bad)
    message = paymsg.parse(source)
    assert message.received is not None
    expected = paymsg.validate(source)
    monkeypatch.setattr(engine, "serialize", _refuse)
    got = paymsg.validate(message)
    assert _rows(got) == _rows(expected)
    assert any(f.line and "NbOfTxs" in (f.path or "") for f in got.findings)


def test_a_message_without_its_input_is_serialized() -> None:
    message = paymsg.parse(CASES[0])
    message.received = None  # e.g. the document was edited after parsing
    called: list[bool] = []
    original = engine.serialize

    def spy(msg: paymsg.Message) -> bytes:
        called.append(True)
        return original(msg)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "serialize", spy)
        assert paymsg.validate(message).ok
    assert called == [True]
