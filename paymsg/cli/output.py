"""The one output layer of the CLI: rich tables for people, ``--json`` for machines.

Exit codes (documented in README):
  0  success
  1  the input was read, but checks found problems at or above the fail level
  2  usage error, or input that could not be read, parsed or bound
  3  configuration or internal error (catalogue, code generation)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from paymsg.errors import PaymsgError

#: the one --json option of every command that prints a result
JSON_OPT = typer.Option(False, "--json", help="Machine-readable output.")

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 3

#: rich fits a table to the terminal, folding cells; with no terminal (a pipe, a file, a CI
#: log) there is nothing to fit, and a folded amount (``96,`` / ``304`` / ``,57…``) misleads,
#: so lines are as wide as their content (up to this many characters)
UNFOLDED_WIDTH = 240

#: what is printed is data (names, remittance texts, file names, error messages quoting the
#: input): rich's markup and emoji codes are off, so a payee called ``[/x]`` or a text with
#: ``:100:`` prints as it is (markup read ``[/x]`` as a closing tag and failed; ``:100:`` became
#: an emoji); styled words are :class:`rich.text.Text` (see :func:`styled`)
console = Console(
    highlight=False,
    markup=False,
    emoji=False,
    width=None if sys.stdout.isatty() else UNFOLDED_WIDTH,
)
err_console = Console(stderr=True, highlight=False, markup=False, emoji=False)


def styled(label: str, style: str, rest: str) -> Text:
    """``label`` in ``style``, then a space and ``rest`` as it is (never read as markup)."""
    return Text.assemble((label, style), " ", rest)


def report_error(error: PaymsgError) -> None:
    """Print one clear line for ``error`` on stderr."""
    err_console.print(styled("error:", "bold red", str(error)), soft_wrap=True)


def fail(error: PaymsgError) -> NoReturn:
    """Print one clear line for ``error`` and exit with its documented code."""
    report_error(error)
    raise typer.Exit(error.exit_code)


@contextmanager
def reported() -> Iterator[None]:
    """Turn any PaymsgError raised inside into one line on stderr and an exit code."""
    try:
        yield
    except PaymsgError as exc:
        fail(exc)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


#: longest cell a table shows in full; a longer value is cut with an explicit marker
#: (rich lays a huge cell out in time quadratic in its length: a 9 MB text node took 54 s)
MAX_CELL = 1000


def cell(value: Any, limit: int = MAX_CELL) -> str:
    """``value`` as table text: cut after ``limit`` characters, saying how long it was
    (``--json`` output always has the whole value)."""
    text = "" if value is None else str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters; --json shows all)"


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    t = Table(title=title, title_justify="left", show_lines=False)
    for index, column in enumerate(columns):
        t.add_column(column, overflow="fold", no_wrap=index == 0)
    for row in rows:
        t.add_row(*(cell(v) for v in row))
    return t


def emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    """Print ``data`` as JSON, or call ``human`` to print it for people."""
    if as_json:
        print_json(data)
    else:
        human()
