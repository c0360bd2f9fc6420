"""Conversion between versions of one ISO 20022 message (issue 16, item 3).

Each pair of versions is a :class:`VersionTable`: an ordered list of path rewrites, written
on the data paths of :mod:`paymsg.codec.json.engine` (XML names, 1-based list indexes), from the
source version to the target version, and the values the target requires that the source
may not have. Everything the tables do not name keeps its path. One engine
(:func:`convert_version`) applies a table to every value of the source message and checks
the result against the target model, recording in the loss report (never silently):

* ``dropped`` — the target version has no element at the (rewritten) path, or a list item
  beyond what the target allows, or a code the target's code list does not have;
* ``truncated`` — a text longer than the target field's maximum length;
* ``defaulted`` — a value the target requires, filled from another field (table
  ``defaults``), with the source field it came from.

A result that still does not satisfy the target schema (a required element with no
source, say) is refused with a :class:`~paymsg.errors.ConversionError` naming the schema
errors: the engine never hands back a message the target version rejects.

The pairs registered: camt.053.001.02 ⇄ .08, pain.001.001.03 ⇄ .09, pain.002.001.03 ⇄ .10,
head.001.001.04 ⇄ .02.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from lxml import etree

from paymsg.codec.json.engine import from_data
from paymsg.codec.xml.binding import compiled_schema
from paymsg.convert.engine.loss import MappingContext, default
from paymsg.convert.engine.paths import PATH_STEP, get, nodes, put, scalars
from paymsg.convert.engine.restore import max_length, model_var
from paymsg.convert.engine.table import COPY, REWRITE, TableLine, describe
from paymsg.convert.hub import mapping
from paymsg.errors import ConversionError, PaymsgError
from paymsg.schema.catalog import MessageType

Rewrite = tuple[str, str]
"""(regular expression on the indexed data path, replacement) — applied in order, each once"""


@dataclass(frozen=True)
class Default:
    """A value the target requires at ``target`` (a regular expression on the target path
    of its parent, plus the element name) when absent, taken from ``source`` (a path
    relative to the same parent in the *converted* data, or absolute from the root with a
    leading ``/``)."""

    parent: str
    name: str
    source: str
    reason: str


@dataclass(frozen=True)
class VersionTable:
    source: str
    target: str
    rewrites: tuple[Rewrite, ...] = ()
    defaults: tuple[Default, ...] = ()
    notes: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- shared rewrites

#: 2009 generation financial institution id: BIC (BICIdentifier) ⇄ BICFI (BICFIDec2014Identifier)
_BIC_UP: Rewrite = (r"/FinInstnId/BIC$", "/FinInstnId/BICFI")
_BIC_DOWN: Rewrite = (r"/FinInstnId/BICFI$", "/FinInstnId/BIC")
#: organisation id: BICOrBEI (2009) ⇄ AnyBIC (2019)
_ORG_BIC_UP: Rewrite = (r"/OrgId/BICOrBEI$", "/OrgId/AnyBIC")
_ORG_BIC_DOWN: Rewrite = (r"/OrgId/AnyBIC$", "/OrgId/BICOrBEI")
#: requested execution date: a date (2009) ⇄ a date or date-time choice (2019)
_REQD_UP: Rewrite = (r"/ReqdExctnDt$", "/ReqdExctnDt/Dt")
_REQD_DOWN: Rewrite = (r"/ReqdExctnDt/Dt$", "/ReqdExctnDt")
#: a statement entry's transaction amount: TxDtls/Amt (2019) ⇄ TxDtls/AmtDtls/TxAmt/Amt (2009)
_TX_AMT_DOWN: Rewrite = (r"(/TxDtls\[\d+\])/Amt(/|$)", r"\1/AmtDtls/TxAmt/Amt\2")
#: original transaction parties in a status report: Party35Choice/Pty (2019) ⇄ the party (2009)
_ORIG_PARTY = r"(/OrgnlTxRef/(?:Dbtr|Cdtr|UltmtDbtr|UltmtCdtr))"
_ORIG_PARTY_UP: Rewrite = (_ORIG_PARTY + r"/", r"\1/Pty/")
_ORIG_PARTY_DOWN: Rewrite = (_ORIG_PARTY + r"/Pty/", r"\1/")
_STMT_PARTY = (
    r"(/NtryDtls\[\d+\]/TxDtls\[\d+\]/RltdPties/"
    r"(?:InitgPty|Dbtr|UltmtDbtr|Cdtr|UltmtCdtr|TradgPty))"
)

# --------------------------------------------------------------------------- the tables

TABLES: tuple[VersionTable, ...] = (
    VersionTable(
        "camt.053.001.02",
        "camt.053.001.08",
        rewrites=(
            _BIC_UP,
            _ORG_BIC_UP,
            # entry status: a code (EntryStatus2Code) → a choice (EntryStatus1Choice/Cd)
            (r"(/Ntry\[\d+\])/Sts$", r"\1/Sts/Cd"),
            # TotalTransactions: TtlNetNtryAmt + CdtDbtInd → TtlNetNtry/Amt + CdtDbtInd
            (r"/TtlNtries/TtlNetNtryAmt$", "/TtlNtries/TtlNetNtry/Amt"),
            (r"/TtlNtries/CdtDbtInd$", "/TtlNtries/TtlNetNtry/CdtDbtInd"),
            (
                r"/TtlNtriesPerBkTxCd(\[\d+\])/TtlNetNtryAmt$",
                r"/TtlNtriesPerBkTxCd\1/TtlNetNtry/Amt",
            ),
            (
                r"/TtlNtriesPerBkTxCd(\[\d+\])/CdtDbtInd$",
                r"/TtlNtriesPerBkTxCd\1/TtlNetNtry/CdtDbtInd",
            ),
            # related parties of a transaction: PartyIdentification32 → Party40Choice/Pty
            (_STMT_PARTY + r"/", r"\1/Pty/"),
            # availability dates: CashBalanceAvailabilityDate1 → CashAvailabilityDate1Choice
            # keep their names; charges: a list of records → Charges6/Rcrd
            (r"(/Ntry\[\d+\])/Chrgs(\[\d+\])/", r"\1/Chrgs/Rcrd\2/"),
            (r"(/TxDtls\[\d+\])/Chrgs(\[\d+\])/", r"\1/Chrgs/Rcrd\2/"),
        ),
    ),
    VersionTable(
        "camt.053.001.08",
        "camt.053.001.02",
        rewrites=(
            _BIC_DOWN,
            _ORG_BIC_DOWN,
            (r"(/Ntry\[\d+\])/Sts/Cd$", r"\1/Sts"),
            (r"/TtlNtries/TtlNetNtry/Amt$", "/TtlNtries/TtlNetNtryAmt"),
            (r"/TtlNtries/TtlNetNtry/CdtDbtInd$", "/TtlNtries/CdtDbtInd"),
            (
                r"/TtlNtriesPerBkTxCd(\[\d+\])/TtlNetNtry/Amt$",
                r"/TtlNtriesPerBkTxCd\1/TtlNetNtryAmt",
            ),
            (
                r"/TtlNtriesPerBkTxCd(\[\d+\])/TtlNetNtry/CdtDbtInd$",
                r"/TtlNtriesPerBkTxCd\1/CdtDbtInd",
            ),
            (_STMT_PARTY + r"/Pty/", r"\1/"),
            _TX_AMT_DOWN,
            (r"(/Ntry\[\d+\])/Chrgs/Rcrd(\[\d+\])/", r"\1/Chrgs\2/"),
            (r"(/TxDtls\[\d+\])/Chrgs/Rcrd(\[\d+\])/", r"\1/Chrgs\2/"),
        ),
        defaults=(
            Default(
                r"^BkToCstmrStmt/Stmt\[\d+\]$",
                "CreDtTm",
                "/BkToCstmrStmt/GrpHdr/CreDtTm",
                "camt.053.001.02 requires Stmt/CreDtTm; taken from GrpHdr/CreDtTm",
            ),
        ),
    ),
    VersionTable(
        "pain.001.001.03",
        "pain.001.001.09",
        rewrites=(_BIC_UP, _ORG_BIC_UP, _REQD_UP),
    ),
    VersionTable(
        "pain.001.001.09",
        "pain.001.001.03",
        rewrites=(_BIC_DOWN, _ORG_BIC_DOWN, _REQD_DOWN),
    ),
    VersionTable(
        "pain.002.001.03",
        "pain.002.001.10",
        rewrites=(
            _BIC_UP,
            _ORG_BIC_UP,
            _REQD_UP,
            _ORIG_PARTY_UP,
        ),
    ),
    VersionTable(
        "pain.002.001.10",
        "pain.002.001.03",
        rewrites=(_BIC_DOWN, _ORG_BIC_DOWN, _REQD_DOWN, _ORIG_PARTY_DOWN),
    ),
    VersionTable("head.001.001.04", "head.001.001.02"),
    VersionTable("head.001.001.02", "head.001.001.04"),
)


# --------------------------------------------------------------------------- the engine


@dataclass
class _Placed:
    path: str | None
    problem: str | None = None
    action: str = "dropped"
    value: Any = None


def _place(root: type, path: str, value: Any) -> _Placed:
    """Fit ``path`` to the target model: indexes where the model has lists (a single value
    becomes item 1; item 2+ of a list the target holds once is dropped), and the value to
    the field's type, code list and length."""
    steps = path.split("/")
    node: type | None = root
    fitted: list[str] = []
    for position, step in enumerate(steps):
        match = PATH_STEP.match(step)
        if match is None or node is None:
            return _Placed(None, f"no element at {'/'.join(steps[: position + 1])}")
        name, index = match.group(1), match.group(2)
        var = model_var(node, name)
        if var is None:
            where = "/".join(fitted) or "the message"
            return _Placed(None, f"the target version has no {name} in {where}")
        repeated = bool(
            var.is_wildcard or (var.list_element and (var.is_element or var.is_wildcard))
        )
        if repeated:
            fitted.append(f"{name}[{index or 1}]")
        elif index is not None and index != "1":
            return _Placed(
                None,
                f"the target version holds {'/'.join([*fitted, name])} once; item {index} dropped",
            )
        else:
            fitted.append(name)
        last = position == len(steps) - 1
        if var.is_attribute or var.is_text or var.is_wildcard or var.clazz is None:
            if not last:
                return _Placed(None, f"the target version has a value at {'/'.join(fitted)}")
            return _fit_value(node, name, var, "/".join(fitted), value)
        if last:
            return _Placed(None, f"{'/'.join(fitted)} holds elements in the target version")
        node = var.clazz
    return _Placed(None, "empty path")


