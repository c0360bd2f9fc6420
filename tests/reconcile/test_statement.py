"""Statement matching in SQL: 1:1, 1:N and N:1 on configurable keys with a value-date
tolerance, exact amounts, never amount alone; a ledger CSV or the journal; dry run."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paymsg.cli import app
from paymsg.errors import InputError
from paymsg.journal import Journal
from paymsg.reconcile.statement import (
    MatchRule,
    StatementConfig,
    load_ledger_csv,
    read_statement,
    reconcile_statement,
)
from tests.reconcile.conftest import hvps111

runner = CliRunner()


def _entry(
    amount: str,
    dc: str,
    day: str,
    *,
    e2e: str | None = None,
    tx: str | None = None,
    details: list[tuple[str, str]] | None = None,
) -> str:
    refs = "".join(f"<{k}>{v}</{k}>" for k, v in (("EndToEndId", e2e), ("TxId", tx)) if v)
    body = f"<NtryDtls><TxDtls><Refs>{refs}</Refs></TxDtls></NtryDtls>" if refs else ""
    if details:
        body = (
            "<NtryDtls>"
            + "".join(
                f'<TxDtls><Refs><EndToEndId>{r}</EndToEndId></Refs><Amt Ccy="CNY">{a}</Amt></TxDtls>'
                for r, a in details
            )
            + "</NtryDtls>"
        )
    return (
        f'<Ntry><Amt Ccy="CNY">{amount}</Amt><CdtDbtInd>{dc}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
        f"<BkTxCd><Prtry><Cd>CNAPS</Cd></Prtry></BkTxCd>{body}</Ntry>"
    )


def camt053(entries: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>STMT-1</MsgId><CreDtTm>2024-03-16T06:00:00+08:00</CreDtTm></GrpHdr>"
        "<Stmt><Id>S-1</Id><CreDtTm>2024-03-16T06:00:00+08:00</CreDtTm>"
        "<Acct><Id><Othr><Id>6222000011112222</Id></Othr></Id></Acct>"
        + "".join(entries)
        + "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


LEDGER = """id,amount,currency,dc,value_date,end_to_end_id,tx_id,uetr,counterparty
L1,100.00,CNY,CRDT,2024-03-16,E2E-1,,,
L2a,100.00,CNY,DBIT,2024-03-15,BATCH-7,,,
L2b,200.00,CNY,DBIT,2024-03-15,BATCH-7,,,
L3,100.00,CNY,CRDT,2024-03-15,,T-9,,
L4,55.00,CNY,CRDT,2024-03-15,Y1,,,
L5,10.01,CNY,DBIT,2024-03-15,Z,,,
L7,7.00,CNY,DBIT,2024-03-20,E2E-7,,,
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    statement = tmp_path / "camt053.xml"
    statement.write_bytes(
        camt053(
            [
                _entry("100.00", "CRDT", "2024-03-15", e2e="E2E-1"),  # 1:1, value date 1 day apart
                _entry("300.00", "DBIT", "2024-03-15", e2e="BATCH-7"),  # 1:N
                _entry("40.00", "CRDT", "2024-03-15", tx="T-9"),  # N:1 …
                _entry("60.00", "CRDT", "2024-03-15", tx="T-9"),  # … with this one
                _entry("55.00", "CRDT", "2024-03-15", e2e="X1"),  # same amount as L4, other ref
                _entry("10.00", "DBIT", "2024-03-15", e2e="Z"),  # amount differs from L5
                _entry("7.00", "DBIT", "2024-03-15", e2e="E2E-7"),  # 5 days from L7: outside
            ]
        )
    )
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER, encoding="utf-8")
    return statement, ledger


