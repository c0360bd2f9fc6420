"""Message knowledge: the catalogue, compiled schemas, per-type layouts."""
