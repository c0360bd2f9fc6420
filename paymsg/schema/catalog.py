"""The catalogue of message types: the single registry of paymsg.

It is loaded from ``xsd/catalog.toml`` (shipped inside the wheel as ``paymsg/xsd``).
Every other part of paymsg (detection, binding, validation, the CLI) asks this
module which message types exist and where their schema and model live.
"""

from __future__ import annotations

import importlib
import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from paymsg.errors import ConfigError, UnknownMessageTypeError
from paymsg.schema.layout import Layout


@cache
def xsd_root() -> Path:
    """Directory holding the schemas and ``catalog.toml``.

    Installed wheels carry it as ``paymsg/xsd``; a source checkout has it at the top.
    """
    here = Path(__file__).resolve().parents[1]  # the paymsg package
    for candidate in (here / "xsd", here.parent / "xsd"):
        if (candidate / "catalog.toml").is_file():
            return candidate
    raise ConfigError("the schema directory (xsd/catalog.toml) is missing from the installation")


class MessageType(BaseModel):
    """One row of the catalogue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    standard: Literal["iso20022", "cnaps2"]
    family: str
    namespace: str
    root: str
    element: str = ""
    schema_file: str
    module: str
    name_en: str
    name_zh: str
    system: str | None = None
    signed: bool | None = None
    body: str | None = None
    #: where the transactions, totals and parties are (``[message.layout]``); left out of
    #: ``model_dump`` so that ``paymsg schemas list --json`` shows the row as before
    layout: Layout = Field(default=Layout(), exclude=True)

    @property
    def schema_path(self) -> Path:
        return _schema_path(self.schema_file)

    @property
    def root_class(self) -> type:
        """The generated dataclass bound to the body's root element."""
        return _root_class(self.module, self.root)


@cache
def _schema_path(schema_file: str) -> Path:
    return xsd_root() / schema_file


@cache
def _root_class(module: str, root: str) -> type:
    loaded = importlib.import_module(f"paymsg.models.{module}")
    cls: type = getattr(loaded, "AppHdr" if root == "AppHdr" else "Document")
    return cls


class Catalog:
    """All message types, with lookups by id and by body namespace."""

    def __init__(self, types: list[MessageType]) -> None:
        self._by_id: dict[str, MessageType] = {}
        self._by_namespace: dict[str, MessageType] = {}
        for t in types:
            if t.id in self._by_id:
                raise ConfigError(f"message type {t.id} is catalogued twice")
            self._by_id[t.id] = t
        # several CNAPS2 types reuse an ISO body namespace; without a header the ISO row wins
        for t in sorted(types, key=lambda t: (t.standard != "iso20022", t.id), reverse=True):
            self._by_namespace[t.namespace] = t

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(sorted(self._by_id.values(), key=lambda t: t.id))

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._by_id

    def get(self, type_id: str) -> MessageType:
        try:
            return self._by_id[type_id]
        except KeyError:
            known = ", ".join(sorted(self._by_id))
            raise UnknownMessageTypeError(
                f"unknown message type {type_id!r}", hint=f"known types: {known}"
            ) from None

    def by_namespace(self, namespace: str) -> MessageType | None:
        """The type whose body lives in ``namespace``.

        Several CNAPS2 types reuse an ISO body namespace; without a CNAPS header the
        plain ISO type is the answer, so ISO rows win.
        """
        return self._by_namespace.get(namespace)


def _load(path: Path) -> Catalog:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the catalogue: {exc}", source=str(path)) from None
    rows = []
    for index, row in enumerate(data.get("message", []), start=1):
        row = dict(row)
        row["schema_file"] = row.pop("schema", None)
        try:
            rows.append(MessageType(**row))
        except ValidationError as exc:
            raise ConfigError(
                f"catalogue row {index} ({row.get('id', '?')}) is invalid: {exc}", source=str(path)
            ) from None
    return Catalog(rows)


@cache
def catalog() -> Catalog:
    """The catalogue shipped with paymsg (loaded once)."""
    return _load(xsd_root() / "catalog.toml")


def layout_of(type_id: str) -> Layout:
    """The layout of the catalogued type ``type_id`` (the empty layout when the type has
    none; :class:`UnknownMessageTypeError` when there is no such type)."""
    return catalog().get(type_id).layout


def streamable_layouts() -> dict[str, Layout]:
    """Type id → layout of every type whose transactions can be streamed."""
    return {t.id: t.layout for t in catalog() if t.layout.streamable}
