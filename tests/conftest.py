"""Shared fixtures: the example messages shipped in examples/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Generated inputs are checked for what they find, not for how fast they are made: on a
# shared, loaded CI machine hypothesis's "input generation is slow" check failed runs that
# found nothing wrong. Every other health check stays on.
settings.register_profile("paymsg", suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("paymsg")

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


def peak_rss_kib(code: str, *args: str) -> int:
    """Peak resident memory (VmHWM, which counts libxml2's memory) of ``code`` run in a fresh
    interpreter with ``args`` as ``sys.argv[1:]``."""
    probe = (
        code
        + "\nprint([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])
