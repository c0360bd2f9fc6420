"""XML: safe parsing, binding to the generated dataclasses, serializing."""
