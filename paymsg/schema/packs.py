"""Schema packs: a user's own XSDs registered at run time as message types.

A pack is a directory holding

* ``pack.toml``: ``[pack]`` (name, format, build id) and one ``[[message]]`` row per
  message type, laid out like ``xsd/catalog.toml``; every row is read from the schema
  itself (id from the namespace, root ``Document``, message element, family);
* ``xsd/``: a copy of the XSDs and of every local file they include or import;
* ``models/``: the dataclasses paymsg's generator made from them.

Packs come from two places: the pack store ``<PAYMSG_HOME>/packs/<name>/`` (written by
:func:`add_pack` / ``paymsg schemas add``), and Python distributions that declare an entry
point in the group ``paymsg.packs`` whose value is a directory (relative to the
distribution) or a module whose directory holds ``pack.toml``. Their rows join the one
catalogue (:func:`paymsg.schema.catalog.catalog`), so detection, parsing, validation,
JSON and streaming treat them like paymsg's own types.

A usage-guideline pack may share a namespace with another type. Such a namespace is never
guessed: detection names the candidates, and the caller chooses with :func:`use_pack`
(``schema_pack=`` in the API, ``--schema-pack`` on the command line) or the
``PAYMSG_SCHEMA_PACK`` environment variable. ``builtin`` chooses paymsg's own type.
"""

from __future__ import annotations

import contextvars
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import tomllib
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from paymsg.errors import ConfigError, InputError, UnknownMessageTypeError
from paymsg.schema.catalog import MessageType, builtin_catalog, catalog

#: entry point group through which a distribution ships packs
ENTRY_POINT_GROUP = "paymsg.packs"
#: the name that chooses paymsg's own (built-in) type when a namespace is shared
BUILTIN = "builtin"
#: environment variable naming the pack chosen when a namespace is shared
SELECT_ENV = "PAYMSG_SCHEMA_PACK"
FORMAT = 1

_ISO_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:([a-z]{4}\.\d{3}\.\d{3}\.\d{2})$")
_TYPE_ID = re.compile(r"^[a-z][a-z0-9]*(\.[A-Za-z0-9_-]+)+$")
_PACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_XS = "{http://www.w3.org/2001/XMLSchema}"
_REFERENCES = {f"{_XS}include", f"{_XS}import", f"{_XS}redefine", f"{_XS}override"}


def paymsg_home() -> Path:
    """Where paymsg keeps user data: ``PAYMSG_HOME``, else the platform's convention
    (``$XDG_DATA_HOME/paymsg`` or ``~/.local/share/paymsg`` on Linux,
    ``~/Library/Application Support/paymsg`` on macOS, ``%LOCALAPPDATA%\\paymsg`` on Windows)."""
    explicit = os.environ.get("PAYMSG_HOME")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else Path.home() / "AppData" / "Local") / "paymsg"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "paymsg"
    data = os.environ.get("XDG_DATA_HOME")
    return (Path(data) if data else Path.home() / ".local" / "share") / "paymsg"


def store(base: Path | None = None) -> Path:
    """The pack store: ``<home>/packs``."""
    return (base or paymsg_home()) / "packs"


@dataclass(frozen=True)
class Pack:
    """One installed pack: its name, directory, where it came from, and its types."""

    name: str
    path: Path
    origin: str  # "home" or "entry point"
    distribution: str | None
    types: tuple[MessageType, ...]

    @property
    def source(self) -> str:
        """Where the pack comes from, for people: ``pack NAME at PATH`` or
        ``entry point DIST (pack NAME at PATH)``."""
        if self.origin == "entry point":
            return f"entry point {self.distribution} (pack {self.name} at {self.path})"
        return f"pack {self.name} at {self.path}"


# --------------------------------------------------------------------------- reading packs


def _read_manifest(directory: Path, label: str) -> dict[str, Any]:
    manifest = directory / "pack.toml"
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read schema pack {label}: {exc}", source=str(manifest)) from None
    return data


