"""The layers hold: import-linter's contracts pass, and no module uses another's private name.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``); docs/ARCHITECTURE.md §3
explains them. The private-name check walks the syntax tree of every hand-written module
under ``paymsg/`` and ``codegen/`` (``paymsg/models/`` is generated and skipped) and
reports ``from paymsg.x import _y`` and ``x._y`` where ``x`` names an imported paymsg
module. A module may use its own ``_names`` and those of its own private submodules'
parent package (``paymsg.a.b`` may import ``paymsg.a._c``), as import-linter's private
module rule has it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("paymsg", "codegen")
GENERATED = ROOT / "paymsg" / "models"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str, root: Path) -> bool:
    """True when ``name`` is a module or package of the tree at ``root``."""
    base = root.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _ours(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def _allowed(importer: str, owner: str, name: str, root: Path) -> bool:
    """May module ``importer`` use ``owner``'s private ``name``?

    Its own names, yes. A private submodule ``owner._name`` may be used from anywhere
    inside ``owner`` (the package that holds it).
    """
    if importer == owner:
        return True
    return _is_module(f"{owner}.{name}", root) and importer.startswith(owner + ".")


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = importer.split(".")
    if not is_package:
        parts.pop()
    if node.level > 1:
        parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def private_uses(path: Path, source: str | None = None, root: Path = ROOT) -> list[Violation]:
    """Every use in ``path`` (or ``source`` read as if it were there) of another
    paymsg module's private name; ``root`` is the directory that holds ``paymsg/``."""
    importer = _module_name(path, root)
    is_package = path.name == "__init__.py"
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
    rel = str(path.relative_to(root))
    found: list[Violation] = []
    # local name -> the module it is bound to, for attribute access; dotted
    # ``import a.b.c`` binds ``a`` and is resolved through the attribute chain
    modules: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _ours(alias.name):
                    continue
                if alias.asname:
                    modules[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    modules[top] = top
                for i, part in enumerate(alias.name.split(".")[1:], start=1):
                    owner = ".".join(alias.name.split(".")[:i])
                    if _private(part) and not _allowed(importer, owner, part, root):
                        found.append(Violation(rel, node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            owner = _resolve(importer, is_package, node)
            if not _ours(owner):
                continue
            parts = owner.split(".")
            for i, part in enumerate(parts[1:], start=1):
                parent = ".".join(parts[:i])
                if _private(part) and not _allowed(importer, parent, part, root):
                    found.append(Violation(rel, node.lineno, f"from {owner} import …"))
                    break
            for alias in node.names:
                if _private(alias.name) and not _allowed(importer, owner, alias.name, root):
                    found.append(Violation(rel, node.lineno, f"from {owner} import {alias.name}"))
                elif _is_module(f"{owner}.{alias.name}", root):
                    modules[alias.asname or alias.name] = f"{owner}.{alias.name}"
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain: list[str] = []
        base: ast.expr = node
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        if not isinstance(base, ast.Name) or base.id not in modules:
            continue
        chain.reverse()
        owner = modules[base.id]
        for i, attr in enumerate(chain):
            if _is_module(f"{owner}.{attr}", root) and not _private(attr):
                owner = f"{owner}.{attr}"
                continue
            last = i == len(chain) - 1  # an inner node reports a private name mid-chain
            if last and _private(attr) and not _allowed(importer, owner, attr, root):
                found.append(Violation(rel, node.lineno, f"{owner}.{attr}"))
            break
    return sorted(set(found), key=lambda v: (v.path, v.line, v.text))


def _sources() -> list[Path]:
    out: list[Path] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if GENERATED not in path.parents and ".venv" not in path.parts:
                out.append(path)
    return out


def test_no_module_uses_another_modules_private_name() -> None:
    violations = [v for path in _sources() for v in private_uses(path)]
    assert not violations, "private names used across modules:\n" + "\n".join(
        str(v) for v in violations
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from paymsg.codec.api import _is_json\n", ["from paymsg.codec.api import _is_json"]),
        ("from paymsg.codec import api\napi._is_json(b'')\n", ["paymsg.codec.api._is_json"]),
        ("import paymsg.codec.api as a\nx = a._is_json\n", ["paymsg.codec.api._is_json"]),
        ("import paymsg.codec.api\nx = paymsg.codec.api._is_json\n", ["paymsg.codec.api._is_json"]),
        ("from ..codec.api import _is_json\n", ["from paymsg.codec.api import _is_json"]),
        ("from paymsg.codec.api import parse\nparse._private\n", []),  # not a module
        ("from paymsg.codec.api import parse\n", []),
        ("import lxml.etree\nlxml.etree._Element\n", []),  # not ours
        ("from paymsg import __version__\n", []),  # dunders are public
    ],
)
def test_the_private_name_check_finds_each_form(source: str, expected: list[str]) -> None:
    # read as if it were paymsg/cli/probe.py, so that relative imports resolve
    path = ROOT / "paymsg" / "cli" / "probe.py"
    assert [v.text for v in private_uses(path, source)] == expected


def test_own_names_and_own_private_submodules_are_allowed(tmp_path: Path) -> None:
    own = "from paymsg.codec.api import _is_json\n"
    assert private_uses(ROOT / "paymsg" / "codec" / "api.py", own) == []
    # a private submodule paymsg.a._c is open to paymsg.a and what is inside it only
    for name in ("paymsg/__init__.py", "paymsg/a/__init__.py", "paymsg/a/_c.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    use = "from paymsg.a._c import x\nfrom paymsg.a import _c\nimport paymsg.a._c\n"
    inside = tmp_path / "paymsg" / "a" / "b.py"
    outside = tmp_path / "paymsg" / "d.py"
    assert private_uses(inside, use, tmp_path) == []
    assert [v.text for v in private_uses(outside, use, tmp_path)] == [
        "from paymsg.a._c import …",
        "from paymsg.a import _c",
        "import paymsg.a._c",
    ]


def test_the_import_contracts_hold() -> None:
    # in a subprocess from the repository root, so that the source tree is what is
    # analysed (not an installed copy); no cache is written
    script = (
        "import sys; from importlinter.cli import lint_imports; "
        f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}, "
        "no_cache=True, no_logo=True))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_contracts_cover_every_room() -> None:
    """A new room under paymsg/ must be placed in the layers, or it is unchecked."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}
    layered = {room.strip() for layer in contracts["layers"]["layers"] for room in layer.split("|")}
    rooms = {
        f"paymsg.{p.name}"
        for p in (ROOT / "paymsg").iterdir()
        if p.is_dir() and (p / "__init__.py").is_file()
    }
    assert rooms == layered
    codec = {p.name for p in (ROOT / "paymsg" / "codec").iterdir() if (p / "__init__.py").is_file()}
    assert codec == set(contracts["codec-layers"]["layers"])
