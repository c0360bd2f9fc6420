"""Write an XSD from a message-structure description (``reference/iso20022-messages/<id>.md``).

Usage: ``python -m codegen.reference_xsd DESCRIPTION.md OUTPUT.xsd``.

The description lists the facts of an ISO 20022 message definition (complex types with
their children in order and occurrences, choice groups, simple content, simple types
with their facets). This tool writes those facts out as a self-contained schema in the
layout of the other schemas under ``xsd/``; nothing is copied from an official file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr

_HEAD = re.compile(r"^### (\w+) \((sequence|choice)\)$")
_SIMPLE_CONTENT = re.compile(
    r"^- \*\*(\w+)\*\*: value of `(\w+)` with @(\w+) (\w+) \((required|optional)\)$"
)
_ROW = re.compile(r"^\| (.*?) \| (.*?) \| (.*?) \|$")
_BUILTIN = {"string", "decimal", "date", "dateTime", "boolean", "time", "gYear", "base64Binary"}


def _occurs(text: str) -> str:
    low, high = text.split("..")
    out = ""
    if low != "1":
        out += f' minOccurs="{low}"'
    if high != "1":
        out += ' maxOccurs="unbounded"' if high == "n" else f' maxOccurs="{high}"'
    return out


def _type(name: str) -> str:
    return f"xs:{name}" if name in _BUILTIN else name


def _facets(text: str) -> list[str]:
    out: list[str] = []
    text = text.strip()
    if not text:
        return out
    if text.startswith("one of "):
        return [f"<xs:enumeration value={quoteattr(v.strip())}/>" for v in text[7:].split(",")]
    for part in text.split("; "):
        key, _, value = part.partition(" ")
        out.append(f"<xs:{key} value={quoteattr(value)}/>")
    return out


def convert(md: str) -> str:
    lines = md.splitlines()
    ns = re.search(r"namespace: `([^`]+)`", md)
    if ns is None:
        raise SystemExit("no namespace line")
    namespace = ns.group(1)
    glob = re.search(r"global element: `(\w+)` of type `(\w+)`", md)
    if glob is None:
        raise SystemExit("no global element line")
    types: dict[str, list[str]] = {}
    i = 0
    section = ""
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        head = _HEAD.match(line)
        sc = _SIMPLE_CONTENT.match(line)
        if head:
            name, kind = head.groups()
            rows: list[tuple[str, str, str]] = []
            i += 1
            while i < len(lines) and not lines[i].startswith(("### ", "- **", "## ")):
                m = _ROW.match(lines[i])
                if m and m.group(1) not in ("element", "---"):
                    rows.append((m.group(1).strip(), m.group(2).strip(), m.group(3).strip()))
                i += 1
            types[name] = _complex(name, kind, rows)
            continue
        if sc:
            name, base, attr, atype, use = sc.groups()
            types[name] = [
                f'  <xs:complexType name="{name}">',
                "    <xs:simpleContent>",
                f'      <xs:extension base="{base}">',
                f'        <xs:attribute name="{attr}" type="{_type(atype)}" use="{use}"/>',
                "      </xs:extension>",
                "    </xs:simpleContent>",
                "  </xs:complexType>",
            ]
        elif section == "Simple types":
            m = _ROW.match(line)
            if m and m.group(1) not in ("type", "---"):
                name, base, facets = (g.strip() for g in m.groups())
                body = [
                    f'  <xs:simpleType name="{name}">',
                    f'    <xs:restriction base="xs:{base}">',
                ]
                body += [f"      {f}" for f in _facets(facets)]
                body += ["    </xs:restriction>", "  </xs:simpleType>"]
                types[name] = body
        i += 1
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<!-- paymsg: ISO 20022 message definition {namespace.rsplit(':', 1)[1]},"
        " written from the published message structure. -->",
        f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="{namespace}"'
        f' targetNamespace="{namespace}" elementFormDefault="qualified">',
        f'  <xs:element name="{glob.group(1)}" type="{glob.group(2)}"/>',
    ]
    for name in sorted(types):
        out += types[name]
    out.append("</xs:schema>")
    return "\n".join(out) + "\n"


def _particle(element: str, type_: str, occurs: str, indent: str) -> str:
    if element.startswith("(any element"):
        ns = element[len("(any element, ") : -1].split(", ")
        return f'{indent}<xs:any namespace="{ns[0]}" processContents="{ns[1]}"{_occurs(occurs)}/>'
    return f'{indent}<xs:element name="{element}" type="{_type(type_)}"{_occurs(occurs)}/>'


def _complex(name: str, kind: str, rows: list[tuple[str, str, str]]) -> list[str]:
    out = [f'  <xs:complexType name="{name}">']
    if kind == "choice":
        out.append("    <xs:choice>")
        for element, type_, occurs in rows:
            if element.startswith("(choice"):
                continue
            out.append(_particle(element.lstrip("· ").strip(), type_, occurs, "      "))
        out.append("    </xs:choice>")
    else:
        out.append("    <xs:sequence>")
        in_choice = False
        for element, type_, occurs in rows:
            if element.startswith("(choice"):
                if in_choice:
                    out.append("      </xs:choice>")
                occ = element[len("(choice ") : -1]
                out.append(f"      <xs:choice{_occurs(occ)}>")
                in_choice = True
                continue
            if element.startswith("·"):
                out.append(_particle(element.lstrip("· ").strip(), type_, occurs, "        "))
                continue
            if in_choice:
                out.append("      </xs:choice>")
                in_choice = False
            out.append(_particle(element, type_, occurs, "      "))
        if in_choice:
            out.append("      </xs:choice>")
        out.append("    </xs:sequence>")
    out.append("  </xs:complexType>")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    Path(argv[1]).write_text(convert(Path(argv[0]).read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
