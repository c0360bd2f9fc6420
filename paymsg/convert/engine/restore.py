"""Restoring carried values: one rule for every mapping on the way back to CNAPS2.

A carried value fills only a place that no row, rule or default of the mapping has filled from
the unified message. A carried value that disagrees with the unified message — with what the
mapping wrote, or with the unified field it was carried alongside (``stale``) — is not used
and is reported (``dropped``, :data:`CARRIED_CONFLICT`): the unified value wins. A carried path
that is not well-formed, lacks a list index, or does not exist in the target message is
reported too, never followed.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable, Iterable
from typing import Any

from paymsg.codec.json.engine import from_data
from paymsg.codec.xml.binding import CONTEXT
from paymsg.convert.engine.carrier import CarriedValue
from paymsg.convert.engine.loss import MappingContext
from paymsg.convert.engine.paths import PATH_STEP, flatten, get, put
from paymsg.errors import PaymsgError

#: why a carried value is not used: the unified message says something else
CARRIED_CONFLICT = "carried CNAPS2 value conflicts with the unified field; the unified value wins"
_INDEX = re.compile(r"\[\d+\]")


def model_var(cls: type, name: str) -> Any:
    """The xsdata variable of ``cls`` a data-path step names (element, ``@attr``, ``#text``,
    ``#any``), or None."""
    for var in CONTEXT.build(cls).get_all_vars():
        if name.startswith("@"):
            if var.is_attribute and var.local_name == name[1:]:
                return var
        elif name == "#text":
            if var.is_text:
                return var
        elif name == "#any":
            if var.is_wildcard:
                return var
        elif var.is_element and var.local_name == name:
            return var
    return None


def model_at(cls: type, path: str) -> type:
    """The model class at ``path`` (element steps, no indexes) below ``cls``."""
    for step in path.split("/"):
        var = model_var(cls, step)
        if var is None or var.clazz is None:
            raise ValueError(f"{step} is not an element of {cls.__name__}")
        cls = var.clazz
    return cls


def path_problem(cls: type, path: str) -> str | None:
    """Why a carried ``path`` (as :func:`flatten` writes it) cannot be used below ``cls``, or
    None when it names a value there: every step well-formed, an index exactly where the
    model has a list, ending at a value (attribute, text, simple element)."""
    steps = path.split("/") if path else []
    if not steps:
        return "is empty"
    node: type | None = cls
    for position, step in enumerate(steps):
        match = PATH_STEP.match(step)
        if match is None:
            return f"is not a well-formed path (step {step!r})"
        if node is None:
            return f"goes below a value ({'/'.join(steps[:position])})"
        name, index = match.group(1), match.group(2)
        var = model_var(node, name)
        if var is None:
            return f"names {name}, which {node.__name__} does not have"
        repeated = bool(var.is_wildcard or (var.list_element and var.is_element))
        if repeated and index is None:
            return f"has no index at {name}, a list"
        if not repeated and index is not None:
            return f"indexes {name}, which is not a list"
        if index is not None and int(index) < 1:
            return f"has index {index} at {name} (indexes start at 1)"
        if var.is_attribute or var.is_text or var.is_wildcard:
            if position != len(steps) - 1:
                return f"goes below a value ({'/'.join(steps[: position + 1])})"
            return None
        node = var.clazz
    return None if node is None else "ends at an element that holds other elements"


def _room(data: dict[str, Any], path: str) -> bool:
    """Whether :func:`put` can write ``path`` without leaving a hole in a list."""
    node: Any = data
    for step in path.split("/"):
        match = PATH_STEP.match(step)
        if match is None or not isinstance(node, dict):
            return False
        name, index = match.group(1), match.group(2)
        child = node.get(name)
        if index is None:
            if child is None:
                return True
            node = child
            continue
        if child is None:
            return index == "1"
        if not isinstance(child, list) or int(index) > len(child) + 1:
            return False
        if int(index) == len(child) + 1:
            return True
        node = child[int(index) - 1]
    return True


def restore(
    out: dict[str, Any],
    values: Iterable[CarriedValue],
    ctx: MappingContext,
    *,
    model: type,
    target: Callable[[str], str],
    stale: Callable[[str, str], bool] | None = None,
) -> dict[str, str]:
    """Put carried values into ``out`` (data of the target message element ``model``) where
    the mapping has written nothing; the values restored are returned.

    Reported (``dropped``), never used: a path :func:`path_problem` rejects; a value that
    differs from what the mapping wrote at its path, or that is an item of a list of values
    the mapping wrote; a value ``stale`` says the unified message contradicts (the unified
    field it was carried alongside says something else, or is gone) — the unified value wins.
    """
    written = flatten(out)
    value_lists = {path.rsplit("[", 1)[0] for path in written if path.endswith("]")}
    restored: dict[str, str] = {}
    for item in values:
        problem = path_problem(model, item.path)
        if problem is not None:
            ctx.lose(
                item.source,
                "dropped",
                f"carried CNAPS2 path {item.path!r} {problem}: not restored",
                value=item.value,
            )
            continue
        current = get(out, item.path)
        scalar = current is not None and not isinstance(current, (dict, list))
        if scalar and str(current) == item.value:
            continue  # the mapping wrote the same value
        in_list = item.path.endswith("]") and item.path.rsplit("[", 1)[0] in value_lists
        if current is not None or in_list or (stale is not None and stale(item.path, item.value)):
            ctx.lose(
                item.source,
                "dropped",
                CARRIED_CONFLICT,
                value=item.value,
                target_path=target(item.path),
            )
            continue
        if not _room(out, item.path):
            ctx.lose(
                item.source,
                "dropped",
                f"carried CNAPS2 path {item.path!r} skips list items: not restored",
                value=item.value,
            )
            continue
        put(out, item.path, item.value)
        restored[item.path] = item.value
    return restored


def max_length(cls: type, name: str) -> int | None:
    """The ``maxLength`` facet of the field ``name`` (its XML name) of the model ``cls``."""
    for f in dataclasses.fields(cls):
        if f.metadata.get("name", f.name) == name:
            value = f.metadata.get("max_length")
            return value if isinstance(value, int) else None
    return None


def text_field(cls: type, path: str, value: str) -> bool:
    """Whether ``path`` (as :func:`flatten` writes it) below ``cls`` is a plain text element
    that holds ``value``: a place :func:`path_problem` accepts, of string type (no code
    list, number or date), and not longer than its maximum length."""
    if path_problem(cls, path) is not None:
        return False
    *parents, last = _INDEX.sub("", path).split("/")
    holder = model_at(cls, "/".join(parents)) if parents else cls
    var = model_var(holder, last)
    if var is None or not var.is_element or any(kind is not str for kind in var.types):
        return False
    limit = max_length(holder, last)
    return limit is None or len(value) <= limit


def _choice(cls: type, path: str) -> bool:
    """Whether the element at ``path`` below ``cls`` is an ISO 20022 choice component (its
    type is named ``…Choice``: exactly one of its elements is present)."""
    return bool(path) and model_at(cls, _INDEX.sub("", path)).__name__.endswith("Choice")


def read_back(
    out: dict[str, Any],
    items: Iterable[tuple[str, str]],
    model: type,
    accept: Callable[[str], bool],
) -> dict[str, str]:
    """Put fields spilled into CNAPS2 text (``/H01/path:value`` items, see
    :func:`~paymsg.convert.engine.table.spilled`) back at their place in ``out``, the data of
    the unified element ``model``: only a path ``accept`` takes (one the way back spills, not
    one a row maps), a plain text field (:func:`text_field`), in an element that is there
    (none is made: it could lack what the schema requires), at a place nothing fills yet.
    The text keeps the items; the values put back are returned."""
    found = [(path, value) for path, value in items if accept(path)]
    if not found:
        return {}
    before = copy.deepcopy(out)
    restored = _put_back(out, found, model)
    if restored and not _binds(model, out):  # find the item that breaks it, one at a time
        out.clear()
        out.update(before)
        restored = {}
        for item in found:
            kept = copy.deepcopy(out)
            placed = _put_back(out, [item], model)
            if placed and not _binds(model, out):
                out.clear()
                out.update(kept)
            else:
                restored.update(placed)
    return restored


def _put_back(out: dict[str, Any], items: list[tuple[str, str]], model: type) -> dict[str, str]:
    """Put each item at its place when it is a plain text field in an element that is there
    (not a second choice of a choice component) and nothing fills it yet."""
    restored: dict[str, str] = {}
    for path, value in items:
        if not text_field(model, path, value):
            continue
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        holder = get(out, parent) if parent else out
        if get(out, path) is not None or not isinstance(holder, dict):
            continue
        if holder and _choice(model, parent):  # the element holds one of its choices already
            continue
        put(out, path, value)
        restored[path] = value
    return restored


def _binds(model: type, data: dict[str, Any]) -> bool:
    """Whether ``data`` binds to ``model`` (every element has what the schema requires)."""
    try:
        from_data(model, data)
    except PaymsgError:
        return False
    return True
