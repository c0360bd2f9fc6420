"""ISO 20022 envelopes: find ``AppHdr`` and ``Document`` inside any wrapper and put them back.

A tolerant reader: the wrapper may have any name and namespace (SWIFT ``Envelope``,
``DataPDU``, ``BizMsgEnvlp``, ``FedNowIncoming``, ``BusinessMessage``, ``RequestPayload``…)
and the ISO parts may use any prefix. The wrapper is kept as XML with two slot markers so
that serialization restores it, with every other piece of content it had.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from paymsg.codec.message import SLOT_NS
from paymsg.codec.xml.safe import local_name, namespace_of, parse_xml
from paymsg.errors import EnvelopeError, UnknownMessageTypeError
from paymsg.schema.catalog import MessageType, catalog

DEFAULT_WRAPPER = (
    f'<BusinessMessage><slot xmlns="{SLOT_NS}" name="AppHdr"/>'
    f'<slot xmlns="{SLOT_NS}" name="Document"/></BusinessMessage>'
)


@dataclass(slots=True)
class IsoParts:
    document: etree._Element
    document_type: MessageType
    header: etree._Element | None
    header_type: MessageType | None
    wrapper: str | None


def part_type(tag: str) -> MessageType | None:
    """The catalogued message type whose part (``Document`` or ``AppHdr``) an element with
    this Clark name is, or None: the one test by which every reader recognises a part."""
    mtype = catalog().by_namespace(namespace_of(tag))
    if mtype is not None and mtype.root == local_name(tag):
        return mtype
    return None


def split_parts(root: etree._Element, *, source: str | None = None) -> IsoParts:
    """Locate the ISO ``Document`` (and ``AppHdr``) in a parsed XML tree."""
    own = part_type(root.tag)
    if own is not None:
        return IsoParts(root, own, None, None, None)

    document = header = None
    document_type = header_type = None
    for element in root.iter(tag=etree.Element):
        if element is root:
            continue
        if namespace_of(element.tag) == SLOT_NS:
            raise EnvelopeError(
                "the input contains paymsg's own slot marker element; refusing it",
                source=source,
                line=element.sourceline,
            )
        name = local_name(element.tag)
        if name not in ("Document", "AppHdr"):
            continue
        known = part_type(element.tag)
        if known is None:
            continue
        # ``is not None``: an element's truth value is whether it has children, so an empty
        # first AppHdr must still count as found
        if (name == "Document" and document is not None) or (
            name == "AppHdr" and header is not None
        ):
            raise EnvelopeError(
                f"the wrapper holds more than one {name}; one message per input",
                source=source,
                line=element.sourceline,
            )
        if name == "Document":
            document, document_type = element, known
        else:
            header, header_type = element, known
    if document is None or document_type is None:
        if header is not None and header_type is not None:
            raise UnknownMessageTypeError(
                f"wrapper <{local_name(root.tag)}> holds a business application header "
                "but no catalogued ISO 20022 Document",
                source=source,
                line=root.sourceline,
            )
        ns = namespace_of(root.tag)
        raise UnknownMessageTypeError(
            f"no catalogued message found: root element <{local_name(root.tag)}>"
            + (f" in namespace {ns}" if ns else " without a namespace"),
            source=source,
            line=root.sourceline,
            hint="`paymsg schemas list` shows the catalogued types and their namespaces",
        )
    skeleton = _skeleton(root, document, header)
    # the default wrapper is what serialization writes when there is none: keeping it as
    # None gives one representation (XML, JSON and Message round trips are equal)
    wrapper = None if header is not None and skeleton == DEFAULT_WRAPPER else skeleton
    return IsoParts(document, document_type, header, header_type, wrapper)


def _index_path(root: etree._Element, element: etree._Element) -> list[int]:
    path = []
    node = element
    while node is not root:
        parent = node.getparent()
        assert parent is not None
        path.append(parent.index(node))
        node = parent
    return list(reversed(path))


def _skeleton(root: etree._Element, document: etree._Element, header: etree._Element | None) -> str:
    """The wrapper's XML with slot markers where the parts were."""
    copied = copy.deepcopy(root)
    targets = [("Document", _index_path(root, document))]
    if header is not None:
        targets.append(("AppHdr", _index_path(root, header)))
    located = []
    for name, path in targets:
        node = copied
        for index in path:
            node = node[index]
        located.append((name, node))
    for name, node in located:
        slot = etree.Element(f"{{{SLOT_NS}}}slot", nsmap={None: SLOT_NS}, name=name)
        slot.tail = node.tail
        parent = node.getparent()
        assert parent is not None
        parent.replace(node, slot)
    etree.cleanup_namespaces(copied)
    return etree.tostring(copied, encoding="unicode")


def fill_wrapper(wrapper: str, parts: dict[str, bytes]) -> etree._Element:
    """Rebuild a wrapper: each slot marker replaced by the XML given for its name.

    The wrapper must have exactly one slot per part given (a slot for a part that is gone,
    e.g. a removed header, is dropped).
    """
    root = parse_xml(wrapper.encode("utf-8"), source="wrapper")
    slots = list(root.iter(f"{{{SLOT_NS}}}slot"))
    names = [slot.get("name", "") for slot in slots]
    for name in parts:
        if names.count(name) != 1:
            raise EnvelopeError(
                f"the wrapper has {names.count(name)} slots for the {name}; it needs exactly one"
            )
    for slot in slots:
        name = slot.get("name", "")
        parent = slot.getparent()
        if parent is None:
            raise EnvelopeError("a slot cannot be the wrapper's root element")
        if name not in parts:
            parent.remove(slot)
            continue
        element = parse_xml(parts[name], source=name)
        element.tail = slot.tail
        depth = sum(1 for _ in slot.iterancestors())
        etree.indent(element, space="  ", level=depth)
        parent.replace(slot, element)
    return root
