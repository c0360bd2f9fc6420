"""Rule pack ``iso20022.bah``: business application header ⇄ document consistency."""

from __future__ import annotations

from lxml import etree

from paymsg.validation.registry import Findings, RuleContext, rule
from paymsg.validation.rules.iso20022.common import (
    element_name,
)

# ---------------------------------------------------------------------------------------
# pack iso20022.bah — business application header ⇄ document
# ---------------------------------------------------------------------------------------


def _document_id_element(ctx: RuleContext) -> etree._Element | None:
    """GrpHdr/MsgId, or Assgnmt/Id for the investigation messages (camt.056, camt.029)."""
    message = ctx.message
    found = ctx.find(message, "GrpHdr/MsgId")
    return found if found is not None else ctx.find(message, "Assgnmt/Id")


def _agent_bic(ctx: RuleContext, role: str) -> etree._Element | None:
    """BICFI of the instructing (``Instg``) or instructed (``Instd``) agent: group header
    first, else the first transaction; for camt.056/029 the assigner / assignee agent."""
    message = ctx.message
    if message is None:
        return None
    paths = [f"GrpHdr/{role}Agt/FinInstnId/BICFI"]
    if ctx.layout.transaction is not None:
        paths.append(f"{ctx.layout.transaction}/{role}Agt/FinInstnId/BICFI")
    paths.append(f"Assgnmt/{'Assgnr' if role == 'Instg' else 'Assgne'}/Agt/FinInstnId/BICFI")
    for path in paths:
        found = ctx.find(message, path)
        if found is not None and ctx.text(found):
            return found
    return None


def _same_institution(a: str, b: str) -> bool:
    """Two BICs name the same party: equal, or equal in their first 8 characters when one
    of them has no branch (8 characters or branch XXX)."""
    if a == b:
        return True
    if len(a) == 8 or a.endswith("XXX") or len(b) == 8 or b.endswith("XXX"):
        return a[:8] == b[:8]
    return False


@rule(
    "iso.bah.msg-def-idr",
    pack="iso20022.bah",
    title="AppHdr/MsgDefIdr names the document's message type",
    title_zh="AppHdr/MsgDefIdr 与报文体的报文类型一致",
)
def bah_msg_def_idr(ctx: RuleContext) -> Findings:
    """The header's MsgDefIdr tells the receiver how to parse the document; routing and
    processing rely on it before the document is opened. It must name the document's
    message definition (for a CNAPS2 type that carries an ISO body, the ISO id)."""
    header = ctx.app_header
    element = ctx.find(header, "MsgDefIdr")
    if element is None:
        return
    expected = ctx.type.body or ctx.type.id
    value = ctx.text(element)
    if value != expected:
        yield ctx.finding(
            element,
            f"MsgDefIdr is {value}, but the document is {expected}",
            f"MsgDefIdr 为 {value}，但报文体为 {expected}",
            value=value,
        )


@rule(
    "iso.bah.biz-msg-idr",
    pack="iso20022.bah",
    severity="warning",
    title="AppHdr/BizMsgIdr equals the document's message id",
    title_zh="AppHdr/BizMsgIdr 与报文体的报文标识一致",
)
def bah_biz_msg_idr(ctx: RuleContext) -> Findings:
    """By market practice the header's BizMsgIdr repeats the document's own identifier
    (GrpHdr/MsgId, or Assgnmt/Id for camt.056 and camt.029), so duplicates are detected and
    replies matched on one id. Only CBPR+ mandates it, hence a warning."""
    element = ctx.find(ctx.app_header, "BizMsgIdr")
    document_id = _document_id_element(ctx) if element is not None else None
    if element is None or document_id is None:
        return
    value, expected = ctx.text(element), ctx.text(document_id)
    if value != expected:
        yield ctx.finding(
            element,
            f"BizMsgIdr is {value}, but the document's {element_name(document_id)} is {expected}",
            f"BizMsgIdr 为 {value}，但报文体的 {element_name(document_id)} 为 {expected}",
            value=value,
        )


@rule(
    "iso.bah.fr-to-agents",
    pack="iso20022.bah",
    severity="warning",
    title="AppHdr Fr/To agree with the instructing/instructed agents",
    title_zh="AppHdr 的 Fr/To 与指示行/被指示行一致",
)
def bah_fr_to_agents(ctx: RuleContext) -> Findings:
    """The header's sender (Fr) and receiver (To) are normally the instructing and
    instructed agents of the document (the assigner and assignee for camt.056/029); a
    mismatch sends the message to, or makes it appear from, a bank that is not party to it.
    Compared only when both sides are identified by BIC. A warning: a service bureau or
    market infrastructure may legitimately send on an agent's behalf (CBPR+ forbids that)."""
    header = ctx.app_header
    if header is None:
        return
    for side, role in (("Fr", "Instg"), ("To", "Instd")):
        header_bic = ctx.find(header, f"{side}/FIId/FinInstnId/BICFI")
        agent_bic = _agent_bic(ctx, role)
        a, b = ctx.text(header_bic), ctx.text(agent_bic)
        if header_bic is None or agent_bic is None or not a or not b:
            continue
        if not _same_institution(a, b):
            agent = element_name(agent_bic.getparent().getparent())
            yield ctx.finding(
                header_bic,
                f"AppHdr/{side} is {a}, but the document's {agent} is {b}",
                f"AppHdr/{side} 为 {a}，但报文体中的 {agent} 为 {b}",
                value=a,
            )
