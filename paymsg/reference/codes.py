"""CNAPS2 code tables: 业务类型 (business types), 业务种类 (categories), where each may be
used, their valid combinations, and the tags of the HVPS remittance lines (``/XNN/value``).

The table is DATA: the shipped one is ``data/cnaps2-codes.toml`` (compiled from public
sources, each row with its confidence tag), read by :func:`shipped_code_table`. NPC's own
table arrives as a ccms.906 message; reading one is a message-reading job, done by
``paymsg.validation.rules.cnaps2.codes.load_code_table``, which builds the same
:class:`CodeTable`. Validation, conversion, the simulator and routing all read code tables
from here.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from paymsg.errors import ConfigError

#: the shipped code table
CODE_TABLE_PATH = Path(__file__).resolve().parent / "data" / "cnaps2-codes.toml"

Confidence = Literal["C2+", "S1", "INF", "NF", "NPC"]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CodeEntry(_Row):
    """A business type (业务类型) or category (业务种类) code with its names."""

    code: str
    zh: str = ""
    en: str = ""
    #: reference confidence tag; ``NPC`` for rows read from a ccms.906 message
    confidence: Confidence
    evidence: str = ""
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.code} {self.zh}".strip()


class RemittanceTag(_Row):
    """A tag of the HVPS remittance lines ``/XNN/value`` (§8.6)."""

    tag: str
    zh: str
    en: str
    confidence: Confidence
    #: length of the CNAPS field the tag carries, where the reference names that field
    max_length: int | None = None
    evidence: str = ""


class _Usage(_Row):
    business_type: str
    messages: list[str]
    confidence: Confidence
    evidence: str = ""


class _Combination(_Row):
    business_type: str
    categories: list[str]
    confidence: Confidence
    messages: list[str] | None = None
    evidence: str = ""


class _Meta(_Row):
    source: str = ""
    authoritative: bool = False


class _TableFile(_Row):
    meta: _Meta = _Meta()
    business_type: list[CodeEntry] = []
    category: list[CodeEntry] = []
    usage: list[_Usage] = []
    combination: list[_Combination] = []
    remittance_tag: list[RemittanceTag] = []


def message_key(type_id: str) -> str:
    """``hvps.111.001.01`` → ``hvps.111``: code tables match message types without version."""
    return ".".join(type_id.strip().split(".")[:2])


@dataclass(frozen=True)
class CodeTable:
    """业务类型 / 业务种类 codes, where each business type may be used, valid combinations.

    ``usage`` maps a business type to the message types (keys from :func:`message_key`) it
    may be used in; ``combinations`` maps a business type to ``{message key or None (any
    message): {category: confidence}}``. A business type absent from ``usage`` (or from
    ``combinations``) is simply not checked against message types (or categories).
    """

    source: str
    authoritative: bool
    business_types: Mapping[str, CodeEntry]
    categories: Mapping[str, CodeEntry]
    usage: Mapping[str, Mapping[str, Confidence]]
    combinations: Mapping[str, Mapping[str | None, Mapping[str, Confidence]]]
    tags: Mapping[str, RemittanceTag] = field(default_factory=dict)

    def messages_for(self, business_type: str) -> Mapping[str, Confidence] | None:
        """Message types ``business_type`` may be used in, or None when the table does not say."""
        return self.usage.get(business_type)

    def categories_for(
        self, message_type: str | None, business_type: str
    ) -> dict[str, Confidence] | None:
        """Categories valid with ``business_type`` in ``message_type``; None when unknown."""
        per_message = self.combinations.get(business_type)
        if not per_message:
            return None
        keys: list[str | None] = [None]
        if message_type:
            keys.append(message_key(message_type))
        found = False
        out: dict[str, Confidence] = {}
        for key in keys:
            if key in per_message:
                found = True
                out.update(per_message[key])
        return out if found else None

    @property
    def severity(self) -> Literal["error", "warning"]:
        """Findings against an authoritative (NPC) table are errors, otherwise warnings."""
        return "error" if self.authoritative else "warning"

    @property
    def describe(self) -> tuple[str, str]:
        """How findings name the table (English, Chinese)."""
        if self.authoritative:
            return f"the code table {self.source}", f"代码表 {self.source}"
        return (
            "the shipped code table (compiled from public sources; set cnaps2_code_table "
            "to NPC's ccms.906 table for an authoritative check)",
            "内置代码表（依据公开资料整理；可通过 cnaps2_code_table 加载人民银行 ccms.906 代码表）",
        )


def table_from_toml(raw: bytes, source: str) -> CodeTable:
    """A table from TOML in the layout of ``cnaps2-codes.toml`` (``source`` names it in
    errors, and in findings when the file does not name its own source)."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
        parsed = _TableFile.model_validate(data)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"the CNAPS2 code table is invalid: {exc}", source=source) from None
    business_types: dict[str, CodeEntry] = {}
    categories: dict[str, CodeEntry] = {}
    for rows, target, kind in (
        (parsed.business_type, business_types, "business type"),
        (parsed.category, categories, "category"),
    ):
        for entry in rows:
            if entry.code in target:
                raise ConfigError(f"{kind} {entry.code} is listed twice", source=source)
            target[entry.code] = entry
    usage: dict[str, dict[str, Confidence]] = {}
    for row in parsed.usage:
        if row.business_type not in business_types:
            raise ConfigError(
                f"usage row names unknown business type {row.business_type}", source=source
            )
        for message in row.messages:
            usage.setdefault(row.business_type, {})[message_key(message)] = row.confidence
    combinations: dict[str, dict[str | None, dict[str, Confidence]]] = {}
    for combo in parsed.combination:
        unknown = [c for c in combo.categories if c not in categories]
        if combo.business_type not in business_types or unknown:
            what = unknown or [combo.business_type]
            raise ConfigError(
                f"combination row names unknown code(s) {', '.join(what)}", source=source
            )
        keys: list[str | None] = (
            [message_key(m) for m in combo.messages] if combo.messages is not None else [None]
        )
        for key in keys:
            slot = combinations.setdefault(combo.business_type, {}).setdefault(key, {})
            for category in combo.categories:
                slot[category] = combo.confidence
    return CodeTable(
        source=parsed.meta.source or source,
        authoritative=parsed.meta.authoritative,
        business_types=business_types,
        categories=categories,
        usage=usage,
        combinations=combinations,
        tags={t.tag: t for t in parsed.remittance_tag},
    )


@cache
def shipped_code_table() -> CodeTable:
    """The table shipped with paymsg (``paymsg/reference/data/cnaps2-codes.toml``), read once."""
    try:
        raw = CODE_TABLE_PATH.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the CNAPS2 code table: {exc}", source=str(CODE_TABLE_PATH)
        ) from None
    return table_from_toml(raw, str(CODE_TABLE_PATH))


__all__ = [
    "CODE_TABLE_PATH",
    "CodeEntry",
    "CodeTable",
    "Confidence",
    "RemittanceTag",
    "message_key",
    "shipped_code_table",
    "table_from_toml",
]
