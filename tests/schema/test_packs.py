"""Schema packs from the outside: a user's own XSD (written for these tests, under
``data/``) added as a pack in a temporary PAYMSG_HOME, and a message of its type taken
through every command and the API; a usage-guideline pack sharing its namespace; the
pack store's guarantees (rows from the schema, nothing left by a failed add, --replace);
a pack shipped by a distribution (a real ``*.dist-info`` on ``PYTHONPATH``, found by
importlib.metadata in a fresh process); adding without the codegen extra."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

import paymsg
from paymsg.cli import app
from paymsg.errors import InputError, UnknownMessageTypeError
from paymsg.schema import packs
from paymsg.schema.catalog import catalog

DATA = Path(__file__).parent / "data"
BASE_XSD = DATA / "xmpl" / "xmpl.001.001.01.xsd"
UG_XSD = DATA / "xmpl-ug" / "xmpl.001.001.01-ug.xsd"
CLEAN = DATA / "xmpl.001.001.01-clean.xml"
NS = "urn:iso:std:iso:20022:tech:xsd:xmpl.001.001.01"
PACS008 = Path(__file__).parents[2] / "examples/iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml"

runner = CliRunner()

#: run the CLI with the codegen extra's own modules refused at import, as if not installed
WITHOUT_CODEGEN = """
import importlib.abc, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"jinja2", "toposort"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Refuse())
from paymsg.cli import main
main()
"""


def run(*args: object):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def cli(
    *args: object, env: dict[str, str], code: str = "from paymsg.cli import main; main()"
) -> subprocess.CompletedProcess[str]:
    """The ``paymsg`` command in a fresh process (real stderr and exit code); ``code`` runs it."""
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        env=os.environ | env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A PAYMSG_HOME holding pack ``xmpl`` (added through the CLI) for the module's tests."""
    where = tmp_path_factory.mktemp("paymsg-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PAYMSG_HOME", str(where))
        mp.delenv(packs.SELECT_ENV, raising=False)
        packs.reload()
        result = run("schemas", "add", BASE_XSD, "--pack", "xmpl", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["types"] == ["xmpl.001.001.01"]
        yield where
    packs.reload()  # the catalogue of the real PAYMSG_HOME again


@pytest.fixture
def mutated(tmp_path: Path) -> Path:
    """The clean message with a purpose code outside the enumeration in the 2nd transaction."""
    text = CLEAN.read_text(encoding="utf-8")
    first = text.index("<Purp>SALA</Purp>")
    second = text.index("<Purp>SALA</Purp>", first + 1)
    path = tmp_path / "mutated.xml"
    path.write_text(text[:second] + "<Purp>XXXX</Purp>" + text[second + 17 :], encoding="utf-8")
    return path


# --------------------------------------------------------------------------- adding


def test_pack_rows_come_from_the_schema(home: Path) -> None:
    pack = home / "packs" / "xmpl"
    manifest = tomllib.loads((pack / "pack.toml").read_text(encoding="utf-8"))
    (row,) = manifest["message"]
    assert row["id"] == "xmpl.001.001.01"
    assert row["namespace"] == NS
    assert (row["root"], row["element"], row["family"]) == ("Document", "XmplCdtNtfctn", "xmpl")
    assert row["layout"] == {
        "header": "GrpHdr",
        "transaction": "Tx",
        "amount": ["Amt"],
        "count": "GrpHdr/NbOfTxs",
        "sum": "GrpHdr/CtrlSum",
        "streamable": True,
    }
    # the compiled schema: the message XSD and the file it includes, in their places
    assert (pack / row["schema"]).read_bytes() == BASE_XSD.read_bytes()
    common = pack / "xsd" / "common" / "xmpl-types.xsd"
    assert common.read_bytes() == (DATA / "xmpl/common/xmpl-types.xsd").read_bytes()
    assert "class Document" in (pack / "models" / f"{row['module']}.py").read_text("utf-8")
    mtype = catalog().get("xmpl.001.001.01")
    assert mtype.pack == "xmpl" and mtype.schema_path == pack / row["schema"]
    assert mtype.root_class.__name__ == "Document"


def test_adding_the_same_pack_twice_needs_replace(home: Path) -> None:
    result = run("schemas", "add", BASE_XSD, "--pack", "xmpl")
    assert result.exit_code == 2
    assert "a schema pack named xmpl exists" in result.stderr and "--replace" in result.stderr
    before = (home / "packs" / "xmpl" / "pack.toml").read_text("utf-8")
    result = run("schemas", "add", BASE_XSD, "--pack", "xmpl", "--replace")
    assert result.exit_code == 0, result.output
    after = (home / "packs" / "xmpl" / "pack.toml").read_text("utf-8")
    assert before != after  # a new build
    assert [p.name for p in (home / "packs").iterdir()] == ["xmpl"]  # nothing left aside
    assert paymsg.detect(CLEAN).type == "xmpl.001.001.01"


def test_a_failed_add_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = tmp_path / "home"
    monkeypatch.setenv("PAYMSG_HOME", str(where))
    broken = tmp_path / "xmpl.002.001.01.xsd"
    # the message refers to a type no schema declares: the generator refuses it
    broken.write_text(
        BASE_XSD.read_text("utf-8")
        .replace("xmpl.001.001.01", "xmpl.002.001.01")
        .replace('<xs:include schemaLocation="common/xmpl-types.xsd"/>', ""),
        encoding="utf-8",
    )
    with pytest.raises(paymsg.PaymsgError):
        packs.add_pack([broken], name="broken")
    assert list((where / "packs").iterdir()) == []
    packs.reload()
    assert "xmpl.002.001.01" not in catalog()


def test_a_namespace_that_names_no_iso_id_needs_an_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYMSG_HOME", str(tmp_path / "home"))
    own = tmp_path / "acme-notice.xsd"
    own.write_text(
        BASE_XSD.read_text("utf-8")
        .replace(NS, "urn:example:acme:notice:1")
        .replace('schemaLocation="common/', f'schemaLocation="{DATA / "xmpl/common"}/'),
        encoding="utf-8",
    )
    result = run("schemas", "add", own)
    assert result.exit_code == 2
    assert "not an ISO 20022 message namespace" in result.stderr and "--id" in result.stderr
    assert not (tmp_path / "home" / "packs" / "acme-notice").exists()
    try:
        result = run("schemas", "add", own, "--id", "acme.notice.001")
        assert result.exit_code == 0, result.output
        message = CLEAN.read_text("utf-8").replace(NS, "urn:example:acme:notice:1")
        assert paymsg.detect(message).type == "acme.notice.001"
        assert paymsg.validate(message).ok
    finally:
        packs.reload()


def test_adding_a_schema_that_is_not_a_message_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYMSG_HOME", str(tmp_path / "home"))
    result = run("schemas", "add", DATA / "xmpl/common/xmpl-types.xsd", "--id", "xmpl.types.1")
    assert result.exit_code == 2
    assert "no targetNamespace" in result.stderr
    result = run("schemas", "add", tmp_path / "missing.xsd")
    assert result.exit_code == 2 and "schema file not found" in result.stderr


def test_the_store_follows_the_platform_convention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAYMSG_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    if sys.platform.startswith("linux"):
        assert packs.paymsg_home() == tmp_path / "data" / "paymsg"
    monkeypatch.setenv("PAYMSG_HOME", str(tmp_path / "mine"))
    assert packs.store() == tmp_path / "mine" / "packs"


def test_removing_a_pack_that_is_not_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMSG_HOME", str(tmp_path))
    result = run("schemas", "remove", "nosuch")
    assert result.exit_code == 2 and "no schema pack named 'nosuch'" in result.stderr


# --------------------------------------------------------------------------- every command


def test_list_shows_where_each_type_comes_from(home: Path) -> None:
    result = run("schemas", "list", "--json")
    assert result.exit_code == 0
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows["xmpl.001.001.01"]["source"] == f"pack xmpl at {home / 'packs' / 'xmpl'}"
    assert rows["xmpl.001.001.01"]["pack"] == "xmpl"
    assert rows["pacs.008.001.08"]["source"] == "built in"
    human = run("schemas", "list")
    assert "xmpl.001.001.01" in human.stdout and "pack xmpl at" in human.stdout


def test_detect_and_inspect(home: Path) -> None:
    result = run("detect", CLEAN, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["type"] == "xmpl.001.001.01"
    result = run("inspect", CLEAN, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["type"] == "xmpl.001.001.01"
    text = json.dumps(summary)
    assert "XMPL-20261206-0001" in text and "1000.00" in text and "ICBKCNBJXXX" in text


def test_validate_clean_and_mutated(home: Path, mutated: Path) -> None:
    result = run("validate", CLEAN, "--json")
    assert result.exit_code == 0, result.output
    result = run("validate", mutated, "--json")
    assert result.exit_code == 1
    (report,) = json.loads(result.stdout)
    findings = [(f["rule"], f["layer"], f["path"], f["line"]) for f in report["findings"]]
    assert findings == [("xsd.code", "xsd", "/Document/XmplCdtNtfctn/Tx[2]/Purp", 19)]


def test_generic_iso20022_rules_apply_by_type(home: Path) -> None:
    """The schema types its amount ActiveCurrencyAndAmount: ISO 4217 minor units apply."""
    report = paymsg.validate(CLEAN.read_text("utf-8").replace("500.50", "500.505"))
    assert [(f.rule, f.path) for f in report.findings] == [
        ("iso.amount.decimals", "/Document/XmplCdtNtfctn/Tx[2]/Amt")
    ]
    report = paymsg.validate(CLEAN.read_text("utf-8").replace('Ccy="CNY">500', 'Ccy="XYZ">500'))
    assert [f.rule for f in report.findings] == ["iso.currency.code"]


def test_convert_to_json_and_back(home: Path, tmp_path: Path) -> None:
    as_json = tmp_path / "message.json"
    result = run("convert", CLEAN, "--to", "json", "-o", as_json)
    assert result.exit_code == 0, result.output
    data = json.loads(as_json.read_text("utf-8"))
    assert data["type"] == "xmpl.001.001.01"
    assert data["document"]["XmplCdtNtfctn"]["Tx"][0]["Amt"] == {"@Ccy": "CNY", "#text": "1000.00"}
    back = tmp_path / "back.xml"
    result = run("convert", as_json, "--to", "xml", "-o", back)
    assert result.exit_code == 0, result.output
    assert back.read_bytes() == paymsg.serialize(paymsg.parse(CLEAN))
    assert paymsg.parse(back) == paymsg.parse(CLEAN)


def test_api(home: Path, mutated: Path) -> None:
    detection = paymsg.detect(CLEAN)
    assert (detection.type, detection.method, detection.element) == (
        "xmpl.001.001.01",
        "namespace",
        "XmplCdtNtfctn",
    )
    message = paymsg.parse(CLEAN)
    tx = message.document.xmpl_cdt_ntfctn.tx
    assert [t.amt.value for t in tx] == [Decimal("1000.00"), Decimal("500.50")]
    text = paymsg.to_json(message)
    assert paymsg.from_json(text) == message
    assert paymsg.parse(paymsg.serialize(message)) == message
    assert paymsg.validate(CLEAN).ok
    report = paymsg.validate(mutated)
    assert [(f.rule, f.path, f.line) for f in report.findings] == [
        ("xsd.code", "/Document/XmplCdtNtfctn/Tx[2]/Purp", 19)
    ]


def test_streaming(home: Path, mutated: Path) -> None:
    stream = paymsg.iter_transactions(CLEAN)
    items = list(stream)
    assert [t.tx_id for t in items] == ["TX-1", "TX-2"]
    assert items[1].amt.value == Decimal("500.50")
    assert stream.header.msg_id == "XMPL-20261206-0001"
    stream = paymsg.iter_transactions(mutated, validate=True)
    assert [t.tx_id for t in stream] == ["TX-1"]  # the second does not fit the model
    assert ("xsd.code", "/Document/XmplCdtNtfctn/Tx[2]/Purp", 19) in [
        (f.rule, f.path, f.line) for f in stream.report.findings
    ]
    # validation streamed (threshold 0) gives the findings of whole-message validation
    streamed = paymsg.validate(mutated, config=paymsg.ValidationConfig(stream_from_bytes=0))
    assert streamed.findings == paymsg.validate(mutated).findings


def test_large_message_of_a_pack_type_parses_in_pieces(home: Path) -> None:
    """Over 1 MiB a streamable type is bound transaction by transaction: same objects."""
    text = CLEAN.read_text("utf-8")
    start, end = text.index("    <Tx>"), text.index("  </XmplCdtNtfctn>")
    big = text[:start] + text[start:end] * 5000 + text[end:]
    assert len(big) > 1024 * 1024
    message = paymsg.parse(big)
    assert len(message.document.xmpl_cdt_ntfctn.tx) == 10000
    assert paymsg.serialize(message) == paymsg.serialize(paymsg.parse(big.encode() + b" "))


def test_builtin_types_are_untouched(home: Path) -> None:
    assert paymsg.detect(PACS008).type == "pacs.008.001.08"
    assert catalog().get("pacs.008.001.08").pack is None
    assert paymsg.validate(PACS008).ok


# --------------------------------------------------------------------------- shared namespace


@pytest.fixture(scope="module")
def guideline(home: Path) -> Iterator[str]:
    """Pack ``xmpl-ug``: a usage guideline in the base message's namespace."""
    result = run("schemas", "add", UG_XSD, "--pack", "xmpl-ug")
    assert result.exit_code == 2
    assert "xmpl.001.001.01 exists (in pack xmpl)" in result.stderr and "--id" in result.stderr
    result = run("schemas", "add", UG_XSD, "--pack", "xmpl-ug", "--id", "xmpl.001.001.01.ug")
    assert result.exit_code == 0, result.output
    yield "xmpl.001.001.01.ug"
    assert run("schemas", "remove", "xmpl-ug").exit_code == 0
    assert paymsg.detect(CLEAN).type == "xmpl.001.001.01"


def test_shared_namespace_is_never_guessed(home: Path, guideline: str) -> None:
    env = {"PAYMSG_HOME": str(home)}
    done = cli("detect", CLEAN, env=env)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert f"namespace {NS} is shared by several message types" in line
    assert "xmpl.001.001.01 (xmpl), xmpl.001.001.01.ug (xmpl-ug)" in line
    assert "--schema-pack NAME" in line and "Traceback" not in done.stderr
    with pytest.raises(UnknownMessageTypeError, match="shared by several"):
        paymsg.parse(CLEAN)
    with pytest.raises(UnknownMessageTypeError, match="shared by several"):
        paymsg.iter_transactions(CLEAN)


def test_schema_pack_chooses(home: Path, guideline: str) -> None:
    supp = CLEAN.read_text("utf-8").replace("<Purp>SALA", "<Purp>SUPP")
    result = run("--schema-pack", "xmpl-ug", "detect", CLEAN, "--json")
    assert json.loads(result.stdout)[0]["type"] == guideline
    result = run("--schema-pack", "xmpl", "detect", CLEAN, "--json")
    assert json.loads(result.stdout)[0]["type"] == "xmpl.001.001.01"
    # the guideline allows SALA only: the base accepts what the guideline refuses
    assert paymsg.validate(supp, schema_pack="xmpl").ok
    report = paymsg.validate(supp, schema_pack="xmpl-ug")
    assert [f.rule for f in report.findings] == ["xsd.code", "xsd.code"]
    assert paymsg.parse(CLEAN, schema_pack="xmpl-ug").type == guideline
    assert paymsg.detect(CLEAN, schema_pack="xmpl").type == "xmpl.001.001.01"
    stream = paymsg.iter_transactions(supp.encode(), validate=True, schema_pack="xmpl-ug")
    assert list(stream) == [] and stream.type.id == guideline
    assert [f.rule for f in stream.report.findings] == ["xsd.code", "xsd.code"]
    # the profile: an environment variable
    done = cli(
        "detect", CLEAN, "--json", env={"PAYMSG_HOME": str(home), packs.SELECT_ENV: "xmpl-ug"}
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["type"] == guideline
    # a message of the chosen type keeps it through JSON and serialization
    message = paymsg.parse(CLEAN, schema_pack="xmpl-ug")
    assert paymsg.from_json(paymsg.to_json(message)).type == guideline
    # choosing a pack that does not exist is an error, and so is one without the namespace
    result = run("--schema-pack", "nosuch", "detect", CLEAN)
    assert result.exit_code == 2 and "no schema pack named 'nosuch'" in result.stderr
    with pytest.raises(UnknownMessageTypeError, match="pack 'builtin' has none of them"):
        paymsg.detect(CLEAN, schema_pack="builtin")
    with pytest.raises(InputError, match="no schema pack"):
        paymsg.detect(CLEAN, schema_pack="nosuch")


def test_a_pack_sharing_a_builtin_namespace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guideline in pacs.008.001.08's namespace: the built-in type is chosen as 'builtin'."""
    monkeypatch.setenv("PAYMSG_HOME", str(tmp_path / "home"))
    pacs_ns = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
    ug = tmp_path / "pacs-ug.xsd"
    ug.write_text(
        BASE_XSD.read_text("utf-8")
        .replace(NS, pacs_ns)
        .replace('schemaLocation="common/', f'schemaLocation="{DATA / "xmpl/common"}/'),
        encoding="utf-8",
    )
    try:
        result = run("schemas", "add", ug, "--pack", "pacs-ug")
        assert result.exit_code == 2 and "pacs.008.001.08 exists (built in)" in result.stderr
        result = run("schemas", "add", ug, "--pack", "pacs-ug", "--id", "pacs.008.001.08.ug")
        assert result.exit_code == 0, result.output
        result = run("validate", PACS008, "--json")  # reported as the file's finding
        assert result.exit_code == 2
        (finding,) = json.loads(result.stdout)[0]["findings"]
        assert finding["rule"] == "safety.unknown-type"
        assert "pacs.008.001.08 (builtin), pacs.008.001.08.ug (pacs-ug)" in finding["message"]
        result = run("--schema-pack", "builtin", "validate", PACS008, "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)[0]["type"] == "pacs.008.001.08"
        assert paymsg.parse(PACS008, schema_pack="builtin") == paymsg.parse(
            PACS008.read_bytes(), schema_pack="builtin"
        )
        # the other built-in types are not concerned
        assert (
            paymsg.detect(PACS008.parent.parent / "pacs.009.001.08" / "core-hkd-chats.xml").type
            == "pacs.009.001.08"
        )
    finally:
        packs.reload()


# --------------------------------------------------------------------------- distributions


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pack built by add_pack in a throwaway home (its directory)."""
    where = tmp_path_factory.mktemp("build-home")
    try:
        pack = packs.add_pack([BASE_XSD], name="xmpl", home=where)
    finally:
        packs.reload()
    return pack.path


def _distribution(site: Path, dist: str, version: str, entry_points: str) -> None:
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[paymsg.packs]\n{entry_points}\n", encoding="utf-8")


def test_a_distribution_ships_a_pack(built: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    module = site / "acme_xmpl_pack"
    shutil.copytree(built, module)
    (module / "__init__.py").write_text('"""The xmpl schema pack of ACME Bank."""\n', "utf-8")
    _distribution(site, "acme-xmpl-pack", "1.0", "acme-xmpl = acme_xmpl_pack")
    env = {"PYTHONPATH": str(site), "PAYMSG_HOME": str(tmp_path / "empty-home")}

    done = cli("schemas", "list", "--json", env=env)
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in json.loads(done.stdout)}
    assert rows["xmpl.001.001.01"]["pack"] == "acme-xmpl"
    assert rows["xmpl.001.001.01"]["source"] == (
        f"entry point acme-xmpl-pack (pack acme-xmpl at {module})"
    )
    done = cli("validate", CLEAN, "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["type"] == "xmpl.001.001.01"
    done = cli("convert", CLEAN, "--to", "json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["type"] == "xmpl.001.001.01"

    # a second distribution naming a directory with the same type: a clear error, exit 3
    shutil.copytree(built, site / "acme_data" / "xmpl")
    _distribution(site, "acme-data", "2.0", "acme-data = acme_data/xmpl")
    done = cli("schemas", "list", env=env)
    assert done.returncode == 3
    (line,) = done.stderr.strip().splitlines()
    assert "message type xmpl.001.001.01 is defined twice" in line
    assert "entry point acme-data (pack acme-data at" in line and "Traceback" not in line


def test_adding_without_the_codegen_extra(built: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = cli("schemas", "add", BASE_XSD, env={"PAYMSG_HOME": str(home)}, code=WITHOUT_CODEGEN)
    assert done.returncode == 3
    (line,) = done.stderr.strip().splitlines()
    assert "needs the codegen extra" in line and 'pip install "paymsg[codegen]"' in line
    assert not (home / "packs").exists()
    # using a pack does not need the generator
    shutil.copytree(built, home / "packs" / "xmpl")
    done = cli("validate", CLEAN, env={"PAYMSG_HOME": str(home)}, code=WITHOUT_CODEGEN)
    assert done.returncode == 0, done.stderr
