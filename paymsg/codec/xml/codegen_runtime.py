"""Python source generated at run time from precomputed per-class plans, compiled once.

The fast codecs (:mod:`paymsg.codec.xml.fast` for XML, :mod:`paymsg.codec.json.engine` for JSON)
turn a plan per class into a specialised function and compile it on first use. This
module holds what they share: :class:`Source` (one function's lines, its constants in
the generator's globals), :func:`compile_once` (generate, exec and attach the functions
of every node a root reaches), :func:`emit_dispatch` (code per key: a comparison chain or
a table lookup and a binary search) and :func:`emit_construct` (an instance from field
locals, with ``object.__new__`` and one store per field where :func:`plain_init` allows).
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

N = TypeVar("N")

#: entries up to this many are told apart by comparing keys instead of a table lookup
LINEAR_DISPATCH = 8

_LOCK = threading.RLock()  # re-entrant: a generator may compile another one's functions
_SERIAL = itertools.count()


class Source:
    """The source of one generated function named ``name``; its constants are stored in
    ``env`` (the generator's globals) under names derived from it, one name per value."""

    def __init__(self, name: str, env: dict[str, Any]) -> None:
        self.name = name
        self.env = env
        self.lines: list[str] = []
        self.consts: dict[int, str] = {}  # id of a value → its name

    def const(self, value: Any) -> str:
        key = self.consts.get(id(value))
        if key is None:
            key = self.consts[id(value)] = f"{self.name}_{len(self.consts)}"
            self.env[key] = value  # which also keeps the value alive, so its id stays its own
        return key

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def fail(self, depth: int, exception: str, message: str | None = None) -> None:
        """``raise exception(message)``, or ``raise exception`` without a message."""
        self.emit(
            depth, f"raise {exception}" if message is None else f"raise {exception}({message!r})"
        )

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass(slots=True, eq=False)
class Slot:
    """One generated function of one node: its global name from when its generation
    starts, the function once compiled."""

    name: str = ""
    function: Callable[..., Any] | None = None


def compile_once(
    root: N,
    *,
    slot: Callable[[N], Slot],
    label: Callable[[N], str],
    children: Callable[[N], Iterable[N]],
    generate: Callable[[N, Source], None],
    env: dict[str, Any],
    filename: str,
) -> Callable[..., Any]:
    """The function of ``root``, generated and compiled, with those of every node it
    reaches (through ``children``) that has none yet, in one ``exec`` under a lock.

    Each such node gets the global name ``_<label>_<serial>`` in ``env`` before any
    source is generated (so functions refer to each other by name, recursion included);
    ``generate`` writes its ``def`` into a :class:`Source` of that name. On failure the
    names are released and nothing is attached.
    """
    function = slot(root).function
    if function is not None:
        return function
    with _LOCK:
        if slot(root).function is None:
            pending: list[tuple[N, Slot]] = []
            stack = [root]
            while stack:
                node = stack.pop()
                current = slot(node)
                if current.function is not None or current.name:
                    continue
                current.name = f"_{label(node)}_{next(_SERIAL)}"
                pending.append((node, current))
                stack.extend(children(node))
            try:
                parts = []
                for node, current in pending:
                    src = Source(current.name, env)
                    generate(node, src)
                    parts.append(src.text())
                exec(compile("".join(parts), filename, "exec"), env)
            except BaseException:
                for _, current in pending:
                    current.name = ""
                raise
            for _, current in pending:
                current.function = env[current.name]
    function = slot(root).function
    assert function is not None
    return function


def emit_dispatch(
    src: Source,
    depth: int,
    key: str,
    entries: Sequence[tuple[str, Callable[[int], None]]],
    unknown: Callable[[int], None],
) -> None:
    """Code per value of the expression ``key`` (a local): ``entries`` pair a value with
    what emits its code at a depth; ``unknown`` emits the code for any other value, which
    must leave the dispatch (raise, or ``continue`` a loop). Up to
    :data:`LINEAR_DISPATCH` entries a comparison chain, else a value → index table and a
    binary search on the index, in local ``i``."""
    if len(entries) <= LINEAR_DISPATCH:
        for index, (value, handle) in enumerate(entries):
            src.emit(depth, f"{'if' if index == 0 else 'elif'} {key} == {value!r}:")
            handle(depth + 1)
        src.emit(depth, "else:")
        unknown(depth + 1)
        return
    table = {value: index for index, (value, _) in enumerate(entries)}
    src.emit(depth, f"i = {src.const(table.get)}({key})")
    src.emit(depth, "if i is None:")
    unknown(depth + 1)
    _tree(src, depth, entries, 0, len(entries))


def _tree(
    src: Source,
    depth: int,
    entries: Sequence[tuple[str, Callable[[int], None]]],
    low: int,
    high: int,
) -> None:
    """A binary search on the entry index ``i`` (``low <= i < high``)."""
    if high - low <= 3:
        for index in range(low, high):
            if index == low:
                src.emit(depth, f"if i == {index}:" if high - low > 1 else "if True:")
            elif index < high - 1:
                src.emit(depth, f"elif i == {index}:")
            else:
                src.emit(depth, "else:")
            entries[index][1](depth + 1)
        return
    middle = (low + high) // 2
    src.emit(depth, f"if i < {middle}:")
    _tree(src, depth + 1, entries, low, middle)
    src.emit(depth, "else:")
    _tree(src, depth + 1, entries, middle, high)


def plain_init(cls: type) -> bool:
    """True when ``cls(**kwargs)`` only stores each field (the arguments, or the field's
    default / ``default_factory()``), so an instance can be made with ``object.__new__``
    and one attribute store per field, every field set exactly as ``__init__`` sets it."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        return False
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    if not params.init or params.frozen or hasattr(cls, "__post_init__"):
        return False
    if cls.__new__ is not object.__new__ or cls.__setattr__ is not object.__setattr__:
        return False
    init = cls.__init__
    if getattr(getattr(init, "__code__", None), "co_filename", None) != "<string>":
        return False  # not the __init__ that dataclasses generated
    fields = dataclasses.fields(cls)
    if not all(f.init for f in fields):
        return False
    parameters = list(inspect.signature(init).parameters)[1:]
    return sorted(parameters) == sorted(f.name for f in fields)  # no InitVar


def emit_construct(
    src: Source, cls: type, local: dict[str, str], lists: set[str], exception: str, messages: bool
) -> None:
    """Code (at depth 1) that builds the instance of ``cls`` into ``o``, equal to
    ``cls(**kw)`` with the fields whose locals hold a value (``local``: field name →
    local). A local is absent when ``None``, or when empty for a field in ``lists``
    (locals that start as an empty list). With :func:`plain_init` the instance is made
    with ``new`` (``object.__new__`` in the globals) and one store per field, an absent
    field getting its default (``None``, a new list, ``default_factory()`` or the
    constant); else ``cls(**kw)``. A missing required field raises ``exception``, with a
    message when ``messages``, and so does a ``TypeError`` of ``cls(**kw)``."""
    cls_name = src.const(cls)
    if not plain_init(cls):
        src.emit(1, "kw = {}")
        for field_name, name in local.items():
            src.emit(1, f"if {name}:" if field_name in lists else f"if {name} is not None:")
            src.emit(2, f"kw[{field_name!r}] = {name}")
        src.emit(1, "try:")
        src.emit(2, f"o = {cls_name}(**kw)")
        src.emit(
            1, f"except TypeError{' as exc' if messages else ''}:  # a required field is missing"
        )
        src.emit(2, f"raise {exception}{'(str(exc))' if messages else ''} from None")
        return
    stores: list[str] = []
    for f in dataclasses.fields(cls):
        var = local.get(f.name)
        present = (var if f.name in lists else f"{var} is not None") if var else ""
        if f.default is not dataclasses.MISSING:
            fill = "None" if f.default is None else src.const(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            fill = "[]" if f.default_factory is list else f"{src.const(f.default_factory)}()"
        else:  # required
            missing = f"{cls.__name__}.{f.name} is required" if messages else None
            if var is None:  # a field no local sets (wildcard content)
                src.fail(1, exception, missing)
                return
            src.emit(1, f"if not {var}:" if f.name in lists else f"if {var} is None:")
            src.fail(2, exception, missing)
            fill = ""
        if var is None:
            stores.append(f"o.{f.name} = {fill}")
        elif not fill or fill == ("[]" if f.name in lists else "None"):
            stores.append(f"o.{f.name} = {var}")
        else:
            stores.append(f"o.{f.name} = {var} if {present} else {fill}")
    src.emit(1, f"o = new({cls_name})")
    for line in stores:
        src.emit(1, line)
