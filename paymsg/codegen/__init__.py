"""Schema-driven code generation: XSD files → typed dataclass modules.

One generator serves every caller with the same conventions:

* ``python -m codegen`` (the repository's driver, not installed) regenerates
  ``paymsg/models/`` from ``xsd/`` and the catalogue; ``--check`` reports drift;
* ``paymsg codegen SCHEMA.xsd... --package NAME --output DIR`` generates models for a
  user's own schemas (for example the official ISO files of other messages);
* schema packs compile a user's XSDs through :func:`generate`.

Conventions: one module per schema; the schema's includes are resolved first and only
the types reachable from the schema's global elements are generated (shared component
files included into many messages would otherwise bloat every module); every file
starts with a do-not-edit banner; output is deterministic — the same schema text gives
byte-identical modules, whatever the absolute paths or the order of the inputs.

Generating needs the ``codegen`` extra (xsdata's command line and ruff, at pinned
versions): ``pip install "paymsg[codegen]"``. Without it, importing this package works
and every generating call raises a :class:`~paymsg.errors.CodegenError` saying so.
"""

from paymsg.codegen.generator import (
    BANNER,
    INSTALL_EXTRA,
    generate,
    generate_module,
    missing_extra,
    module_name,
    require_extra,
    write_package,
)
from paymsg.codegen.schema import flatten_schema, prune_schema

__all__ = [
    "BANNER",
    "INSTALL_EXTRA",
    "flatten_schema",
    "generate",
    "generate_module",
    "missing_extra",
    "module_name",
    "prune_schema",
    "require_extra",
    "write_package",
]