def _package_name(directory: Path, build: str) -> str:
    digest = hashlib.sha256(f"{directory.resolve()}\0{build}".encode()).hexdigest()[:16]
    return f"paymsg_pack_{digest}"


def _register_models(package: str, models: Path) -> None:
    """Make the pack's ``models/`` importable as ``package`` (once per process)."""
    if package in sys.modules:
        return
    init = models / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        package, init, submodule_search_locations=[str(models)]
    )
    if spec is None or spec.loader is None:
        raise ConfigError("the pack's models cannot be imported", source=str(models))
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[package]
        raise ConfigError(
            f"the pack's models cannot be imported: {exc}", source=str(init)
        ) from None


def load_pack(
    directory: Path, *, origin: str = "home", distribution: str | None = None, name: str = ""
) -> Pack:
    """Read the pack in ``directory`` (its ``pack.toml``) and make its models importable."""
    label = name or directory.name
    data = _read_manifest(directory, label)
    head = data.get("pack", {})
    pack_name = name or head.get("name") or directory.name
    if head.get("format") != FORMAT:
        raise ConfigError(
            f"schema pack {pack_name} has format {head.get('format')!r}; "
            f"this paymsg reads format {FORMAT}",
            source=str(directory / "pack.toml"),
        )
    package = _package_name(directory, str(head.get("build", "")))
    rows = []
    for index, row in enumerate(data.get("message", []), start=1):
        row = dict(row)
        schema = directory / str(row.pop("schema", ""))
        module = str(row.get("module", ""))
        try:
            rows.append(
                MessageType(
                    **row | {"module": f"{package}.{module}", "pack": pack_name},
                    schema_file=str(schema),
                )
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"schema pack {pack_name}: message row {index} is invalid: {exc}",
                source=str(directory / "pack.toml"),
            ) from None
        if not schema.is_file() or not (directory / "models" / f"{module}.py").is_file():
            raise ConfigError(
                f"schema pack {pack_name} is incomplete: {row.get('id')} has no schema or models",
                source=str(directory),
                hint=f"add it again: paymsg schemas add ... --pack {pack_name} --replace",
            )
    _register_models(package, directory / "models")
    return Pack(pack_name, directory, origin, distribution, tuple(rows))


def _home_packs(base: Path) -> list[Pack]:
    root = store(base)
    if not root.is_dir():
        return []
    return [
        load_pack(entry)
        for entry in sorted(root.iterdir())
        if entry.is_dir() and not entry.name.startswith(".") and (entry / "pack.toml").is_file()
    ]


def _entry_point_directory(ep: importlib.metadata.EntryPoint) -> Path:
    value = ep.value.strip()
    dist = ep.dist
    if "/" in value or "\\" in value or value in (".", ""):
        path = Path(value)
        if not path.is_absolute() and dist is not None:
            path = Path(str(dist.locate_file(value)))
        return path
    try:
        spec = importlib.util.find_spec(value.split(":", 1)[0])
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"entry point {ep.name} = {value}: {exc}") from None
    if spec is None or spec.origin is None:
        raise ConfigError(f"entry point {ep.name} = {value}: no such module")
    return Path(spec.origin).parent


def _entry_point_packs() -> list[Pack]:
    packs = []
    for ep in sorted(
        importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name
    ):
        directory = _entry_point_directory(ep)
        dist = ep.dist.name if ep.dist is not None else "?"
        if not (directory / "pack.toml").is_file():
            raise ConfigError(
                f"entry point {ep.name} of {dist} ({ENTRY_POINT_GROUP}) names {directory}, "
                "which holds no pack.toml"
            )
        packs.append(load_pack(directory, origin="entry point", distribution=dist, name=ep.name))
    return packs


