"""Values are bound only from their XSD lexical space, by both engines, with a located error.

Issue 10 items 2 and 3: ``１２８６５００.００``, ``1_286_500.00``, ``1E5``, ``NaN``, a
full-width date… were read as numbers and dates (and ``paymsg convert`` wrote a clean,
schema-valid message from them); an empty code or date was bound as ``""``, which then
crashed ``serialize`` or was refused by ``from_json``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner
from xsdata.models.datatype import XmlDate, XmlDateTime, XmlPeriod, XmlTime

import paymsg
from paymsg.cli import app
from paymsg.codec import lexical
from paymsg.codec.envelope.bah import split_parts
from paymsg.codec.xml.binding import bind
from paymsg.codec.xml.safe import parse_xml
from paymsg.errors import BindingError
from paymsg.schema.catalog import catalog
from tests.conftest import EXAMPLES

PACS008 = EXAMPLES / "iso20022/pacs.008.001.08/cips-cny-batch.xml"
#: the same type, with xs:any content: bound by xsdata's generic binder, never the plans
WITH_ANY = EXAMPLES / "iso20022/pacs.008.001.08/eur-t2-supplementary-data.xml"
HVPS = EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt"

NOT_DECIMALS = [
    "１２８６５００.００",  # full-width digits
    "١٢٨٦٥٠٠.٠٠",  # Arabic-Indic digits
    "१२३.००",  # Devanagari digits
    "1_286_500.00",
    "1,286,500.00",
    "1E5",
    "1e-2",
    "NaN",
    "-NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "0x10",
    "1.2.3",
    "+-1",
    ".",
    "",
    " ",
    "\u00a012.50",  # no-break space is not XML whitespace
    "12.50\u3000",  # ideographic space
]
DECIMALS = ["12.50", " 12.50\n", "+12.50", "-0", ".5", "5.", "007.10"]


def _amount(xml: bytes, text: str) -> bytes:
    start = xml.index(b"<IntrBkSttlmAmt")
    start = xml.index(b">", start) + 1
    end = xml.index(b"<", start)
    return xml[:start] + text.encode() + xml[end:]


def _replace(xml: bytes, tag: bytes, text: str) -> bytes:
    start = xml.index(b"<" + tag + b">") + len(tag) + 2
    end = xml.index(b"</" + tag + b">", start)
    return xml[:start] + text.encode() + xml[end:]


def _bind_both(xml: bytes) -> list[Any]:
    """The document bound by each engine (raising what each raises)."""
    results = []
    for engine in ("fast", "xsdata"):
        parts = split_parts(parse_xml(xml))
        results.append(bind(parts.document, parts.document_type, engine=engine))  # type: ignore[arg-type]
    return results


@pytest.mark.parametrize("path", [PACS008, WITH_ANY], ids=["plans", "generic binder"])
@pytest.mark.parametrize("text", NOT_DECIMALS)
def test_amount_outside_the_decimal_lexical_space_is_a_located_binding_error(
    path: Path, text: str
) -> None:
    xml = _amount(path.read_bytes(), text)
    line = xml[: xml.index(b"<IntrBkSttlmAmt")].count(b"\n") + 1
    for engine in ("fast", "xsdata"):
        parts = split_parts(parse_xml(xml))
        with pytest.raises(BindingError, match="is not an xs:decimal") as caught:
            bind(parts.document, parts.document_type, engine=engine)  # type: ignore[arg-type]
        assert caught.value.line == line
        assert caught.value.path is not None
        assert caught.value.path.endswith("/CdtTrfTxInf[1]/IntrBkSttlmAmt")
    with pytest.raises(BindingError, match="is not an xs:decimal"):
        paymsg.parse(xml)


@pytest.mark.parametrize("text", DECIMALS)
def test_amounts_in_the_decimal_lexical_space_bind_alike(text: str) -> None:
    for path in (PACS008, WITH_ANY):
        quick, oracle = _bind_both(_amount(path.read_bytes(), text))
        assert quick == oracle
        amount = quick.fito_ficstmr_cdt_trf.cdt_trf_tx_inf[0].intr_bk_sttlm_amt.value
        assert amount == Decimal(text.strip())


@pytest.mark.parametrize(
    "text",
    ["２０２６-03-16", "2026-０3-16", "٢٠٢٦-03-16", "2026-3-16", "20260316", "2026-02-30", ""],
)
def test_date_outside_the_date_lexical_space_is_a_located_binding_error(text: str) -> None:
    for path in (PACS008, WITH_ANY):
        xml = _replace(path.read_bytes(), b"IntrBkSttlmDt", text)
        for engine in ("fast", "xsdata"):
            parts = split_parts(parse_xml(xml))
            with pytest.raises(BindingError, match="xs:date") as caught:
                bind(parts.document, parts.document_type, engine=engine)  # type: ignore[arg-type]
            assert caught.value.line is not None
            assert caught.value.path is not None
            assert caught.value.path.endswith("/IntrBkSttlmDt")


def test_cnaps2_full_width_amount_is_refused_by_parse_and_by_convert(tmp_path: Path) -> None:
    """The reported case: ``paymsg convert`` wrote a schema-valid message and exited 0."""
    text = HVPS.read_bytes()
    bad = _amount(text, "１２８００００.００")
    with pytest.raises(BindingError, match="is not an xs:decimal") as caught:
        paymsg.parse(bad)
    assert caught.value.line == text[: text.index(b"<IntrBkSttlmAmt")].count(b"\n") + 1
    source, out = tmp_path / "in.txt", tmp_path / "out.xml"
    source.write_bytes(bad)
    result = CliRunner().invoke(
        app, ["convert", str(source), "--to", "pacs.008.001.08", "-o", str(out)]
    )
    assert result.exit_code == 2
    assert "xs:decimal" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


# --------------------------------------------------------------------------- empty values

EMPTY = [
    (b"SttlmMtd", "SettlementMethod1Code"),
    (b"ChrgBr", "ChargeBearerType1Code"),
    (b"IntrBkSttlmDt", "xs:date"),
    (b"CtrlSum", "xs:decimal"),
    (b"CreDtTm", "xs:dateTime"),
]


@pytest.mark.parametrize(("tag", "words"), EMPTY, ids=[t.decode() for t, _ in EMPTY])
@pytest.mark.parametrize("form", ["<{tag}/>", "<{tag}></{tag}>", "<{tag}> </{tag}>"])
def test_empty_code_date_or_amount_is_refused_at_parse_not_a_crash_in_serialize(
    tag: bytes, words: str, form: str
) -> None:
    """``<SttlmMtd/>`` and ``<ChrgBr/>`` parsed, then ``serialize`` raised AttributeError
    (CLI: internal error, exit 3); an empty date parsed, then ``from_json`` refused the
    ``to_json`` output. An empty value is in no code list and no date's lexical space."""
    paths = [p for p in (PACS008, WITH_ANY) if b"<" + tag + b">" in p.read_bytes()]
    assert PACS008 in paths
    for path in paths:
        xml = path.read_bytes()
        start = xml.index(b"<" + tag + b">")
        end = xml.index(b"</" + tag + b">", start) + len(tag) + 3
        xml = xml[:start] + form.format(tag=tag.decode()).encode() + xml[end:]
        line = xml[:start].count(b"\n") + 1
        with pytest.raises(BindingError, match=words) as caught:
            paymsg.parse(xml)
        assert caught.value.line == line
        assert caught.value.path is not None and caught.value.path.endswith("/" + tag.decode())
        for engine in ("fast", "xsdata"):
            parts = split_parts(parse_xml(xml))
            with pytest.raises(BindingError, match=words):
                bind(parts.document, parts.document_type, engine=engine)  # type: ignore[arg-type]


