"""A readable summary of any message: ids, parties, agents, amounts, dates.

Works on the JSON-shaped data of a message (XML names as keys), so one walker serves
every catalogued message type, ISO and CNAPS2 alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paymsg.codec.json.engine import message_to_data
from paymsg.codec.message import Message

IDS = {
    "MsgId", "BizMsgIdr", "MsgDefIdr", "InstrId", "EndToEndId", "TxId", "UETR", "ClrSysRef",
    "OrgnlMsgId", "OrgnlEndToEndId", "OrgnlTxId", "OrgnlUETR", "RtrId", "PmtInfId", "StsId",
    "CxlId", "AcctSvcrRef", "NtryRef", "Id",
}  # fmt: skip
COUNTS = {"NbOfTxs", "CtrlSum", "NbOfNtries", "TtlNbOfNtries"}
PARTIES = {"Dbtr", "Cdtr", "UltmtDbtr", "UltmtCdtr", "InitgPty", "Ownr", "Fr", "To"}
AGENTS = {
    "InstgAgt", "InstdAgt", "DbtrAgt", "CdtrAgt", "IntrmyAgt1", "IntrmyAgt2", "IntrmyAgt3",
    "PrvsInstgAgt1", "FwdgAgt", "Svcr", "InstgDrctPty", "InstgPty", "InstdDrctPty", "InstdPty",
}  # fmt: skip
CODES = {
    "SttlmMtd",
    "SttlmPrty",
    "ChrgBr",
    "Cd",
    "Prtry",
    "SysCd",
    "PrcSts",
    "PrcCd",
    "TxSts",
    "GrpSts",
}


@dataclass
class Summary:
    type: str
    ids: list[tuple[str, str]] = field(default_factory=list)
    parties: list[tuple[str, str]] = field(default_factory=list)
    agents: list[tuple[str, str]] = field(default_factory=list)
    amounts: list[tuple[str, str]] = field(default_factory=list)
    dates: list[tuple[str, str]] = field(default_factory=list)
    codes: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            k: v if k == "type" else [{"path": p, "value": x} for p, x in v]
            for k, v in vars(self).items()
        }


def _first_text(node: Any, keys: tuple[str, ...]) -> str | None:
    """Depth-first: the first scalar under one of ``keys``."""
    if isinstance(node, dict):
        for key in keys:
            if key in node and isinstance(node[key], str):
                return str(node[key])
        for value in node.values():
            found = _first_text(value, keys)
            if found:
                return found
    elif isinstance(node, list):
        for item in node:
            found = _first_text(item, keys)
            if found:
                return found
    return None


def _party(node: Any) -> str:
    if isinstance(node, str):
        return node
    name = _first_text(node, ("Nm",))
    ident = _first_text(node, ("BICFI", "AnyBIC", "BICOrBEI", "BIC", "LEI", "MmbId", "Id"))
    return " / ".join(x for x in (name, ident) if x) or "(no name or id)"


def summarize(message: Message) -> Summary:
    data = message_to_data(message)
    summary = Summary(type=message.type)

    def walk(node: Any, path: str) -> None:
        if isinstance(node, list):
            for index, item in enumerate(node, start=1):
                walk(item, f"{path}[{index}]" if len(node) > 1 else path)
            return
        if not isinstance(node, dict):
            return
        if "@Ccy" in node and "#text" in node:
            summary.amounts.append((path, f"{node['@Ccy']} {node['#text']}"))
            return
        for key, value in node.items():
            here = f"{path}/{key}"
            if key in PARTIES:
                summary.parties.append((here, _party(value)))
            elif key in AGENTS:
                summary.agents.append((here, _party(value)))
                continue
            if isinstance(value, str):
                if key in IDS or key in COUNTS:
                    summary.ids.append((here, value))
                elif key.endswith(("Dt", "DtTm", "Tm")) or key in {"CreDt"}:
                    summary.dates.append((here, value))
                elif key in CODES:
                    summary.codes.append((here, value))
            elif key not in PARTIES:
                walk(value, here)

    envelope = data.get("envelope") or {}
    if "AppHdr" in envelope:
        walk(envelope["AppHdr"], "/AppHdr")
    walk(data["document"], "/Document")
    return summary
