"""``paymsg.validate``: safety → xsd → rules, every layer reporting the same findings.

Validation never stops at the first problem and never raises for a bad message: what
cannot be read becomes a ``safety`` finding. It works on the parsed tree, not on the
bound objects, so business rules still run (and report what they can) on a document
that failed the schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import UnionType

from lxml import etree

from paymsg.codec.api import Source, _is_json, open_cnaps2, read_input, serialize
from paymsg.codec.envelope import cnaps2
from paymsg.codec.envelope.bah import split_parts
from paymsg.codec.json.engine import from_json
from paymsg.codec.message import Message
from paymsg.codec.xml.binding import SchemaProblem, schema_errors
from paymsg.codec.xml.safe import DEFAULT_LIMITS, Limits, parse_xml
from paymsg.errors import (
    BindingError,
    EnvelopeError,
    MalformedXMLError,
    PaymsgError,
    UnknownMessageTypeError,
    UnsafeXMLError,
)
from paymsg.schema.catalog import MessageType, catalog
from paymsg.schema.packs import use_pack
from paymsg.validation.config import ValidationConfig, profile
from paymsg.validation.findings import Finding, Report
from paymsg.validation.registry import RuleContext, run_rules
from paymsg.validation.stream import Progress, input_size, validate_streamed

#: libxml2 error kinds → (rule id, English title, Chinese title)
_XSD_KINDS: tuple[tuple[tuple[str, ...], str, str, str], ...] = (
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

_SAFETY_RULES: tuple[tuple[type[PaymsgError] | UnionType, str, str, str], ...] = (
    (
        UnsafeXMLError,
        "safety.unsafe-xml",
        "refused for safety: DOCTYPE/entities, size or depth limit",
        "出于安全原因拒绝该输入",
    ),
    (MalformedXMLError, "safety.malformed-xml", "not well-formed XML", "不是格式良好的 XML"),
    (
        EnvelopeError,
        "safety.envelope",
        "malformed CNAPS2 header or signature block",
        "CNAPS2 报文头或签名块格式错误",
    ),
    (
        UnknownMessageTypeError | BindingError,
        "safety.unknown-type",
        "message type not recognised",
        "无法识别的报文类型",
    ),
    (PaymsgError, "safety.input", "input could not be read", "无法读取输入"),
)

#: the safety and xsd layers' rule ids, for `paymsg rules list`
LAYER_RULES: tuple[tuple[str, str, str, str], ...] = tuple(
    (rule_id, "safety", en, zh) for _, rule_id, en, zh in _SAFETY_RULES
) + tuple((rule_id, "xsd", en, zh) for _, rule_id, en, zh in _XSD_KINDS)


def safety_finding(error: PaymsgError) -> Finding:
    """The ``safety`` finding for an error that stopped reading the message."""
    return _safety(error)


def xsd_finding(problem: SchemaProblem, line_offset: int) -> Finding:
    """The ``xsd`` finding for a schema problem (``line_offset`` lines before the XML)."""
    return _xsd(problem, line_offset)


def _safety(error: PaymsgError) -> Finding:
    rule, zh = next((r, zh) for cls, r, _, zh in _SAFETY_RULES if isinstance(error, cls))
    return Finding(
        rule=rule,
        layer="safety",
        severity="error",
        path=error.path,
        line=error.line,
        value=None if error.offset is None else f"offset {error.offset}",
        message=error.message + (f" (hint: {error.hint})" if error.hint else ""),
        message_zh=f"{zh}：{error.message}",
    )


def _xsd(problem: SchemaProblem, line_offset: int) -> Finding:
    rule, zh = next(
        (r, zh)
        for markers, r, _, zh in _XSD_KINDS
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


@dataclass
class _Located:
    mtype: MessageType
    document: etree._Element
    app_header: etree._Element | None
    header_type: MessageType | None
    cnaps_header: cnaps2.Cnaps2Header | None
    line_offset: int


def _locate(raw: bytes, limits: Limits, source: str | None) -> _Located:
    if cnaps2.looks_like_cnaps2(raw):
        opened = open_cnaps2(raw, limits, source)
        header = opened.envelope.header
        located = _Located(opened.mtype, opened.root, None, None, header, opened.line_offset)
    else:
        root = parse_xml(raw, source=source, limits=limits)
        parts = split_parts(root, source=source)
        located = _Located(
            parts.document_type, parts.document, parts.header, parts.header_type, None, 0
        )
    # comments and processing instructions are not data, but split a value in two
    # ("1<!-- c -->0" is 10): merge them away, as binding does, so rules read whole values
    for part in (located.document, located.app_header):
        if part is not None:
            etree.strip_tags(part, etree.Comment, etree.ProcessingInstruction)
    return located


def validate(
    data: Source | Message,
    *,
    profile_name: str | None = None,
    config: ValidationConfig | None = None,
    limits: Limits = DEFAULT_LIMITS,
    type: str | None = None,
    progress: Progress | None = None,
    schema_pack: str | None = None,
) -> Report:
    """Validate one message (bytes, text, path, or a :class:`~paymsg.Message`).

    ``type`` forces the message type (a CNAPS2 body without its header, for example).
    Input larger than ``config.stream_from_bytes`` whose type streams is validated as a
    stream (:mod:`paymsg.validation.stream`), with ``progress(bytes_read, total)`` called
    as it goes; ``limits.max_bytes`` bounds only what is validated whole.
    ``schema_pack`` names the pack whose type a shared namespace means (as for ``parse``).
    """
    if schema_pack is not None:
        with use_pack(schema_pack):
            return validate(
                data, profile_name=profile_name, config=config, limits=limits, type=type,
                progress=progress,
            )  # fmt: skip
    chosen = profile(profile_name)
    config = config or ValidationConfig()
    threshold = config.stream_from_bytes
    if threshold is not None and not isinstance(data, Message):
        size = input_size(data)
        if size is not None and size > threshold:
            streamed = validate_streamed(
                data,
                profile_name=chosen.name,
                config=config,
                limits=limits,
                type=type,
                progress=progress,
            )
            if streamed is not None:
                return streamed
    from_json_input = False
    source = None
    try:
        if isinstance(data, Message):
            raw = serialize(data)
        else:
            raw, source = read_input(data)
            if _is_json(raw):
                raw = serialize(from_json(raw))
                from_json_input = True
    except PaymsgError as exc:
        return Report(source=source, profile=chosen.name, findings=[_safety(exc)])
    report = Report(source=source, profile=chosen.name)
    try:
        located = _locate(raw, limits, source)
    except PaymsgError as exc:
        report.findings.append(_safety(exc))
        return report
    if type is not None and type != located.mtype.id:
        try:
            forced = catalog().get(type)
        except PaymsgError as exc:
            report.findings.append(_safety(exc))
            return report
        if (forced.namespace, forced.root) != (located.mtype.namespace, located.mtype.root):
            mismatch = UnknownMessageTypeError(
                f"asked to validate as {forced.id}, but the input is {located.mtype.id}"
                f" (body <{forced.root}> in {forced.namespace} expected)"
            )
            report.type = located.mtype.id
            report.findings.append(_safety(mismatch))
            return report
        located.mtype = forced
    report.type = located.mtype.id

    problems = [
        _xsd(p, located.line_offset) for p in schema_errors(located.document, located.mtype)
    ]
    if located.app_header is not None and located.header_type is not None:
        problems += [_xsd(p, 0) for p in schema_errors(located.app_header, located.header_type)]
    report.findings.extend(problems)

    ctx = RuleContext(
        type=located.mtype,
        document=located.document,
        config=config,
        app_header=located.app_header,
        cnaps_header=located.cnaps_header,
        line_offset=located.line_offset,
    )
    report.findings.extend(run_rules(ctx, chosen.packs))
    if from_json_input:  # lines would point into XML the user never saw
        report.findings = [f.model_copy(update={"line": None}) for f in report.findings]
    return report
