"""Data paths: reading and writing the JSON-shaped data of a message.

A message is converted as the data of :mod:`paymsg.codec.json.engine` (XML names as keys,
``@attr`` for attributes, ``#text`` for the text of an element with attributes, ``#any`` for
wildcard content). A path names one place in it: ``a/b[2]/c``, with 1-based list indexes; a
step with an index is a repeatable element (a list), one without a single element (a dict).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

#: one step of a data path: a name (``@attr``, ``#text``, ``#any`` for the JSON-internal keys)
#: and an optional 1-based list index
PATH_STEP = re.compile(r"^([@#]?\w+)(?:\[(\d+)\])?$")
#: a whole data path (steps as :data:`PATH_STEP`, no leading slash)
DATA_PATH = re.compile(rf"(?:{PATH_STEP.pattern[1:-1]}/)*{PATH_STEP.pattern[1:-1]}")
#: a path that ends in a list item: (the list, the 1-based index)
LIST_ITEM = re.compile(r"^(.*)\[(\d+)\]$")


def get(data: Any, path: str) -> Any:
    """Value at ``a/b[2]/c`` (1-based indexes; a list without index means its first item)."""
    node = data
    for step in path.strip("/").split("/"):
        match = PATH_STEP.match(step)
        if match is None or not isinstance(node, dict):
            return None
        node = node.get(match.group(1))
        if isinstance(node, list):
            index = int(match.group(2) or 1) - 1
            node = node[index] if 0 <= index < len(node) else None
        if node is None:
            return None
    return node


def value_at(data: Any, path: str) -> Any:
    """The value at ``path``; unlike :func:`get`, a list at the end of the path (without
    index) is returned whole."""
    node = data
    steps = path.strip("/").split("/")
    for position, step in enumerate(steps):
        match = PATH_STEP.match(step)
        if match is None or not isinstance(node, dict):
            return None
        node = node.get(match.group(1))
        if isinstance(node, list):
            if match.group(2) is not None:
                index = int(match.group(2)) - 1
                node = node[index] if 0 <= index < len(node) else None
            elif position < len(steps) - 1:
                node = node[0] if node else None
        if node is None:
            return None
    return node


def put(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at ``a/b[2]/c``, creating what is missing; absent values are not written.

    A step with an index (``b[2]``) is a list (repeatable element); without one, a dict.
    """
    if value is None or value == [] or value == {}:
        return
    steps = [PATH_STEP.match(step) for step in path.strip("/").split("/")]
    node: Any = data
    for position, match in enumerate(steps):
        if match is None:
            raise ValueError(f"bad path {path!r}")
        name, index = match.group(1), match.group(2)
        last = position == len(steps) - 1
        if index is None:
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
            continue
        items = node.setdefault(name, [])
        while len(items) < int(index):
            items.append({})
        if last:
            items[int(index) - 1] = value
        else:
            node = items[int(index) - 1]


def ensure(data: dict[str, Any], path: str) -> dict[str, Any]:
    """The dict at ``path``, created with its parents when missing (even if left empty)."""
    node: Any = data
    for step in path.strip("/").split("/"):
        match = PATH_STEP.match(step)
        if match is None:
            raise ValueError(f"bad path {path!r}")
        name, index = match.group(1), match.group(2)
        if index is None:
            node = node.setdefault(name, {})
            continue
        items = node.setdefault(name, [])
        while len(items) < int(index):
            items.append({})
        node = items[int(index) - 1]
    if not isinstance(node, dict):
        raise ValueError(f"{path!r} is not an element")
    return node


def take(data: Any, path: str) -> Any:
    """Remove and return the value at ``path`` (see :func:`get`); empty parents go too."""
    steps = path.strip("/").split("/")
    parent = get(data, "/".join(steps[:-1])) if len(steps) > 1 else data
    if not isinstance(parent, dict):
        return None
    value = parent.pop(steps[-1], None)
    if len(steps) > 1 and not parent:
        take(data, "/".join(steps[:-1]))
    return value


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """Every scalar under ``data`` by path, as text; list items always carry their 1-based
    index."""
    out: dict[str, Any] = {}
    _scalars(data, prefix, out, as_text=True)
    return out


def scalars(data: Any, prefix: str = "") -> dict[str, Any]:
    """Every scalar under ``data`` by indexed path, keeping its JSON type (see :func:`flatten`)."""
    out: dict[str, Any] = {}
    _scalars(data, prefix, out, as_text=False)
    return out


def _scalars(data: Any, prefix: str, out: dict[str, Any], *, as_text: bool) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{prefix}/{key}" if prefix else key
            if isinstance(value, list):
                for index, item in enumerate(value, start=1):
                    _scalars(item, f"{here}[{index}]", out, as_text=as_text)
            else:
                _scalars(value, here, out, as_text=as_text)
    elif data is None:
        return
    elif not as_text:
        out[prefix] = data
    elif isinstance(data, bool):
        out[prefix] = "true" if data else "false"
    else:
        out[prefix] = str(data)


def unflatten(values: dict[str, str], into: dict[str, Any] | None = None) -> dict[str, Any]:
    """The inverse of :func:`flatten`."""
    out: dict[str, Any] = {} if into is None else into
    for path, value in values.items():
        put(out, path, value)
    return out


def leaves(value: Any, path: str) -> dict[str, str]:
    """The scalars of ``value`` (found at ``path``) by their paths, as :func:`flatten` writes
    them (a list at ``path`` itself gets its indexes)."""
    if isinstance(value, list):
        out: dict[str, str] = {}
        for index, item in enumerate(value, start=1):
            out.update(leaves(item, f"{path}[{index}]"))
        return out
    if isinstance(value, dict):
        return flatten(value, path)
    if isinstance(value, bool):
        return {path: "true" if value else "false"}
    return {} if value is None else {path: str(value)}


def nodes(data: Any, prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every dict under ``data`` with its indexed path."""
    out: list[tuple[str, dict[str, Any]]] = []
    if isinstance(data, dict):
        out.append((prefix, data))
        for key, value in data.items():
            here = f"{prefix}/{key}" if prefix else key
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items, start=1):
                out += nodes(item, f"{here}[{index}]" if isinstance(value, list) else here)
    return out


def strings(value: Any) -> list[str]:
    """A text or the texts of a list of values (other items left out)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def lines_at(data: Any, path: str) -> list[str]:
    """The text lines of the list at ``path`` (none when there is no list)."""
    value = value_at(data, path)
    return [line for line in value if isinstance(line, str)] if isinstance(value, list) else []


def decimal_of(value: Any) -> Decimal | None:
    """The decimal of an amount (``{"@Ccy", "#text"}``) or of a text, else None."""
    text = value.get("#text") if isinstance(value, dict) else value
    try:
        return Decimal(text) if isinstance(text, str) else None
    except InvalidOperation:
        return None


def shown_value(value: Any) -> str | None:
    """A value as loss entries show it (an amount as ``CNY 100.00``; a text as is)."""
    if isinstance(value, dict) and "#text" in value:
        return f"{value.get('@Ccy', '')} {value['#text']}".strip()
    return value if isinstance(value, str) else None


def under(path: str, paths: tuple[str, ...] | list[str]) -> bool:
    """Whether ``path`` is one of ``paths`` or below one of them."""
    return any(path == p or path.startswith((p + "/", p + "[")) for p in paths)
