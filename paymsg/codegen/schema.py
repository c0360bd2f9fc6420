"""Prepare a schema for the generator: resolve its includes, keep what its elements reach.

Plain lxml: this part needs nothing from the ``codegen`` extra.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from paymsg.errors import CodegenError

XS = "http://www.w3.org/2001/XMLSchema"
_Q = f"{{{XS}}}"
_TYPE_TAGS = {f"{_Q}complexType", f"{_Q}simpleType"}
_DECL_TAGS = _TYPE_TAGS | {f"{_Q}element", f"{_Q}group", f"{_Q}attributeGroup", f"{_Q}attribute"}


def _parse_schema(path: Path) -> etree._ElementTree:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.parse(str(path), parser)
    except (OSError, etree.XMLSyntaxError) as exc:
        raise CodegenError(f"cannot read schema: {exc}", source=str(path)) from None


def check_schema(path: Path) -> None:
    """Compile ``path`` as an XML schema (with its includes and imports, no network): a
    type or element it names and never defines, or any other error of the schema, is a
    :class:`CodegenError` with the line; the generator would write a model without it."""
    tree = _parse_schema(path)
    try:
        etree.XMLSchema(tree)
    except etree.XMLSchemaParseError as exc:
        entry = exc.error_log.last_error if exc.error_log else None
        message = entry.message if entry is not None else str(exc)
        line = entry.line if entry is not None and entry.line else None
        where = entry.filename if entry is not None and entry.filename else str(path)
        raise CodegenError(f"not a valid schema: {message}", source=where, line=line) from None


def flatten_schema(path: Path) -> etree._Element:
    """Return one schema element holding ``path``'s declarations and its includes.

    ``xs:include`` is resolved recursively (chameleon includes take the including
    schema's namespace, which is what moving their declarations does). ``xs:import``
    is kept as it is, with its location made absolute.
    """
    root = _parse_schema(path).getroot()
    if root.tag != f"{_Q}schema":
        raise CodegenError("not an XML schema (root is not xs:schema)", source=str(path))
    seen: set[Path] = {path.resolve()}

    def absorb(schema: etree._Element, base: Path) -> list[etree._Element]:
        out: list[etree._Element] = []
        for child in schema:
            if child.tag == f"{_Q}include":
                location = child.get("schemaLocation")
                if not location:
                    raise CodegenError("xs:include without schemaLocation", source=str(base))
                target = (base.parent / location).resolve()
                if target in seen:
                    continue
                seen.add(target)
                out.extend(absorb(_parse_schema(target).getroot(), target))
            elif child.tag == f"{_Q}import" and child.get("schemaLocation"):
                location = child.get("schemaLocation", "")
                if "://" in location:
                    raise CodegenError(
                        f"xs:import of {location}: code generation reads local files only",
                        source=str(base),
                        hint="download the imported schema and point schemaLocation at it",
                    )
                child.set("schemaLocation", (base.parent / location).resolve().as_uri())
                out.append(child)
            elif isinstance(child.tag, str):
                out.append(child)
        return out

    declarations = absorb(root, path)
    for child in list(root):
        root.remove(child)
    for child in declarations:
        root.append(child)
    return root


def prune_schema(schema: etree._Element) -> etree._Element:
    """Drop the named types and groups that no global element reaches."""
    named: dict[str, etree._Element] = {}
    for child in schema:
        if child.tag in _DECL_TAGS and child.get("name") and child.tag != f"{_Q}element":
            named[child.get("name", "")] = child
    roots = [c for c in schema if c.tag == f"{_Q}element"]
    if not roots:
        return schema  # nothing to anchor on: keep every type

    reached: set[str] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        for el in node.iter():
            for attr in ("type", "base", "ref", "itemType", "memberTypes"):
                for value in (el.get(attr) or "").split():
                    local = value.rsplit(":", 1)[-1]
                    prefix = value.split(":", 1)[0] if ":" in value else None
                    if prefix is not None and el.nsmap.get(prefix) == XS:
                        continue
                    if local in named and local not in reached:
                        reached.add(local)
                        stack.append(named[local])
    for name, node in named.items():
        if name not in reached:
            schema.remove(node)
    return schema
