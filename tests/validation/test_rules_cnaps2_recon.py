"""Reconciliation rules of the ``cnaps2`` pack beyond the one failing case per rule that
test_rules_cnaps2.py holds: partitions, cell totals, embedded originals, dates, statuses.

Each case mutates a shipped example (bytes replaced) and looks for the finding, its severity
and where it points; the unmutated examples are clean (test_rules_cnaps2.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from paymsg.validation import Finding, Report, validate
from tests.conftest import EXAMPLES

CNAPS2 = EXAMPLES / "cnaps2"
PART1 = CNAPS2 / "hvps.713.001.01/ccb-a100-details-part1.xml"
PART2 = CNAPS2 / "hvps.713.001.01/ccb-a100-details-part2.xml"
PRE716 = CNAPS2 / "hvps.716.001.01/ccb-pre-reconciliation.xml"
PRE726 = CNAPS2 / "beps.726.001.01/icbc-pre-reconciliation-part1.xml"
DL715 = CNAPS2 / "hvps.715.001.01/ccb-download-of-hvps111.xml"
DL725 = CNAPS2 / "beps.725.001.01/icbc-download-of-beps121.txt"
SUM721 = CNAPS2 / "beps.721.001.01/icbc-day-summary.xml"


def _run(path: Path, *replace: tuple[bytes, bytes]) -> Report:
    data = path.read_bytes()
    for old, new in replace:
        assert old in data, old
        data = data.replace(old, new, 1)
    return validate(data, type=path.parent.name if path.suffix == ".xml" else None)


def _of(report: Report, rule_id: str) -> list[Finding]:
    found = [f for f in report.findings if f.rule == rule_id]
    assert not any("could not run" in f.message for f in report.findings), report.findings
    return found


# ------------------------------------------------------------------------------- counts


def test_a_part_may_list_fewer_messages_than_its_cell_counts() -> None:
    # part 1 lists both sent messages; a cell total of 5 (the rest in another part) is fine
    report = _run(PART1, (b"<NbOfTxs>2</NbOfTxs>", b"<NbOfTxs>5</NbOfTxs>"))
    assert not _of(report, "cnaps2.recon.counts")
    # but a cell cannot count fewer messages than the part lists
    report = _run(PART1, (b"<NbOfTxs>2</NbOfTxs>", b"<NbOfTxs>1</NbOfTxs>"))
    [found] = _of(report, "cnaps2.recon.counts")
    assert found.path == "/Document/DtlRspn/DtlRspnInf/Dtls[1]/NbOfTxs"
    assert "at least 2" in found.message and found.severity == "error"


def test_a_complete_answer_lists_exactly_what_its_cells_count() -> None:
    report = _run(PRE716, (b"<SndgNbOfTxs>3</SndgNbOfTxs>", b"<SndgNbOfTxs>4</SndgNbOfTxs>"))
    [found] = _of(report, "cnaps2.recon.counts")
    assert found.path == "/Document/AcctChckng/AcctChckngInf/Dtls[1]/SndgNbOfTxs"
    assert found.value == "4" and found.line is not None


def test_a_cell_sum_must_add_up_to_its_listed_amounts() -> None:
    report = _run(PRE716, (b"<SndgCtrlSum>CNY+2645000.00<", b"<SndgCtrlSum>CNY+2645000.01<"))
    [found] = _of(report, "cnaps2.recon.counts")
    assert found.path == "/Document/AcctChckng/AcctChckngInf/Dtls[1]/SndgCtrlSum"
    assert "2645000.00" in found.message and found.message_zh


def test_a_beps_cell_may_count_packages_or_their_transactions() -> None:
    # three sent packages of 3 + 5 + 2 transactions
    for count in (b"3", b"10"):
        report = _run(
            PRE726, (b"<SndTtlCnt>3</SndTtlCnt>", b"<SndTtlCnt>" + count + b"</SndTtlCnt>")
        )
        assert not _of(report, "cnaps2.recon.counts"), count
    # part 1 of 2 lists all three: the cell cannot count fewer
    report = _run(PRE726, (b"<SndTtlCnt>3</SndTtlCnt>", b"<SndTtlCnt>2</SndTtlCnt>"))
    [found] = _of(report, "cnaps2.recon.counts")
    assert found.path == "/Document/AcctChck/AcctChckInf/ChckInfDtls1[1]/SndTtlCnt"


def test_beps_summary_row_counts() -> None:
    report = _run(SUM721, (b"<NbOfChckInf>3</NbOfChckInf>", b"<NbOfChckInf>2</NbOfChckInf>"))
    [found] = _of(report, "cnaps2.recon.counts")
    assert found.path == "/Document/TtlChck/TtlChckInf/ChckPmtInf/NbOfChckInf"


def test_lending_download_total_amount() -> None:
    path = CNAPS2 / "hvps.717.001.01/lending-download.xml"
    report = _run(path, (b'<TtlAmt Ccy="CNY">280000000.00<', b'<TtlAmt Ccy="CNY">280000000.10<'))
    [found] = _of(report, "cnaps2.recon.counts")
    assert found.path == "/Document/IntrBkLnDwnld/IntrBkLnDwnldInf/TtlAmt"


# ------------------------------------------------------------------------------- partitions


def test_a_part_that_carries_other_records_than_it_says_is_a_warning() -> None:
    report = _run(PART2, (b"<StartNb>3</StartNb>", b"<StartNb>4</StartNb>"))
    [found] = _of(report, "cnaps2.recon.partition")
    assert found.severity == "warning" and found.path == "/Document/DtlRspn/Prttn"
    assert "4..5 (2)" in found.message and "3 detail record" in found.message


@pytest.mark.parametrize(
    ("total", "start", "end"), [(b"5", b"0", b"2"), (b"5", b"3", b"2"), (b"1", b"1", b"2")]
)
def test_partition_ranges_out_of_order_are_errors(total: bytes, start: bytes, end: bytes) -> None:
    report = _run(
        PART1,
        (b"<TtlNb>5</TtlNb>", b"<TtlNb>" + total + b"</TtlNb>"),
        (b"<StartNb>1</StartNb>", b"<StartNb>" + start + b"</StartNb>"),
        (b"<EndNb>2</EndNb>", b"<EndNb>" + end + b"</EndNb>"),
    )
    [found] = _of(report, "cnaps2.recon.partition")
    assert (
        found.severity == "error"
        and found.value == f"{total.decode()}/{start.decode()}/{end.decode()}"
    )


def test_an_empty_answer_is_partition_zero_of_zero() -> None:
    path = CNAPS2 / "beps.726.001.01/icbc-pre-reconciliation-part2.xml"
    data = path.read_bytes()
    start, end = data.index(b"<ChckInfDtls2>"), data.index(b"</ChckInfDtls2>") + 15
    empty = data[:start] + data[end:]
    empty = empty.replace(b"<NbOfChckInf2>1<", b"<NbOfChckInf2>0<")
    empty = empty.replace(b"<TtlNb>6</TtlNb>", b"<TtlNb>0</TtlNb>")
    empty = empty.replace(b"<StartNb>6</StartNb>", b"<StartNb>0</StartNb>")
    empty = empty.replace(b"<EndNb>6</EndNb>", b"<EndNb>0</EndNb>")
    report = validate(empty, type="beps.726.001.01")
    assert report.counts == {"error": 0, "warning": 0, "info": 0}, report.findings


# ------------------------------------------------------------------------------- original content


def test_download_answer_names_the_embedded_message_id() -> None:
    report = _run(
        DL725,
        (
            b"<OrgnlMsgId>2024031500217735</OrgnlMsgId>",
            b"<OrgnlMsgId>2024031500217736</OrgnlMsgId>",
        ),
    )
    [found] = _of(report, "cnaps2.recon.original-content")
    assert found.path == "/Document/TxDwnldRspn/TxDwnldRspnInf/OrgnlMsgCntt"
    assert found.value == "2024031500217735" and found.severity == "error"


def test_embedded_body_without_header_is_typed_by_its_namespace() -> None:
    data = DL715.read_bytes()
    start = data.index(b"<Cntt>") + len(b"<Cntt>")
    body = data.index(b"&lt;?xml", start)
    bare = data[:start] + data[body:]  # the ISO pacs.008.001.02 body alone stands for hvps.111
    report = validate(bare, type="hvps.715.001.01")
    assert not _of(report, "cnaps2.recon.original-content"), report.findings
    wrong = bare.replace(b"<OrgnlMT>hvps.111.001.01<", b"<OrgnlMT>hvps.112.001.01<", 1)
    [found] = _of(validate(wrong, type="hvps.715.001.01"), "cnaps2.recon.original-content")
    assert "pacs.008.001.02" in found.message and "namespace" in found.message


def test_unreadable_embedded_content_is_a_warning() -> None:
    data = DL715.read_bytes()
    start = data.index(b"<Cntt>") + len(b"<Cntt>")
    end = data.index(b"</Cntt>")
    garbage = data[:start] + b"not a message at all" + data[end:]
    [found] = _of(validate(garbage, type="hvps.715.001.01"), "cnaps2.recon.original-content")
    assert found.severity == "warning" and "cannot be read" in found.message


# ------------------------------------------------------------------------------- amounts, dates, codes


def test_payment_sums_are_not_negative_and_zero_counts_have_zero_sums() -> None:
    path = CNAPS2 / "hvps.711.001.01/ccb-day-summary.xml"
    report = _run(path, (b"<SndgCtrlSum>CNY+2570000.00<", b"<SndgCtrlSum>CNY-2570000.00<"))
    [found] = _of(report, "cnaps2.recon.summary-amount")
    assert "negative" in found.message
    report = _run(path, (b"<SndgCtrlSum>CNY+0.00<", b"<SndgCtrlSum>CNY+0.01<"))
    [found] = _of(report, "cnaps2.recon.summary-amount")
    assert found.path.endswith("ChckPmtInfDtls[2]/SndgCtrlSum") and "must be zero" in found.message


def test_summary_amount_problems_are_said_in_words() -> None:
    path = CNAPS2 / "hvps.711.001.01/ccb-day-summary.xml"
    for bad, words in ((b"CNY+2570000.0", "1 decimals"), (b"cny+2570000.00", "upper-case")):
        report = _run(path, (b"CNY+2570000.00", bad))
        [found] = _of(report, "cnaps2.recon.summary-amount")
        assert words in found.message and found.message_zh
        assert any(f.layer == "xsd" for f in report.findings)  # the pattern refuses it too


def test_a_balance_may_be_negative() -> None:
    path = CNAPS2 / "saps.604.001.01/settled-hvps111.xml"
    report = _run(path, (b"<Bal>CNY+", b"<Bal>CNY-"))
    assert not _of(report, "cnaps2.recon.summary-amount")


def test_netting_date_after_the_check_date_is_a_warning() -> None:
    report = _run(SUM721, (b"<TxNetgDt>2024-03-15</TxNetgDt>", b"<TxNetgDt>2024-03-16</TxNetgDt>"))
    [found] = _of(report, "cnaps2.recon.dates")
    assert found.severity == "warning"
    assert found.path == "/Document/TtlChck/TtlChckInf/ChckPmtInf/ChckPmtInfDtls[1]/TxNetgDt"


def test_next_day_check_date_is_allowed_for_the_evening_switch() -> None:
    report = _run(SUM721, (b"<ChckDt>2024-03-15</ChckDt>", b"<ChckDt>2024-03-16</ChckDt>"))
    assert not _of(report, "cnaps2.recon.dates")


def test_unknown_status_in_a_reconciliation_cell_is_a_warning() -> None:
    path = CNAPS2 / "hvps.711.001.01/ccb-day-summary.xml"
    report = _run(path, (b"<PrcSts>PR09</PrcSts>", b"<PrcSts>PR77</PrcSts>"))
    [found] = _of(report, "cnaps2.code.processing-status")
    assert found.severity == "warning" and found.value == "PR77"
    assert found.path == "/Document/SummryFile/SummryFileInf/ChckPmtInfDtls[3]/PrcSts"