def test_empty_code_is_exit_2_in_the_cli_not_an_internal_error(tmp_path: Path) -> None:
    path = tmp_path / "in.xml"
    path.write_bytes(PACS008.read_bytes().replace(b"<ChrgBr>SHAR</ChrgBr>", b"<ChrgBr/>", 1))
    for command in (["convert", str(path), "--to", "xml"], ["inspect", str(path)]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "ChargeBearerType1Code" in result.stderr
        assert "internal error" not in result.stderr


def test_a_code_with_spaces_around_it_is_not_trimmed_into_a_code() -> None:
    """The generic binder stripped `` SHAR `` to SHAR (libxml2 reports it as not a code)."""
    for path in (PACS008, WITH_ANY):
        xml = path.read_bytes().replace(b"<ChrgBr>SHAR<", b"<ChrgBr> SHAR <", 1)
        for engine in ("fast", "xsdata"):
            parts = split_parts(parse_xml(xml))
            with pytest.raises(BindingError, match="not a code of ChargeBearerType1Code"):
                bind(parts.document, parts.document_type, engine=engine)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the functions

LEXICAL_CASES: list[tuple[Any, str, Any]] = [
    (lexical.decimal, "-1.50", Decimal("-1.50")),
    (lexical.decimal, "\t+.5 ", Decimal("0.5")),
    (lexical.integer, "-007", -7),
    (lexical.integer, "+3", 3),
    (lexical.boolean, " true", True),
    (lexical.boolean, "0", False),
    (lexical.date, "2026-03-16", XmlDate(2026, 3, 16)),
    (lexical.date, "2026-03-16+08:00", XmlDate(2026, 3, 16, 480)),
    (lexical.date, "-0044-03-15", XmlDate(-44, 3, 15)),
    (lexical.date, "12026-03-16", XmlDate(12026, 3, 16)),
    (lexical.date_time, "2026-03-16T10:05:12", XmlDateTime(2026, 3, 16, 10, 5, 12)),
    (
        lexical.date_time,
        "2026-03-16T10:05:12.25Z",
        XmlDateTime(2026, 3, 16, 10, 5, 12, 250_000_000, 0),
    ),
    (lexical.date_time, "2026-03-16T24:00:00", XmlDateTime.from_string("2026-03-16T24:00:00")),
    (lexical.time, "10:05:12-05:00", XmlTime(10, 5, 12, 0, -300)),
    (lexical.period, "2026-04", XmlPeriod("2026-04")),
    (lexical.period, "--04-01", XmlPeriod("--04-01")),
    (lexical.period, "---01Z", XmlPeriod("---01Z")),
]
LEXICAL_REFUSED: list[tuple[Any, str]] = [
    (lexical.integer, "１２"),
    (lexical.integer, "1_000"),
    (lexical.integer, "1.0"),
    (lexical.integer, ""),
    (lexical.boolean, "True"),
    (lexical.boolean, "yes"),
    (lexical.boolean, "\u00a0true"),
    (lexical.boolean, ""),
    (lexical.date, "2026-03-16T00:00:00"),
    (lexical.date, "02026-03-16"),  # a leading zero in a 5-digit year
    (lexical.date, "2026-03-16+8:00"),
    (lexical.date_time, "2026-03-16 10:05:12"),
    (lexical.date_time, "2026-03-16T10:05"),
    (lexical.date_time, "2026-03-16T１0:05:12"),
    (lexical.date_time, "2026-03-16T25:00:00"),
    (lexical.time, "10:05"),
    (lexical.time, "١٠:05:12"),
    (lexical.duration, "P"),
    (lexical.duration, "PT"),
    (lexical.duration, "P1DT"),
    (lexical.duration, "P１D"),
    (lexical.period, "２０２６"),
    (lexical.period, "2026-4"),
    (lexical.period, ""),
]


@pytest.mark.parametrize(("parse", "text", "value"), LEXICAL_CASES)
def test_lexical_forms_read(parse: Any, text: str, value: Any) -> None:
    assert parse(text) == value


@pytest.mark.parametrize(("parse", "text"), LEXICAL_REFUSED)
def test_lexical_forms_refused(parse: Any, text: str) -> None:
    with pytest.raises(ValueError):  # LexicalError, or xsdata's own value check
        parse(text)


@given(st.text(max_size=12))
def test_a_decimal_is_read_only_from_ascii_digits_sign_and_point(text: str) -> None:
    try:
        value = lexical.decimal(text)
    except lexical.LexicalError:
        return
    core = text.strip(" \t\r\n")
    assert set(core) <= set("0123456789.+-") and value.is_finite()


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_every_finite_decimal_reads_back_from_its_plain_form(value: Decimal) -> None:
    assert lexical.decimal(f"{value:f}") == value


def test_the_catalogue_uses_no_simple_type_without_a_lexical_reader() -> None:
    from paymsg.codec.xml import fast

    for mtype in catalog():
        fast.plan_for(mtype.root_class)
    kinds = {
        type(child.decode).__name__ if isinstance(child.decode, fast.EnumDecoder) else child.decode
        for plan in fast._PLANS.values()
        for child in plan.order
        if child.decode is not None
    }
    allowed = {"EnumDecoder", *fast._DECODERS.values()}
    assert kinds <= allowed


# --------------------------------------------------------------------------- character data


@pytest.mark.parametrize(
    ("before", "after", "path"),
    [
        (b"<ChrgBr>", b",<ChrgBr>", "/CdtTrfTxInf[1]"),  # between two elements
        (b"<PmtId>", b"<PmtId>junk", "/CdtTrfTxInf[1]/PmtId"),  # before the first one
        (b"<PmtId>", "<PmtId>\u3000".encode(), "/CdtTrfTxInf[1]/PmtId"),  # not XML whitespace
    ],
)
def test_character_data_in_element_only_content_is_refused_not_dropped(
    before: bytes, after: bytes, path: str
) -> None:
    """Found by fuzzing the XML reader: text between elements of an element-only type was
    dropped without a word (xsdata logs "Unassigned parsed object"; the plans ignored it),
    so ``parse`` accepted a message and lost part of it."""
    for source in (PACS008, WITH_ANY):
        xml = source.read_bytes().replace(before, after, 1)
        for engine in ("fast", "xsdata"):
            parts = split_parts(parse_xml(xml))
            with pytest.raises(BindingError, match="where only elements are allowed") as caught:
                bind(parts.document, parts.document_type, engine=engine)  # type: ignore[arg-type]
            assert caught.value.path is not None and caught.value.path.endswith(path)
            assert caught.value.line is not None


def test_whitespace_between_elements_is_still_just_layout() -> None:
    xml = PACS008.read_bytes().replace(b"<ChrgBr>", b" \t\r\n<ChrgBr>", 1)
    quick, oracle = _bind_both(xml)
    assert quick == oracle == paymsg.parse(PACS008).document


def test_character_data_around_xs_any_content_is_refused_but_kept_inside_it() -> None:
    """Found by fuzzing: text after the wildcard element in ``Envlp`` was bound as the
    element's tail, which the JSON form does not carry, so ``from_json(to_json(m)) != m``."""
    xml = WITH_ANY.read_bytes()
    outside = xml.replace(b"</inv:InvoiceContext>", b"</inv:InvoiceContext>'", 1)
    with pytest.raises(BindingError, match="where only elements are allowed") as caught:
        paymsg.parse(outside)
    assert caught.value.path is not None and caught.value.path.endswith("/SplmtryData[1]/Envlp")
    inside = xml.replace(b"<inv:Network>", b"free text <inv:Network>", 1)  # foreign: theirs
    message = paymsg.parse(inside)
    assert paymsg.from_json(paymsg.to_json(message)) == message
    assert b"free text <ns1:Network>" in paymsg.serialize(message)
