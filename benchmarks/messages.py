"""Deterministic benchmark messages, built from the bundled examples."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
ISO_PACS008 = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"


def pacs008_one() -> bytes:
    """A one-transaction pacs.008.001.08 (bare Document, about 3 KB)."""
    root = etree.parse(str(EXAMPLES / "iso20022/pacs.008.001.08/fednow-usd-instant.xml")).getroot()
    document = root.find(f".//{{{ISO_PACS008}}}Document")
    assert document is not None
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(document)


def hvps111_envelope() -> bytes:
    """An hvps.111 with its {H:} header and {S:} signature block."""
    return (EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.signed.txt").read_bytes()


def beps121(details: int) -> bytes:
    """A beps.121 package with ``details`` details; NbOfTxs and CtrlSum consistent."""
    path = EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.xml"
    root = etree.parse(str(path)).getroot()
    message = root[0]
    template = message.find("{*}CstmrCdtTrfInf")
    assert template is not None
    for old in message.findall("{*}CstmrCdtTrfInf"):
        message.remove(old)
    total = Decimal(0)
    for index in range(details):
        detail = copy.deepcopy(template)
        detail.find("{*}TxId").text = f"20240315{index:08d}"
        amount = Decimal(100 + index % 49_900) + Decimal(index % 100) / 100
        detail.find("{*}Amt").text = f"{amount:.2f}"
        total += amount
        message.append(detail)
    header = message.find("{*}PKGGrpHdr")
    header.find("{*}NbOfTxs").text = str(details)
    header.find("{*}CtrlSum").text = f"{total:.2f}"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def camt053(entries: int) -> bytes:
    """A camt.053.001.08 statement with ``entries`` entries (balances not reconciled)."""
    path = EXAMPLES / "iso20022/camt.053.001.08/cny-corporate-small.xml"
    root = etree.parse(str(path)).getroot()
    statement = root.find(".//{*}Stmt")
    assert statement is not None
    template = statement.find("{*}Ntry")
    assert template is not None
    after = template.getparent().index(template)
    for old in statement.findall("{*}Ntry"):
        statement.remove(old)
    for index in range(entries):
        entry = copy.deepcopy(template)
        ref = entry.find("{*}NtryRef")
        if ref is not None:
            ref.text = f"E{index:08d}"
        statement.insert(after + index, entry)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def pacs008(transactions: int) -> bytes:
    """A bare pacs.008.001.08 with ``transactions`` transactions (the one of
    :func:`pacs008_one` repeated with its own ids); NbOfTxs consistent."""
    root = etree.fromstring(pacs008_one())
    transfer = root[0]
    template = transfer.find(f"{{{ISO_PACS008}}}CdtTrfTxInf")
    assert template is not None
    transfer.remove(template)
    for index in range(transactions):
        tx = copy.deepcopy(template)
        tx.find(f"{{{ISO_PACS008}}}PmtId/{{{ISO_PACS008}}}EndToEndId").text = f"E2E{index:09d}"
        amount = tx.find(f"{{{ISO_PACS008}}}IntrBkSttlmAmt")
        amount.text = f"{Decimal(100 + index % 9_900) + Decimal(index % 100) / 100:.2f}"
        transfer.append(tx)
    header = transfer.find(f"{{{ISO_PACS008}}}GrpHdr")
    header.find(f"{{{ISO_PACS008}}}NbOfTxs").text = str(transactions)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def pacs008_siblings(count: int) -> bytes:
    """A pacs.008.001.08 whose first transaction's debtor has ``count`` more ``AdrLine``
    (schema-invalid past 7: one finding); a hostile shape for streaming."""
    root = etree.parse(str(EXAMPLES / "iso20022/pacs.008.001.08/cips-cny-batch.xml")).getroot()
    address = root.find(f".//{{{ISO_PACS008}}}CdtTrfTxInf//{{{ISO_PACS008}}}PstlAdr")
    assert address is not None
    line = address.find(f"{{{ISO_PACS008}}}AdrLine")
    assert line is not None
    for index in range(count):
        extra = copy.deepcopy(line)
        extra.text = f"L{index}"
        address.append(extra)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def pacs008_wildcard(count: int) -> bytes:
    """A pacs.008.001.08 whose first transaction's supplementary data (``xs:any``) holds
    ``count`` more foreign elements; schema-valid."""
    path = EXAMPLES / "iso20022/pacs.008.001.08/eur-t2-supplementary-data.xml"
    root = etree.parse(str(path)).getroot()
    envelope = root.find(f".//{{{ISO_PACS008}}}CdtTrfTxInf//{{{ISO_PACS008}}}Envlp")
    assert envelope is not None
    holder = envelope[0]
    for index in range(count):
        etree.SubElement(holder, "{urn:example:paymsg:bulk}Item").text = str(index)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
