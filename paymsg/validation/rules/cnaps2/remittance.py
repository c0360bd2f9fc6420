"""Rules ``cnaps2.remittance.*``: the HVPS remittance lines ``/XNN/value`` (§8.6)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from paymsg.errors import PaymsgError
from paymsg.reference.cnaps2 import (
    TAG_LINE,
)
from paymsg.reference.codes import (
    RemittanceTag,
    shipped_code_table,
)
from paymsg.validation.registry import Findings, RuleContext, rule
from paymsg.validation.rules.cnaps2.codes import active_table
from paymsg.validation.rules.cnaps2.common import (
    HVPS_CREDIT,
    Element,
)

# =============================================================================== remittance lines


def _remittance_lines(ctx: RuleContext) -> Iterator[tuple[Element, str]]:
    for tx in ctx.transactions():
        for line in ctx.findall(tx, "RmtInf/Ustrd"):
            text = line.text if line.text is not None else ""
            yield line, text


def _tags(ctx: RuleContext) -> Mapping[str, RemittanceTag]:
    try:
        table = active_table(ctx)
    except PaymsgError:
        table = shipped_code_table()
    return table.tags or shipped_code_table().tags


@rule(
    "cnaps2.remittance.tag-syntax",
    pack="cnaps2",
    title="HVPS remittance lines start with a /XNN/ tag",
    title_zh="大额附言行以 /XNN/ 标签开头",
    types=HVPS_CREDIT,
)
def remittance_tag_syntax(ctx: RuleContext) -> Findings:
    """HVPS ISO bodies carry 附言 and CNAPS supplementary fields (业务附加域) in RmtInf/Ustrd
    lines, each starting with a 3-character tag between slashes, e.g. ``/H01/…`` (§6.1,
    §8.6, [C2+]: FIB mappings, templates and samples). A line without a tag cannot be mapped
    to a CNAPS field. Observed tags are an upper-case letter and two upper-case letters or
    digits (F25, H01, F1A)."""
    for line, text in _remittance_lines(ctx):
        if TAG_LINE.match(text) is None:
            yield ctx.finding(
                line,
                f"remittance line {text[:20]!r} does not start with a tag like /H01/",
                f"附言行 {text[:20]!r} 未以 /H01/ 形式的标签开头",
                value=text[:20],
            )


@rule(
    "cnaps2.remittance.unknown-tag",
    pack="cnaps2",
    severity="warning",
    title="HVPS remittance tags are known",
    title_zh="大额附言标签为已知标签",
    types=HVPS_CREDIT,
)
def remittance_unknown_tag(ctx: RuleContext) -> Findings:
    """The tags the reference lists (§8.6: F25, H01 [C2+]; H02, H03, C00, E51, A70, F40, H20,
    C14, F56, D63, D64, H19, D27, C18, F1A, F52 and tags seen in a sample [S1]) are kept in
    the code table data. The full tag dictionary is in the non-public PBOC 大额分册 [NF], so
    an unknown tag is a warning, not an error."""
    tags = _tags(ctx)
    for line, text in _remittance_lines(ctx):
        match = TAG_LINE.match(text)
        if match is not None and match.group(1) not in tags:
            tag = match.group(1)
            yield ctx.finding(
                line,
                f"remittance tag /{tag}/ is not one of the known CNAPS2 tags",
                f"附言标签 /{tag}/ 不在已知的 CNAPS2 标签中",
                value=f"/{tag}/",
            )


@rule(
    "cnaps2.remittance.value-length",
    pack="cnaps2",
    severity="warning",
    title="A tagged remittance value fits the CNAPS field it carries",
    title_zh="附言标签值长度不超过其对应字段",
    types=HVPS_CREDIT,
)
def remittance_value_length(ctx: RuleContext) -> Findings:
    """A tagged line carries one CNAPS field; its value must fit that field, counted in
    characters: /E51/ 原报文标识号 ≤35 (OrgnlMsgId), /A70/ 原发起机构 ≤14 (OrgnlInstgPty),
    /F40/ 原报文类型 ≤35 (OrgnlMT), /F1A/ 凭证种类 2, /F52/ 汇票种类 4 (§8.6; tag meanings
    [S1], hence warnings; lengths from the matching CNAPS elements in Appendix A / the code
    values). The line as a whole is limited by the schema (Ustrd ≤140 characters). /F25/ is
    checked against the code table by cnaps2.code.category."""
    tags = _tags(ctx)
    for line, text in _remittance_lines(ctx):
        match = TAG_LINE.match(text)
        spec = tags.get(match.group(1)) if match is not None else None
        if match is None or spec is None or spec.max_length is None:
            continue
        value = match.group(2).strip()
        if len(value) > spec.max_length:
            yield ctx.finding(
                line,
                f"/{spec.tag}/ ({spec.en}) is {len(value)} characters long; the field it "
                f"carries holds at most {spec.max_length}",
                f"/{spec.tag}/（{spec.zh}）长度为 {len(value)} 个字符，对应字段最多 "
                f"{spec.max_length} 个字符",
                value=value,
            )
