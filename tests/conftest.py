"""Shared fixtures: the example messages shipped in examples/."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def example_files(pattern: str = "**/*.xml") -> list[Path]:
    return sorted(p for p in EXAMPLES.glob(pattern) if p.is_file())


def iso_examples() -> list[Path]:
    return example_files("iso20022/*/*.xml")


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(EXAMPLES)) for p in paths]


@pytest.fixture
def pacs008_with_bah() -> Path:
    return EXAMPLES / "iso20022" / "pacs.008.001.08" / "cbpr-usd-with-bah.xml"
