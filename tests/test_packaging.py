"""The wheel carries the schemas and the catalogue, and the installed CLI works offline."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return next(tmp_path.glob("paymsg-*.whl"))


def test_wheel_carries_schemas_and_catalogue(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "paymsg/xsd/catalog.toml" in names
    assert "paymsg/xsd/iso20022/pacs/pacs.008.001.08.xsd" in names
    assert "paymsg/xsd/iso20022/common/components.xsd" in names
    assert "paymsg/models/pacs_008_001_08.py" in names
    assert "paymsg/reference/data/iso4217.toml" in names
    assert "paymsg/reference/data/cnaps2-codes.toml" in names
    assert not any(n.startswith(("tests/", "codegen/")) for n in names)
    # the generator is installed (paymsg codegen and schema packs use it); the repository's
    # driver (top-level codegen/) is not: a top-level "codegen" would collide in site-packages
    assert "paymsg/codegen/__init__.py" in names and "paymsg/codegen/generator.py" in names


def _requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as whl:
        meta = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
        headers = Parser().parsestr(whl.read(meta).decode("utf-8"))
    return [Requirement(text) for text in headers.get_all("Requires-Dist") or []]


def _needed(reqs: list[Requirement], extra: str) -> dict[str, Requirement]:
    """The requirements that ``pip install "paymsg[extra]"`` adds ('' for none)."""
    out = {}
    for req in reqs:
        plain = req.marker is None or req.marker.evaluate({"extra": ""})
        if (not extra and plain) or (
            extra and not plain and req.marker is not None and req.marker.evaluate({"extra": extra})
        ):
            out[req.name.lower()] = req
    return out


def test_the_generator_is_behind_the_codegen_extra(wheel: Path) -> None:
    reqs = _requirements(wheel)
    runtime = _needed(reqs, "")
    # a plain install has xsdata's runtime (the models and binding need it), not its CLI,
    # and no ruff
    assert "ruff" not in runtime
    assert runtime["xsdata"].extras == set()
    assert str(runtime["xsdata"].specifier).startswith("==")
    codegen = _needed(reqs, "codegen")
    assert set(codegen) == {"xsdata", "ruff"}
    assert codegen["xsdata"].extras == {"cli"}
    # exact versions, the runtime's own xsdata among them: regeneration is byte-stable
    assert codegen["xsdata"].specifier == runtime["xsdata"].specifier
    assert str(codegen["ruff"].specifier).startswith("==")
    # [test] includes [codegen] (hatchling writes the self-reference out in full)
    test = _needed(reqs, "test")
    for name, req in codegen.items():
        assert (test[name].extras, test[name].specifier) == (req.extras, req.specifier)
    assert "import-linter" in test
