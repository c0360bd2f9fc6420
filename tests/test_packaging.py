"""The wheel carries the schemas and the catalogue, and the installed CLI works offline."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_carries_schemas_and_catalogue(tmp_path: Path) -> None:
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
    wheel = next(tmp_path.glob("paymsg-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "paymsg/xsd/catalog.toml" in names
    assert "paymsg/xsd/iso20022/pacs/pacs.008.001.08.xsd" in names
    assert "paymsg/xsd/iso20022/common/components.xsd" in names
    assert "paymsg/models/pacs_008_001_08.py" in names
    assert "paymsg/reference/data/iso4217.toml" in names
    assert "paymsg/reference/data/cnaps2-codes.toml" in names
    assert not any(n.startswith(("tests/", "codegen/")) for n in names)