def installed(base: Path | None = None) -> list[Pack]:
    """Every pack: those in the store under ``base`` (default :func:`paymsg_home`), then those
    shipped through entry points. Two packs of one name are a :class:`ConfigError`."""
    packs = _home_packs(base or paymsg_home()) + _entry_point_packs()
    seen: dict[str, Pack] = {}
    for pack in packs:
        if pack.name == BUILTIN:
            raise ConfigError(f"a schema pack may not be named {BUILTIN!r}", source=str(pack.path))
        if pack.name in seen:
            raise ConfigError(
                f"two schema packs are named {pack.name}: {seen[pack.name].source} and "
                f"{pack.source}",
                hint=f"remove one (paymsg schemas remove {pack.name})",
            )
        seen[pack.name] = pack
    return packs


#: the packs the catalogue last loaded, by name (replaced whole on every load)
_LOADED: dict[str, Pack] = {}


def pack_rows() -> list[MessageType]:
    """The catalogue rows of every installed pack (the catalogue calls this when it loads)."""
    rows = []
    origin: dict[str, str] = {t.id: "built in" for t in builtin_catalog()}
    packs = installed()
    global _LOADED
    _LOADED = {p.name: p for p in packs}
    for pack in packs:
        for row in pack.types:
            if row.id in origin:
                raise ConfigError(
                    f"message type {row.id} is defined twice: {origin[row.id]} and {pack.source}",
                    hint="each type id is defined once; remove one of the packs",
                )
            origin[row.id] = pack.source
            rows.append(row)
    return rows


def reload() -> None:
    """Read the packs again (the catalogue reads them once per process, when first asked)."""
    catalog.cache_clear()


def source_of(mtype: MessageType) -> str:
    """Where a catalogued type comes from: ``built in``, ``pack NAME at PATH`` or
    ``entry point DIST (pack NAME at PATH)``."""
    if mtype.pack is None:
        return "built in"
    catalog()  # loads the packs
    pack = _LOADED.get(mtype.pack)
    return pack.source if pack is not None else f"pack {mtype.pack}"


# --------------------------------------------------------------------------- choosing


_SELECTED: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "paymsg_schema_pack", default=None
)


def selected() -> str | None:
    """The pack chosen for shared namespaces: :func:`use_pack`, else ``PAYMSG_SCHEMA_PACK``."""
    return _SELECTED.get() or os.environ.get(SELECT_ENV) or None


@contextmanager
def use_pack(name: str | None) -> Iterator[None]:
    """Within the block, a namespace several types share resolves to pack ``name``'s type
    (``builtin``: paymsg's own). ``None`` changes nothing. An unknown name is an error."""
    if name is None:
        yield
        return
    check_pack_name(name)
    token = _SELECTED.set(name)
    try:
        yield
    finally:
        _SELECTED.reset(token)


def check_pack_name(name: str) -> None:
    """Refuse a pack name that is neither ``builtin`` nor an installed pack."""
    known = {t.pack for t in catalog() if t.pack is not None}
    if name != BUILTIN and name not in known:
        listed = ", ".join(sorted(known | {BUILTIN}))
        raise InputError(f"no schema pack named {name!r}", hint=f"known: {listed}")


def choose(namespace: str, candidates: Sequence[MessageType]) -> MessageType:
    """The one of ``candidates`` (types sharing ``namespace``) the chosen pack names, or an
    error naming them all: a shared namespace is never guessed."""
    wanted = selected()
    for mtype in candidates:
        if wanted is not None and (mtype.pack or BUILTIN) == wanted:
            return mtype
    names = ", ".join(f"{t.id} ({t.pack or BUILTIN})" for t in candidates)
    chosen = f"; pack {wanted!r} has none of them" if wanted else ""
    raise UnknownMessageTypeError(
        f"namespace {namespace} is shared by several message types: {names}{chosen}",
        hint=f"choose one with --schema-pack NAME (CLI), schema_pack= (API) or {SELECT_ENV}",
    )


# --------------------------------------------------------------------------- adding packs


