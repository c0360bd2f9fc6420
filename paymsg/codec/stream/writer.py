"""Streaming conversion of large messages to paymsg JSON or canonical XML.

``stream_convert(path, "json" | "xml", out)`` writes exactly the bytes the in-memory path
writes — ``to_json(parse(path)).encode() + b"\\n"`` or ``serialize(parse(path))`` — without
holding the message. The input is read incrementally with the safe parser settings; the
*container* elements (``Document``, the message element and, for camt.053, every
``Stmt``) are never bound as a whole: each of their children (group header, NPC
processing information, every transaction or entry, supplementary data, statement
balances, …) is bound on its own as soon as it is complete, written out and released.
So memory does not grow with the number of transactions, and every element the
in-memory path keeps is kept.

How the output stays byte-identical:

- the JSON around the children (``type``, ``envelope``, the object and array brackets)
  is written the way ``json.dumps(..., indent=2, ensure_ascii=False)`` lays it out, and
  each child is the same ``to_data`` value dumped at its own depth; the head (type and
  envelope) is produced by ``message_to_data`` itself;
- the XML is the fast engine's text for each child, at its depth, with the container tags
  around it; inside an ISO wrapper, the wrapper is rebuilt by ``fill_wrapper`` around a
  placeholder and every child goes through lxml's re-indentation, as ``serialize`` does;
- CNAPS2 text converted ``--to xml`` is the input, byte for byte (the relay guarantee),
  once every part of the body has bound and has been found unchanged on a second bind,
  which is the in-memory path's own test;
- the binding engine is chosen as the in-memory path chooses it: the fast engine, unless
  any part needs xsdata's generic binder (``xs:any`` content, …), in which case the whole
  stream is bound again with xsdata.

Whatever the streaming path cannot reproduce exactly raises :class:`NotStreamable`:
children out of schema order, unknown elements, text in a container, a child the fast
writer cannot render in XML (content under ``xs:any`` is written by xsdata's serializer
for the whole document), a second ``Document`` in a wrapper, … and every error in the
input. :func:`convert_file` then converts the file in memory, so the output (or the
error) is the in-memory one. Above the in-memory size limit (``Limits.max_bytes``), where
the in-memory path refuses any input, an error found while streaming is raised as it is,
with file, line and element path.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import IO, Any, Literal

from lxml import etree

from paymsg.codec.api import XML_DECLARATION, _is_json, document_xml, load_file, serialize
from paymsg.codec.envelope import cnaps2
from paymsg.codec.envelope.bah import DEFAULT_WRAPPER, fill_wrapper, split_parts
from paymsg.codec.json.engine import _value_out, message_to_data, to_json
from paymsg.codec.message import BusinessEnvelope, Message
from paymsg.codec.stream.reader import LAYOUTS
from paymsg.codec.xml import fast
from paymsg.codec.xml.binding import _PARSER_CONFIG, CONTEXT, bind
from paymsg.codec.xml.safe import (
    DEFAULT_LIMITS,
    Limits,
    _too_deep,
    iterparse,
    local_name,
    namespace_of,
)
from paymsg.errors import (
    BindingError,
    InputError,
    PaymsgError,
    UnsafeXMLError,
)
from paymsg.schema.catalog import MessageType, catalog

Format = Literal["json", "xml"]
Progress = Callable[[int], None]

#: message types whose large instances stream (the same as ``iter_transactions``)
STREAMABLE = frozenset(LAYOUTS)

HEAD = 64 * 1024  # bytes read first: CNAPS2 envelope, JSON sniffing, DOCTYPE detection
FLUSH = 1 << 20  # characters buffered before a write
_SLOT = "PaymsgStreamSlot"  # placeholder child that marks where streamed XML goes
_XML_SPACE = " \t\r\n"


class NotStreamable(Exception):
    """Streaming cannot produce exactly the in-memory output for this input.

    ``reason`` says why; ``error`` is the problem found in the input, if that was the
    reason (located: file, line, element path).
    """

    def __init__(self, reason: str, error: PaymsgError | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


class _Restart(Exception):
    """A part needs xsdata's binder: the in-memory path binds the whole message with it."""


@dataclass(frozen=True, slots=True)
class Converted:
    """What :func:`convert_file` did: the type, and whether the file was streamed."""

    type: str
    streamed: bool
    reason: str | None = None  # why the message was loaded whole instead
    parts: int = 0  # children of the containers bound one by one (transactions, headers…)
    engine: str = "fast"  # the binder of the parts: "fast", or "xsdata" as in memory


@dataclass(slots=True)
class _NoDocument:
    """Stands in for the document when ``message_to_data`` writes the JSON head."""


