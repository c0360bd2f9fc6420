"""`paymsg convert --to json|xml` streams large files: the in-memory output, clean errors.

The threshold (``STREAM_FROM``) is patched low so that small files take the streaming
path; a spy on the converter records which files were actually streamed.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress
from typer.testing import CliRunner, Result

import paymsg
from benchmarks.messages import beps121, camt053
from paymsg.cli import app
from paymsg.cli import convert as convert_cli
from tests.conftest import EXAMPLES

runner = CliRunner()
PACKAGE_TEXT = EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.signed.txt"
STATEMENT = EXAMPLES / "iso20022/camt.053.001.08/nostro-usd-8-entries-envelope.xml"
BIG = 1 << 62


def run(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, bool]]:
    """Every file goes to the streaming converter; records (file, streamed?)."""
    seen: list[tuple[Path, bool]] = []
    original = convert_cli.convert_file

    def spy(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        done = original(path, *args, **kwargs)
        seen.append((Path(path), done.streamed))
        return done

    monkeypatch.setattr(convert_cli, "convert_file", spy)
    monkeypatch.setattr(convert_cli, "STREAM_FROM", 0)
    return seen


def in_memory(monkeypatch: pytest.MonkeyPatch, *args: object) -> Result:
    """The same command with nothing streamed (as every file small enough)."""
    with monkeypatch.context() as patched:
        patched.setattr(convert_cli, "STREAM_FROM", BIG)
        return run(*args)


@pytest.fixture
def package(tmp_path: Path) -> Path:
    path = tmp_path / "inputs" / "package.xml"
    path.parent.mkdir()
    path.write_bytes(beps121(400))
    return path


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("name", ["package", "text", "statement"])
def test_output_file_equals_the_in_memory_run(
    name: str,
    fmt: str,
    package: Path,
    tmp_path: Path,
    streamed: list[tuple[Path, bool]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = {"package": package, "text": PACKAGE_TEXT, "statement": STATEMENT}[name]
    whole, stream = tmp_path / f"whole.{fmt}", tmp_path / f"stream.{fmt}"
    assert in_memory(monkeypatch, "convert", source, "--to", fmt, "-o", whole).exit_code == 0
    assert streamed == []
    result = run("convert", source, "--to", fmt, "-o", stream)
    assert result.exit_code == 0, result.stderr
    assert streamed == [(source, True)]
    assert stream.read_bytes() == whole.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["inputs", whole.name, stream.name]  # no temporary file left beside the output
    )


def test_output_dir_equals_the_in_memory_run(
    tmp_path: Path, streamed: list[tuple[Path, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    whole, stream = tmp_path / "whole", tmp_path / "stream"
    for fmt in ("json", "xml"):
        args = ("convert", EXAMPLES, "--to", fmt, "--output-dir")
        assert in_memory(monkeypatch, *args, whole / fmt).exit_code == 0
        result = run(*args, stream / fmt)
        assert result.exit_code == 0, result.stderr
    files = sorted(p.relative_to(whole) for p in whole.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(stream) for p in stream.rglob("*") if p.is_file())
    for relative in files:
        assert (stream / relative).read_bytes() == (whole / relative).read_bytes(), relative
    done = {(path, fmt_streamed) for path, fmt_streamed in streamed}
    assert (STATEMENT, True) in done and (PACKAGE_TEXT, True) in done
    # CNAPS2 text keeps its .txt suffix: the XML output is the text itself
    relayed = stream / "xml/cnaps2/beps.121.001.01/customer-credit-package.signed.txt"
    assert relayed.read_bytes() == PACKAGE_TEXT.read_bytes()


def test_stdout_and_json_report_equal_the_in_memory_run(
    streamed: list[tuple[Path, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for args in (("--to", "xml"), ("--to", "json"), ("--to", "json", "--json")):
        whole = in_memory(monkeypatch, "convert", STATEMENT, *args)
        result = run("convert", STATEMENT, *args)
        assert result.exit_code == 0 and result.stdout_bytes == whole.stdout_bytes
    assert streamed == [(STATEMENT, True)] * 3
    [entry] = json.loads(result.stdout)
    assert entry["type"] == "camt.053.001.08" and entry["message"].startswith('{\n  "type"')


def test_hub_conversion_is_not_streamed(
    tmp_path: Path, streamed: list[tuple[Path, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "unified.xml"
    whole = tmp_path / "whole.xml"
    assert (
        in_memory(
            monkeypatch, "convert", PACKAGE_TEXT, "--to", "pacs.008.001.08", "-o", whole
        ).exit_code
        == 0
    )
    result = run("convert", PACKAGE_TEXT, "--to", "pacs.008.001.08", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert streamed == []
    assert out.read_bytes() == whole.read_bytes()


BROKEN = {
    "truncated": lambda data: data[: len(data) * 2 // 3],
    "bad amount": lambda data: re.sub(rb'(<Amt Ccy="CNY">)[0-9.]+', rb"\g<1>12x.00", data, count=1),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
@pytest.mark.parametrize("target", ["-o", "--output-dir"])
def test_a_broken_file_exits_2_with_one_line_and_no_output(
    case: str, target: str, package: Path, tmp_path: Path, streamed: list[tuple[Path, bool]]
) -> None:
    broken = package.parent / "broken.xml"
    broken.write_bytes(BROKEN[case](package.read_bytes()))
    with pytest.raises(paymsg.PaymsgError) as expected:
        paymsg.parse(broken)
    out = tmp_path / "out"
    destination = out / "broken.json" if target == "-o" else out
    if target == "-o":
        out.mkdir()
    result = run("convert", broken, "--to", "json", target, destination)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert f"{broken}:{expected.value.line}" in lines[0]
    assert lines[0] == f"error: {expected.value}"
    assert streamed == []  # nothing was converted
    assert not out.exists() or list(out.iterdir()) == []  # no output, no temporary file


def test_an_existing_output_keeps_its_permissions(
    package: Path, tmp_path: Path, streamed: list[tuple[Path, bool]]
) -> None:
    out = tmp_path / "kept.json"
    out.write_text("old")
    os.chmod(out, 0o640)
    assert run("convert", package, "--to", "json", "-o", out).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    fresh = tmp_path / "fresh.json"
    assert run("convert", package, "--to", "json", "-o", fresh).exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask


def test_the_progress_bar_counts_bytes(package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    screen = Console(file=io.StringIO(), force_terminal=True, width=100)
    monkeypatch.setattr(convert_cli, "err_console", screen)
    made: list[Progress] = []

    class Recording(Progress):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(convert_cli, "Progress", Recording)
    size = package.stat().st_size
    files_bar = Progress(console=screen, disable=True)  # hidden below six files
    with convert_cli._byte_progress(files_bar, package) as update:
        update(size)
        [own] = made
        [task] = own.tasks
        assert not own.disable and own.live.is_started
        assert task.description == f"streaming {package.name}"
        assert (task.total, task.completed) == (size, size)
    assert own.tasks == [] and not own.live.is_started
    shown = Progress(console=screen)  # the files bar shows: the file's task goes on it
    with shown, convert_cli._byte_progress(shown, package) as update:
        update(size)
        assert [(t.description, t.completed) for t in shown.tasks] == [
            (f"streaming {package.name}", size)
        ]
    assert shown.tasks == [] and len(made) == 1


def test_a_large_statement_streams_by_default_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the real threshold a small file is converted whole, a large one streamed."""
    seen: list[bool] = []
    original = convert_cli.convert_file

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        done = original(*args, **kwargs)
        seen.append(done.streamed)
        return done

    monkeypatch.setattr(convert_cli, "convert_file", spy)
    small = tmp_path / "small.xml"
    small.write_bytes(camt053(20))
    assert run("convert", small, "--to", "json", "-o", tmp_path / "small.json").exit_code == 0
    assert seen == []
    monkeypatch.setattr(convert_cli, "STREAM_FROM", small.stat().st_size - 1)
    assert run("convert", small, "--to", "json", "-o", tmp_path / "again.json").exit_code == 0
    assert seen == [True]
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "small.json").read_bytes()
