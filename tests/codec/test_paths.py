"""Layout paths read on typed documents (``paymsg.codec.paths``) find what the same paths
find in the XML, and ``wrap`` fills the CNAPS2 header from the type's layout."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree

import paymsg
from paymsg.codec import paths
from paymsg.codec.envelope.bah import split_parts
from paymsg.codec.xml.safe import findall
from paymsg.schema.catalog import catalog
from paymsg.schema.layout import CLEARING_MEMBER
from tests.conftest import example_files, ids

EXAMPLES = example_files("**/*.xml")


def _layout_paths(type_id: str) -> list[str]:
    layout = catalog().get(type_id).layout
    found = [p for p in (layout.header, layout.transaction, layout.count, layout.sum) if p]
    for candidates in layout.parties.model_dump().values():
        found.extend(candidates)
    found.extend(f"{agent}/{CLEARING_MEMBER}" for agent in layout.parties.instructing_agent)
    return found


@pytest.mark.parametrize("path", EXAMPLES, ids=ids(EXAMPLES))
def test_paths_on_the_model_find_what_they_find_in_the_xml(path: Path) -> None:
    message = paymsg.parse(path)
    document = split_parts(etree.parse(str(path)).getroot()).document
    body_xml = document[0]
    body = paths.message_element(message.document)
    for layout_path in _layout_paths(message.type):
        in_xml = findall(body_xml, layout_path)
        on_model = list(paths.values_at(body, layout_path))
        assert len(on_model) == len(in_xml), layout_path
        model_texts = [paths.text_of(v) for v in on_model]
        if on_model and None not in model_texts:  # text and codes: the same values
            assert model_texts == [e.text for e in in_xml], layout_path


def test_a_path_the_model_does_not_have_finds_nothing() -> None:
    message = paymsg.parse(EXAMPLES[0])
    body = paths.message_element(message.document)
    assert list(paths.values_at(body, "NoSuchElement/Below")) == []
    assert paths.first_text(body, ["NoSuchElement", "AlsoMissing"]) is None


CNAPS2 = [p for p in EXAMPLES if p.parts[-3] == "cnaps2"]


@pytest.mark.parametrize("path", CNAPS2, ids=ids(CNAPS2))
def test_wrap_fills_the_header_from_the_layout(path: Path) -> None:
    message = paymsg.parse(path)
    parties = catalog().get(message.type).layout.parties
    if not (parties.instructing or parties.instructing_agent):
        with pytest.raises(paymsg.EnvelopeError, match="cannot fill the header sender"):
            paymsg.cnaps2.wrap(message)
        return
    wrapped = paymsg.cnaps2.wrap(message, now=datetime(2024, 3, 15, 9, 8, 7))
    header = wrapped.envelope.header  # type: ignore[union-attr]
    body_xml = etree.parse(str(path)).getroot()[0]

    def first(candidates: tuple[str, ...], agents: tuple[str, ...]) -> str:
        steps = [*candidates, *(f"{a}/{CLEARING_MEMBER}" for a in agents)]
        return next(e.text for s in steps for e in findall(body_xml, s) if e.text)

    assert header.orig_sender == first(parties.instructing, parties.instructing_agent)
    assert header.orig_receiver == first(parties.instructed, parties.instructed_agent)
    if parties.system_code:
        assert header.orig_sender_sid == first(parties.system_code, ())
