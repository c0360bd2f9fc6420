"""Per-type message layouts: where a message's transactions, totals and parties are.

The layouts are catalogue data: each ``[[message]]`` row of ``xsd/catalog.toml`` may carry
a ``[message.layout]`` sub-table (and ``[message.layout.block]`` /
``[message.layout.parties]`` below it). Every path is a ``/``-separated chain of local
names, relative to the **message element** (the child of ``Document``, e.g.
``FIToFICstmrCdtTrf``) unless said otherwise, and may be looked up with
:func:`paymsg.codec.xml.safe.find` / ``findall`` on that element.

``[message.layout]``:
  header        the group / package header (``GrpHdr``, ``PKGGrpHdr``)
  transaction   the repeated transaction element (``CdtTrfTxInf``, ``PmtInf/CdtTrfTxInf``)
  amount        inside a transaction: the amount summed into the control sum; a list of
                alternatives, the first one present counts (pain.001: instructed amount,
                else its equivalent amount)
  count         the element stating the number of transactions (``GrpHdr/NbOfTxs``)
  sum           the element stating the control sum (``GrpHdr/CtrlSum``)
  total         the element stating the total settlement amount, in one currency
                (``GrpHdr/TtlIntrBkSttlmAmt``)
  may_be_empty  the message may carry no transaction at all (a pacs.004 group return, a
                camt.056 group cancellation): then the totals are not compared
  streamable    ``paymsg.iter_transactions`` streams this type (its transactions are
                direct children of one container and the header precedes them)

``[message.layout.block]`` (pain.001 ``PmtInf``): an intermediate repeated element whose
own count and sum cover the transactions inside it:
  path          the block, relative to the message element
  count, sum    relative to the block

``[message.layout.parties]``: candidate paths, the first element present wins:
  instructing, instructed              the direct participants (CNAPS2 ``InstgDrctPty`` /
                                       ``InstdDrctPty``)
  instructing_agent, instructed_agent  the instructing / instructed agents (ISO bodies)
  debtor, creditor, debtor_agent, creditor_agent
  system_code                          the CNAPS2 system code in the body (``SysCd``)
  settlement_priority                  the settlement priority (``SttlmPrty``)
An agent's clearing member id is :data:`CLEARING_MEMBER` below the agent.

A type with no layout (the BAH, the CNAPS2 confirmations, the reconciliation messages)
gets the empty :class:`Layout`: nothing repeats, nothing is totalled.

Look a layout up with ``catalog().get(type_id).layout`` or
:func:`paymsg.schema.catalog.layout_of` (also exported as ``paymsg.schema.layout_of``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

#: below an agent: its clearing-system member id (the CNAPS2 12-digit bank code)
CLEARING_MEMBER = "FinInstnId/ClrSysMmbId/MmbId"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Block(_Frozen):
    """An intermediate repeated element stating its own count and sum (pain.001 PmtInf)."""

    path: str
    count: str | None = None
    sum: str | None = None


class Parties(_Frozen):
    """Candidate paths (first present wins) of the parties a message names."""

    instructing: tuple[str, ...] = ()
    instructed: tuple[str, ...] = ()
    instructing_agent: tuple[str, ...] = ()
    instructed_agent: tuple[str, ...] = ()
    debtor: tuple[str, ...] = ()
    creditor: tuple[str, ...] = ()
    debtor_agent: tuple[str, ...] = ()
    creditor_agent: tuple[str, ...] = ()
    system_code: tuple[str, ...] = ()
    settlement_priority: tuple[str, ...] = ()


class Layout(_Frozen):
    """Where the header, the transactions, their totals and the parties of a type are."""

    header: str | None = None
    transaction: str | None = None
    amount: tuple[str, ...] = ()
    count: str | None = None
    sum: str | None = None
    total: str | None = None
    may_be_empty: bool = False
    streamable: bool = False
    block: Block | None = None
    parties: Parties = Parties()

    @property
    def transaction_name(self) -> str | None:
        """Local name of the transaction element (the last step of its path)."""
        return self.transaction.rpartition("/")[2] if self.transaction else None

    @property
    def header_child(self) -> dict[str, str]:
        """``count`` / ``sum`` / ``total`` → local name of the header child stating it, for
        the totals that sit directly in the header (as the streamer reads them)."""
        out: dict[str, str] = {}
        for key in ("count", "sum", "total"):
            path: str | None = getattr(self, key)
            if self.header and path and path.startswith(self.header + "/"):
                out[key] = path[len(self.header) + 1 :]
        return out

    @property
    def totalled(self) -> bool:
        """Whether the message states a count, a sum or a total of its transactions."""
        return bool(
            self.count
            or self.sum
            or self.total
            or (self.block and (self.block.count or self.block.sum))
        )


#: the layout of a type that has none (nothing repeats, nothing is totalled)
EMPTY = Layout()
