"""Serialized bytes of every example: both binding engines write the same bytes, CNAPS2
text relays byte for byte, and JSON round-trips to the same bytes.

(The byte-for-byte comparison of every example against the code before the issue 11
reorganisation was run during that change; these properties are what keeps it true.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

import paymsg
from paymsg.codec.xml import fast
from tests.conftest import example_files, ids

XML = example_files("**/*.xml")
TEXT = example_files("cnaps2/**/*.txt")


def _generic_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def unsupported(*args: object, **kwargs: object) -> None:
        raise fast.Unsupported("the generic binder is under test")

    monkeypatch.setattr(fast, "decode", unsupported)
    monkeypatch.setattr(fast, "write", unsupported)


@pytest.mark.parametrize("path", XML + TEXT, ids=ids(XML + TEXT))
def test_both_engines_serialize_every_example_to_the_same_bytes(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = path.read_bytes()
    message = paymsg.parse(raw)
    xml = paymsg.serialize(message)
    text = paymsg.to_json(message)
    assert paymsg.serialize(paymsg.from_json(text)) == xml
    _generic_only(monkeypatch)
    generic = paymsg.parse(raw)
    assert generic == message
    assert paymsg.serialize(generic) == xml
    assert paymsg.to_json(generic) == text


@pytest.mark.parametrize("path", TEXT, ids=ids(TEXT))
def test_cnaps2_text_relays_byte_for_byte(path: Path) -> None:
    raw = path.read_bytes()
    assert paymsg.serialize(paymsg.parse(raw)) == raw
