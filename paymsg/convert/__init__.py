"""Conversion between CNAPS2 and the unified ISO 20022 profile, through one hub."""

from paymsg.convert.hub import Conversion, ConvertOptions, LossEntry, convert, route

__all__ = ["Conversion", "ConvertOptions", "LossEntry", "convert", "route"]