def test_one_to_one_one_to_many_many_to_one_and_never_amount_alone(
    files: tuple[Path, Path],
) -> None:
    statement, ledger = files
    result, recorded = reconcile_statement(statement, ledger_path=ledger)
    assert recorded is not None and recorded.run_id == 0  # no journal: nothing is kept
    got = {(m.kind, tuple(m.statement), tuple(m.ledger), m.amount) for m in result.matches}
    assert got == {
        ("1:1", ("Ntry[1]",), ("L1",), Decimal("100.00")),
        ("1:N", ("Ntry[2]",), ("L2a", "L2b"), Decimal("300.00")),
        ("N:1", ("Ntry[3]", "Ntry[4]"), ("L3",), Decimal("100.00")),
    }
    assert result.unmatched_statement == ["Ntry[5]", "Ntry[6]", "Ntry[7]"]
    assert result.unmatched_ledger == ["L4", "L5", "L7"]
    assert result.amount_differs == [("Ntry[6]", "L5", "end_to_end_id")]
    assert sorted(b.kind for b in recorded.breaks) == [
        "amount_differs",
        "missing_at_npc",
        "missing_at_npc",
        "missing_here",
        "missing_here",
    ]


def test_rules_are_configurable(files: tuple[Path, Path]) -> None:
    statement, ledger = files
    wide = StatementConfig(
        rules=(MatchRule(keys=("end_to_end_id",), date_tolerance_days=5),), many_to_one=False
    )
    result, _ = reconcile_statement(statement, ledger_path=ledger, config=wide)
    kinds = {(m.kind, tuple(m.ledger)) for m in result.matches}
    assert ("1:1", ("L7",)) in kinds  # within 5 days now
    assert not any(m.kind == "N:1" for m in result.matches)
    with pytest.raises(ValueError, match="never amount alone"):
        MatchRule(keys=())


def test_against_the_journal_records_breaks_and_dry_run_keeps_nothing(
    tmp_path: Path, journal_url: str
) -> None:
    url = journal_url  # SQLite and PostgreSQL: the date arithmetic differs
    with Journal(url) as journal:
        for n, amount in ((1, "100.00"), (2, "250.00")):
            entry = journal.record_outbound(hvps111(n, amount=amount), queue="Q")
            journal.set_status(entry.id, "sent")
        statement = tmp_path / "s.xml"
        statement.write_bytes(
            camt053(
                [
                    _entry("100.00", "DBIT", "2024-03-15", e2e="2024031500000001"),
                    _entry("9.99", "DBIT", "2024-03-15", e2e="FEE-1"),
                ]
            )
        )
        dry, nothing = reconcile_statement(statement, journal=journal, dry_run=True)
        assert nothing is not None and nothing.run_id == 0  # not recorded
        assert [m.ledger for m in dry.matches] == [["1"]]
        _, recorded = reconcile_statement(statement, journal=journal)
        assert recorded is not None
        kinds = sorted((b.kind, b.status) for b in recorded.breaks)
        assert kinds == [("missing_at_npc", "new"), ("missing_here", "new")]
        _, recorded2 = reconcile_statement(statement, journal=journal)
        assert recorded2 is not None and {b.status for b in recorded2.breaks} == {"persisting"}

    out = runner.invoke(app, ["reconcile", "statement", str(statement), "--journal", url, "--json"])
    assert out.exit_code == 1, out.output
    data = json.loads(out.output)
    assert data["open_breaks"] == 2 and data["matches"][0]["amount"] == "100.00"
    dry_cli = runner.invoke(
        app, ["reconcile", "statement", str(statement), "--journal", url, "--dry-run", "--json"]
    )
    assert dry_cli.exit_code == 0 and json.loads(dry_cli.output)["recorded"] is False


def test_bad_inputs_are_located(tmp_path: Path, files: tuple[Path, Path]) -> None:
    statement, _ = files
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,amount,currency,dc,value_date\nA,1.0.0,CNY,CRDT,2024-03-15\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as caught:
        load_ledger_csv(bad)
    assert "bad.csv:2" in str(caught.value)
    rows, day = read_statement(statement)
    assert len(rows) == 7 and str(day) == "2024-03-16" and isinstance(rows[0].amount, Decimal)
    out = runner.invoke(app, ["reconcile", "statement", str(statement), "--ledger", str(bad)])
    assert out.exit_code == 2 and "bad.csv:2" in out.output


