"""BEPS batching: items routed to BEPS become packages (one beps.121/122 each) per
receiving direct participant, 业务类型 and message type.

A package closes when it reaches ``max_items`` or when the next item would take it over
``max_amount`` (that item opens the next package), when it is ``max_age`` old, or at a
cut-off (a time of day; a package opened before it closes at it), or when the caller
closes everything (end of day).

Crash safety: everything is in the journal database (``routing_beps_packages``,
``routing_beps_items``). Adding an item is one transaction (item row + package totals),
keyed by the payment id, so adding it again after a crash is a no-op that returns the
package it is in. Closing a package — building the beps.121 from its items and storing
the text with status ``closed`` — is one transaction: after a crash a package is either
open with all its items, or closed with its text. A closed package becomes ``sent`` when
the caller has handed it to the transport (whose own outbox then owns it). At most one
package per key is open: a unique ``open_key`` (NULL once closed) makes two writers that
race to open one collide, and the loser retries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from paymsg.codec.api import serialize
from paymsg.routing.build import build_cnaps2
from paymsg.routing.model import Decision, Instruction
from paymsg.routing.store import RoutingStore, items, packages

__all__ = ["BepsBatcher", "ClosedPackage"]


@dataclass(frozen=True)
class ClosedPackage:
    id: int
    receiver: str
    business_type: str
    message_type: str
    count: int
    total: Decimal
    reason: str
    text: bytes
    payment_ids: tuple[str, ...]
    #: the package's GrpHdr MsgId (see :func:`package_msg_id`)
    msg_id: str


def package_msg_id(pkg_id: int, closed_at: datetime) -> str:
    """A package's MsgId: its closing date and 50,000,000 + its id (single messages, whose
    MsgIds come from decision numbers, stay below)."""
    return f"{closed_at:%Y%m%d}{(50_000_000 + pkg_id) % 10**8:08d}"


class BepsBatcher:
    """Packages in the journal database; see the module doc."""

    def __init__(
        self,
        store: RoutingStore,
        *,
        participant: str,
        max_items: int = 1000,
        max_amount: Decimal = Decimal("100000000.00"),
        max_age: timedelta = timedelta(minutes=10),
        cutoffs: tuple[time, ...] = (),
        on_close: Callable[[ClosedPackage], None] | None = None,
    ) -> None:
        self.engine = store.engine
        self.participant = participant
        self.max_items = max_items
        self.max_amount = max_amount
        self.max_age = max_age
        self.cutoffs = tuple(sorted(cutoffs))
        self.on_close = on_close

    # -- adding ------------------------------------------------------------------------
    def add(self, ins: Instruction, decision: Decision, now: datetime) -> list[ClosedPackage]:
        """Put ``ins`` (routed to BEPS by ``decision``) into its package; returns the
        packages this closed (a full one, or the one the item did not fit in)."""
        return self.add_many([(ins, decision)], now)

    def add_many(
        self, pairs: list[tuple[Instruction, Decision]], now: datetime
    ) -> list[ClosedPackage]:
        """:meth:`add` for many items in one transaction (all of them or none)."""
        for ins, decision in pairs:
            if (
                decision.channel != "BEPS"
                or decision.receiver is None
                or decision.message_type is None
            ):
                raise ValueError(f"payment {ins.id} was not routed to BEPS")
        for _ in range(5):
            try:
                closed: list[ClosedPackage] = []
                with self.engine.begin() as conn:
                    for ins, decision in pairs:
                        key = f"{decision.receiver}|{ins.business_type}|{decision.message_type}"
                        closed += self._add(conn, ins, decision, key, now)
                self._notify(closed)
                return closed
            except IntegrityError:
                continue  # another writer opened a package first: use theirs
        raise RuntimeError("could not open a BEPS package after 5 attempts")

    def _add(
        self, conn: sa.Connection, ins: Instruction, decision: Decision, key: str, now: datetime
    ) -> list[ClosedPackage]:
        closed: list[ClosedPackage] = []
        if conn.execute(sa.select(items.c.package_id).where(items.c.payment_id == ins.id)).first():
            return []  # added before (a re-run after a crash)
        pkg = conn.execute(
            sa.select(packages).where(packages.c.open_key == key).with_for_update()
        ).first()
        if pkg is not None and Decimal(pkg.total) + ins.amount > self.max_amount:
            closed.append(self._close(conn, pkg.id, "amount", now))
            pkg = None
        if pkg is None:
            result = conn.execute(
                packages.insert().values(
                    open_key=key,
                    receiver=decision.receiver,
                    business_type=ins.business_type,
                    message_type=decision.message_type,
                    status="open",
                    item_count=0,
                    total="0",
                    opened_at=now,
                )
            )
            assert result.inserted_primary_key is not None
            pkg_id, count, total = int(result.inserted_primary_key[0]), 0, Decimal(0)
        else:
            pkg_id, count, total = pkg.id, pkg.item_count, Decimal(pkg.total)
        conn.execute(
            items.insert().values(
                payment_id=ins.id,
                package_id=pkg_id,
                seq=count,
                amount=str(ins.amount),
                instruction=ins.model_dump_json(),
            )
        )
        count, total = count + 1, total + ins.amount
        conn.execute(
            packages.update()
            .where(packages.c.id == pkg_id)
            .values(item_count=count, total=str(total))
        )
        if count >= self.max_items:
            closed.append(self._close(conn, pkg_id, "count", now))
        elif total >= self.max_amount:
            closed.append(self._close(conn, pkg_id, "amount", now))
        return closed

    # -- closing -----------------------------------------------------------------------
    def _close(self, conn: sa.Connection, pkg_id: int, reason: str, now: datetime) -> ClosedPackage:
        pkg = conn.execute(sa.select(packages).where(packages.c.id == pkg_id)).one()
        rows = conn.execute(
            sa.select(items.c.payment_id, items.c.instruction)
            .where(items.c.package_id == pkg_id)
            .order_by(items.c.seq)
        ).all()
        instructions = [Instruction.model_validate_json(r.instruction) for r in rows]
        msg_id = package_msg_id(pkg_id, now)
        built = build_cnaps2(
            instructions,
            pkg.message_type,
            msg_id=msg_id,
            created=now,
            sender=self.participant,
            receiver=pkg.receiver,
        )
        text = serialize(built.message)
        conn.execute(
            packages.update()
            .where(packages.c.id == pkg_id)
            .values(status="closed", open_key=None, closed_at=now, close_reason=reason, text=text)
        )
        return ClosedPackage(
            pkg_id, pkg.receiver, pkg.business_type, pkg.message_type, pkg.item_count,
            Decimal(pkg.total), reason, text, tuple(r.payment_id for r in rows), msg_id,
        )  # fmt: skip

    def _cutoff_between(self, start: datetime, end: datetime) -> time | None:
        day = start.date()
        while day <= end.date():
            for cut in self.cutoffs:
                moment = datetime.combine(day, cut)
                if start < moment <= end:
                    return cut
            day += timedelta(days=1)
        return None

    def due(self, now: datetime) -> list[ClosedPackage]:
        """Close every open package that is too old or has passed a cut-off."""
        closed: list[ClosedPackage] = []
        with self.engine.connect() as conn:
            open_rows = conn.execute(
                sa.select(packages.c.id, packages.c.opened_at).where(packages.c.status == "open")
            ).all()
        for row in open_rows:
            reason = None
            cut = self._cutoff_between(row.opened_at, now)
            if cut is not None:
                reason = f"cutoff {cut:%H:%M}"
            elif now - row.opened_at >= self.max_age:
                reason = "age"
            if reason is not None:
                closed.extend(self._close_one(row.id, reason, now))
        self._notify(closed)
        return closed

    def close_all(self, now: datetime, reason: str = "end of day") -> list[ClosedPackage]:
        with self.engine.connect() as conn:
            ids = (
                conn.execute(sa.select(packages.c.id).where(packages.c.status == "open"))
                .scalars()
                .all()
            )
        closed = [p for i in ids for p in self._close_one(i, reason, now)]
        self._notify(closed)
        return closed

    def _close_one(self, pkg_id: int, reason: str, now: datetime) -> list[ClosedPackage]:
        with self.engine.begin() as conn:
            status = conn.execute(
                sa.select(packages.c.status).where(packages.c.id == pkg_id).with_for_update()
            ).scalar()
            if status != "open":
                return []  # closed by someone else meanwhile
            return [self._close(conn, pkg_id, reason, now)]

    def _notify(self, closed: list[ClosedPackage]) -> None:
        if self.on_close is not None:
            for package in closed:
                self.on_close(package)

    # -- after closing -----------------------------------------------------------------
    def unsent(self, *, closed_on: date | None = None) -> list[ClosedPackage]:
        """Closed packages not yet handed to the transport (what a crash leaves), those
        closed on ``closed_on`` only when it is given."""
        query = sa.select(packages).where(packages.c.status == "closed")
        if closed_on is not None:
            query = query.where(
                packages.c.closed_at >= datetime.combine(closed_on, time()),
                packages.c.closed_at < datetime.combine(closed_on + timedelta(days=1), time()),
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(packages.c.id)).all()
            out = []
            for pkg in rows:
                ids = (
                    conn.execute(
                        sa.select(items.c.payment_id)
                        .where(items.c.package_id == pkg.id)
                        .order_by(items.c.seq)
                    )
                    .scalars()
                    .all()
                )
                out.append(ClosedPackage(
                    pkg.id, pkg.receiver, pkg.business_type, pkg.message_type, pkg.item_count,
                    Decimal(pkg.total), pkg.close_reason or "", pkg.text, tuple(ids),
                    package_msg_id(pkg.id, pkg.closed_at),
                ))  # fmt: skip
        return out

    def carriers(self, payment_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """For those of ``payment_ids`` in a closed (or sent) package: the package's
        message type and MsgId, the message that carries the payment."""
        out: dict[str, tuple[str, str]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(payment_ids), 500):
                rows = conn.execute(
                    sa.select(
                        items.c.payment_id,
                        packages.c.id,
                        packages.c.message_type,
                        packages.c.closed_at,
                    )
                    .join(packages, packages.c.id == items.c.package_id)
                    .where(
                        items.c.payment_id.in_(list(payment_ids[start : start + 500])),
                        packages.c.status != "open",
                    )
                )
                for pid, pkg_id, mt, closed_at in rows:
                    out[str(pid)] = (mt, package_msg_id(pkg_id, closed_at))
        return out

    def mark_sent(self, pkg_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                packages.update()
                .where(packages.c.id == pkg_id, packages.c.status == "closed")
                .values(status="sent")
            )

    def open_packages(self) -> list[dict[str, object]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(packages).where(packages.c.status == "open")).all()
        return [
            {"id": r.id, "receiver": r.receiver, "business_type": r.business_type,
             "count": r.item_count, "total": r.total, "opened_at": r.opened_at}
            for r in rows
        ]  # fmt: skip
