"""Validation configuration and profiles (which rule packs run)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from paymsg.errors import ConfigError


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    packs: tuple[str, ...]


#: ``--profile`` names. ``default`` runs the core packs; others add usage-guideline packs.
PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="default",
            description="ISO 20022 and CNAPS2 core rules, business application header consistency",
            packs=("iso20022", "iso20022.bah", "cnaps2"),
        ),
        Profile(
            name="cbpr",
            description="default + SWIFT CBPR+ usage guidelines (UETR, BAH, UTC times, BizSvc)",
            packs=("iso20022", "iso20022.bah", "cbpr", "cnaps2"),
        ),
        Profile(
            name="schema",
            description="safety and XSD layers only, no business rules",
            packs=(),
        ),
    )
}


def profile(name: str | None) -> Profile:
    if name is None:
        return PROFILES["default"]
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(
            f"unknown validation profile {name!r}", hint=f"one of: {', '.join(PROFILES)}"
        ) from None


class ValidationConfig(BaseModel):
    """Knobs of the business rules. Every default is stated with its source in the README."""

    model_config = ConfigDict(frozen=True)

    #: settlement date may be this many days before the creation date (back-valued)
    settlement_window_days: int = Field(default=0, ge=0)
    #: BEPS ordinary credit (普通贷记) single-item limit, CNY; reference §9: 5万元 [S1]
    beps_single_item_limit: Decimal = Decimal("50000.00")
    #: file replacing the shipped CNAPS2 business type/category tables (ccms.906 export)
    cnaps2_code_table: Path | None = None
    #: "today" for date rules (None: the machine's date)
    today: date | None = None
    #: input larger than this many bytes is validated as a stream when its type streams
    #: (pacs.008/009, beps.121/122, camt.053): memory stays flat, the findings are those of
    #: whole-message validation (statement balances excepted). ``None``: never stream.
    stream_from_bytes: int | None = Field(default=32 * 1024 * 1024, ge=0)
