"""Reconcile fixtures: a fresh journal on SQLite and on PostgreSQL (the journal's
fixtures), hvps.111 texts, and NPC answers (711 / 713) written as the NPC would."""

from __future__ import annotations

from decimal import Decimal

from tests.journal.conftest import hvps111, journal, journal_url, postgres_schema_url

__all__ = ["details_713", "hvps111", "journal", "journal_url", "postgres_schema_url", "summary_711"]

NPC = "0000"
BANK = "102100099996"


def _grp(mt: str, msg_id: str, created: str = "2024-03-15T17:40:15") -> str:
    return (
        f"<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>{created}</CreDtTm>"
        f"<InstgPty><InstgDrctPty>{NPC}</InstgDrctPty><InstgPty>{NPC}</InstgPty></InstgPty>"
        f"<InstdPty><InstdDrctPty>{BANK}</InstdDrctPty><InstdPty>{BANK}</InstdPty></InstdPty>"
        f"<SysCd>HVPS</SysCd></GrpHdr>"
    )


def _sum(amount: Decimal) -> str:
    return f"CNY{'-' if amount < 0 else '+'}{abs(amount):.2f}"


def summary_711(
    cells: list[tuple[str, str, int, Decimal, int, Decimal, str]], day: str = "2024-03-15"
) -> bytes:
    """A bare hvps.711: cells of (MT, TxTpCd, sent n, sent sum, received n, received sum, PrcSts)."""
    body = "".join(
        f"<ChckPmtInfDtls><MT>{mt}</MT><TxTpCd>{tx}</TxTpCd><SndgNbOfTxs>{sn}</SndgNbOfTxs>"
        f"<SndgCtrlSum>{_sum(sa)}</SndgCtrlSum><RcvgNbOfTxs>{rn}</RcvgNbOfTxs>"
        f"<RcvgCtrlSum>{_sum(ra)}</RcvgCtrlSum><PrcSts>{sts}</PrcSts></ChckPmtInfDtls>"
        for mt, tx, sn, sa, rn, ra, sts in cells
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:cnaps:std:hvps:2010:tech:xsd:hvps.711.001.01"><SummryFile>'
        + _grp("hvps.711.001.01", "2024031500719204")
        + f"<SummryFileInf><ChckDt>{day}</ChckDt><TtlPmt>{len(cells)}</TtlPmt>{body}"
        "<TtlMsg>0</TtlMsg></SummryFileInf></SummryFile></Document>"
    ).encode()


def details_713(
    groups: list[tuple[str, str, str, str, list[tuple[str, Decimal]]]],
    *,
    part: tuple[int, int, int] = (1, 1, 1),
    request: str = "2024031500009002",
    msg_id: str = "2024031500719230",
    day: str = "2024-03-15",
) -> bytes:
    """A bare hvps.713: groups of (MT, TxTpCd, SR00/SR01, PrcSts, [(MsgId, amount)])."""
    body = ""
    for mt, tx, sr, sts, listed in groups:
        body += (
            f"<Dtls><MT>{mt}</MT><TxTpCd>{tx}</TxTpCd><SndRcvTp>{sr}</SndRcvTp><PrcSts>{sts}</PrcSts>"
            f"<NbOfTxs>{len(listed)}</NbOfTxs>"
        )
        for msg, amount in listed:
            body += (
                f"<ChckngDtl><OrgnlGrpHdr><OrgnlMsgId>{msg}</OrgnlMsgId><OrgnlInstgPty>{BANK}"
                f"</OrgnlInstgPty><OrgnlMT>{mt}</OrgnlMT></OrgnlGrpHdr><DbtCdtId>"
                f'{"DBIT" if sr == "SR00" else "CRDT"}</DbtCdtId><Amt Ccy="CNY">{amount:.2f}</Amt></ChckngDtl>'
            )
        body += "</Dtls>"
    total, start, end = part
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:cnaps:std:hvps:2010:tech:xsd:hvps.713.001.01"><DtlRspn>'
        + _grp("hvps.713.001.01", msg_id, "2024-03-15T17:42:09")
        + f"<Prttn><TtlNb>{total}</TtlNb><StartNb>{start}</StartNb><EndNb>{end}</EndNb></Prttn>"
        f"<OrgnlGrpHdr><OrgnlMsgId>{request}</OrgnlMsgId><OrgnlInstgPty>{BANK}</OrgnlInstgPty>"
        f"<OrgnlMT>hvps.712.001.01</OrgnlMT></OrgnlGrpHdr>"
        f"<DtlRspnInf><ChckDt>{day}</ChckDt><NPCPrcInf><PrcSts>PR05</PrcSts><PrcCd>CC1I0000</PrcCd>"
        f"</NPCPrcInf><TtlCnt>{len(groups)}</TtlCnt>{body}</DtlRspnInf></DtlRspn></Document>"
    ).encode()
