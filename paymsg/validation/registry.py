"""Rules: plain Python functions registered by id, grouped in versioned packs.

A rule is a generator that receives a :class:`RuleContext` and yields findings made with
``ctx.finding(...)``. It reads the message's lxml tree (not the bound objects), so it
still runs — and reports what it can — on a document that failed the schema::

    @rule(
        "iso.grphdr.nb-of-txs",
        pack="iso20022",
        title="NbOfTxs equals the number of transactions",
        title_zh="NbOfTxs 等于交易笔数",
        families={"pacs"},
    )
    def nb_of_txs(ctx: RuleContext) -> Findings:
        '''What it checks and why (shown by `paymsg rules list`).'''
        ...
        yield ctx.finding(element, "…", "…", value="3")
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property
from typing import Any

from lxml import etree

from paymsg.codec.envelope.cnaps2 import Cnaps2Header
from paymsg.codec.xml.safe import element_path, find, findall, text
from paymsg.schema.catalog import MessageType
from paymsg.schema.layout import Layout
from paymsg.validation.config import ValidationConfig
from paymsg.validation.findings import Finding, Severity

Findings = Iterator[Finding]
RuleFunc = Callable[["RuleContext"], Iterable[Finding]]

#: rule pack → version; bump a pack's version when its rules change behaviour
PACKS: dict[str, str] = {
    "iso20022": "2026.11",
    "iso20022.bah": "2026.11",
    "cbpr": "2026.11",
    "cnaps2": "2026.11",
}

#: modules that register rules (imported on first use)
RULE_MODULES = (
    "paymsg.validation.rules.iso20022",
    "paymsg.validation.rules.cnaps2",
    "paymsg.validation.rules.totals",
)


@dataclass(frozen=True)
class RuleSpec:
    id: str
    pack: str
    severity: Severity
    title: str
    title_zh: str
    doc: str
    func: RuleFunc
    types: frozenset[str] | None = None
    families: frozenset[str] | None = None
    standard: str | None = None

    def applies(self, mtype: MessageType) -> bool:
        if self.types is not None and mtype.id not in self.types:
            return False
        if self.families is not None and mtype.family not in self.families:
            return False
        return self.standard is None or mtype.standard == self.standard


_RULES: dict[str, RuleSpec] = {}


def rule(
    rule_id: str,
    *,
    pack: str,
    title: str,
    title_zh: str,
    severity: Severity = "error",
    types: Iterable[str] | None = None,
    families: Iterable[str] | None = None,
    standard: str | None = None,
) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule function under ``rule_id`` in ``pack``."""
    if pack not in PACKS:
        raise ValueError(f"unknown rule pack {pack!r}")

    def register(func: RuleFunc) -> RuleFunc:
        if rule_id in _RULES:
            raise ValueError(f"rule id {rule_id} registered twice")
        if not (func.__doc__ or "").strip():
            raise ValueError(f"rule {rule_id} has no docstring saying what it checks and why")
        _RULES[rule_id] = RuleSpec(
            id=rule_id,
            pack=pack,
            severity=severity,
            title=title,
            title_zh=title_zh,
            doc=" ".join((func.__doc__ or "").split()),
            func=func,
            types=frozenset(types) if types is not None else None,
            families=frozenset(families) if families is not None else None,
            standard=standard,
        )
        return func

    return register


@cache
def all_rules() -> tuple[RuleSpec, ...]:
    """Every registered rule, sorted by id (imports the rule modules once)."""
    for module in RULE_MODULES:
        importlib.import_module(module)
    return tuple(sorted(_RULES.values(), key=lambda r: r.id))


