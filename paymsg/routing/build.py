"""Building the outgoing message for a decision, through the unified model and the converter.

Every payment is first written as the unified message (``pacs.008.001.08`` for a customer
transfer, ``pacs.009.001.08`` for an institution's) from the generated models; that is
what the cross-border gateway gets. For HVPS and BEPS the unified message is converted
with :func:`paymsg.convert.convert` (one mapping engine; its loss report is returned),
which also wraps it with the CNAPS2 ``{H:}`` header. A BEPS package is one unified
message with one transaction per item, converted to one beps.121 / beps.122.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from paymsg.codec.json.engine import from_data
from paymsg.codec.message import Message
from paymsg.convert import Conversion, convert
from paymsg.routing.model import Instruction
from paymsg.schema.catalog import catalog

__all__ = ["build_cnaps2", "unified"]


def _member(code: str) -> dict[str, Any]:
    if len(code) == 12 and code.isdigit():
        return {"FinInstnId": {"ClrSysMmbId": {"ClrSysId": {"Cd": "CNAPS"}, "MmbId": code}}}
    return {"FinInstnId": {"BICFI": code}}


def _amount(value: Decimal, currency: str) -> dict[str, str]:
    return {"@Ccy": currency, "#text": f"{value:.2f}" if currency == "CNY" else str(value)}


def _account(number: str) -> dict[str, Any] | None:
    return {"Id": {"Othr": {"Id": number}}} if number else None


def _transaction(
    ins: Instruction, instructing: str, instructed: str | None, *, per_tx_agents: bool
) -> dict[str, Any]:
    tx: dict[str, Any] = {
        "PmtId": {"EndToEndId": ins.id, "TxId": ins.id},
        "PmtTpInf": {"CtgyPurp": {"Prtry": ins.business_type}},
        "IntrBkSttlmAmt": _amount(ins.amount, ins.currency),
    }
    if per_tx_agents:  # HVPS: 特急/紧急 vs 普通 (BEPS has no priority per item)
        tx["SttlmPrty"] = "URGT" if ins.urgency == "urgent" else "NORM"
    if ins.kind == "institution":
        if per_tx_agents:
            tx["InstgAgt"] = _member(instructing)
            if instructed:
                tx["InstdAgt"] = _member(instructed)
        tx["Dbtr"] = _member(ins.debtor_bank)
        if ins.debtor_account:
            tx["DbtrAcct"] = _account(ins.debtor_account)
        tx["Cdtr"] = _member(ins.creditor_bank)
        if ins.creditor_account:
            tx["CdtrAcct"] = _account(ins.creditor_account)
        tx["Purp"] = {"Prtry": ins.purpose}
    else:
        tx["ChrgBr"] = "DEBT"
        if per_tx_agents:
            tx["InstgAgt"] = _member(instructing)
            if instructed:
                tx["InstdAgt"] = _member(instructed)
        tx["Dbtr"] = {"Nm": ins.debtor_name or ins.debtor_account or ins.debtor_bank}
        if ins.debtor_account:
            tx["DbtrAcct"] = _account(ins.debtor_account)
        tx["DbtrAgt"] = _member(ins.debtor_bank)
        tx["CdtrAgt"] = _member(ins.creditor_bank)
        tx["Cdtr"] = {"Nm": ins.creditor_name or ins.creditor_account or ins.creditor_bank}
        if ins.creditor_account:
            tx["CdtrAcct"] = _account(ins.creditor_account)
        tx["Purp"] = {"Prtry": ins.purpose}
    if ins.remittance:
        text = ins.remittance
        tx["RmtInf"] = {"Ustrd": [text[i : i + 140] for i in range(0, len(text), 140)]}
    return tx


def unified(
    items: Sequence[Instruction],
    *,
    msg_id: str,
    created: datetime,
    instructing: str,
    instructed: str | None,
    system: str | None = None,
) -> Message:
    """One unified pacs.008.001.08 (customer) or pacs.009.001.08 (institution) message
    carrying ``items`` (all of one kind and currency). With ``system`` (``BEPS``) the
    direct participants and the clearing system go in the group header, as a BEPS package
    states them; otherwise in each transaction, the HVPS way."""
    if not items:
        raise ValueError("no items")
    kinds = {i.kind for i in items}
    currencies = {i.currency for i in items}
    if len(kinds) != 1 or len(currencies) != 1:
        raise ValueError("one message carries items of one kind and one currency")
    institution = kinds == {"institution"}
    total = sum((i.amount for i in items), Decimal(0))
    header: dict[str, Any] = {
        "MsgId": msg_id,
        "CreDtTm": created.strftime("%Y-%m-%dT%H:%M:%S"),
        "NbOfTxs": str(len(items)),
        "SttlmInf": {"SttlmMtd": "CLRG"},
    }
    if len(items) > 1:
        header["CtrlSum"] = f"{total:.2f}"
    if system is not None:
        header["SttlmInf"]["ClrSys"] = {"Prtry": system}
        header["InstgAgt"] = _member(instructing)
        if instructed:
            header["InstdAgt"] = _member(instructed)
    txs = [_transaction(i, instructing, instructed, per_tx_agents=system is None) for i in items]
    mtype = "pacs.009.001.08" if institution else "pacs.008.001.08"
    root = "FICdtTrf" if institution else "FIToFICstmrCdtTrf"
    cls = catalog().get(mtype).root_class
    return Message(
        mtype, from_data(cls, {root: {"GrpHdr": header, "CdtTrfTxInf": txs}}, "/Document")
    )


def build_cnaps2(
    items: Sequence[Instruction],
    target: str,
    *,
    msg_id: str,
    created: datetime,
    sender: str,
    receiver: str,
) -> Conversion:
    """The CNAPS2 message (``target``: hvps.111/112 with one item, beps.121/122 with one
    or more) for ``items``, wrapped with its header; the conversion's loss list comes
    with it."""
    system = "BEPS" if target.startswith("beps.") else None
    message = unified(
        items,
        msg_id=msg_id,
        created=created,
        instructing=sender,
        instructed=receiver,
        system=system,
    )
    return convert(message, target, sender=sender, receiver=receiver, now=created)
