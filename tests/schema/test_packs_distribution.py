"""Schema packs shipped by a Python distribution (entry point group ``paymsg.packs``), and
``paymsg schemas add`` without the codegen extra. Each runs the CLI in a fresh process: the
distribution is a real ``*.dist-info`` on ``PYTHONPATH``, found by importlib.metadata."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paymsg.schema import packs

DATA = Path(__file__).parent / "data"
BASE_XSD = DATA / "xmpl" / "xmpl.001.001.01.xsd"
CLEAN = DATA / "xmpl.001.001.01-clean.xml"

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


def cli(*args: object, env: dict[str, str], code: str = "from paymsg.cli import main; main()"):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        env=os.environ | env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


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
