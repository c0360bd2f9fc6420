"""The safety layer: what stops a message from being read becomes one ``safety`` finding.

Validation never raises for a bad message. An input that cannot be read (unsafe or
malformed XML, a broken CNAPS2 envelope, an unknown type) is reported as a finding of the
``safety`` layer, under a rule id chosen by the kind of error.
"""

from __future__ import annotations

from types import UnionType

from paymsg.errors import (
    BindingError,
    EnvelopeError,
    MalformedXMLError,
    PaymsgError,
    UnknownMessageTypeError,
    UnsafeXMLError,
)
from paymsg.validation.findings import Finding

#: error class → (rule id, English title, Chinese title), the first match wins
SAFETY_RULES: tuple[tuple[type[PaymsgError] | UnionType, str, str, str], ...] = (
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


def safety_finding(error: PaymsgError) -> Finding:
    """The ``safety`` finding for an error that stopped reading the message."""
    rule, zh = next((r, zh) for cls, r, _, zh in SAFETY_RULES if isinstance(error, cls))
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
