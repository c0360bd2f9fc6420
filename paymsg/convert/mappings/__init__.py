"""Hub edges, one module per CNAPS2 family; importing this package registers them all."""

from paymsg.convert.mappings import beps, hvps, status  # noqa: F401
