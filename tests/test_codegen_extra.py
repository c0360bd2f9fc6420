"""The generator sits behind the ``codegen`` extra; everything else runs without it.

A plain ``pip install paymsg`` has xsdata's runtime but not what the ``codegen`` extra
adds: xsdata's command-line requirements (click, jinja2, toposort and ruff). These tests
run paymsg in a subprocess whose ``sitecustomize`` refuses to import those modules, which
is what such an install looks like from inside.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXTRA_ONLY = ("click", "jinja2", "ruff", "toposort")
NEEDS_EXTRA = 'needs the codegen extra: pip install "paymsg[codegen]"'

SHIM = """
import importlib.abc
import os
import sys

HIDDEN = set(filter(None, os.environ["PAYMSG_TEST_HIDE"].split(",")))


class RefuseHidden(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, RefuseHidden())
"""

SCHEMA = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:example:x"
           elementFormDefault="qualified">
  <xs:element name="X" type="xs:string"/>
</xs:schema>
"""


def run_without(
    hidden: tuple[str, ...], args: list[str], tmp: Path
) -> subprocess.CompletedProcess[str]:
    shim = tmp / "shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(SHIM, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(shim), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PAYMSG_TEST_HIDE"] = ",".join(hidden)  # may be empty: hide nothing
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_the_hidden_modules_are_what_the_extra_adds() -> None:
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    cli = set()
    for text in requires("xsdata") or []:
        req = Requirement(text)
        if req.marker is not None and req.marker.evaluate({"extra": "cli"}):
            cli.add(req.name.lower())
    assert cli == set(EXTRA_ONLY)


def test_the_shim_hides_what_it_is_told(tmp_path: Path) -> None:
    done = run_without(("toposort",), ["-c", "import toposort"], tmp_path)
    assert done.returncode == 1 and "No module named 'toposort'" in done.stderr
    done = run_without(("toposort",), ["-c", "import jinja2, ruff"], tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("hidden", [EXTRA_ONLY, *((name,) for name in EXTRA_ONLY)])
def test_paymsg_codegen_without_the_extra_says_how_to_install_it(
    tmp_path: Path, hidden: tuple[str, ...]
) -> None:
    xsd = tmp_path / "x.xsd"
    xsd.write_text(SCHEMA, encoding="utf-8")
    out = tmp_path / "out"
    args = ["-m", "paymsg.cli", "codegen", str(xsd), "--package", "x", "-o", str(out)]
    done = run_without(hidden, args, tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and NEEDS_EXTRA in lines[0], done.stderr
    assert lines[0].endswith(f"(missing: {', '.join(sorted(hidden))})")  # each one named
    assert not out.exists()  # nothing half-made


def test_a_ruff_package_without_its_executable_is_a_missing_extra(tmp_path: Path) -> None:
    # what ruff's own find_ruff_bin does when its binary is gone
    broken = tmp_path / "shim" / "ruff"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text(
        "def find_ruff_bin():\n    raise FileNotFoundError('ruff')\n", encoding="utf-8"
    )
    xsd = tmp_path / "x.xsd"
    xsd.write_text(SCHEMA, encoding="utf-8")
    args = ["-m", "paymsg.cli", "codegen", str(xsd), "--package", "x", "-o", str(tmp_path / "o")]
    done = run_without((), args, tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stderr.strip().endswith(f"{NEEDS_EXTRA} (missing: ruff executable)")


def test_the_repository_generator_without_the_extra_says_how_to_install_it(
    tmp_path: Path,
) -> None:
    done = run_without(EXTRA_ONLY, ["-m", "codegen", "--output", str(tmp_path / "m")], tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert NEEDS_EXTRA in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "m").exists()


def test_the_api_without_the_extra_raises_a_codegen_error(tmp_path: Path) -> None:
    xsd = tmp_path / "x.xsd"
    xsd.write_text(SCHEMA, encoding="utf-8")
    script = (
        "import sys; from pathlib import Path\n"
        "from paymsg import CodegenError\n"
        "from paymsg.codegen import generate\n"
        "try:\n"
        f"    generate([Path({str(xsd)!r})], 'x', Path({str(tmp_path / 'out')!r}))\n"
        "except CodegenError as exc:\n"
        "    print(exc); sys.exit(0)\n"
        "sys.exit(1)\n"
    )
    done = run_without(EXTRA_ONLY, ["-c", script], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert NEEDS_EXTRA in done.stdout


def test_everything_else_runs_without_the_extra(tmp_path: Path) -> None:
    """Parse, serialize, JSON, validate and convert import nothing from the extra."""
    script = """
import sys
import paymsg, paymsg.cli
from paymsg.codegen import flatten_schema  # the package imports; only generating needs it
msg = paymsg.parse("examples/iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml")
assert paymsg.from_json(paymsg.to_json(msg)) == msg
assert paymsg.parse(paymsg.serialize(msg)) == msg
assert paymsg.validate(msg).ok
hidden = [m for m in sys.modules if m.split(".")[0] in set(sys.argv[1].split(","))]
assert not hidden, hidden
print("ok")
"""
    done = run_without(EXTRA_ONLY, ["-c", script, ",".join(EXTRA_ONLY)], tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr
    done = run_without(EXTRA_ONLY, ["-m", "paymsg.cli", "validate", "examples/cnaps2"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
