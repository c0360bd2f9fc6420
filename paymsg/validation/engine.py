"""``paymsg.validate``: safety → xsd → rules, every layer reporting the same findings.

Validation never stops at the first problem and never raises for a bad message: what
cannot be read becomes a ``safety`` finding. It works on the parsed tree, not on the
bound objects, so business rules still run (and report what they can) on a document
that failed the schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from paymsg.codec.api import Source, is_json, open_cnaps2, read_input, serialize
from paymsg.codec.detect import Unwrapped
from paymsg.codec.envelope import cnaps2
from paymsg.codec.envelope.bah import split_parts
from paymsg.codec.json.engine import from_json
from paymsg.codec.message import Message
from paymsg.codec.xml.safe import DEFAULT_LIMITS, Limits, parse_xml
from paymsg.errors import PaymsgError, UnknownMessageTypeError
from paymsg.schema.catalog import MessageType, catalog
from paymsg.schema.packs import use_pack
from paymsg.validation.config import ValidationConfig, profile
from paymsg.validation.findings import Report
from paymsg.validation.registry import RuleContext, run_rules
from paymsg.validation.safety import SAFETY_RULES, safety_finding
from paymsg.validation.stream import Progress, input_size, validate_streamed
from paymsg.validation.xsd import XSD_KINDS, xsd_findings

#: the safety and xsd layers' rule ids, for `paymsg rules list`
LAYER_RULES: tuple[tuple[str, str, str, str], ...] = tuple(
    (rule_id, "safety", en, zh) for _, rule_id, en, zh in SAFETY_RULES
) + tuple((rule_id, "xsd", en, zh) for _, rule_id, en, zh in XSD_KINDS)


#: the configuration of a call that gives none: one frozen instance, not one built per
#: payment (shared read-only, so no call's state)
_DEFAULT_CONFIG = ValidationConfig()


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
    _merge_text(located)
    return located


def _merge_text(located: _Located) -> None:
    # comments and processing instructions are not data, but split a value in two
    # ("1<!-- c -->0" is 10): merge them away, as binding does, so rules read whole values
    for part in (located.document, located.app_header):
        if part is not None:
            etree.strip_tags(part, etree.Comment, etree.ProcessingInstruction)


def validate_unwrapped(
    raw: bytes,
    opened: Unwrapped,
    *,
    profile_name: str | None = None,
    config: ValidationConfig | None = None,
) -> Report:
    """:func:`validate` for CNAPS2 text ``raw`` that :func:`paymsg.parse` has just taken
    apart (its ``inspect`` hook), before binding: the same report as ``validate(raw)``,
    without reading the text again. Text that :func:`validate` reads another way (JSON,
    not CNAPS2, large enough to be validated as a stream) is validated by it."""
    chosen = profile(profile_name)
    config = config or _DEFAULT_CONFIG
    threshold = config.stream_from_bytes
    if (
        opened.envelope is None
        or is_json(raw)
        or not cnaps2.looks_like_cnaps2(raw)
        or (threshold is not None and len(raw) > threshold)
    ):
        return validate(raw, profile_name=chosen.name, config=config)
    located = _Located(
        opened.type, opened.document, None, None, opened.envelope.header, opened.line_offset
    )
    _merge_text(located)
    report = Report(source=None, profile=chosen.name)
    return _check_located(report, located, config, chosen.packs, from_json_input=False)


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
    A :class:`~paymsg.Message` is validated from what :func:`paymsg.parse` read
    (``message.received``), so findings carry the input's own lines; one without it is
    serialized first.
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
    config = config or _DEFAULT_CONFIG
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
            # what the message was read from, as read: neither serialized nor bound again
            # (a message built in code, read from JSON or edited has none: serialized)
            received = data.received
            raw = received.raw if received is not None else serialize(data)
        else:
            raw, source = read_input(data)
            if is_json(raw):
                raw = serialize(from_json(raw))
                from_json_input = True
    except PaymsgError as exc:
        return Report(source=source, profile=chosen.name, findings=[safety_finding(exc)])
    report = Report(source=source, profile=chosen.name)
    try:
        located = _locate(raw, limits, source)
    except PaymsgError as exc:
        report.findings.append(safety_finding(exc))
        return report
    if type is not None and type != located.mtype.id:
        try:
            forced = catalog().get(type)
        except PaymsgError as exc:
            report.findings.append(safety_finding(exc))
            return report
        if (forced.namespace, forced.root) != (located.mtype.namespace, located.mtype.root):
            mismatch = UnknownMessageTypeError(
                f"asked to validate as {forced.id}, but the input is {located.mtype.id}"
                f" (body <{forced.root}> in {forced.namespace} expected)"
            )
            report.type = located.mtype.id
            report.findings.append(safety_finding(mismatch))
            return report
        located.mtype = forced
    return _check_located(report, located, config, chosen.packs, from_json_input=from_json_input)


def _check_located(
    report: Report,
    located: _Located,
    config: ValidationConfig,
    packs: Iterable[str],
    *,
    from_json_input: bool,
) -> Report:
    """The xsd and rule layers on a located message, into ``report``."""
    report.type = located.mtype.id

    report.findings.extend(
        xsd_findings(
            located.document,
            located.mtype,
            located.line_offset,
            located.app_header,
            located.header_type,
        )
    )

    ctx = RuleContext(
        type=located.mtype,
        document=located.document,
        config=config,
        app_header=located.app_header,
        cnaps_header=located.cnaps_header,
        line_offset=located.line_offset,
    )
    report.findings.extend(run_rules(ctx, packs))
    if from_json_input:  # lines would point into XML the user never saw
        report.findings = [f.model_copy(update={"line": None}) for f in report.findings]
    return report
