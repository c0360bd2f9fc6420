"""Typed data of the routing component: the instruction routed and the decision made.

Amounts are :class:`~decimal.Decimal`; times are naive datetimes in Beijing time (the
time CNAPS2 runs on, and the one the simulator and the header use).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from paymsg.reference.cnaps2 import BANK_CODE
from paymsg.reference.iso import AMOUNT_DECIMALS, AMOUNT_DIGITS, amount_decimals
from paymsg.trusted import trusted_model

__all__ = [
    "CHANNELS",
    "Channel",
    "ChannelVerdict",
    "Decision",
    "Instruction",
    "Kind",
    "Urgency",
]

#: the channels a payment can leave on
CHANNELS: tuple[str, ...] = ("HVPS", "BEPS", "BOOK", "XBORDER")

Channel = Literal["HVPS", "BEPS", "BOOK", "XBORDER"]
Urgency = Literal["normal", "urgent"]
#: ``customer`` (客户发起: pain.001 / pacs.008) or ``institution`` (金融机构发起: pacs.009)
Kind = Literal["customer", "institution"]

_CURRENCY = re.compile(r"[A-Z]{3}")
_PURPOSE = re.compile(r"[0-9]{5}")
_BUSINESS_TYPE = re.compile(r"[A-Z][0-9]{3}")
#: ISO 9362 BIC as ISO 20022 writes it (BICFIDec2014Identifier): 8 or 11 characters
_BIC = re.compile(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")


class Instruction(BaseModel):
    """One payment to route: what a pain.001 transaction, a pacs.008/009 transaction or a
    row of a JSON/CSV instruction file says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=35, description="payment id (EndToEndId / TxId)")
    amount: Decimal = Field(gt=0)
    currency: str = "CNY"
    debtor_name: str = ""
    debtor_account: str = ""
    debtor_bank: str = Field(min_length=1, description="debtor agent: bank code or BIC")
    creditor_name: str = ""
    creditor_account: str = ""
    creditor_bank: str = Field(min_length=1, description="creditor agent: bank code or BIC")
    urgency: Urgency = "normal"
    purpose: str = Field("02102", description="业务种类 (CtgyPurp code, 5 digits)")
    business_type: str = Field("A100", description="业务类型 (TxTp code)")
    kind: Kind = "customer"
    requested_at: datetime | None = Field(
        None, description="requested execution time (Beijing time); none: as soon as possible"
    )
    remittance: str = ""

    @field_validator("amount")
    @classmethod
    def _money(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("amount must be a finite number")
        digits = value.as_tuple().digits
        exponent = int(value.as_tuple().exponent)  # an int for a finite value
        if exponent > 0:
            raise ValueError(f"amount {value} is in exponent notation: write its digits")
        if exponent < -AMOUNT_DECIMALS:
            raise ValueError(f"amount {value} has more than {AMOUNT_DECIMALS} decimal places")
        if len(digits) > AMOUNT_DIGITS:
            raise ValueError(f"amount {value} has more than {AMOUNT_DIGITS} digits")
        return value

    @field_validator("debtor_bank", "creditor_bank")
    @classmethod
    def _bank(cls, value: str) -> str:
        if not (BANK_CODE.fullmatch(value) or _BIC.fullmatch(value)):
            raise ValueError(f"{value!r} is neither a 12-digit bank code nor a BIC")
        return value

    @model_validator(mode="after")
    def _minor_unit(self) -> Instruction:
        exponent = self.amount.as_tuple().exponent
        places = amount_decimals(self.currency)
        if places < AMOUNT_DECIMALS and isinstance(exponent, int) and exponent < -places:
            raise PydanticCustomError(
                "minor_unit",
                "a {currency} amount has at most {places} decimal places (its minor unit), "
                "not {amount}",
                {
                    "currency": self.currency,
                    "places": places,
                    "amount": str(self.amount),
                    "field": "amount",
                },
            )
        return self

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not _CURRENCY.fullmatch(value):
            raise ValueError(f"currency {value!r} is not an ISO 4217 code (3 capital letters)")
        return value

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str) -> str:
        if not _PURPOSE.fullmatch(value):
            raise ValueError(f"purpose (业务种类) {value!r} is not 5 digits")
        return value

    @field_validator("business_type")
    @classmethod
    def _business_type(cls, value: str) -> str:
        if not _BUSINESS_TYPE.fullmatch(value):
            raise ValueError(f"business type (业务类型) {value!r} is not a letter and 3 digits")
        return value

    @field_validator("requested_at")
    @classmethod
    def _naive(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            from paymsg.reference.cnaps2 import BEIJING

            value = value.astimezone(BEIJING).replace(tzinfo=None)
        return value


class ChannelVerdict(BaseModel):
    """What the facts said about one channel for one payment."""

    model_config = ConfigDict(frozen=True)

    channel: str
    #: ``ok`` (usable now), ``closed`` (usable at ``opens_at``) or ``refused``
    verdict: Literal["ok", "closed", "refused"]
    reason: str = ""
    opens_at: datetime | None = None


class Decision(BaseModel):
    """Where one payment goes, when, as what, and why."""

    model_config = ConfigDict(frozen=True)

    payment_id: str
    #: the channel, or ``None`` when the payment cannot be routed (``status`` = rejected)
    channel: Channel | None
    #: the message built for the channel (none for a book transfer or a rejection)
    message_type: str | None
    #: ``now`` (send at once), ``queued`` (at ``execute_at``, the channel's next opening) or
    #: ``rejected``
    status: Literal["now", "queued", "rejected"]
    execute_at: datetime | None
    rule: str | None
    ruleset_version: int | None = None
    receiver: str | None = Field(None, description="receiving direct participant (清算行)")
    business_type: str
    amount: Decimal
    currency: str
    #: filled only when an explanation was asked for
    considered: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()
    verdicts: tuple[ChannelVerdict, ...] = ()
    facts: dict[str, str] = Field(default_factory=dict)
    reason: str = ""

    def explain(self) -> str:
        """The decision in a few lines, for people."""
        lines = [
            f"{self.payment_id}: {self.amount:,} {self.currency} → "
            + (
                f"{self.channel} ({self.message_type or 'internal book transfer'}), "
                f"{self.status}"
                + (f" at {self.execute_at:%Y-%m-%d %H:%M}" if self.execute_at else "")
                if self.channel
                else f"REJECTED: {self.reason}"
            )
        ]
        if self.rule:
            version = (
                f"v{self.ruleset_version}" if self.ruleset_version is not None else "from file"
            )
            lines.append(f"  matched rule: {self.rule} (rule set {version})")
        for item in self.refused:
            lines.append(f"  not matched: {item}")
        for verdict in self.verdicts:
            text = {"ok": "usable", "closed": "closed", "refused": "refused"}[verdict.verdict]
            lines.append(
                f"  {verdict.channel} {text}" + (f": {verdict.reason}" if verdict.reason else "")
            )
        for key, value in self.facts.items():
            lines.append(f"  fact {key} = {value}")
        return "\n".join(lines)


def _defaults(cls: type[BaseModel]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, info in cls.model_fields.items():
        if info.default_factory is None and not info.is_required():
            out[name] = info.default
    return out


_DECISION_DEFAULTS = _defaults(Decision)
_VERDICT_DEFAULTS = _defaults(ChannelVerdict)
_DECISION_TEMPLATE = {name: _DECISION_DEFAULTS.get(name) for name in Decision.model_fields}
_VERDICT_TEMPLATE = {name: _VERDICT_DEFAULTS.get(name) for name in ChannelVerdict.model_fields}


def make_decision(**values: object) -> Decision:
    """A :class:`Decision` from values the router computed (no validation pass)."""
    full = dict(_DECISION_TEMPLATE)  # every field, in declaration order
    full["facts"] = {}
    full.update(values)
    # the router builds every field itself from validated inputs
    return trusted_model(Decision, full)


def make_verdict(**values: object) -> ChannelVerdict:
    full = dict(_VERDICT_TEMPLATE)
    full.update(values)
    return trusted_model(ChannelVerdict, full)
