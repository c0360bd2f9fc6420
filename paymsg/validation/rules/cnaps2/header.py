"""Rules ``cnaps2.header.*``: the ``{H:}`` header ⇄ body consistency (§2-§3)."""

from __future__ import annotations

from paymsg.reference.cnaps2 import (
    NPC,
    PRIORITY_BY_SETTLEMENT,
)
from paymsg.validation.registry import Findings, RuleContext, rule
from paymsg.validation.rules.cnaps2.common import (
    CONFIRMATION_INFO,
    HVPS_CREDIT,
    Element,
    direct_parties,
    element_name,
    header_finding,
)

# =============================================================================== header ⇄ body


@rule(
    "cnaps2.header.mesg-type",
    pack="cnaps2",
    title="Header MesgType names the type of the body",
    title_zh="报文头报文类型代码与报文体一致",
)
def header_mesg_type(ctx: RuleContext) -> Findings:
    """The ``{H:}`` MesgType (报文类型代码) decides how the body is read: hvps.111 carries an
    ISO pacs.008.001.02 body, so the body namespace alone cannot tell the type (§3.2, §4.1,
    [C2+]). The engine already refuses a body in the wrong namespace; this rule also checks
    that the message element under ``Document`` is the one of the header's type, and that a
    type forced by the caller agrees with the header. Runs only on transport text with a
    header."""
    header = ctx.cnaps_header
    if header is None:
        return
    message = ctx.message
    anchor = message if message is not None else ctx.document
    if header.mesg_type != ctx.type.id:
        yield ctx.finding(
            anchor,
            f"the header MesgType is {header.mesg_type}, but the message is validated as "
            f"{ctx.type.id}",
            f"报文头报文类型代码为 {header.mesg_type}，但报文按 {ctx.type.id} 校验",
            value=header.mesg_type,
        )
    expected = ctx.type.element
    if message is not None and expected and element_name(message) != expected:
        found = element_name(message)
        yield ctx.finding(
            message,
            f"a {ctx.type.id} body has the message element <{expected}>, not <{found}>",
            f"{ctx.type.id} 报文体的报文元素应为 <{expected}>，实际为 <{found}>",
            value=found,
        )


@rule(
    "cnaps2.header.participants",
    pack="cnaps2",
    title="Header sender/receiver are the body's instructing/instructed direct participants",
    title_zh="报文头发起人/接收人与报文体发起/接收直接参与机构一致",
    standard="cnaps2",
)
def header_participants(ctx: RuleContext) -> Findings:
    """The header OrigSender / OrigReceiver carry the sending / receiving direct participant
    (§2.2, §3.2, [C2+]): in every sample — bank to NPC and NPC-forwarded alike — they equal
    the body's instructing / instructed direct participant: ``InstgDrctPty`` /
    ``InstdDrctPty`` of GrpHdr or PKGGrpHdr, and for ISO bodies (hvps.111/112) ``InstgAgt`` /
    ``InstdAgt`` ``FinInstnId/ClrSysMmbId/MmbId`` of the transaction (or group header). A
    message the NPC forwards keeps the originating bank as sender with direction D (§3.3), so
    the comparison does not depend on the direction. NPC messages name ``0000`` on both
    sides. Not checked: the receiver of a broadcast (body ``InstdDrctPty`` all zeros, [S1]:
    the NPC addresses each copy to one bank), and ccms.990/911, whose bodies name the
    confirmed message instead (rule cnaps2.header.confirmed-message)."""
    header = ctx.cnaps_header
    if header is None or ctx.message is None:
        return
    if element_name(ctx.message) in CONFIRMATION_INFO:
        return
    instructing, instructed = direct_parties(ctx)
    sender = ctx.text(instructing)
    if instructing is not None and sender and sender != header.orig_sender:
        yield ctx.finding(
            instructing,
            f"the header OrigSender is {header.orig_sender}, but the body's instructing direct "
            f"participant is {sender}",
            f"报文头报文发起人为 {header.orig_sender}，但报文体发起直接参与机构为 {sender}",
            value=sender,
        )
    receiver = ctx.text(instructed)
    broadcast = receiver is not None and receiver.strip("0") == "" and len(receiver) == 12
    if instructed is not None and receiver and not broadcast and receiver != header.orig_receiver:
        yield ctx.finding(
            instructed,
            f"the header OrigReceiver is {header.orig_receiver}, but the body's instructed "
            f"direct participant is {receiver}",
            f"报文头报文接收人为 {header.orig_receiver}，但报文体接收直接参与机构为 {receiver}",
            value=receiver,
        )


