"""Safe XML reading: the only place paymsg turns untrusted bytes into an lxml tree.

DTD loading, entity resolution and network access are always off; a document that
declares a DOCTYPE (and so possibly entities) is refused outright; size and nesting
depth are limited. Limits are configurable through :class:`Limits`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from lxml import etree

from paymsg.errors import MalformedXMLError, UnsafeXMLError


@dataclass(frozen=True, slots=True)
class Limits:
    """Input limits. The defaults suit payment messages, including large BEPS packages."""

    max_bytes: int = 256 * 1024 * 1024
    max_depth: int = 64


DEFAULT_LIMITS = Limits()


@cache
def too_deep(max_depth: int) -> etree.XPath:
    """True when an element sits deeper than ``max_depth`` (compiled once per limit)."""
    return etree.XPath("boolean(" + "/*" * (max_depth + 1) + ")")


@cache
def _deeper_than(steps: int) -> etree.XPath:
    """True when an element has a descendant ``steps`` levels below it."""
    return etree.XPath("boolean(" + "/".join(["*"] * steps) + ")")


def too_deep_below(element: etree._Element, max_depth: int) -> bool:
    """Whether ``element`` or an element below it sits deeper than ``max_depth`` levels in
    its document (the root is level 1); only ``element``'s subtree is walked."""
    level = 1 + sum(1 for _ in element.iterancestors())
    if level > max_depth:
        return True
    return bool(_deeper_than(max_depth - level + 1)(element))


_LOCAL = threading.local()


def _parser() -> etree.XMLParser:
    """The safe parser, one per thread (lxml parsers must not be shared between threads)."""
    parser: etree.XMLParser | None = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = _new_parser()
    return parser


def _new_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        collect_ids=False,
    )


def check_size(data: bytes, limits: Limits = DEFAULT_LIMITS, source: str | None = None) -> None:
    if len(data) > limits.max_bytes:
        raise UnsafeXMLError(
            f"input is {len(data):,} bytes, over the limit of {limits.max_bytes:,}",
            source=source,
            hint="raise Limits.max_bytes, or stream the document",
        )


def parse_xml(
    data: bytes,
    *,
    source: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    line_offset: int = 0,
) -> etree._Element:
    """Parse ``data`` safely and return the root element.

    ``line_offset`` is added to reported line numbers (for XML that follows a
    CNAPS2 header in the same text).
    """
    check_size(data, limits, source)
    try:
        tree = etree.fromstring(data, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc, data, source, line_offset) from None
    except ValueError as exc:  # e.g. unsupported encoding declarations
        raise MalformedXMLError(f"cannot decode XML: {exc}", source=source) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXMLError(
            "DOCTYPE and entity declarations are not allowed in payment messages",
            source=source,
            line=1 + line_offset,
            hint="remove the <!DOCTYPE ...> declaration",
        )
    root = tree.getroot()
    if too_deep(limits.max_depth)(root):
        raise UnsafeXMLError(
            f"elements are nested deeper than {limits.max_depth} levels",
            source=source,
            hint="raise Limits.max_depth if this is a genuine message",
        )
    return root


def iterparse(
    source: Any,
    *,
    events: tuple[str, ...],
    tag: Any = None,
    name: str | None = None,
    head: bytes = b"",
    keep_comments: bool = False,
) -> Iterator[tuple[str, etree._Element]]:
    """lxml ``iterparse`` with the safe settings; refuses a DOCTYPE (at the first event, or
    at the end when no event came) and turns syntax errors into paymsg errors (``name`` is
    the input's display name, ``head`` the first bytes of the input, which name a DOCTYPE
    that libxml2 gave up on before the first event, as newer libxml2 does on an entity
    bomb). Comments and processing instructions are dropped unless ``keep_comments``: they
    are not data, and libxml2 then joins the text around them."""
    options: dict[str, Any] = {"tag": tag} if tag is not None else {}
    events_iter = etree.iterparse(
        source,
        events=events,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=not keep_comments,
        remove_pis=not keep_comments,
        **options,
    )
    checked = False
    try:
        for event, element in events_iter:
            if not checked:
                checked = True
                _refuse_doctype(element.getroottree(), name)
            yield event, element
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc, head, name) from None
    root = getattr(events_iter, "root", None)
    if not checked and root is not None:
        _refuse_doctype(root.getroottree(), name)


def _refuse_doctype(tree: etree._ElementTree, name: str | None) -> None:
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnsafeXMLError(
            "DOCTYPE and entity declarations are not allowed in payment messages",
            source=name,
            line=1,
        )


_POSITION = re.compile(r",? line \d+, column \d+")
#: libxml2's advice to raise its limit: an option of the parser, not of the caller
_ADVICE = re.compile(r",? use XML_PARSE_HUGE option")
_LIMIT_WORDS = ("Excessive depth", "Resource limit", "huge", "xmlSAX2Characters")


def syntax_error(
    exc: etree.XMLSyntaxError, data: bytes, source: str | None, line_offset: int = 0
) -> UnsafeXMLError | MalformedXMLError:
    """The paymsg error for a libxml2 syntax error: a DOCTYPE or a parser limit is unsafe
    input, anything else is malformed; the location is ours (libxml2's text is stripped)."""
    line, column = exc.position if exc.position else (None, None)
    at = line + line_offset if line else None
    msg = _ADVICE.sub("", _POSITION.sub("", exc.msg or str(exc))).strip()
    if b"<!DOCTYPE" in data[:65536]:
        text = "DOCTYPE and entity declarations are not allowed in payment messages"
        return UnsafeXMLError(text, source=source, line=at, column=column)
    if any(word in msg for word in _LIMIT_WORDS):
        text = f"the XML breaks a parser limit: {msg}"
        return UnsafeXMLError(text, source=source, line=at, column=column)
    return MalformedXMLError(f"not well-formed XML: {msg}", source=source, line=at, column=column)


# --------------------------------------------------------------------------- lookups


@cache
def _path(tag: str, path: str) -> etree.XPath:
    """``path`` (child steps by local name, ``"GrpHdr/NbOfTxs"``) compiled for elements in
    the namespace of an element tagged ``tag``.

    Message parts keep one namespace throughout, so lookups use the namespace of the element
    they start from; a compiled path is evaluated in C without parsing tag names again.
    """
    steps = path.split("/")
    if any(not step.isalnum() for step in steps):
        raise ValueError(f"rule paths are child steps by local name, not {path!r}")
    if tag[:1] != "{":
        return etree.XPath(path)
    namespace = tag[1 : tag.index("}")]
    return etree.XPath("/".join(f"m:{step}" for step in steps), namespaces={"m": namespace})


def find(element: etree._Element | None, path: str) -> etree._Element | None:
    """The first element at ``path`` (child steps by local name) below ``element``."""
    if element is None:
        return None
    found = _path(element.tag, path)(element)
    return found[0] if found else None


def findall(element: etree._Element | None, path: str) -> list[etree._Element]:
    """Every element at ``path`` (child steps by local name) below ``element``, in order."""
    if element is None:
        return []
    found: list[etree._Element] = _path(element.tag, path)(element)
    return found


def text(element: etree._Element | None, path: str | None = None) -> str | None:
    """The stripped text of ``element`` (or of the element at ``path`` below it)."""
    target = element if path is None else find(element, path)
    if target is None or target.text is None:
        return None
    return str(target.text).strip()


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def namespace_of(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
