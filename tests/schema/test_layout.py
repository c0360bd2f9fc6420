"""Per-type layouts are catalogue data, and every path in them is one the schema defines
and the example messages use."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest
from lxml import etree

import paymsg
from paymsg.codec.xml.safe import find, findall
from paymsg.schema import Layout, catalog, layout_of, streamable_layouts
from paymsg.schema.catalog import _load
from tests.conftest import EXAMPLES

WITH_LAYOUT = [t for t in catalog() if t.layout != Layout()]


def _child_type(cls: type, name: str) -> type | None:
    """The generated class of element ``name`` under ``cls`` (None: a simple value)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.metadata.get("name", f.name) != name or f.metadata.get("type") == "Attribute":
            continue
        kind = hints[f.name]
        while typing.get_origin(kind) is not None:  # list[X], X | None
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        return kind if dataclasses.is_dataclass(kind) else None
    raise AssertionError(f"{cls.__name__} has no element {name}")


def _resolve(mtype: paymsg.MessageType, path: str) -> None:
    """Fails unless ``path`` (from the message element) names elements of the model."""
    cls: type | None = _child_type(mtype.root_class, mtype.element)
    for step in path.split("/"):
        assert cls is not None, f"{mtype.id}: {path} goes below a simple value"
        cls = _child_type(cls, step)


def _paths(layout: Layout) -> list[str]:
    found = [
        p for p in (layout.header, layout.transaction, layout.count, layout.sum, layout.total) if p
    ]
    found += [f"{layout.transaction}/{a}" for a in layout.amount]
    if layout.block is not None:
        found.append(layout.block.path)
        found += [f"{layout.block.path}/{p}" for p in (layout.block.count, layout.block.sum) if p]
    for candidates in layout.parties.model_dump().values():
        found += candidates
    return found


@pytest.mark.parametrize("mtype", WITH_LAYOUT, ids=[t.id for t in WITH_LAYOUT])
def test_every_layout_path_is_in_the_schema(mtype: paymsg.MessageType) -> None:
    layout = mtype.layout
    assert layout.transaction or not layout.totalled
    for path in _paths(layout):
        _resolve(mtype, path)
    if layout.block is not None:
        assert layout.transaction and layout.transaction.startswith(layout.block.path + "/")


def _bodies(type_id: str) -> list[etree._Element]:
    """The message elements of the example messages of ``type_id`` (CNAPS2 text included)."""
    mtype = catalog().get(type_id)
    out = []
    for path in sorted((EXAMPLES / "cnaps2" / type_id).glob("*.xml")) + sorted(
        (EXAMPLES / "iso20022" / type_id).glob("*.xml")
    ):
        root = etree.parse(str(path)).getroot()
        for document in root.iter(f"{{{mtype.namespace}}}Document"):
            out.append(document[0])
    return out


@pytest.mark.parametrize("mtype", WITH_LAYOUT, ids=[t.id for t in WITH_LAYOUT])
def test_the_examples_have_what_the_layout_says(mtype: paymsg.MessageType) -> None:
    bodies = _bodies(mtype.id)
    if not bodies:
        pytest.skip(f"no XML example of {mtype.id}")
    layout = mtype.layout
    for body in bodies:
        assert find(body, layout.header or "") is not None
        if layout.transaction and not layout.may_be_empty:
            assert findall(body, layout.transaction)
    # the parties a CNAPS2 header is filled from are found in at least one example
    for field in ("instructing", "instructed", "instructing_agent", "instructed_agent"):
        candidates = getattr(layout.parties, field)
        if candidates:
            assert any(find(body, p) is not None for body in bodies for p in candidates), field


def test_the_streamable_types() -> None:
    assert sorted(streamable_layouts()) == [
        "beps.121.001.01",
        "beps.122.001.01",
        "camt.052.001.08",
        "camt.053.001.02",
        "camt.053.001.08",
        "pacs.008.001.02",
        "pacs.008.001.08",
        "pacs.009.001.02",
        "pacs.009.001.08",
    ]
    assert layout_of("beps.121.001.01").header_child == {"count": "NbOfTxs", "sum": "CtrlSum"}
    assert layout_of("camt.053.001.08").transaction_name == "Ntry"


def test_a_type_without_a_layout_has_the_empty_one() -> None:
    layout = layout_of("head.001.001.02")
    assert layout == Layout() and not layout.totalled and not layout.streamable
    with pytest.raises(paymsg.UnknownMessageTypeError):
        layout_of("pacs.999.001.01")


def test_layouts_are_immutable() -> None:
    layout = layout_of("pacs.008.001.08")
    with pytest.raises(ValueError):
        layout.count = "GrpHdr/Other"  # type: ignore[misc]


def test_a_misspelt_layout_field_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.toml"
    bad.write_text(
        '[[message]]\nid = "x.001.001.01"\nstandard = "iso20022"\nfamily = "pacs"\n'
        'namespace = "urn:x"\nroot = "Document"\nschema = "x.xsd"\nmodule = "x"\n'
        'name_en = "x"\nname_zh = "x"\n[message.layout]\ntransactoin = "Tx"\n',
        encoding="utf-8",
    )
    with pytest.raises(paymsg.ConfigError, match=r"x\.001\.001\.01") as caught:
        _load(bad)
    assert "transactoin" in str(caught.value)


def test_the_catalogue_listing_does_not_show_layouts() -> None:
    row = catalog().get("pacs.008.001.08").model_dump(mode="json")
    assert "layout" not in row and row["id"] == "pacs.008.001.08"