def _generator() -> Any:
    """The one generator (``paymsg.codegen``), or a :class:`CodegenError` saying how to
    install the ``codegen`` extra it needs."""
    from paymsg import codegen

    codegen.require_extra()
    return codegen


#: XSD files are read without DTDs, entities or network access
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _closure(paths: Sequence[Path]) -> list[Path]:
    """The schemas and every local file they include, import, redefine or override."""
    seen: dict[Path, None] = {}
    stack = [p.resolve() for p in paths]
    while stack:
        path = stack.pop()
        if path in seen:
            continue
        seen[path] = None
        try:
            root = etree.parse(str(path), _PARSER).getroot()
        except (OSError, etree.XMLSyntaxError) as exc:
            raise InputError(f"cannot read schema: {exc}", source=str(path)) from None
        for ref in root.iter(*_REFERENCES):
            location = ref.get("schemaLocation")
            if not location:
                continue
            if "://" in location:
                raise InputError(
                    f"{location} is not a local file: a pack holds local schemas only",
                    source=str(path),
                    line=ref.sourceline,
                    hint="download it and point schemaLocation at the local copy",
                )
            target = (path.parent / location).resolve()
            if not target.is_file():
                raise InputError(
                    f"schemaLocation {location} not found", source=str(path), line=ref.sourceline
                )
            stack.append(target)
    return list(seen)


def _named(schema: etree._Element, kind: str, name: str) -> etree._Element | None:
    local = name.rsplit(":", 1)[-1]
    for child in schema.iterchildren(f"{_XS}{kind}"):
        if child.get("name") == local:
            return child
    return None


def _complex_type(schema: etree._Element, element: etree._Element) -> etree._Element | None:
    inline = element.find(f"{_XS}complexType")
    if inline is not None:
        return inline
    type_name = element.get("type")
    return _named(schema, "complexType", type_name) if type_name else None


def _children(schema: etree._Element, ctype: etree._Element | None) -> list[etree._Element]:
    """The element declarations of a complex type's content (sequence or choice)."""
    if ctype is None:
        return []
    content = ctype
    extension = ctype.find(f"{_XS}complexContent/{_XS}extension")
    if extension is None:
        extension = ctype.find(f"{_XS}complexContent/{_XS}restriction")
    if extension is not None:
        content = extension
    out = []
    for group in content:
        if group.tag in (f"{_XS}sequence", f"{_XS}choice", f"{_XS}all"):
            out.extend(group.iterchildren(f"{_XS}element"))
    return out


def _is_amount(schema: etree._Element, element: etree._Element) -> bool:
    """An element whose type is a decimal with a ``Ccy`` attribute (an ISO amount)."""
    ctype = _complex_type(schema, element)
    if ctype is None:
        return False
    return any(a.get("name") == "Ccy" for a in ctype.iter(f"{_XS}attribute"))


def _repeated(element: etree._Element) -> bool:
    most = element.get("maxOccurs", "1")
    return most == "unbounded" or (most.isdigit() and int(most) > 1)


def _layout(schema: etree._Element, message: etree._Element) -> dict[str, Any] | None:
    """Where the transactions are, when the schema says it plainly: a ``GrpHdr`` and a
    repeated element beside it holding an amount. None otherwise (the type does not stream).
    The keys are those of a ``[message.layout]`` table of ``xsd/catalog.toml``: paths of
    local names from the message element, ``amount`` a list of alternatives."""
    parts = _children(schema, _complex_type(schema, message))
    names = {p.get("name"): p for p in parts}
    header = names.get("GrpHdr")
    if header is None:
        return None
    for part in parts:
        if part is header or not _repeated(part) or part.get("name") == "SplmtryData":
            continue
        amounts = [
            c for c in _children(schema, _complex_type(schema, part)) if _is_amount(schema, c)
        ]
        if not amounts:
            continue
        fields = {c.get("name") for c in _children(schema, _complex_type(schema, header))}
        layout: dict[str, Any] = {
            "header": "GrpHdr",
            "transaction": part.get("name"),
            "amount": [amounts[0].get("name")],
        }
        for key, child in (
            ("count", "NbOfTxs"),
            ("sum", "CtrlSum"),
            ("total", "TtlIntrBkSttlmAmt"),
        ):
            if child in fields:
                layout[key] = f"GrpHdr/{child}"
        layout["streamable"] = True
        return layout
    return None


