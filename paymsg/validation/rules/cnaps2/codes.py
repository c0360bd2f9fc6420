"""The business type (业务类型) and category (业务种类) codes: the active code table of a
validation (the shipped one, a TOML file, or NPC's ccms.906 table, read here) and the
``cnaps2.code.*`` rules."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from paymsg.codec.envelope.cnaps2 import looks_like_cnaps2, split_envelope
from paymsg.codec.xml import safe as xmlsafe
from paymsg.codec.xml.safe import parse_xml
from paymsg.errors import ConfigError, PaymsgError
from paymsg.reference.codes import (
    CodeEntry,
    CodeTable,
    Confidence,
    message_key,
    shipped_code_table,
    table_from_toml,
)
from paymsg.validation.findings import Finding
from paymsg.validation.registry import Findings, RuleContext, rule
from paymsg.validation.rules.cnaps2.common import (
    BEPS_CREDIT,
    HVPS_CREDIT,
    Element,
    element_name,
    tagged,
)

# =============================================================================== code tables


def _child_text(element: Element, path: str) -> str | None:
    return xmlsafe.text(element, path) or None


def _from_ccms906(raw: bytes, source: str) -> CodeTable:
    """A table from NPC's ccms.906.001.01 业务种类与类型管理报文 (Appendix A).

    Each ``ChngInf`` names a message type (MT), a business type (TxTpCd, TxTpNm) and
    optionally a category (CtgyPurpCd, CtgyPurpNm). ChngTp ``CC02`` is read as a deletion,
    ``CC00``/``CC01`` as addition/change ([INF]: the code meanings are not public). The
    effective dates (FctvTp/FctvDt/IfctvDt) are not evaluated ([NF] semantics).
    """
    if looks_like_cnaps2(raw):
        try:
            _, offset = split_envelope(raw)
        except PaymsgError as exc:
            raise ConfigError(f"the ccms.906 message is unreadable: {exc}", source=source) from None
        raw = raw[offset:]
    try:
        root = parse_xml(raw, source=source)
    except PaymsgError as exc:
        raise ConfigError(f"the ccms.906 message is unreadable: {exc}", source=source) from None
    message = next((c for c in root if isinstance(c.tag, str)), None)
    if message is None or element_name(message) != "BizClssTpMgmt":
        found = element_name(message) if message is not None else element_name(root)
        raise ConfigError(
            f"not a ccms.906.001.01 message (业务种类与类型管理报文): found <{found}>, "
            "expected <Document><BizClssTpMgmt>",
            source=source,
            hint="give a ccms.906 body or a TOML file in the layout of cnaps2-codes.toml",
        )
    business_types: dict[str, CodeEntry] = {}
    categories: dict[str, CodeEntry] = {}
    usage: dict[str, dict[str, Confidence]] = {}
    combinations: dict[str, dict[str | None, dict[str, Confidence]]] = {}
    for change in xmlsafe.findall(message, "ChngInf"):
        mt = _child_text(change, "MT")
        business_type = _child_text(change, "TxTpCd")
        category = _child_text(change, "CtgyPurpCd")
        if mt is None or business_type is None:
            continue
        key = message_key(mt)
        if _child_text(change, "ChngCtrl/ChngTp") == "CC02":
            per_message = combinations.get(business_type, {})
            if category is None:
                usage.get(business_type, {}).pop(key, None)
                per_message.pop(key, None)
            else:
                per_message.get(key, {}).pop(category, None)
                if key in per_message and not per_message[key]:
                    del per_message[key]
            continue
        business_types[business_type] = CodeEntry(
            code=business_type, zh=_child_text(change, "TxTpNm") or "", confidence="NPC"
        )
        usage.setdefault(business_type, {})[key] = "NPC"
        if category is not None:
            categories[category] = CodeEntry(
                code=category, zh=_child_text(change, "CtgyPurpNm") or "", confidence="NPC"
            )
            combinations.setdefault(business_type, {}).setdefault(key, {})[category] = "NPC"
    if not business_types:
        raise ConfigError(
            "the ccms.906 message lists no business type (ChngInf/TxTpCd)", source=source
        )
    return CodeTable(
        source=source,
        authoritative=True,
        business_types=business_types,
        categories=categories,
        usage=usage,
        combinations=combinations,
    )


@lru_cache(maxsize=32)
def _load_cached(path: str, mtime_ns: int, size: int) -> CodeTable:
    raw = Path(path).read_bytes()
    start = raw.lstrip(b"\xef\xbb\xbf \t\r\n")
    if looks_like_cnaps2(raw) or start.startswith(b"<"):
        return _from_ccms906(raw, path)
    return table_from_toml(raw, path)


def load_code_table(path: str | os.PathLike[str]) -> CodeTable:
    """Load a CNAPS2 code table: our TOML layout or a ccms.906.001.01 message.

    A ccms.906 body (optionally with its ``{H:}`` header) gives an *authoritative* table —
    rules then report errors instead of warnings. Tables are cached per path and reloaded
    when the file changes. Raises :class:`~paymsg.errors.ConfigError` for an unreadable file.
    """
    target = Path(path).expanduser()
    try:
        stat = target.stat()
        resolved = str(target.resolve())
        if not target.is_file():
            raise IsADirectoryError(f"{target} is not a file")
    except OSError as exc:
        raise ConfigError(f"cannot read the CNAPS2 code table: {exc}", source=str(target)) from None
    return _load_cached(resolved, stat.st_mtime_ns, stat.st_size)


def active_table(ctx: RuleContext) -> CodeTable:
    """The table of this validation: a configured file (checked for changes once per
    validation), else the shipped one."""
    path = ctx.config.cnaps2_code_table
    if path is None:
        return shipped_code_table()
    table: CodeTable = ctx.memo("cnaps2.code-table", lambda: load_code_table(path))
    return table


def table_error(ctx: RuleContext, exc: PaymsgError) -> Finding:
    return ctx.finding(
        None,
        f"the CNAPS2 code table could not be loaded: {exc}",
        f"无法加载 CNAPS2 代码表：{exc}",
        value=str(ctx.config.cnaps2_code_table),
        severity="error",
    )


# =============================================================================== code tables


@dataclass
class _CodeSite:
    """Where one transaction keeps its 业务类型 and 业务种类 (§6)."""

    message_type: str | None
    anchor: Element
    business_type: Element | None
    category: Element | None = None
    category_value: str | None = None
    #: /F25/ lines after the first (pacs.009 bodies)
    extra_categories: list[Element] = field(default_factory=list)
    #: a payment (the business type is mandatory) or a reference to an original (OrgnlTxTpCd)
    payment: bool = True


def _code_sites(ctx: RuleContext) -> list[_CodeSite]:
    """Where the codes are (computed once per validation, for both code rules)."""
    sites: list[_CodeSite] = ctx.memo("cnaps2.code-sites", lambda: _find_code_sites(ctx))
    return sites


def _find_code_sites(ctx: RuleContext) -> list[_CodeSite]:
    message = ctx.message
    if message is None:
        return []
    mtype = ctx.type.id
    sites: list[_CodeSite] = []
    if mtype == "hvps.111.001.01":
        for tx in ctx.transactions():
            btype = ctx.find(tx, "PmtTpInf/CtgyPurp/Prtry")
            if btype is None:
                btype = ctx.find(ctx.find(message, "GrpHdr"), "PmtTpInf/CtgyPurp/Prtry")
            category = ctx.find(tx, "Purp/Prtry")
            sites.append(_CodeSite(mtype, tx, btype, category, ctx.text(category)))
    elif mtype == "hvps.112.001.01":
        for tx in ctx.transactions():
            btype = ctx.find(tx, "PmtTpInf/SvcLvl/Prtry")
            if btype is None:
                btype = ctx.find(ctx.find(message, "GrpHdr"), "PmtTpInf/SvcLvl/Prtry")
            lines = [
                line
                for line in ctx.findall(tx, "RmtInf/Ustrd")
                if (ctx.text(line) or "").startswith("/F25/")
            ]
            first = lines[0] if lines else None
            value = (ctx.text(first) or "")[5:].strip() if first is not None else None
            sites.append(_CodeSite(mtype, tx, btype, first, value, lines[1:]))
    else:
        for detail in ctx.transactions():
            category = ctx.find(detail, "Purp/Prtry")
            sites.append(
                _CodeSite(
                    mtype,
                    detail,
                    ctx.find(detail, "PmtTpInf/CtgyPurp/Prtry"),
                    category,
                    ctx.text(category),
                )
            )
    for original in tagged(message, ("RtrInf",)):
        code = ctx.find(original, "OrgnlTx/OrgnlTxTpCd")
        if code is not None:
            original_type = ctx.text(original, "OrgnlGrpHdr/OrgnlMT")
            sites.append(_CodeSite(original_type, code, code, payment=False))
    return sites


CODE_TYPES = HVPS_CREDIT | BEPS_CREDIT

#: :func:`message_key` of the message types a validation meets (its own, a return's OrgnlMT):
#: kept for the next payment, as splitting the id again cost a tenth of the rule
_message_key = lru_cache(maxsize=256)(message_key)


@rule(
    "cnaps2.code.business-type",
    pack="cnaps2",
    severity="warning",
    title="业务类型 (business type) is known and allowed in this message type",
    title_zh="业务类型编码存在且适用于本报文类型",
    types=CODE_TYPES,
)
def code_business_type(ctx: RuleContext) -> Findings:
    """The 业务类型 (business type, ``TxTpCd``) lives in PmtTpInf/CtgyPurp/Prtry (hvps.111,
    beps.121/122) or PmtTpInf/SvcLvl/Prtry (hvps.112, a pacs.009 body without CtgyPurp)
    (§6.1-6.4, [C2+]); a return's RtrInf/OrgnlTx/OrgnlTxTpCd names the original's. The code
    must be in the code table and listed for the message type (OrgnlMT for a return). The
    codes come from DATA: the shipped table (§8.1, mostly [S1]; which message a type may be
    used in is mostly [INF]) gives warnings; NPC's ccms.906 table, set as
    ``cnaps2_code_table``, is authoritative and gives errors. A payment without a business
    type is an error: the NPC processes by it (§6, [C2+])."""
    try:
        table = active_table(ctx)
    except PaymsgError as exc:
        yield table_error(ctx, exc)
        return
    where_en, where_zh = table.describe
    for site in _code_sites(ctx):
        code = ctx.text(site.business_type)
        if not code:
            if site.payment:
                yield ctx.finding(
                    site.anchor,
                    "the transaction names no business type (业务类型)",
                    "该笔业务缺少业务类型编码",
                    severity="error",
                )
            continue
        anchor = site.business_type if site.business_type is not None else site.anchor
        entry = table.business_types.get(code)
        if entry is None:
            yield ctx.finding(
                anchor,
                f"business type (业务类型) {code} is not in {where_en}",
                f"业务类型 {code} 不在{where_zh}中",
                value=code,
                severity=table.severity,
            )
            continue
        allowed = table.messages_for(code)
        if site.message_type and allowed is not None:
            if _message_key(site.message_type) in allowed:
                continue
            listed = ", ".join(sorted(allowed))
            yield ctx.finding(
                anchor,
                f"business type (业务类型) {entry.label} is not used in {site.message_type} "
                f"(listed for {listed} in {where_en})",
                f"业务类型 {entry.label} 不适用于 {site.message_type}（{where_zh}所列适用报文："
                f"{listed}）",
                value=code,
                severity=table.severity,
            )


@rule(
    "cnaps2.code.category",
    pack="cnaps2",
    severity="warning",
    title="业务种类 (category) is known and valid with the business type",
    title_zh="业务种类编码存在且与业务类型匹配",
    types=CODE_TYPES,
)
def code_category(ctx: RuleContext) -> Findings:
    """The 业务种类 (category, ``CtgyPurpCd``, ≤5 digits) lives in Purp/Prtry (hvps.111,
    beps.121/122) or, for pacs.009 bodies without Purp (hvps.112), in a ``/F25/`` remittance
    line (§6.2, §8.2, [C2+]). It must be in the code table and be a valid combination with
    the transaction's 业务类型 for this message type. Valid combinations come from DATA: the
    shipped table pairs codes mostly by name ([INF]) and gives warnings; NPC's ccms.906 table
    (``cnaps2_code_table``) is authoritative and gives errors. A missing category is reported
    only when the table lists categories for the business type (ccms.906 makes the category
    optional); a second /F25/ line is ambiguous and reported."""
    try:
        table = active_table(ctx)
    except PaymsgError as exc:
        yield table_error(ctx, exc)
        return
    where_en, where_zh = table.describe
    for site in _code_sites(ctx):
        if not site.payment:
            continue
        for extra in site.extra_categories:
            yield ctx.finding(
                extra,
                "a second /F25/ line: a transaction names one category (业务种类)",
                "出现第二个 /F25/ 行：每笔业务只能有一个业务种类",
                value=ctx.text(extra),
            )
        business_type = ctx.text(site.business_type)
        valid = None
        if business_type is not None and business_type in table.business_types:
            valid = table.categories_for(site.message_type, business_type)
        category = site.category_value
        if not category:
            if valid:
                place = "/F25/ line" if site.message_type == "hvps.112.001.01" else "Purp/Prtry"
                yield ctx.finding(
                    site.anchor,
                    f"the transaction names no category (业务种类, {place}) for business type "
                    f"{business_type}",
                    f"该笔业务缺少业务种类编码（业务类型 {business_type}）",
                    severity=table.severity,
                )
            continue
        anchor = site.category if site.category is not None else site.anchor
        entry = table.categories.get(category)
        if entry is None:
            yield ctx.finding(
                anchor,
                f"category (业务种类) {category} is not in {where_en}",
                f"业务种类 {category} 不在{where_zh}中",
                value=category,
                severity=table.severity,
            )
        elif valid is not None and category not in valid:
            listed = ", ".join(sorted(valid))
            yield ctx.finding(
                anchor,
                f"category (业务种类) {entry.label} does not go with business type "
                f"{business_type} in {site.message_type} (valid: {listed}; {where_en})",
                f"业务种类 {entry.label} 与业务类型 {business_type} 不匹配"
                f"（{where_zh}中有效的业务种类：{listed}）",
                value=category,
                severity=table.severity,
            )


__all__ = ["active_table", "load_code_table", "table_error"]
