"""Layout paths read on bound documents: where a message's parties and totals are, found
in the typed document itself (no conversion to plain data or XML).

A layout (:mod:`paymsg.schema.layout`) names elements by paths of local names relative to
the message element (``GrpHdr/InstgPty/InstgDrctPty``); this module follows such a path
through the generated dataclasses with xsdata's metadata (the names are the XML names,
so a path means the same on the tree and on the model).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from enum import Enum
from typing import Any

from paymsg.codec.xml.context import CONTEXT


@functools.cache
def _field(cls: type, local_name: str) -> str | None:
    """The dataclass field of ``cls`` that holds the child element ``local_name``."""
    for var in CONTEXT.build(cls).get_element_vars():
        if var.local_name == local_name:
            return var.name
    return None


def _children(node: Any, local_name: str) -> Iterator[Any]:
    if not hasattr(node, "__dataclass_fields__"):
        return  # a simple value: no children
    cls: type = type(node)
    name = _field(cls, local_name)
    if name is None:
        return
    value = getattr(node, name)
    if isinstance(value, list):
        yield from (item for item in value if item is not None)
    elif value is not None:
        yield value


def values_at(node: Any, path: str) -> Iterator[Any]:
    """Every value at ``path`` (``/``-separated local names) below ``node``, in document
    order; repeated elements on the way are all followed."""
    level: Iterable[Any] = (node,)
    for step in path.split("/"):
        level = [child for parent in level for child in _children(parent, step)]
    yield from level


def message_element(document: Any) -> Any:
    """The message element of a ``Document`` (its one child, e.g. ``FIToFICstmrCdtTrf``),
    from which layout paths start; the document itself when it has none."""
    for var in CONTEXT.build(type(document)).get_element_vars():
        value = getattr(document, var.name)
        if value is not None:
            return value
    return document


def text_of(value: Any) -> str | None:
    """The text of a simple value (a string, or a code list member)."""
    if isinstance(value, Enum):
        value = value.value
    return value if isinstance(value, str) else None


def first_text(node: Any, paths: Iterable[str]) -> str | None:
    """The first non-empty text found at ``paths`` below ``node``: paths in the order given
    (a layout's candidates), values in document order."""
    for path in paths:
        for value in values_at(node, path):
            text = text_of(value)
            if text:
                return text
    return None
