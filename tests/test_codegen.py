"""The generated models are exactly what the schemas give, and users can generate their own."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from paymsg.codegen import flatten_schema, prune_schema

ROOT = Path(__file__).resolve().parent.parent

USER_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="urn:example:remit"
           targetNamespace="urn:example:remit" elementFormDefault="qualified">
  <xs:element name="Remittance" type="Remittance1"/>
  <xs:complexType name="Remittance1">
    <xs:sequence>
      <xs:element name="Ref" type="Max16Text"/>
      <xs:element name="Amt" type="xs:decimal" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Unused1"><xs:sequence><xs:element name="X" type="xs:string"/></xs:sequence></xs:complexType>
  <xs:simpleType name="Max16Text">
    <xs:restriction base="xs:string"><xs:minLength value="1"/><xs:maxLength value="16"/></xs:restriction>
  </xs:simpleType>
</xs:schema>
"""


def test_committed_models_match_the_schemas() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "codegen", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_generated_files_say_do_not_edit() -> None:
    for module in (ROOT / "paymsg" / "models").glob("*.py"):
        assert "DO NOT EDIT" in module.read_text(encoding="utf-8").splitlines()[0], module


def test_flatten_and_prune_keep_only_reachable_types() -> None:
    schema = prune_schema(flatten_schema(ROOT / "xsd/iso20022/head/head.001.001.02.xsd"))
    names = {el.get("name") for el in schema}
    assert "BusinessApplicationHeaderV02" in names
    assert "CashAccount38" not in names  # shared component not used by the header


def _codegen(xsd: Path, package: str, out: Path) -> subprocess.CompletedProcess[str]:
    command = ["codegen", str(xsd), "--package", package, "-o", str(out)]
    return subprocess.run(
        [sys.executable, "-m", "paymsg.cli", *command], capture_output=True, text=True
    )


def test_user_codegen_from_the_cli(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    xsd = tmp_path / "remit.001.xsd"
    xsd.write_text(USER_XSD, encoding="utf-8")
    out = tmp_path / "mymodels"
    done = _codegen(xsd, "mymodels", out)
    assert done.returncode == 0, done.stderr
    source = (out / "remit_001.py").read_text(encoding="utf-8")
    assert "DO NOT EDIT" in source and "class Remittance" in source and "Unused1" not in source
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("mymodels.remit_001")
    assert module.Remittance(ref="A", amt=[1]).ref == "A"


def test_user_codegen_reports_a_missing_file(tmp_path: Path) -> None:
    done = _codegen(tmp_path / "nope.xsd", "x", tmp_path)
    assert done.returncode == 2
    assert "schema file not found" in done.stderr and "Traceback" not in done.stderr


def test_user_codegen_refuses_a_schema_that_names_a_type_it_never_defines(
    tmp_path: Path,
) -> None:
    """An element of an undefined type was generated as an empty class, exit 0: the
    schema is compiled first, and its error names the file, the line and the type."""
    xsd = tmp_path / "broken.xsd"
    xsd.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n'
        '  <xs:element name="Pmt" type="PmtTyp"/>\n'
        "</xs:schema>\n",
        encoding="utf-8",
    )
    out = tmp_path / "pkg"
    done = _codegen(xsd, "pkg", out)
    assert done.returncode == 3 and not out.exists()
    assert "broken.xsd:2: not a valid schema" in done.stderr and "'PmtTyp'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
