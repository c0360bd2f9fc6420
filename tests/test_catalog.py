from __future__ import annotations

import dataclasses

import pytest

import paymsg
from paymsg.codec.xml.binding import compiled_schema
from paymsg.schema.catalog import catalog

ROWS = list(catalog())


def test_catalog_lists_the_unified_profile() -> None:
    ids = {t.id for t in ROWS}
    for required in (
        "head.001.001.02",
        "pacs.008.001.08",
        "pacs.009.001.08",
        "pacs.002.001.10",
        "pacs.004.001.09",
        "camt.053.001.08",
    ):
        assert required in ids


@pytest.mark.parametrize("row", ROWS, ids=[t.id for t in ROWS])
def test_every_row_has_a_schema_and_a_model(row: paymsg.MessageType) -> None:
    assert row.schema_path.is_file()
    compiled_schema(str(row.schema_path))  # compiles
    cls = row.root_class
    assert dataclasses.is_dataclass(cls)
    assert cls.Meta.namespace == row.namespace  # type: ignore[attr-defined]
    if row.element:
        names = {f.metadata.get("name") for f in dataclasses.fields(cls)}
        assert row.element in names


def test_unknown_type_is_a_clear_error() -> None:
    with pytest.raises(paymsg.UnknownMessageTypeError, match=r"pacs\.999"):
        catalog().get("pacs.999.001.01")


def test_iso_namespace_wins_without_a_header() -> None:
    ns = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.02"
    assert catalog().by_namespace(ns).id == "pacs.008.001.02"