def test_the_terminal_shows_the_first_matches_and_counts_the_rest(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big statement is not a table of every match: the first rows, then the rest
    counted by kind; --json still lists every match."""
    import paymsg.cli.reconcile as cli

    monkeypatch.setattr(cli, "MAX_MATCH_ROWS", 1)
    statement, ledger = files
    out = runner.invoke(app, ["reconcile", "statement", str(statement), "--ledger", str(ledger)])
    assert "matches (3 of 7 statement rows)" in out.output
    assert "… and 2 more matches (1 1:1, 1 1:N, 1 N:1 in all; --json lists every one)" in out.output
    as_json = runner.invoke(
        app, ["reconcile", "statement", str(statement), "--ledger", str(ledger), "--json"]
    )
    assert len(json.loads(as_json.stdout)["matches"]) == 3


_HEADER = LEDGER.splitlines()[0]
_GOOD = "L1,100.00,CNY,CRDT,2024-03-16,E2E-1,,,"


@pytest.mark.parametrize(
    ("rows", "line", "field", "says"),
    [
        (["L1,NaN,CNY,CRDT,2024-03-16,,,,"], 2, "amount", "not a decimal number written with"),
        (["L1,1e2,CNY,CRDT,2024-03-16,,,,"], 2, "amount", "not a decimal number written with"),
        (["L1,-100.00,CNY,CRDT,2024-03-16,,,,"], 2, "amount", "not positive"),
        (["L1,100.001,CNY,CRDT,2024-03-16,,,,"], 2, "amount", "more than 2 decimals for CNY"),
        (["L1,1.000001,USD,CRDT,2024-03-16,,,,"], 2, "amount", "more than 5 decimals for USD"),
        (["L1,100.00,CNY,CR,2024-03-16,,,,"], 2, "dc", "is not CRDT or DBIT"),
        (["L1,100.00,CNY,CRDT,16/03/2024,,,,"], 2, "value_date", "is not a date"),
        ([",100.00,CNY,CRDT,2024-03-16,,,,"], 2, "id", "is empty"),
        ([_GOOD, "L1,5.00,CNY,DBIT,2024-03-16,,,,"], 3, "id", r"used twice \(also line 2\)"),
        ([_GOOD, "L2,100.00"], 3, None, "row has 2 cells, the header 9"),
        ([_GOOD + ",extra"], 2, None, "row has 10 cells, the header 9"),
    ],
)
def test_a_ledger_row_that_is_not_exact_is_refused_with_its_line_and_field(
    tmp_path: Path, rows: list[str], line: int, field: str | None, says: str
) -> None:
    """Nothing of a ledger is dropped, guessed or read as another value: a short or long
    row, a NaN, a negative or over-precise amount, a wrong dc, a bad date, an empty or
    repeated id each stop the load with the line and field (a NaN used to be reported as a
    bad dc, a short row and a file not in UTF-8 were internal errors)."""
    path = tmp_path / "ledger.csv"
    path.write_text("\n".join([_HEADER, *rows]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=says) as caught:
        load_ledger_csv(path)
    assert caught.value.line == line and caught.value.field == field


def test_a_ledger_not_in_utf8_or_with_an_unknown_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_bytes(
        (_HEADER + "\n" + _GOOD + "\nL2,1.00,CNY,CRDT,2024-03-16,,,,对方\n").encode("gbk")
    )
    with pytest.raises(InputError, match="not UTF-8") as caught:
        load_ledger_csv(path)
    assert caught.value.line == 3
    assert caught.value.offset == len(f"{_HEADER}\n{_GOOD}\nL2,1.00,CNY,CRDT,2024-03-16,,,,")
    statement = tmp_path / "camt053.xml"
    statement.write_bytes(camt053([_entry("100.00", "CRDT", "2024-03-15", e2e="E2E-1")]))
    out = runner.invoke(app, ["reconcile", "statement", str(statement), "--ledger", str(path)])
    assert out.exit_code == 2 and "ledger.csv:3" in out.output
    path.write_text(_HEADER + ",end_to_end\n" + _GOOD + ",x\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown or repeated column"):
        load_ledger_csv(path)
