"""Rule packs for ISO 20022 messages of the unified profile.

- ``iso20022``: cross-field rules that no schema can express — counts and control sums,
  currency codes and minor units, identifier check digits (BIC, IBAN, LEI, UETR), date
  sanity, statement balances and totals.
- ``iso20022.bah``: business application header ⇄ document consistency.
- ``cbpr``: SWIFT CBPR+ usage guidelines (enabled by ``--profile cbpr``).

The rules read the lxml tree, not the bound objects, so they also run on a document that
failed the schema: a missing element means "nothing to check", a value that is not a number
is left to the XSD layer. Identifier and currency rules find their elements by **schema
type** (``BICFIDec2014Identifier``, ``ActiveCurrencyAndAmount``, …): the message's own XSD
is indexed once, and the document is walked with it, so an ``Amt`` is treated as an
active-currency amount exactly where the message definition says so.
"""

from paymsg.validation.rules.iso20022 import bah, cbpr, core
from paymsg.validation.rules.iso20022.common import (
    PAIN001_TYPES,
    SETTLED_TYPES,
    typed_index,
    typed_walk,
)

__all__ = ["PAIN001_TYPES", "SETTLED_TYPES", "bah", "cbpr", "core", "typed_index", "typed_walk"]
