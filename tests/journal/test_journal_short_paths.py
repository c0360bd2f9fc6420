"""The journal's short path for ccms.990 gives exactly the columns of the full path.

Every example (CNAPS2 and ISO) is read both ways; so are generated 990s (every header id
mode, with and without MsgRefId, odd spacing) and 990s that must leave the short path
(comments, entities, values out of their length, trailing text, a signature block).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paymsg.codec.envelope.cnaps2 import split_envelope
from paymsg.journal.extract import extract, read_confirmation
from paymsg.transport.session import build_confirmation
from tests.conftest import EXAMPLES

TEXTS = sorted(
    path
    for path in EXAMPLES.rglob("*")
    if path.suffix in (".xml", ".txt") and path.is_file() and "keys" not in path.parts
)


def both_ways(text: bytes) -> tuple[dict[str, object], dict[str, object]]:
    return vars(extract(text)), vars(extract(text, short=False))


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_every_example_reads_the_same_both_ways(path) -> None:  # type: ignore[no-untyped-def]
    short, full = both_ways(path.read_bytes())
    assert short == full


def test_the_example_990s_take_the_short_path() -> None:
    texts = [p for p in TEXTS if "ccms.990" in str(p) and p.suffix == ".txt"]
    assert texts
    for path in texts:
        text = path.read_bytes()
        found = read_confirmation(text)
        assert found is not None, path
        assert vars(found) == vars(extract(text, short=False))
        assert found.orig_mesg_id and found.prc_cd and found.read_error is None


def _answer(code: str, header_ids: str) -> bytes:
    original = (EXAMPLES / "cnaps2/hvps.111.001.01").glob("*.txt")
    header = split_envelope(next(iter(sorted(original))).read_bytes())[0].header
    return build_confirmation(
        header,
        code,
        participant="0000",
        header_ids=header_ids,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("header_ids", ["echo", "new"])
@pytest.mark.parametrize("code", ["PM1I0000", "PM1E0002", "X"])
def test_built_990s_take_the_short_path(code: str, header_ids: str) -> None:
    text = _answer(code, header_ids)
    found = read_confirmation(text)
    assert found is not None
    assert vars(found) == vars(extract(text, short=False))
    assert found.prc_cd == code


@settings(max_examples=60, deadline=None)
@given(
    sender=st.from_regex(r"[0-9A-Za-z]{1,16}", fullmatch=True),
    mesg_id=st.from_regex(r"[0-9A-Za-z]{1,22}", fullmatch=True),
    ref=st.one_of(st.none(), st.from_regex(r"[0-9A-Za-z]{1,22}", fullmatch=True)),
    code=st.from_regex(r"[0-9A-Za-z]{1,10}", fullmatch=True),
    space=st.sampled_from(["", "\n", "  ", "\r\n\t"]),
)
def test_generated_990_bodies_read_the_same_both_ways(
    sender: str, mesg_id: str, ref: str | None, code: str, space: str
) -> None:
    """Values within and beyond their schema lengths: the short path takes only what the
    full path reads without error, and gives the same columns."""
    text = _answer("PM1I0000", "echo")
    offset = split_envelope(text)[1]
    ref_element = "" if ref is None else f"<MsgRefId>{ref}</MsgRefId>{space}"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'{space}<Document xmlns="urn:cnaps:std:ccms:2010:tech:xsd:ccms.990.001.02">{space}'
        f"<ComConf>{space}<ConfInf>{space}<OrigSndr>{sender}</OrigSndr>{space}"
        f"<OrigSndDt>20240315</OrigSndDt>{space}<MT>hvps.111.001.01</MT>{space}"
        f"<MsgId>{mesg_id}</MsgId>{space}{ref_element}<MsgPrcCd>{code}</MsgPrcCd>{space}"
        f"</ConfInf>{space}</ComConf>{space}</Document>{space}"
    )
    variant = text[:offset] + body.encode()
    short, full = both_ways(variant)
    assert short == full
    if read_confirmation(variant) is not None:
        assert full["read_error"] is None


@pytest.mark.parametrize(
    "change",
    [
        (b"<MsgPrcCd>", b"<!-- c --><MsgPrcCd>"),
        (b"<MT>hvps.111.001.01</MT>", b"<MT>hvps&#46;111.001.01</MT>"),
        (b"<MsgId>", b"<MsgId>1234567890123456789012345"),
        (b"</Document>", b"</Document>trailing"),
        (b"</Document>", b"</Document><Document/>"),
        (b"<ComConf>", b'<ComConf xmlns:x="urn:x">'),
        (b"<MsgPrcCd>PM1I0000</MsgPrcCd>", b""),
        (b"ccms.990.001.02", b"ccms.990.001.01"),
    ],
)
def test_unusual_990s_leave_the_short_path(change: tuple[bytes, bytes]) -> None:
    old, new = change
    text = _answer("PM1I0000", "echo")
    assert old in text
    variant = text.replace(old, new)
    assert read_confirmation(variant) is None
    short, full = both_ways(variant)
    assert short == full


def test_columns_read_by_the_caller_are_used_only_for_their_own_text(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from paymsg.errors import JournalError
    from paymsg.journal import Journal

    journal = Journal(f"sqlite:///{tmp_path / 'j.db'}")
    first, second = _answer("PM1I0000", "new"), _answer("PM1E0002", "new")
    with pytest.raises(JournalError, match="not read from this text"):
        journal.record_inbound(first, queue="IN", read=extract(second))
    given, _ = journal.record_inbound(first, queue="IN", read=extract(first))
    read_here, _ = journal.record_inbound(second, queue="IN")
    assert (given.orig_mesg_id, given.prc_cd) == (read_here.orig_mesg_id, "PM1I0000")
    assert read_here.prc_cd == "PM1E0002"
