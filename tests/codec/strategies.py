"""Hypothesis strategies shared by the engines' differential tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from paymsg.codec.xml.binding import CONTEXT

Simple = Callable[[Any], st.SearchStrategy[Any]]


def instances(
    cls: type, simple: Simple, *, depth: int = 0, trim_lists: bool = False
) -> st.SearchStrategy[Any]:
    """Random instances of a generated class, required fields always set, depth-limited
    (below depth 3 optional fields are left out, and optional lists too with
    ``trim_lists``); ``simple`` gives the values of a simple type."""
    meta = CONTEXT.build(cls)
    members: dict[str, st.SearchStrategy[Any]] = {}
    for var in meta.get_all_vars():
        if var.is_wildcard or var.is_attributes:
            continue
        if var.clazz is not None:
            value = st.deferred(
                lambda c=var.clazz: instances(c, simple, depth=depth + 1, trim_lists=trim_lists)
            )
        else:
            value = simple(var.types[0])
        if var.list_element:
            value = st.lists(value, min_size=1 if var.required else 0, max_size=2)
        optional = not var.required and not var.list_element
        optional_list = var.list_element and not var.required
        if (optional or (trim_lists and optional_list)) and depth >= 3:
            continue
        members[var.name] = st.one_of(st.none(), value) if optional else value
    return st.fixed_dictionaries(members).map(lambda kw: cls(**kw))
