"""Regenerate ``paymsg/models/`` from ``xsd/`` and the catalogue.

Usage: ``python -m codegen [--output DIR] [--check]``. ``--check`` generates into a
temporary directory and exits 1 if anything differs from what is committed. The
generator itself is :mod:`paymsg.codegen` (it needs the ``codegen`` extra; without it
this exits 3 saying how to install it); this driver adds only the catalogue's list of
schemas and the place the models live.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from paymsg.codegen import generate_module, require_extra, write_package
from paymsg.errors import PaymsgError
from paymsg.schema.catalog import builtin_catalog

MODELS = Path(__file__).resolve().parent.parent / "paymsg" / "models"


def _one(job: tuple[str, str, str]) -> tuple[str, str]:
    module, schema, label = job
    return module, generate_module(Path(schema), module, label=label)


def regenerate(output: Path) -> list[Path]:
    jobs: dict[str, tuple[str, str, str]] = {}
    for row in builtin_catalog():  # paymsg.models holds the built-in types only
        jobs.setdefault(row.module, (row.module, str(row.schema_path), f"xsd/{row.schema_file}"))
    with ProcessPoolExecutor() as pool:
        modules = sorted(pool.map(_one, sorted(jobs.values())))
    return write_package(modules, output, doc="one module per catalogued schema", clean=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    parser.add_argument("--output", type=Path, default=MODELS)
    parser.add_argument("--check", action="store_true", help="fail if committed models differ")
    args = parser.parse_args(argv)
    try:
        require_extra()  # one clear line, not one failure per worker process
        if not args.check:
            written = regenerate(args.output)
            print(f"wrote {len(written)} files to {args.output}")
            return 0
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp)
            regenerate(fresh)
            names = sorted(
                {p.name for p in fresh.glob("*.py")} | {p.name for p in MODELS.glob("*.py")}
            )
            _, mismatch, errors = filecmp.cmpfiles(fresh, MODELS, names, shallow=False)
            if mismatch or errors:
                print("models differ from the schemas: " + ", ".join(mismatch + errors))
                return 1
            print(f"models up to date ({len(names)} files)")
            return 0
    except PaymsgError as exc:
        print(f"codegen: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
