"""What reconciliation hands out: pydantic records of cells, breaks and a run's result."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["BREAK_KINDS", "BREAK_STATUSES", "Break", "CellResult", "Notice", "RunResult"]

BREAK_KINDS = ("missing_here", "missing_at_npc", "amount_differs", "status_differs", "duplicate")
BREAK_STATUSES = ("new", "persisting", "resolved", "accepted")


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class CellResult(_Record):
    """One summary cell compared: the NPC's figures against the journal's."""

    kind: Literal["payment", "info"]
    mt: str
    tx_type: str
    status: str
    netting_date: str
    netting_round: str
    npc_sent_count: int
    npc_sent_amount: Decimal
    our_sent_count: int
    our_sent_amount: Decimal
    npc_recv_count: int
    npc_recv_amount: Decimal
    our_recv_count: int
    our_recv_amount: Decimal
    differs: bool


class Break(_Record):
    """A difference kept in the journal database until it is resolved or accepted."""

    id: int
    scope: str
    check_date: date
    key: str
    kind: str
    status: str
    note: str | None
    direction: str | None
    mt: str | None
    tx_type: str | None
    msg_id: str | None
    npc_value: str | None
    our_value: str | None
    amount: Decimal | None
    entry_id: int | None
    detail: str
    first_seen: datetime
    last_seen: datetime
    settled_at: datetime | None
    age_days: int
    age_bucket: str

    @property
    def open(self) -> bool:
        return self.status in ("new", "persisting")


class Notice(_Record):
    """What a clerk should know that is no difference between the NPC and us.

    ``kind`` is ``copies``: a message received ``copies`` times with one sender and
    MesgID, of which the journal kept the first (entry ``entry_id``).
    """

    kind: Literal["copies"]
    direction: str
    mt: str | None
    tx_type: str | None
    sender: str | None
    msg_id: str | None
    mesg_id: str | None
    amount: Decimal | None
    entry_id: int
    copies: int

    @property
    def text(self) -> str:
        return (
            f"received {self.mt} {self.msg_id} from {self.sender} {self.copies} times "
            f"(MesgID {self.mesg_id}, entry {self.entry_id}); the journal kept the first copy"
        )


class RunResult(_Record):
    """One reconciliation run: the compared cells, the breaks of the day, problems."""

    run_id: int
    scope: str
    check_date: date
    kind: str
    npc_as_of: datetime | None
    journal_as_of: datetime
    sources: list[str]
    cells: list[CellResult]
    breaks: list[Break]
    problems: list[str]
    repaired: list[int] = []
    #: what a clerk should know but is no difference between the NPC and us
    notices: list[Notice] = []

    @property
    def open_breaks(self) -> list[Break]:
        return [b for b in self.breaks if b.open]

    @property
    def ok(self) -> bool:
        return not self.open_breaks and not self.problems