def describe_schema(path: Path, generator: Any, type_id: str | None = None) -> dict[str, Any]:
    """The catalogue row of one message schema, read from the schema itself."""
    schema = generator.flatten_schema(path)
    namespace = schema.get("targetNamespace")
    if not namespace:
        raise InputError("the schema has no targetNamespace", source=str(path))
    if type_id is None:
        match = _ISO_NAMESPACE.match(namespace)
        if match is None:
            raise InputError(
                f"cannot name the message type: {namespace} is not an ISO 20022 message "
                "namespace (urn:iso:std:iso:20022:tech:xsd:<id>)",
                source=str(path),
                hint="give the type id with --id (API: type_id=)",
            )
        type_id = match.group(1)
    elif not _TYPE_ID.match(type_id):
        raise InputError(
            f"type id {type_id!r} is not of the form family.rest (e.g. xmpl.001.001.01)",
            field="--id",
        )
    root = _named(schema, "element", "Document")
    if root is None:
        raise InputError(
            "the schema declares no global Document element; give message schemas only "
            "(the files they include are found through schemaLocation)",
            source=str(path),
        )
    parts = _children(schema, _complex_type(schema, root))
    if len(parts) != 1 or not parts[0].get("name"):
        raise InputError(
            f"Document must hold exactly one message element; it holds {len(parts)}",
            source=str(path),
            line=root.sourceline,
        )
    message = parts[0]
    row: dict[str, Any] = {
        "id": type_id,
        "standard": "iso20022",
        "family": type_id.split(".", 1)[0],
        "namespace": namespace,
        "root": "Document",
        "element": message.get("name"),
        "name_en": message.get("name"),
        "name_zh": "",
    }
    layout = _layout(schema, message)
    if layout is not None:
        row["layout"] = layout
    return row