@rule(
    "cnaps2.header.confirmed-message",
    pack="cnaps2",
    severity="warning",
    title="ccms.990/911 travel between the confirmed message's receiver and its sender",
    title_zh="ccms.990/911 的收发方与被确认报文的收发方相符",
    types={"ccms.990.001.02", "ccms.911.001.02"},
)
def header_confirmed_message(ctx: RuleContext) -> Findings:
    """ccms.990 (通信级确认) and ccms.911 (报文丢弃通知) do not name their own parties: their
    ``OrigSndr`` is the header sender of the message they confirm or drop (§6.6, §6.8, [C2+]).
    A 990 comes from the node that received that message (§5.5, [C2+]), so its sender cannot
    be that message's sender; when the NPC (0000) sends it, it goes back to that sender. A
    911 comes from the NPC (§5.5, [C2+]) and goes to the sender of the dropped message. The
    pairing of parties is our inference [INF] (a message the NPC forwards keeps the
    originating bank as sender, so a bank's 990 for it goes to the NPC, not to that bank),
    hence warnings."""
    header = ctx.cnaps_header
    message = ctx.message
    if header is None or message is None:
        return
    info_name = CONFIRMATION_INFO.get(element_name(message))
    origin = ctx.find(message, f"{info_name}/OrigSndr") if info_name else None
    original_sender = ctx.text(origin)
    if origin is None or not original_sender:
        return
    if info_name == "ConfInf":
        if header.orig_sender == original_sender:
            yield ctx.finding(
                origin,
                f"a ccms.990 is sent by the receiver of the confirmed message, but its header "
                f"OrigSender {header.orig_sender} is the confirmed message's sender",
                f"ccms.990 应由被确认报文的接收方发出，但报文头发起人 {header.orig_sender} "
                "是被确认报文的发起人",
                value=original_sender,
            )
        elif header.orig_sender == NPC and header.orig_receiver != original_sender:
            yield ctx.finding(
                origin,
                f"the NPC's ccms.990 goes back to the sender of the confirmed message "
                f"({original_sender}), but the header OrigReceiver is {header.orig_receiver}",
                f"人民银行清算中心的 ccms.990 应发给被确认报文的发起人（{original_sender}），"
                f"但报文头接收人为 {header.orig_receiver}",
                value=original_sender,
            )
        return
    if header.orig_sender != NPC:
        yield header_finding(
            ctx,
            "OrigSender",
            f"ccms.911 is sent by the NPC (0000), not by {header.orig_sender}",
            f"ccms.911 由人民银行清算中心（0000）发出，而非 {header.orig_sender}",
            value=header.orig_sender,
        )
    if header.orig_receiver != original_sender:
        yield ctx.finding(
            origin,
            f"ccms.911 goes to the sender of the dropped message ({original_sender}), but the "
            f"header OrigReceiver is {header.orig_receiver}",
            f"ccms.911 应发给被丢弃报文的发起人（{original_sender}），但报文头接收人为 "
            f"{header.orig_receiver}",
            value=original_sender,
        )


@rule(
    "cnaps2.header.system",
    pack="cnaps2",
    title="Header system codes match the body's system",
    title_zh="报文头系统号与报文体系统编号一致",
    standard="cnaps2",
)
def header_system(ctx: RuleContext) -> Findings:
    """OrigSenderSID / OrigReceiverSID carry the system of the message (§3.2, [C2+]); a CCMS
    message used for HVPS carries HVPS, one used for BEPS carries BEPS (P-CCX), i.e. the
    header system equals the body's ``SysCd`` (GrpHdr or PKGGrpHdr). ISO bodies have no
    SysCd: hvps.* and beps.* types must then carry their own system (HVPS / BEPS). ccms.990 /
    911 bodies have no SysCd and are not checked."""
    header = ctx.cnaps_header
    if header is None or ctx.message is None:
        return
    system_el = ctx.first(ctx.layout.parties.system_code)
    expected = ctx.text(system_el)
    anchor: Element = system_el if system_el is not None else ctx.message
    if expected is None:
        if ctx.type.family not in ("hvps", "beps") or not ctx.type.system:
            return
        expected = ctx.type.system
    for field_name, actual in (
        ("OrigSenderSID", header.orig_sender_sid),
        ("OrigReceiverSID", header.orig_receiver_sid),
    ):
        if actual != expected:
            source = "SysCd" if system_el is not None else f"a {ctx.type.id} message"
            yield ctx.finding(
                anchor,
                f"the header {field_name} is {actual}, but {source} is {expected}",
                f"报文头{'发送' if field_name == 'OrigSenderSID' else '接收'}系统号为 {actual}，"
                f"但报文体系统编号为 {expected}",
                value=expected,
            )