def _fit_value(parent: type, name: str, var: Any, path: str, value: Any) -> _Placed:
    for kind in var.types:
        if isinstance(kind, type) and issubclass(kind, Enum):
            codes = {member.value for member in kind}
            if value not in codes:
                return _Placed(
                    None, f"code {value!r} is not in the target version's code list {kind.__name__}"
                )
        if kind is bool and isinstance(value, str):
            value = value == "true"
    limit = max_length(parent, name) if not (var.is_attribute or var.is_text) else None
    if limit is not None and isinstance(value, str) and len(value) > limit:
        return _Placed(
            path,
            f"{len(value)} characters, the target field holds {limit}",
            "truncated",
            value[:limit],
        )
    return _Placed(path, value=value)


def _abs(root_element: str, path: str) -> str:
    return f"/{root_element}/{path}" if path else f"/{root_element}"


def _schema_errors(mtype: MessageType, document: Any) -> list[str]:
    from paymsg.codec.xml.binding import document_xml

    xml = etree.fromstring(document_xml(document, mtype))
    schema = compiled_schema(str(mtype.schema_path))
    if schema.validate(xml):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def convert_version(
    table: VersionTable, data: dict[str, Any], ctx: MappingContext
) -> dict[str, Any]:
    source_root = ctx.source.root
    target_root = ctx.target.root
    root_class = ctx.target.root_class
    out: dict[str, Any] = {}
    for path, value in scalars(data).items():
        new = path
        for pattern, replacement in table.rewrites:
            new = re.sub(pattern, replacement, new, count=1)
        placed = _place(root_class, new, value)
        source_path = _abs(source_root, path.replace("/#text", ""))
        if placed.path is None:
            ctx.lose(source_path, "dropped", placed.problem or "", value=value)
            continue
        target_path = _abs(target_root, placed.path.replace("/#text", ""))
        if get(out, placed.path) is not None:
            ctx.lose(
                source_path,
                "dropped",
                "the target field already holds a value from another source field",
                value=value,
                target_path=target_path,
            )
            continue
        if placed.action == "truncated":
            ctx.lose(
                source_path, "truncated", placed.problem or "", value=value, target_path=target_path
            )
        put(out, placed.path, placed.value)
    for rule in table.defaults:
        _apply_default(out, rule, ctx)
    try:
        document = from_data(root_class, out, f"/{target_root}")
    except PaymsgError as exc:
        errors = [str(exc)]
    else:
        errors = _schema_errors(ctx.target, document)
    if errors:
        raise ConversionError(
            f"{ctx.source.id} cannot be converted to {ctx.target.id}: the result breaks the "
            f"target schema ({'; '.join(errors[:5])})",
            hint="the loss so far: "
            + "; ".join(f"{e.source_path} ({e.action})" for e in ctx.loss[:10]),
        )
    return out


