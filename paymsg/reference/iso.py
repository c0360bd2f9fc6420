"""ISO reference data: ISO 4217 currencies (code, minor units, active or historic) and
ISO 3166-1 country codes, read once from ``data/iso4217.toml`` and ``data/iso3166.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

CurrencyStatus = Literal["active", "historic"]

#: ISO 20022 ActiveCurrencyAndAmount: at most 18 digits, at most 5 of them decimals
AMOUNT_DIGITS = 18
AMOUNT_DECIMALS = 5


@dataclass(frozen=True)
class Currency:
    """One ISO 4217 code. ``minor`` is None where ISO 4217 says "N.A." (metals, SDR, …)."""

    code: str
    minor: int | None
    name: str
    status: CurrencyStatus


def _load_toml(name: str) -> dict[str, Any]:
    data = resources.files("paymsg.reference").joinpath("data", name).read_bytes()
    return tomllib.loads(data.decode("utf-8"))


@cache
def currencies() -> dict[str, Currency]:
    """All ISO 4217 codes paymsg knows (active and historic), by code."""
    raw = _load_toml("iso4217.toml")
    out: dict[str, Currency] = {}
    status: CurrencyStatus
    for status in ("active", "historic"):
        for code, row in raw.get(status, {}).items():
            minor = row.get("minor")
            out[code] = Currency(
                code=code,
                minor=minor if isinstance(minor, int) else None,
                name=str(row.get("name", code)),
                status=status,
            )
    return out


def currency(code: str) -> Currency | None:
    return currencies().get(code)


def amount_decimals(code: str) -> int:
    """Most decimals an amount in currency ``code`` may carry in a payment or a ledger:
    renminbi (CNY), which CNAPS2 clears, its ISO 4217 minor unit (fen: 2); any other
    currency what ISO 20022 allows (5)."""
    if code == "CNY":
        found = currency(code)
        if found is not None and found.minor is not None:
            return found.minor
    return AMOUNT_DECIMALS


@cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes plus the user-assigned codes payments accept (XK)."""
    raw = _load_toml("iso3166.toml")
    return frozenset(raw.get("countries", {})) | frozenset(raw.get("user_assigned", {}))


def is_country(code: str) -> bool:
    return code in countries()


__all__ = ["Currency", "CurrencyStatus", "countries", "currencies", "currency", "is_country"]