# --------------------------------------------------------------------------- public API


def stream_convert(
    source: str | os.PathLike[str],
    to: Format,
    out: IO[bytes],
    *,
    type_id: str | None = None,
    progress: Progress | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Converted:
    """Write ``source`` converted to ``to`` into ``out`` (a seekable, writable binary file).

    The bytes equal the in-memory conversion's. Raises :class:`NotStreamable` when that
    cannot be guaranteed, or when the input has an error (``.error``); ``out`` then holds
    partial output. ``progress`` is called with the number of input bytes read so far.
    ``limits.max_depth`` applies as in memory; ``limits.max_bytes`` does not limit the
    stream (the whole-message parse needs it, the stream does not).
    """
    if to not in ("json", "xml"):
        raise ValueError(f"stream_convert writes json or xml, not {to!r}")
    engine = "fast"
    while True:
        out.seek(0)
        out.truncate()
        try:
            return _Run(Path(source), to, out, type_id, progress, engine, limits).run()
        except _Restart:
            engine = "xsdata"


def convert_file(
    source: str | os.PathLike[str],
    to: Format,
    out: IO[bytes],
    *,
    type_id: str | None = None,
    progress: Progress | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Converted:
    """Convert one file into ``out``: streamed when exact, else in memory (same bytes).

    Errors are the in-memory path's :class:`PaymsgError` (file, line, path). For a file
    over ``limits.max_bytes``, which the in-memory path refuses outright, an error found
    while streaming is raised instead.
    """
    path = Path(source)
    try:
        return stream_convert(path, to, out, type_id=type_id, progress=progress, limits=limits)
    except NotStreamable as exc:
        reason = exc.reason
        if exc.error is not None and _size(path) > limits.max_bytes:
            raise exc.error from None
    message = load_file(path, type_id, limits)
    data = to_json(message).encode() + b"\n" if to == "json" else serialize(message)
    out.seek(0)
    out.truncate()
    out.write(data)
    return Converted(message.type, streamed=False, reason=reason)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# --------------------------------------------------------------------------- plans


@dataclass(slots=True)
class _Shape:
    """What the streaming path needs to know about one container's plan."""

    plan: fast.Plan
    index: dict[str, int]  # child qname → position in schema order
    required: frozenset[str]  # fields without a default: must be present


@cache
def _shape(plan_cls: type) -> _Shape:
    plan = fast.plan_for(plan_cls)
    required = frozenset(
        f.name for f in fields(plan_cls) if f.default is MISSING and f.default_factory is MISSING
    )
    return _Shape(plan, {c.qname: i for i, c in enumerate(plan.order)}, required)


def _plan_depth(plan: fast.Plan, visiting: frozenset[int] = frozenset()) -> int | None:
    """Levels of elements an instance of ``plan`` can have (itself included); None if
    unbounded: a recursive model, or ``xs:any`` content anywhere below."""
    if id(plan) in visiting or plan.wildcard:
        return None
    known = _DEPTHS.get(id(plan), -1)
    if known != -1:
        return known
    deepest = 0
    for child in plan.order:
        below = 1 if child.plan is None else _plan_depth(child.plan, visiting | {id(plan)})
        if below is None:
            deepest = -1
            break
        deepest = max(deepest, below)
    result = None if deepest < 0 else deepest + 1
    if not visiting or result is not None:
        _DEPTHS[id(plan)] = result
    return result


_DEPTHS: dict[int, int | None] = {}


@cache
def _deeper_than(levels: int) -> etree.XPath:
    """True when the context element has a descendant ``levels`` element levels below it."""
    return etree.XPath("boolean(./" + "/".join(["*"] * levels) + ")")


@cache
def _inner(type_id: str) -> str | None:
    """The qname of the container between the message element and the transactions
    (camt.053: ``Stmt``, which holds the entries), or None when the message element holds
    the transactions itself."""
    mtype = catalog().get(type_id)
    transaction = LAYOUTS[type_id].transaction_name
    for message in fast.plan_for(mtype.root_class).order:
        if message.plan is None:
            continue
        if any(local_name(c.qname) == transaction for c in message.plan.order):
            return None
        for child in message.plan.order:
            if child.plan and any(local_name(c.qname) == transaction for c in child.plan.order):
                return child.qname
    raise NotStreamable(f"no {transaction} in {type_id}")


def _tags_of(mtype: MessageType) -> list[str]:
    """The tags whose events the stream needs: containers and their children."""
    inner = _inner(mtype.id)
    root = fast.plan_for(mtype.root_class)
    tags = {root.qname}
    for message in root.order:
        tags.add(message.qname)
        for child in message.plan.order if message.plan else ():
            tags.add(child.qname)
            if child.qname == inner and child.plan is not None:
                tags.update(c.qname for c in child.plan.order)
    return sorted(tags)


@cache
def _all_tags() -> list[str]:
    tags = {"{*}Document", "{*}AppHdr"}
    for type_id in sorted(STREAMABLE):
        tags.update(_tags_of(catalog().get(type_id)))
    return sorted(tags)


def _known(element: etree._Element) -> MessageType | None:
    mtype = catalog().by_namespace(namespace_of(element.tag))
    if mtype is not None and mtype.root == local_name(element.tag):
        return mtype
    return None


# --------------------------------------------------------------------------- input


class _Reader:
    """The input file, counting the bytes the parser reads (for the progress bar)."""

    def __init__(self, file: IO[bytes], done: int, progress: Progress | None) -> None:
        self._file = file
        self.done = done
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self.done += len(data)
        if self._progress is not None:
            self._progress(self.done)
        return data


# --------------------------------------------------------------------------- output


class _Sink:
    """Buffered text output to a binary file, UTF-8 encoded."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size > FLUSH:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            self.file.write("".join(self._parts).encode("utf-8"))
            self._parts = []
            self._size = 0


@dataclass(slots=True, eq=False)
class _Frame:
    """One open container element."""

    element: etree._Element
    shape: _Shape
    name: str  # local name
    depth: int  # 0 Document, 1 message element, 2 statement
    level: int  # JSON object nesting / XML indentation level of the element itself
    path: str  # element path, for errors
    silent: bool = False  # XML tags written by the wrapper placeholder, not by the stream
    pending: bool = True  # XML start tag not written yet
    extra: str = ""  # XML attributes of the start tag (the root's xmlns)
    last: int = -1  # schema position of the last child seen
    keys: int = 0  # JSON members written
    open_list: fast.Child | None = None  # JSON array being written
    present: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- the run


class _Run:
    """One streaming pass over one file with one binding engine."""

    def __init__(
        self,
        path: Path,
        to: Format,
        out: IO[bytes],
        type_id: str | None,
        progress: Progress | None,
        engine: str,
        limits: Limits,
    ) -> None:
        self.path = path
        self.name = str(path)
        self.to = to
        self.out = out
        self.type_id = type_id
        self.progress = progress
        self.engine = engine
        self.limits = limits
        self.exact_limits = _size(path) <= self.limits.max_bytes
        # what the input turns out to be
        self.cnaps: cnaps2.Cnaps2Envelope | None = None
        self.line_offset = 0
        self.mtype: MessageType | None = None
        self.root: etree._Element | None = None
        self.wrapped = False
        self.document: etree._Element | None = None
        self.document_depth = 1  # element depth of the Document (1: it is the root)
        self.document_done = False
        self.message_name = ""  # local name of the message element
        self.header_element: etree._Element | None = None
        self.header: Any = None
        self.header_type: MessageType | None = None
        self.in_header = False
        self.stack: list[_Frame] = []
        self.parts = 0
        # where the output goes: straight to ``out``, or to a spool while the envelope is
        # not known (an ISO wrapper is known only at the end of the input)
        self.spool: IO[bytes] | None = None
        self.sink = _Sink(out)
        self.xml_base = 0  # indentation level of the Document in the XML output
        self.doc_bytes = 0  # size of the Document as document_xml writes it
        self.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )

    @property
    def relay(self) -> bool:
        """CNAPS2 text to XML: the output is the input, once the body has bound."""
        return self.cnaps is not None and self.to == "xml"

    # -- driving ----------------------------------------------------------------------

    def run(self) -> Converted:
        try:
            file = open(self.path, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            error = InputError(f"cannot read file: {exc.strerror or exc}", source=self.name)
            raise NotStreamable("the file cannot be read", error) from None
        try:
            with file:
                self._walk(file)
                self._finish(file)
        except NotStreamable as exc:
            if exc.error is not None:
                self._located(exc.error)
            raise
        except PaymsgError as exc:
            raise NotStreamable(exc.message, self._located(exc)) from None
        finally:
            if self.spool is not None:
                self.spool.close()
        assert self.mtype is not None
        return Converted(self.mtype.id, streamed=True, parts=self.parts, engine=self.engine)

    def _located(self, exc: PaymsgError) -> PaymsgError:
        """File name, and lines counted from the top of CNAPS2 text (as in memory)."""
        exc.with_source(self.name)
        if self.line_offset and exc.line is not None:
            exc.line += self.line_offset
        return exc

    def _walk(self, file: IO[bytes]) -> None:
        head = file.read(HEAD)
        if _is_json(head):
            raise NotStreamable("paymsg JSON input is read whole")
        offset = 0
        tags = _all_tags()
        if cnaps2.looks_like_cnaps2(head):
            self.cnaps, offset = cnaps2.split_envelope(head)
            self.line_offset = head.count(b"\n", 0, offset)
            self.mtype = catalog().get(self.type_id or self.cnaps.header.mesg_type)
            if self.mtype.id not in STREAMABLE:
                raise NotStreamable(f"{self.mtype.id} does not stream")
            tags = _tags_of(self.mtype)
        file.seek(offset)
        reader = _Reader(file, offset, self.progress)
        events = iterparse(
            reader,
            events=("start", "end"),
            tag=tags,
            name=self.name,
            head=head[offset:],
            keep_comments=True,  # a wrapper keeps its comments on the in-memory path
        )
        for event, element in events:
            if event == "start":
                self._start(element)
            else:
                self._end(element)
        if not self.document_done:
            raise NotStreamable("no catalogued Document of a streamable type found")

    # -- events -----------------------------------------------------------------------

    def _start(self, element: etree._Element) -> None:
        if self.root is None:
            self._first(element.getroottree().getroot())
            if element is self.root:
                return
        if local_name(element.tag) in ("Document", "AppHdr") and self.wrapped:
            known = _known(element)
            if known is not None:
                self._part(element, known)
                return
        if self.stack and element.getparent() is self.stack[-1].element:
            self._child_start(self.stack[-1], element)

    def _end(self, element: etree._Element) -> None:
        if not self.stack:
            if element is self.header_element:
                self._bind_header(element)
            return
        frame = self.stack[-1]
        if element is frame.element:
            self._close(frame)
        elif element.getparent() is frame.element:
            self._leaf(frame, element)

    def _first(self, root: etree._Element) -> None:
        """The root element: the Document itself, or a wrapper around it."""
        self.root = root
        if self.cnaps is not None:
            assert self.mtype is not None
            if (namespace_of(root.tag), local_name(root.tag)) != (
                self.mtype.namespace,
                self.mtype.root,
            ):
                raise NotStreamable("the CNAPS2 body is not the type the header names")
            self._open_document(root, self.mtype)
            return
        known = _known(root)
        if known is None:
            self.wrapped = True
        elif local_name(root.tag) == "Document":
            self._open_document(root, known)
        else:
            raise NotStreamable(f"a standalone {local_name(root.tag)} is read whole")

    def _part(self, element: etree._Element, known: MessageType) -> None:
        """A catalogued Document or AppHdr inside a wrapper (``split_parts`` looks at any
        depth, and refuses a second one)."""
        if local_name(element.tag) == "Document":
            if self.document is not None:
                raise NotStreamable("the wrapper holds more than one Document")
            if self.in_header:
                raise NotStreamable("a Document inside the AppHdr")
            self._open_document(element, known)
            return
        if self.header_element is not None:
            raise NotStreamable("the wrapper holds more than one AppHdr")
        if self.stack:
            raise NotStreamable("an AppHdr inside the Document")
        self.header_element = element
        self.header_type = known
        self.in_header = True

    def _bind_header(self, element: etree._Element) -> None:
        self.in_header = False
        self._check_depth(element, _depth_of(element))
        assert self.header_type is not None
        self.header = bind(element, self.header_type, source=self.name)

    # -- the Document -----------------------------------------------------------------

    def _open_document(self, element: etree._Element, found: MessageType) -> None:
        mtype = found
        if self.cnaps is None and self.type_id is not None and self.type_id != found.id:
            forced = catalog().get(self.type_id)
            if (forced.namespace, forced.root) != (found.namespace, found.root):
                raise NotStreamable(f"the body is not {forced.id}")
            mtype = forced
        if mtype.id not in STREAMABLE:
            raise NotStreamable(f"{mtype.id} does not stream")
        self.mtype = mtype
        self.document = element
        self.document_depth = _depth_of(element)
        shape = _shape(mtype.root_class)
        _plain(shape.plan, mtype.root)
        name = local_name(element.tag)
        frame = _Frame(element, shape, name, 0, 1, "/" + name)
        if self.to == "json":
            if self.wrapped:
                self._use_spool()
            else:
                self.sink.write(self._json_head())
            self.sink.write("{")
        elif not self.relay:
            frame.level = 0
            frame.extra = f' xmlns="{fast._escape_attr(mtype.namespace)}"'
            self.doc_bytes = len(XML_DECLARATION) + 2  # and the newlines after the root
            if self.wrapped:
                self._use_spool()
                frame.silent = True
                self.xml_base = self.document_depth - 1
            else:
                self.sink.write(XML_DECLARATION.decode())
        self._check_container_depth(frame)
        self.stack.append(frame)

    def _use_spool(self) -> None:
        self.spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by run()
        self.sink = _Sink(self.spool)

    def _json_head(self) -> str:
        """``{"type": …, "envelope": …, "document": `` as ``to_json`` writes it."""
        assert self.mtype is not None
        envelope: Any = self._business_envelope() if self.wrapped else self.cnaps
        data = message_to_data(Message(self.mtype.id, _NoDocument(), envelope))
        text = json.dumps(data, ensure_ascii=False, indent=2)
        if list(data)[-1] != "document" or not text.endswith('"document": {}\n}'):
            raise NotStreamable("the JSON head is not laid out as expected")
        return text[: -len("{}\n}")]

    def _business_envelope(self) -> BusinessEnvelope:
        """The envelope ``parse`` builds: the wrapper skeleton and the typed AppHdr."""
        assert self.root is not None
        parts = split_parts(self.root, source=self.name)
        if parts.document is not self.document or parts.header is not self.header_element:
            raise NotStreamable("the wrapper's parts are not the ones streamed")
        header_type = self.header_type.id if self.header is not None and self.header_type else None
        return BusinessEnvelope(header=self.header, header_type=header_type, wrapper=parts.wrapper)

    # -- containers -------------------------------------------------------------------

    def _child_start(self, frame: _Frame, element: etree._Element) -> None:
        """A child of a container begins: open it if it is a container itself."""
        child = _child_of(frame, element)
        if child.plan is None or not self._is_container(frame, element):
            return
        self._place(frame, child, element)
        _plain(child.plan, local_name(element.tag))
        name = local_name(element.tag)
        sub = _Frame(
            element,
            _shape(child.plan.cls),
            name,
            frame.depth + 1,
            frame.level + 1,
            _path(frame, child, name),
        )
        if frame.depth == 0:
            self.message_name = name
        if self.to == "json":
            sub.level = self._json_member(frame, child)
            self.sink.write("{")
        elif not self.relay:
            self._xml_before_child(frame)
            sub.silent = self.wrapped and sub.depth < 2
        self._check_container_depth(sub)
        self.stack.append(sub)

    def _is_container(self, frame: _Frame, element: etree._Element) -> bool:
        """The message element, and for camt.053 each ``Stmt``, are streamed through."""
        if frame.depth == 0:
            return True
        assert self.mtype is not None
        return frame.depth == 1 and element.tag == _inner(self.mtype.id)

    def _place(self, frame: _Frame, child: fast.Child, element: etree._Element) -> None:
        """The child comes in schema order, after nothing but blank text and comments."""
        position = frame.shape.index[child.qname]
        if position < frame.last or (position == frame.last and not child.repeated):
            raise NotStreamable(f"the children of {frame.name} are not in schema order")
        frame.last = position
        frame.present.add(child.name)
        for sibling in element.itersiblings(preceding=True):
            if isinstance(sibling.tag, str):
                raise NotStreamable(f"unexpected element {sibling.tag} in {frame.name}")
            _blank(sibling.tail, frame.name)
        _blank(frame.element.text, frame.name)

    def _close(self, frame: _Frame) -> None:
        self.stack.pop()
        for left in frame.element:
            if isinstance(left.tag, str):
                raise NotStreamable(f"unexpected element {left.tag} in {frame.name}")
            _blank(left.tail, frame.name)
        _blank(frame.element.text, frame.name)
        missing = frame.shape.required - frame.present
        if missing:
            raise NotStreamable(f"{frame.name} lacks {', '.join(sorted(missing))}")
        if self.to == "json":
            self._json_close(frame)
        elif not self.relay:
            self._xml_close(frame)
        if frame.depth == 0:
            self.document_done = True
            del frame.element[:]
        else:
            self._release(self.stack[-1], frame.element)

    def _check_container_depth(self, frame: _Frame) -> None:
        if self.document_depth + frame.depth > self.limits.max_depth:
            self._too_deep()

    # -- children ---------------------------------------------------------------------

    def _leaf(self, frame: _Frame, element: etree._Element) -> None:
        """A complete child of a container: bind it, write it, let it go."""
        child = _child_of(frame, element)
        self._place(frame, child, element)
        path = _path(frame, child, local_name(element.tag))
        etree.strip_tags(element, etree.Comment, etree.ProcessingInstruction)
        depth = self.document_depth + frame.depth + 1
        if depth > self.limits.max_depth:
            self._too_deep()
        if child.plan is None:
            value = self._simple(child, element, path)
            if self.relay:
                self._same_twice(value, self._simple(child, element, path), path)
        else:
            below = _plan_depth(child.plan) if self.engine == "fast" else None
            if below is None or depth + below - 1 > self.limits.max_depth:
                self._check_depth(element, depth)
            value = self._complex(child.plan, element, path)
            if self.relay:
                self._same_twice(value, self._complex(child.plan, element, path), path)
        self.parts += 1
        if self.to == "json":
            self._json_child(frame, child, value)
        elif not self.relay:
            self._xml_child(frame, child, value)
        self._release(frame, element)

    def _simple(self, child: fast.Child, element: etree._Element, path: str) -> Any:
        if len(element):
            raise NotStreamable(f"{path} has child elements but a simple type")
        assert child.decode is not None
        try:
            return child.decode(element.text or "")
        except (fast.Unsupported, ValueError, TypeError):
            error = BindingError(
                f"{local_name(element.tag)} value {element.text!r} does not fit the model",
                line=element.sourceline,
                path=path,
            )
            raise NotStreamable(f"{path}: value not read", error) from None

    def _complex(self, plan: fast.Plan, element: etree._Element, path: str) -> Any:
        if self.engine == "fast":
            try:
                return fast.decode(element, plan)
            except (fast.Unsupported, ValueError, TypeError):
                pass
            # the in-memory path would bind the whole message with xsdata: start again
            # with xsdata, unless this part is an error or cannot be written anyway
            value = self._generic(plan, element, path)
            if self.to == "xml" and not self.relay:
                try:
                    fast._write(value, plan, local_name(element.tag), [], "")
                except fast.Unsupported as exc:
                    raise NotStreamable(f"{path} needs xsdata's serializer ({exc})") from None
            raise _Restart
        return self._generic(plan, element, path)

    def _generic(self, plan: fast.Plan, element: etree._Element, path: str) -> Any:
        """Bind with xsdata's binder, as the in-memory path does when the plans fall short."""
        from xsdata.formats.dataclass.parsers import XmlParser
        from xsdata.formats.dataclass.parsers.handlers import LxmlEventHandler

        parser = XmlParser(context=CONTEXT, handler=LxmlEventHandler, config=_PARSER_CONFIG)
        # the binder consumes what it reads: keep the element to bind again (relay) or to
        # point at the problem (an error the stream reports itself)
        keep = self.relay or not self.exact_limits
        try:  # values the binder would read outside their lexical space, as in memory
            fast.check_values(element, plan)
        except BindingError as refused:
            raise NotStreamable(f"{path}: value not read", refused) from None
        try:
            return parser.parse(copy.deepcopy(element) if keep else element, plan.cls)
        except Exception as exc:  # xsdata's ParserError, ConverterError, …
            reason = " ".join(str(exc).split())
            where, where_path, what = _locate(element, plan, path) or (element, path, reason)
            model = self.mtype.id if self.mtype else "the message model"
            error = BindingError(
                f"{local_name(where.tag)} does not fit {model}: {what}",
                line=where.sourceline,
                path=where_path,
                hint="run `paymsg validate` for every finding",
            )
            raise NotStreamable(f"{path} does not bind", error) from None

    def _same_twice(self, first: Any, second: Any, path: str) -> None:
        """CNAPS2 text is relayed as received only if binding its body again gives an
        equal document (``serialize``'s test): a NaN amount is not equal to itself."""
        try:
            same = bool(first == second)
        except ArithmeticError:  # a signalling NaN refuses the comparison
            same = False
        if not same:
            raise NotStreamable(f"{path} does not bind to an equal value twice")

    def _check_depth(self, element: etree._Element, depth: int) -> None:
        levels = self.limits.max_depth + 1 - depth
        if levels < 1 or _deeper_than(levels)(element):
            self._too_deep()

    def _too_deep(self) -> None:
        raise UnsafeXMLError(
            f"elements are nested deeper than {self.limits.max_depth} levels",
            hint="raise Limits.max_depth if this is a genuine message",
        )

    def _release(self, frame: _Frame, element: etree._Element) -> None:
        """Drop a finished child, and the comments before it, from its container."""
        _blank(element.tail, frame.name)
        element.clear(keep_tail=False)
        parent = frame.element
        while element.getprevious() is not None:
            del parent[0]
        parent.remove(element)

    # -- JSON -------------------------------------------------------------------------

    def _json_member(self, frame: _Frame, child: fast.Child) -> int:
        """Write what precedes a member's value (key, array bracket, separators) the way
        ``json.dumps(indent=2)`` does; return the nesting level of the value."""
        pad = "\n" + "  " * (frame.level + 1)
        if frame.open_list is not None and frame.open_list is not child:
            self.sink.write(pad + "]")
            frame.open_list = None
        if child.repeated and frame.open_list is child:
            self.sink.write(",\n" + "  " * (frame.level + 2))
            return frame.level + 2
        key = json.dumps(local_name(child.qname), ensure_ascii=False)
        self.sink.write(("," if frame.keys else "") + pad + key + ": ")
        frame.keys += 1
        if child.repeated:
            frame.open_list = child
            self.sink.write("[\n" + "  " * (frame.level + 2))
            return frame.level + 2
        return frame.level + 1

    def _json_child(self, frame: _Frame, child: fast.Child, value: Any) -> None:
        level = self._json_member(frame, child)
        text = json.dumps(_value_out(value), ensure_ascii=False, indent=2)
        self.sink.write(text.replace("\n", "\n" + "  " * level))

    def _json_close(self, frame: _Frame) -> None:
        if frame.open_list is not None:
            self.sink.write("\n" + "  " * (frame.level + 1) + "]")
        self.sink.write(("\n" + "  " * frame.level + "}") if frame.keys else "}")
        if frame.depth == 0:
            self.sink.write("\n}\n")

    # -- XML --------------------------------------------------------------------------

    def _xml_before_child(self, frame: _Frame) -> None:
        """Flush the container's start tag if it waits, then the line break."""
        if frame.pending:
            frame.pending = False
            tag = f"<{frame.name}{frame.extra}>"
            self.doc_bytes += 2 * frame.level + _utf8(tag)
            if not frame.silent:
                self.sink.write("  " * (self.xml_base + frame.level) + tag)
        self.doc_bytes += 1
        if not (frame.silent and frame.depth == 0):
            self.sink.write("\n")

    def _xml_child(self, frame: _Frame, child: fast.Child, value: Any) -> None:
        self._xml_before_child(frame)
        level = frame.level + 1
        tag = local_name(child.qname)
        out: list[str] = []
        if child.plan is not None:
            if type(value) is not child.plan.cls:
                raise NotStreamable(f"{tag} holds a {type(value).__name__}")
            try:
                fast._write(value, child.plan, tag, out, "  " * level)
            except fast.Unsupported as exc:
                raise NotStreamable(f"{tag} needs xsdata's serializer ({exc})") from None
        else:
            assert child.encode is not None
            out.append(f"{'  ' * level}<{tag}>{fast._escape_text(child.encode(value))}</{tag}>")
        text = "".join(out)
        self.doc_bytes += _utf8(text)
        self.sink.write(self._reindented(text, level) if self.wrapped else text)

    def _reindented(self, text: str, level: int) -> str:
        """What lxml writes for this child once the Document sits in its wrapper
        (``fill_wrapper`` parses the Document and indents it at the wrapper's depth)."""
        element = etree.fromstring(text.encode("utf-8"), self.parser)
        etree.indent(element, space="  ", level=self.xml_base + level)
        serialized = etree.tostring(element, encoding="UTF-8", with_tail=False).decode("utf-8")
        return "  " * (self.xml_base + level) + serialized

    def _xml_close(self, frame: _Frame) -> None:
        pad = "  " * (self.xml_base + frame.level)
        if frame.pending:
            tag = f"<{frame.name}{frame.extra}/>"
            self.doc_bytes += 2 * frame.level + _utf8(tag)
            if frame.silent:
                raise NotStreamable(f"{frame.name} is empty")
            self.sink.write(pad + tag)
        else:
            tag = f"</{frame.name}>"
            self.doc_bytes += 1 + 2 * frame.level + _utf8(tag)
            if not frame.silent:
                self.sink.write("\n" + pad + tag)
        if frame.depth == 0 and not self.wrapped:
            self.sink.write("\n\n")  # render() and document_xml() each end with one

    # -- the end ----------------------------------------------------------------------

    def _finish(self, file: IO[bytes]) -> None:
        assert self.root is not None
        if self.wrapped:
            if _too_deep(self.limits.max_depth)(self.root):
                self._too_deep()
            self._finish_wrapped()
        elif self.relay:
            # unchanged CNAPS2 text serializes to the bytes received: the whole input
            file.seek(0)
            shutil.copyfileobj(file, self.out)
        self.sink.flush()

    def _finish_wrapped(self) -> None:
        self.sink.flush()
        assert self.spool is not None
        if self.to == "json":
            self.out.write(self._json_head().encode("utf-8"))
        else:
            if self.exact_limits and self.doc_bytes > DEFAULT_LIMITS.max_bytes:  # fill_wrapper
                raise NotStreamable("the Document is larger than fill_wrapper accepts")
            prefix, suffix = self._wrapper_text()
            self.out.write(XML_DECLARATION + prefix)
        self.spool.seek(0)
        shutil.copyfileobj(self.spool, self.out)
        if self.to == "xml":
            self.out.write(suffix + b"\n")
        self.sink = _Sink(self.out)

    def _wrapper_text(self) -> tuple[bytes, bytes]:
        """The wrapper as ``serialize`` writes it, cut where the message element's
        children go: the Document is a placeholder holding one marker child."""
        assert self.mtype is not None
        envelope = self._business_envelope()
        ns = fast._escape_attr(self.mtype.namespace)
        root, message = self.mtype.root, self.message_name
        placeholder = (
            f'<{root} xmlns="{ns}">\n  <{message}>\n    <{_SLOT}/>\n  </{message}>\n</{root}>\n'
        )
        parts = {"Document": XML_DECLARATION + placeholder.encode("utf-8") + b"\n"}
        if envelope.header is not None:
            header_type = catalog().get(envelope.header_type or "head.001.001.02")
            parts["AppHdr"] = document_xml(envelope.header, header_type)
        wrapper = fill_wrapper(envelope.wrapper or DEFAULT_WRAPPER, parts)
        rendered = etree.tostring(wrapper, encoding="UTF-8")
        slot = f"<{_SLOT}/>".encode()
        if rendered.count(slot) != 1:
            raise NotStreamable("the placeholder is not in the wrapper once")
        at = rendered.index(slot)
        indent = re.search(rb"\n( *)\Z", rendered[:at])
        if indent is None or len(indent.group(1)) != 2 * (self.xml_base + 2):
            raise NotStreamable("the wrapper does not indent the Document as expected")
        return rendered[: indent.start()], rendered[at + len(slot) :]


# --------------------------------------------------------------------------- helpers


def _child_of(frame: _Frame, element: etree._Element) -> fast.Child:
    child = frame.shape.plan.children.get(element.tag)
    if child is None:
        raise NotStreamable(f"{element.tag} is not part of {frame.name}")
    return child


def _plain(plan: fast.Plan, name: str) -> None:
    """A container must be children only: no attributes, text or wildcard."""
    if plan.wildcard or plan.attributes or plan.text is not None:
        raise NotStreamable(f"{name} is not a plain container")


def _path(frame: _Frame, child: fast.Child, name: str) -> str:
    count = frame.counts.get(name, 0) + 1
    frame.counts[name] = count
    return f"{frame.path}/{name}[{count}]" if child.repeated else f"{frame.path}/{name}"


def _locate(
    element: etree._Element, plan: fast.Plan, path: str
) -> tuple[etree._Element, str, str] | None:
    """The first element below ``element`` whose value or name the model refuses, with its
    path and what is wrong: where an error the stream reports itself points."""
    for qname, _, decode, _ in plan.attributes:
        value = element.get(qname)
        if value is not None and not _decodes(decode, value):
            return element, path, f"attribute {local_name(qname)} {value!r} is not valid"
    seen: dict[str, int] = {}
    for node in element:
        if not isinstance(node.tag, str):
            continue
        name = local_name(node.tag)
        seen[name] = seen.get(name, 0) + 1
        child = plan.children.get(node.tag)
        if child is None:
            return node, f"{path}/{name}", f"{name} is not expected here"
        below = f"{path}/{name}[{seen[name]}]" if child.repeated else f"{path}/{name}"
        if child.plan is not None:
            found = _locate(node, child.plan, below)
            if found is not None:
                return found
        elif child.decode is not None and not _decodes(child.decode, node.text or ""):
            return node, below, f"{node.text!r} is not a valid value"
    text = plan.text
    if text is not None and element.text is not None and not _decodes(text[1], element.text):
        return element, path, f"{element.text!r} is not a valid value"
    return None


def _decodes(decode: Callable[[str], Any], text: str) -> bool:
    try:
        decode(text)
    except (fast.Unsupported, ValueError, TypeError, ArithmeticError):
        return False
    return True


def _blank(text: str | None, where: str) -> None:
    if text is not None and text.strip(_XML_SPACE):
        raise NotStreamable(f"text content in {where}")


def _depth_of(element: etree._Element) -> int:
    return 1 + sum(1 for _ in element.iterancestors())


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))