def _apply_default(out: dict[str, Any], rule: Default, ctx: MappingContext) -> None:
    pattern = re.compile(rule.parent)
    for path, node in nodes(out):
        if not pattern.search(path) or node.get(rule.name) is not None:
            continue
        source = rule.source
        value = get(out, source.lstrip("/")) if source.startswith("/") else node.get(source)
        if value is None:
            continue
        node[rule.name] = value
        default(
            ctx,
            value,
            source=_abs(ctx.source.root, source.lstrip("/")),
            target=_abs(ctx.target.root, f"{path}/{rule.name}"),
            reason=rule.reason,
            shown_as=value,
        )


def _register(table: VersionTable) -> Callable[[dict[str, Any], MappingContext], dict[str, Any]]:
    def run(data: dict[str, Any], ctx: MappingContext) -> dict[str, Any]:
        return convert_version(table, data, ctx)

    run.__name__ = f"version_{table.source}_to_{table.target}".replace(".", "_")
    return mapping(table.source, table.target)(run)


def table_lines(table: VersionTable) -> list[TableLine]:
    """The table of a version pair as ``--mapping-table`` shows it: the path rewrites in
    order, the defaults, and the rule for every other path."""
    lines: list[TableLine] = [
        (pattern, replacement, REWRITE.name, REWRITE.note)
        for pattern, replacement in table.rewrites
    ]
    lines += [
        (rule.source, f"{rule.parent} / {rule.name}", "default", rule.reason)
        for rule in table.defaults
    ]
    lines.append(
        (
            "every other path",
            "the same path",
            COPY.name,
            "checked against the target version: dropped (no element, code not in the code "
            "list, a second item of a single element) or truncated (too long), with the loss",
        )
    )
    return lines


for _table in TABLES:
    _register(_table)
    describe(_table.source, _table.target, functools.partial(table_lines, _table))
