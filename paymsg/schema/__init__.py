"""Message knowledge: the catalogue, compiled schemas, per-type layouts."""

from paymsg.schema.catalog import catalog, layout_of, streamable_layouts
from paymsg.schema.layout import Block, Layout, Parties

__all__ = ["Block", "Layout", "Parties", "catalog", "layout_of", "streamable_layouts"]
