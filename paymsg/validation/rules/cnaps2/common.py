"""What the CNAPS2 rule modules share: the message types they know, element helpers,
header findings, the body's direct participants (from the catalogue layouts)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import TypeAlias

from lxml import etree

from paymsg.schema.layout import CLEARING_MEMBER
from paymsg.validation.findings import Finding, Severity
from paymsg.validation.registry import RuleContext

Element: TypeAlias = etree._Element


# the NPC (0000, §2.2), the 12-digit bank code (§2.3), the MsgId shape (§2.4), header
# priority ⇄ settlement priority (§3.2) and the "/XNN/value" remittance line (§8.6) are
# shared CNAPS2 facts: see paymsg.reference.cnaps2
#: amounts written as text with their currency (AmountText, SummaryAmountText; §4.3 [C2+])
TEXT_AMOUNT = re.compile(r"([A-Z]{3})[+-]?[0-9]+(\.[0-9]+)?")
TEXT_AMOUNT_ELEMENTS = frozenset(
    {
        "Bal",
        "TtlAmt",
        "DrftAmt",
        "SttlmAmt",
        "OddAmt",
        "SndgCtrlSum",
        "RcvgCtrlSum",
        "SndTtlAmt",
        "RcvTtlAmt",
        "DbtrAmt",
        "CdtrAmt",
        "AmtUpperLmt",
    }
)

HVPS_CREDIT = frozenset({"hvps.111.001.01", "hvps.112.001.01"})
BEPS_CREDIT = frozenset({"beps.121.001.01", "beps.122.001.01"})
#: ccms.990 / ccms.911: the body names the confirmed (or dropped) message, not its own parties
CONFIRMATION_INFO = {"ComConf": "ConfInf", "DscrdMsgNtfctn": "DscrdInf"}


def element_name(element: Element) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _elements(root: Element | None) -> Iterator[Element]:
    """Every element below ``root`` (comments and processing instructions skipped)."""
    if root is None:
        return
    for element in root.iter():
        if isinstance(element.tag, str):
            yield element


#: element names that can hold a bank code (the rule then checks the element's place); a
#: branch id is found through its BrnchId, as every account and party has an ``Id`` too
BANK_CODE_CANDIDATES = (
    "InstgDrctPty", "InstdDrctPty", "OrgnlInstgPty", "OrigSndr", "InstgPty", "InstdPty",
    "InstgIndrctPty", "InstdIndrctPty", "BrnchId", "MmbId", "Issr",
)  # fmt: skip


_WITH_CCY = etree.XPath("descendant::*[@Ccy]")  # as .//*, without its descendant-or-self step


@cache
def _any_namespace(names: tuple[str, ...]) -> tuple[str, ...]:
    """``names`` as tags that match in any namespace (made once per set of names)."""
    return tuple(f"{{*}}{name}" for name in names)


def tagged(
    root: Element | None, names: Iterable[str], *, with_ccy: bool = False
) -> Iterator[Element]:
    """Elements below ``root`` with one of ``names`` (any namespace), in document order;
    with ``with_ccy``, also every element carrying a ``Ccy`` attribute. Filtering happens
    in lxml, so rules do not visit every element of a large package in Python."""
    if root is None:
        return
    tags = _any_namespace(tuple(names))
    if not with_ccy:
        yield from root.iter(*tags)
        return
    # two C-level passes (an attribute test, then a tag match) beat one XPath that tests
    # every element's local name against every candidate name
    yield from _WITH_CCY(root)
    yield from (e for e in root.iter(*tags) if e.get("Ccy") is None)


def header_finding(
    ctx: RuleContext,
    field_name: str,
    message: str,
    message_zh: str,
    *,
    value: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    """A finding about a field of the ``{H:}`` header (path ``{H:}/<field>``, line 1)."""
    found = ctx.finding(f"{{H:}}/{field_name}", message, message_zh, value=value, severity=severity)
    return found.model_copy(update={"line": 1})


# =============================================================================== body helpers


def direct_parties(ctx: RuleContext) -> tuple[Element | None, Element | None]:
    """The body's instructing and instructed direct participants (§2.2, §6.1), else the
    clearing member ids of the instructing and instructed agents (ISO bodies)."""
    parties = ctx.layout.parties
    instructing = ctx.first(parties.instructing)
    instructed = ctx.first(parties.instructed)
    if instructing is not None or instructed is not None:
        return instructing, instructed
    return (
        ctx.first(parties.instructing_agent, CLEARING_MEMBER),
        ctx.first(parties.instructed_agent, CLEARING_MEMBER),
    )