@rule(
    "cnaps2.header.priority",
    pack="cnaps2",
    title="Header priority matches the settlement priority (hvps.111/112)",
    title_zh="报文头优先级与业务优先级一致（hvps.111/112）",
    types=HVPS_CREDIT,
)
def header_priority(ctx: RuleContext) -> Findings:
    """For hvps.111/112 the header MesgPriority follows the body's ``SttlmPrty``: URGT
    (特急) → 1, HIGH (紧急) → 2, NORM (普通) → 3 (§3.2, [C2+]: FIB mapping and a sample with
    priority 1 and URGT). The NPC queues by the header, so a mismatch changes how the payment
    is settled. A body without SttlmPrty is not checked."""
    header = ctx.cnaps_header
    if header is None:
        return
    priority_el = ctx.first(ctx.layout.parties.settlement_priority)
    priority = ctx.text(priority_el)
    expected = PRIORITY_BY_SETTLEMENT.get(priority or "")
    if priority_el is None or expected is None or header.mesg_priority == expected:
        return
    yield ctx.finding(
        priority_el,
        f"SttlmPrty {priority} means header priority {expected}, but the header MesgPriority "
        f"is {header.mesg_priority}",
        f"业务优先级 {priority} 对应报文头优先级 {expected}，但报文头报文优先级为 "
        f"{header.mesg_priority}",
        value=priority,
    )


@rule(
    "cnaps2.header.direction",
    pack="cnaps2",
    title="Header direction agrees with who sends the message",
    title_zh="报文头传输方向与发送方一致",
    standard="cnaps2",
)
def header_direction(ctx: RuleContext) -> Findings:
    """MesgDirection is ``U`` for a message sent by a participant (upwards, to the NPC) and
    ``D`` for one sent by the NPC (§3.2, [C2+]). So a header whose sender is the NPC (0000)
    must say D, one addressed to the NPC must say U, and a body carrying ``NPCPrcInf`` —
    present only when the NPC has processed and forwards the message (§6.3, [C2+]; both
    NPC-forwarded samples say D, §3.3) — must say D. An NPC-forwarded message keeps the
    originating bank as sender, so a bank sender with D is fine."""
    header = ctx.cnaps_header
    if header is None:
        return
    direction = header.mesg_direction
    if header.orig_sender == NPC and direction != "D":
        yield header_finding(
            ctx,
            "MesgDirection",
            f"the header sender is the NPC (0000), so MesgDirection must be D, not {direction}",
            f"报文头发起人为人民银行清算中心（0000），报文传输方向应为 D，而非 {direction}",
            value=direction,
        )
    elif header.orig_receiver == NPC and direction != "U":
        yield header_finding(
            ctx,
            "MesgDirection",
            f"the message is addressed to the NPC (0000), so MesgDirection must be U, not "
            f"{direction}",
            f"报文接收人为人民银行清算中心（0000），报文传输方向应为 U，而非 {direction}",
            value=direction,
        )
    npc_info = ctx.find(ctx.message, "NPCPrcInf")
    if npc_info is not None and direction != "D":
        yield ctx.finding(
            npc_info,
            "the body carries NPCPrcInf, i.e. the NPC has processed and forwards it, so the "
            f"header MesgDirection must be D, not {direction}",
            f"报文体含 NPC处理信息（由人民银行清算中心处理后转发），报文头传输方向应为 D，而非 "
            f"{direction}",
            value=direction,
        )