def _toml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _manifest(name: str, build: str, rows: list[dict[str, Any]]) -> str:
    lines = [
        "# paymsg schema pack: written by `paymsg schemas add`; rows read from the schemas",
        "[pack]",
        f"name = {_toml_value(name)}",
        f"format = {FORMAT}",
        f"build = {_toml_value(build)}",
    ]
    for row in rows:
        lines += ["", "[[message]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in row.items() if k != "layout"]
        if "layout" in row:
            lines += ["", "[message.layout]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in row["layout"].items()]
    return "\n".join(lines) + "\n"


def add_pack(
    paths: Sequence[str | os.PathLike[str]],
    name: str | None = None,
    home: Path | None = None,
    *,
    type_id: str | None = None,
    replace: bool = False,
) -> Pack:
    """Compile message schemas into a pack in the store and return it.

    ``name`` defaults to the first schema's file name without ``.xsd``; ``type_id`` (only
    with one schema) names a type whose namespace is not ``urn:iso:std:iso:20022:tech:xsd:<id>``.
    The pack is built in a temporary directory beside the store and renamed into place,
    so a failed add leaves nothing behind. An existing pack of that name is an error unless
    ``replace``. Needs the ``codegen`` extra.
    """
    generator = _generator()
    schemas = [Path(p) for p in paths]
    if not schemas:
        raise InputError("no schema given")
    for schema in schemas:
        if not schema.is_file():
            raise InputError("schema file not found", source=str(schema))
    if type_id is not None and len(schemas) != 1:
        raise InputError("--id names the type of one schema; give one schema with it")
    name = name or generator.module_name(schemas[0]).replace("_", "-")
    if not _PACK_NAME.match(name) or name == BUILTIN:
        raise InputError(
            f"pack name {name!r}: use lower-case letters, digits, '-' and '_' (not {BUILTIN!r})",
            field="--pack",
        )
    base = home or paymsg_home()
    target = store(base) / name
    if target.exists() and not replace:
        raise InputError(
            f"a schema pack named {name} exists at {target}",
            hint="--replace replaces it (API: replace=True)",
        )

    rows = [describe_schema(s, generator, type_id) for s in sorted(schemas, key=lambda p: p.name)]
    _check_ids(rows, name, base)
    files = _closure(schemas)
    top = Path(os.path.commonpath([f.parent for f in files]))

    store(base).mkdir(parents=True, exist_ok=True)
    for leftover in store(base).glob(f".{name}~*"):  # of an add or remove killed half-way
        shutil.rmtree(leftover, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}~new-", dir=store(base)))
    work.chmod(0o755)  # mkdtemp's 0700 would make the pack private to this user
    try:
        for file in files:
            copy = work / "xsd" / file.relative_to(top)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, copy)
        modules = []
        for schema, row in zip(sorted(schemas, key=lambda p: p.name), rows, strict=True):
            module = generator.module_name(schema)
            row["schema"] = (Path("xsd") / schema.resolve().relative_to(top)).as_posix()
            _compile(work / row["schema"], schema)
            row["module"] = module
            modules.append((module, generator.generate_module(schema, module, label=schema.name)))
        generator.write_package(modules, work / "models", doc=f"models of schema pack {name}")
        build = uuid.uuid4().hex
        ordered = [{k: r[k] for k in _ROW_ORDER if k in r} for r in rows]
        (work / "pack.toml").write_text(_manifest(name, build, ordered), encoding="utf-8")
        _install(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    reload()
    return load_pack(target)


_ROW_ORDER = (
    "id", "standard", "family", "namespace", "root", "element", "schema", "module",
    "name_en", "name_zh", "layout",
)  # fmt: skip


def _check_ids(rows: list[dict[str, Any]], name: str, base: Path) -> None:
    """A pack's type ids are new: not built in, not in another pack of the store under
    ``base`` or of an entry point, not twice in this one."""
    ids = [r["id"] for r in rows]
    for type_id in ids:
        if ids.count(type_id) > 1:
            raise InputError(f"two of the schemas are type {type_id}")
    others = [*builtin_catalog(), *(t for p in installed(base) if p.name != name for t in p.types)]
    for mtype in others:
        if mtype.id in ids:
            where = "built in" if mtype.pack is None else f"in pack {mtype.pack}"
            raise InputError(
                f"message type {mtype.id} exists ({where}); a pack that shares its namespace "
                "(a usage guideline) needs its own type id",
                hint=f"give one with --id (API: type_id=), e.g. --id {mtype.id}.{name}",
            )


def _compile(copy: Path, schema: Path) -> None:
    """Refuse a schema libxml2 cannot compile (validation would fail on every message)."""
    try:
        etree.XMLSchema(etree.parse(str(copy), _PARSER))
    except etree.XMLSchemaParseError as exc:
        raise InputError(f"the schema does not compile: {exc}", source=str(schema)) from None


def _install(work: Path, target: Path) -> None:
    """Put the finished pack in place by renames: the old one (if any) moves aside first."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}~old-{uuid.uuid4().hex[:8]}")
        target.rename(old)
    try:
        work.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_pack(name: str, home: Path | None = None) -> Path:
    """Delete pack ``name`` from the store; returns where it was."""
    target = store(home or paymsg_home()) / name
    if not _PACK_NAME.match(name) or not (target / "pack.toml").is_file():
        raise InputError(f"no schema pack named {name!r} in {target.parent}")
    gone = target.with_name(f".{name}~removed-{uuid.uuid4().hex[:8]}")
    target.rename(gone)  # one rename: the pack is there or not, never half
    shutil.rmtree(gone, ignore_errors=True)
    reload()
    return target
