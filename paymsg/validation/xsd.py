"""The XSD layer: every schema violation of a message as an ``xsd`` finding.

The schemas are compiled and borrowed through :func:`schema_errors`; each libxml2 error
kind maps to a rule id (``xsd.content``, ``xsd.pattern``, …) with a bilingual title.
"""

from __future__ import annotations

from lxml import etree

from paymsg.codec.xml.binding import SchemaProblem, schema_errors
from paymsg.schema.catalog import MessageType
from paymsg.validation.findings import Finding

#: libxml2 error kinds → (rule id, English title, Chinese title); the last one catches all
XSD_KINDS: tuple[tuple[tuple[str, ...], str, str, str], ...] = (
    (
        ("ELEMENT_CONTENT", "COMPLEX_TYPE_2"),
        "xsd.content",
        "element missing, unexpected or out of order",
        "元素结构不符合报文定义（缺少必填元素、多余元素或顺序错误）",
    ),
    (
        ("PATTERN",),
        "xsd.pattern",
        "value does not match the required pattern",
        "取值不符合规定格式",
    ),
    (("LENGTH",), "xsd.length", "text length outside the allowed range", "长度不在允许范围内"),
    (("ENUMERATION",), "xsd.code", "value is not one of the allowed codes", "取值不在代码表中"),
    (
        ("DIGITS", "INCLUSIVE", "EXCLUSIVE"),
        "xsd.number",
        "number has too many digits or is out of range",
        "数值的位数或范围不符合要求",
    ),
    (
        ("DATATYPE", "TYPE_3_1"),
        "xsd.datatype",
        "value is not a valid date, time, number or boolean",
        "取值不是合法的数据类型（日期、时间、数字或布尔值）",
    ),
    (
        ("COMPLEX_TYPE_3", "COMPLEX_TYPE_4", "ATTRIBUTE"),
        "xsd.attribute",
        "attribute missing or not allowed",
        "属性缺失或不被允许",
    ),
    ((), "xsd.schema", "other schema violation", "不符合报文模式"),
)


def xsd_finding(problem: SchemaProblem, line_offset: int) -> Finding:
    """The ``xsd`` finding for a schema problem (``line_offset`` lines before the XML)."""
    rule, zh = next(
        (r, zh)
        for markers, r, _, zh in XSD_KINDS
        if not markers or any(m in problem.kind for m in markers)
    )
    return Finding(
        rule=rule,
        layer="xsd",
        severity="error",
        path=problem.path or None,
        line=problem.line + line_offset if problem.line else None,
        value=problem.value,
        message=problem.message,
        message_zh=f"{zh}：{problem.message}",
    )


def xsd_findings(
    document: etree._Element,
    mtype: MessageType,
    line_offset: int,
    app_header: etree._Element | None = None,
    header_type: MessageType | None = None,
) -> list[Finding]:
    """The schema findings of ``document`` (a ``mtype`` body whose XML starts after
    ``line_offset`` lines), then of its business application header, if any."""
    found = [xsd_finding(p, line_offset) for p in schema_errors(document, mtype)]
    if app_header is not None and header_type is not None:
        found += [xsd_finding(p, 0) for p in schema_errors(app_header, header_type)]
    return found
