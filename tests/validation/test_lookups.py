"""The rule lookups: child-step paths like ElementPath's, the typed walk's shortcuts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from lxml import etree

import paymsg
from paymsg.codec.api import open_cnaps2
from paymsg.codec.envelope.bah import split_parts
from paymsg.codec.xml import safe as xmlsafe
from paymsg.codec.xml.safe import DEFAULT_LIMITS, parse_xml
from paymsg.schema.catalog import catalog
from paymsg.validation import registry
from paymsg.validation.config import ValidationConfig
from paymsg.validation.rules.iso20022 import typed_index, typed_walk
from tests.conftest import EXAMPLES

NS = "urn:example"
TREE = etree.fromstring(
    f"""<R xmlns="{NS}">
      <A><C>no b here</C></A>
      <A><B>first</B><B>second</B></A>
      <A><B>third</B></A>
      <X><B>not under A</B></X>
    </R>""".encode()
)


def _texts(elements: list[etree._Element]) -> list[str | None]:
    return [e.text for e in elements]


@pytest.mark.parametrize("path", ["A", "A/B", "A/C", "X/B", "A/Missing", "Missing/B", "B"])
def test_find_and_findall_agree_with_elementpath(path: str) -> None:
    expected = TREE.findall("/".join(f"{{{NS}}}{step}" for step in path.split("/")))
    assert xmlsafe.findall(TREE, path) == expected
    assert xmlsafe.find(TREE, path) is (expected[0] if expected else None)


def test_find_searches_later_branches() -> None:
    # the first A has no B: the match is in the second A, as ElementPath finds it
    assert xmlsafe.text(TREE, "A/B") == "first"
    assert _texts(xmlsafe.findall(TREE, "A/B")) == ["first", "second", "third"]


def test_lookups_stay_in_the_namespace_of_their_start() -> None:
    mixed = etree.fromstring(b'<R xmlns="urn:a"><B xmlns="urn:b">other</B><B>own</B></R>')
    assert xmlsafe.text(mixed, "B") == "own"
    plain = etree.fromstring(b"<R><B>plain</B></R>")
    assert xmlsafe.text(plain, "B") == "plain"
    assert xmlsafe.find(None, "B") is None and xmlsafe.findall(None, "B") == []


@pytest.mark.parametrize("path", ["", "A//B", "../A", "A/*", "A[1]", "A/"])
def test_only_child_steps_are_accepted(path: str) -> None:
    with pytest.raises(ValueError, match="child steps"):
        xmlsafe.find(TREE, path)


def test_context_lookups_are_cached_per_validation_and_kept_apart() -> None:
    mtype = catalog().get("pacs.008.001.08")
    ctx = registry.RuleContext(type=mtype, document=TREE, config=ValidationConfig())
    first = ctx.find(TREE, "A")
    assert ctx.find(TREE, "A") is first
    # find and findall of the same path are different answers
    assert isinstance(ctx.findall(TREE, "A"), list) and len(ctx.findall(TREE, "A")) == 3
    assert ctx.find(TREE, "A") is first
    assert ctx.text(TREE, "A/B") == "first"


def _parts(path: Path) -> list[tuple[etree._Element, str]]:
    raw = path.read_bytes()
    if paymsg.cnaps2.looks_like_cnaps2(raw):
        opened = open_cnaps2(raw, DEFAULT_LIMITS, str(path))
        return [(opened.root, opened.mtype.schema_path)]
    parts = split_parts(parse_xml(raw))
    found = [(parts.document, parts.document_type.schema_path)]
    if parts.header is not None and parts.header_type is not None:
        found.append((parts.header, parts.header_type.schema_path))
    return found


EXAMPLE_FILES = sorted(
    p for p in EXAMPLES.rglob("*") if p.suffix in (".xml", ".txt") and "keys" not in p.parts
)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_typed_walk_shortcuts_give_the_types_of_the_full_resolution(path: Path) -> None:
    """The walk takes an element's type from its name (or its parent's name) where the
    schema allows only one; resolving every element through its ancestors must agree."""
    for root, schema_path in _parts(path):
        index = typed_index(str(schema_path))
        assert index is not None
        # naming the root as opaque content forces the ancestor-by-ancestor resolution
        full = dataclasses.replace(index, opaque_tags=(root.tag,))
        assert typed_walk(root, index) == typed_walk(root, full)


def test_a_comment_before_the_message_element_does_not_hide_it() -> None:
    batch = (EXAMPLES / "iso20022/pacs.008.001.08/cips-cny-batch.xml").read_bytes()
    bad = batch.replace(b"<NbOfTxs>", b"<NbOfTxs>9", 1)
    commented = bad.replace(b"<FIToFICstmrCdtTrf>", b"<!-- routed --><FIToFICstmrCdtTrf>", 1)
    rules = [f.rule for f in paymsg.validate(commented).findings]
    assert rules == [f.rule for f in paymsg.validate(bad).findings] == ["iso.grphdr.nb-of-txs"]


def _split_by_comments(raw: bytes) -> bytes:
    """``raw`` with every element's text split in two by a comment (``1<!--…-->0``), and a
    comment and a processing instruction before every element's first child."""
    root = etree.fromstring(raw)
    for element in list(root.iter(etree.Element)):
        text = element.text
        if len(element) == 0 and text and len(text) > 1:
            element.text = text[:1]
            element.append(etree.Comment(" split "))
            element[-1].tail = text[1:]
        elif len(element):
            element.insert(0, etree.ProcessingInstruction("hub", "seen"))
            element.insert(0, etree.Comment(" added "))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize(
    "path",
    [p for p in EXAMPLE_FILES if p.suffix == ".xml"],
    ids=lambda p: str(p.relative_to(EXAMPLES)),
)
def test_comments_and_instructions_change_no_finding(path: Path) -> None:
    """Comments and processing instructions are not data: the schema ignores them, and so
    must the rules, also where one splits a value in two."""
    raw = path.read_bytes()
    broken = raw.replace(b"<NbOfTxs>", b"<NbOfTxs>9", 1)  # a rule finding where there is one

    def keys(data: bytes) -> list[tuple[str, str | None]]:
        return sorted((f.rule, f.path) for f in paymsg.validate(data).findings)

    assert keys(_split_by_comments(raw)) == keys(raw)
    assert keys(_split_by_comments(broken)) == keys(broken)