@dataclass
class RuleContext:
    """What a rule sees: the message type, its parsed tree, header data and configuration."""

    type: MessageType
    document: etree._Element
    config: ValidationConfig
    app_header: etree._Element | None = None
    cnaps_header: Cnaps2Header | None = None
    line_offset: int = 0
    #: set when the document holds one chunk of a streamed message: rule id → running
    #: tally; the count / sum / total rules add the chunk's transactions to it and leave the
    #: comparison to the end of the stream (:mod:`paymsg.validation.rules.totals`)
    tallies: dict[str, Any] | None = None
    current: RuleSpec | None = field(default=None, repr=False)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    _found: dict[tuple[etree._Element | None, str], etree._Element | None] = field(
        default_factory=dict, repr=False
    )
    _found_all: dict[tuple[etree._Element | None, str], list[etree._Element]] = field(
        default_factory=dict, repr=False
    )

    def memo(self, key: str, factory: Callable[[], Any]) -> Any:
        """``factory()`` computed once per validation and shared by the rules that need it."""
        if key not in self._memo:
            self._memo[key] = factory()
        return self._memo[key]

    @cached_property
    def message(self) -> etree._Element | None:
        """The message element under ``Document`` (e.g. ``FIToFICstmrCdtTrf``)."""
        return next(self.document.iterchildren(etree.Element), None)  # not a comment

    @property
    def layout(self) -> Layout:
        """Where the message's header, transactions, totals and parties are (catalogue)."""
        return self.type.layout

    def transactions(self) -> list[etree._Element]:
        """The message's transactions, as its layout names them (none without a layout)."""
        path = self.type.layout.transaction
        return self.findall(self.message, path) if path else []

    def first(self, paths: Iterable[str], below: str = "") -> etree._Element | None:
        """The first of ``paths`` (from the message element, each followed by ``below``)
        that finds an element: the layouts' candidate party paths are read this way."""
        for path in paths:
            found = self.find(self.message, f"{path}/{below}" if below else path)
            if found is not None:
                return found
        return None

    # -- lookups (local names, in the namespace of the element they start from) -------
    # The tree does not change while the rules run, so lookups are kept for the other rules
    # that make the same ones (the group header, the transactions, …).

    def find(self, element: etree._Element | None, path: str) -> etree._Element | None:
        key = (element, path)
        try:
            found: etree._Element | None = self._found[key]
        except KeyError:
            found = self._found[key] = find(element, path)
        return found

    def findall(self, element: etree._Element | None, path: str) -> list[etree._Element]:
        key = (element, path)
        try:
            found: list[etree._Element] = self._found_all[key]
        except KeyError:
            found = self._found_all[key] = findall(element, path)
        return found

    def text(self, element: etree._Element | None, path: str | None = None) -> str | None:
        return text(element if path is None else self.find(element, path))

    @staticmethod
    def decimal(element: etree._Element | None) -> Decimal | None:
        """The element's text as a Decimal, or None when absent or not a number."""
        if element is None or element.text is None:
            return None
        try:
            return Decimal(element.text.strip())
        except InvalidOperation:
            return None

    # -- findings -----------------------------------------------------------------------

    def finding(
        self,
        where: etree._Element | str | None,
        message: str,
        message_zh: str,
        *,
        value: Any = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of the current rule at ``where`` (an element, or a path string)."""
        spec = self.current
        assert spec is not None, "ctx.finding is only for use inside a rule"
        if isinstance(where, etree._Element):
            path: str | None = element_path(where)
            line = where.sourceline + self.line_offset if where.sourceline else None
        else:
            path, line = where, None
        return Finding(
            rule=spec.id,
            layer="rule",
            severity=severity or spec.severity,
            path=path,
            line=line,
            value=None if value is None else str(value),
            message=message,
            message_zh=message_zh,
        )


def rules_for(mtype: MessageType, packs: Iterable[str]) -> list[RuleSpec]:
    return list(_rules_for(mtype.id, tuple(sorted(set(packs)))))


@cache
def _rules_for(type_id: str, packs: tuple[str, ...]) -> tuple[RuleSpec, ...]:
    from paymsg.schema.catalog import catalog

    mtype = catalog().get(type_id)
    return tuple(r for r in all_rules() if r.pack in packs and r.applies(mtype))


def run_rules(ctx: RuleContext, packs: Iterable[str]) -> list[Finding]:
    """Run every applicable rule; a rule that crashes is reported as an error (the message
    was not fully checked), never raised."""
    out: list[Finding] = []
    for spec in rules_for(ctx.type, packs):
        ctx.current = spec
        try:
            out.extend(spec.func(ctx))
        except Exception as exc:  # a rule must never take validation down
            out.append(
                Finding(
                    rule=spec.id,
                    layer="rule",
                    severity="error",  # an unchecked message must not pass
                    message=f"rule {spec.id} could not run: {type(exc).__name__}: {exc}",
                    message_zh=f"规则 {spec.id} 无法执行：{type(exc).__name__}: {exc}",
                )
            )
    ctx.current = None
    return out
