"""Property tests: any value the schema admits survives XML and JSON round trips."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xsdata.models.datatype import XmlDate

import paymsg

# XML 1.0 text without control characters (CR would be normalised by any XML parser)
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=140,
)
AMOUNTS = st.decimals(min_value=0, max_value=Decimal("9999999999999"), places=5, allow_nan=False)
DATES = st.dates().map(lambda d: XmlDate(d.year, d.month, d.day))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=TEXT, amount=AMOUNTS, date=DATES, lines=st.lists(TEXT, max_size=3))
def test_random_values_round_trip(
    pacs008_with_bah: Path, name: str, amount: Decimal, date: XmlDate, lines: list[str]
) -> None:
    message = copy.deepcopy(paymsg.parse(pacs008_with_bah))
    tx = message.document.fito_ficstmr_cdt_trf.cdt_trf_tx_inf[0]
    tx.dbtr.nm = name
    tx.intr_bk_sttlm_amt.value = amount
    tx.intr_bk_sttlm_dt = date
    if tx.rmt_inf is not None:
        tx.rmt_inf.ustrd = lines
    assert paymsg.parse(paymsg.serialize(message)) == message
    assert paymsg.from_json(paymsg.to_json(message)) == message
