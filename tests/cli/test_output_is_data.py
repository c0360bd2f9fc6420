"""What the CLI prints is the data as it is: a value or a file name that looks like rich
markup (``[/x]``, ``[bold]``) or an emoji code (``:100:``) is printed unchanged, never read
as markup (a closing tag that matches nothing made ``inspect`` fail with an internal error)
or replaced by a picture."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from paymsg.cli import app

runner = CliRunner()
EXAMPLE = (
    Path(__file__).resolve().parents[2]
    / "examples/cnaps2/hvps.111.001.01/customer-transfer-urgent.xml"
)
NAME = "[/x] a:100:b [bold]Q :smile:"


def _with_debtor_name(tmp_path: Path, file_name: str = "payment.xml") -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    original = "<Nm>北京华盛达科技有限公司</Nm>"
    assert original in text
    path = tmp_path / file_name
    path.write_text(text.replace(original, f"<Nm>{NAME}</Nm>"), encoding="utf-8")
    return path


def test_a_value_that_looks_like_markup_is_printed_as_it_is(tmp_path: Path) -> None:
    result = runner.invoke(app, ["inspect", str(_with_debtor_name(tmp_path))])
    assert result.exit_code == 0, result.stderr
    assert NAME in result.stdout
    assert "💯" not in result.stdout and "😄" not in result.stdout


def test_a_file_name_that_looks_like_markup_is_printed_as_it_is(tmp_path: Path) -> None:
    path = _with_debtor_name(tmp_path, "[red]pay:100:.xml")
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "[red]pay:100:.xml:" in result.stdout


def test_an_error_location_with_a_line_like_an_emoji_code_is_printed_as_it_is(
    tmp_path: Path,
) -> None:
    # the error is at line 100: "doubled.xml:100:1" must not turn into "doubled.xml💯1"
    path = tmp_path / "doubled.xml"
    lines = ["<a>"] + ["<b/>"] * 97 + ["</a>", "<a/>"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 2
    assert "doubled.xml:100:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_parser_limit_error_gives_no_advice_meant_for_the_parser(tmp_path: Path) -> None:
    path = tmp_path / "deep.xml"
    path.write_bytes(b"<a>" * 1000 + b"</a>" * 1000)
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 2
    assert "parser limit" in result.stderr
    assert "XML_PARSE_HUGE" not in result.stderr
