"""Hub edges, one module per CNAPS2 family plus the ISO 20022 version pairs (versions);
importing this package registers them all."""

from paymsg.convert.mappings import beps, hvps, status, versions  # noqa: F401
